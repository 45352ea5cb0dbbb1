//! A small Liquid reader: turns Mode SQL into text, `{{ output }}` and control
//! blocks so the renderer can pick branches.
//!
//! Recognised: `if/elsif/else/endif`, `unless`, `case/when`, `for/endfor`,
//! `assign`, `capture` (content dropped), `raw` (content kept verbatim) and
//! `comment` (dropped). Other tags vanish. Unbalanced tags never fail: a stray
//! end tag is ignored and open blocks close at the end of input. Nesting deeper
//! than [`MAX_NESTING`] is flattened.

/// Deepest block nesting kept; deeper tags are ignored.
const MAX_NESTING: usize = 64;

/// One piece of a template.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Text(String),
    /// The inside of `{{ … }}`, trimmed.
    Output(String),
    /// `if`/`unless`/`case`: one node list per branch.
    Block {
        branches: Vec<Vec<Node>>,
    },
    /// `for var in list`: the body, rendered once.
    Loop {
        var: String,
        list: String,
        body: Vec<Node>,
    },
    /// `assign name = expr`.
    Assign {
        name: String,
        expr: String,
    },
}

enum Kind {
    If {
        case: bool,
        seen_when: bool,
    },
    Loop {
        var: String,
        list: String,
        in_else: bool,
    },
    Capture,
}

struct Open {
    kind: Kind,
    branches: Vec<Vec<Node>>,
}

/// Reads `src` into nodes.
pub(crate) fn parse(src: &str) -> Vec<Node> {
    let mut root: Vec<Node> = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    let mut rest = src;
    while !rest.is_empty() {
        let Some(start) = next_open(rest) else {
            push(&mut root, &mut stack, Node::Text(rest.to_owned()));
            break;
        };
        push(&mut root, &mut stack, Node::Text(rest[..start].to_owned()));
        let is_output = rest[start..].starts_with("{{");
        let close = if is_output { "}}" } else { "%}" };
        let Some(len) = rest[start + 2..].find(close) else {
            // Unterminated tag: keep it as text.
            push(&mut root, &mut stack, Node::Text(rest[start..].to_owned()));
            break;
        };
        let inner = rest[start + 2..start + 2 + len].trim_matches('-').trim();
        rest = &rest[start + 2 + len + 2..];
        if is_output {
            push(&mut root, &mut stack, Node::Output(inner.to_owned()));
        } else {
            rest = tag(inner, rest, &mut root, &mut stack);
        }
    }
    while let Some(open) = stack.pop() {
        let node = close(open);
        push(&mut root, &mut stack, node);
    }
    root
}

/// Handles one `{% tag %}`; returns the input left to read.
fn tag<'a>(inner: &str, rest: &'a str, root: &mut Vec<Node>, stack: &mut Vec<Open>) -> &'a str {
    let (word, args) = inner.split_once(char::is_whitespace).unwrap_or((inner, ""));
    let args = args.trim();
    match word {
        "raw" | "comment" => {
            let end = if word == "raw" {
                "endraw"
            } else {
                "endcomment"
            };
            let (body, after) = skip_to_end_tag(rest, end);
            if word == "raw" {
                push(root, stack, Node::Text(body.to_owned()));
            }
            return after;
        }
        "if" | "unless" | "case" => open(
            stack,
            Kind::If {
                case: word == "case",
                seen_when: false,
            },
        ),
        "for" => {
            let (var, list) = args.split_once(" in ").unwrap_or((args, ""));
            let list = list.split_whitespace().next().unwrap_or_default();
            open(
                stack,
                Kind::Loop {
                    var: var.trim().to_owned(),
                    list: list.to_owned(),
                    in_else: false,
                },
            );
        }
        "capture" => open(stack, Kind::Capture),
        "elsif" | "when" | "else" => next_branch(stack, word),
        "endif" | "endunless" | "endcase" | "endfor" | "endcapture" => {
            if let Some(open) = stack.pop_if(|o| ends(&o.kind, word)) {
                let node = close(open);
                push(root, stack, node);
            }
        }
        "assign" => {
            if let Some((name, expr)) = args.split_once('=') {
                let node = Node::Assign {
                    name: name.trim().to_owned(),
                    expr: expr.trim().to_owned(),
                };
                push(root, stack, node);
            }
        }
        _ => {}
    }
    rest
}

fn open(stack: &mut Vec<Open>, kind: Kind) {
    if stack.len() < MAX_NESTING {
        stack.push(Open {
            kind,
            branches: vec![Vec::new()],
        });
    }
}

fn next_branch(stack: &mut [Open], word: &str) {
    let Some(top) = stack.last_mut() else { return };
    match &mut top.kind {
        Kind::If {
            case: true,
            seen_when: seen @ false,
            ..
        } if word == "when" => {
            *seen = true;
            top.branches[0].clear();
        }
        Kind::If { .. } => top.branches.push(Vec::new()),
        Kind::Loop { in_else, .. } => *in_else = true,
        Kind::Capture => {}
    }
}

fn ends(kind: &Kind, word: &str) -> bool {
    match kind {
        Kind::If { .. } => matches!(word, "endif" | "endunless" | "endcase"),
        Kind::Loop { .. } => word == "endfor",
        Kind::Capture => word == "endcapture",
    }
}

fn close(open: Open) -> Node {
    let Open { kind, mut branches } = open;
    match kind {
        Kind::If { .. } => Node::Block { branches },
        Kind::Loop { var, list, .. } => Node::Loop {
            var,
            list,
            body: branches.swap_remove(0),
        },
        Kind::Capture => Node::Text(String::new()),
    }
}

/// Appends `node` to the innermost open branch, or to `root`.
fn push(root: &mut Vec<Node>, stack: &mut [Open], node: Node) {
    if matches!(&node, Node::Text(t) if t.is_empty()) {
        return;
    }
    let Some(top) = stack.last_mut() else {
        root.push(node);
        return;
    };
    match &top.kind {
        Kind::Capture | Kind::Loop { in_else: true, .. } => {}
        _ => {
            if let Some(branch) = top.branches.last_mut() {
                branch.push(node);
            }
        }
    }
}

/// Byte offset of the first `{{` or `{%` (one linear scan).
fn next_open(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    s.match_indices('{')
        .map(|(i, _)| i)
        .find(|&i| matches!(bytes.get(i + 1), Some(b'{' | b'%')))
}

/// Splits `rest` at `{% end %}`: (body, after). Without the end tag, all of it
/// is body.
fn skip_to_end_tag<'a>(rest: &'a str, end: &str) -> (&'a str, &'a str) {
    let mut search = 0;
    while let Some(i) = rest[search..].find("{%") {
        let at = search + i;
        let Some(len) = rest[at + 2..].find("%}") else {
            break;
        };
        if rest[at + 2..at + 2 + len].trim_matches('-').trim() == end {
            return (&rest[..at], &rest[at + 2 + len + 2..]);
        }
        search = at + 2;
    }
    (rest, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Node {
        Node::Text(s.into())
    }

    #[test]
    fn splits_text_output_and_blocks() {
        let nodes = parse("a {{ x }} {% if y %}b{% else %}c{% endif %}");
        assert_eq!(
            nodes,
            vec![
                text("a "),
                Node::Output("x".into()),
                text(" "),
                Node::Block {
                    branches: vec![vec![text("b")], vec![text("c")]]
                },
            ]
        );
    }

    #[test]
    fn case_drops_text_before_the_first_when() {
        let nodes = parse("{% case x %}\n{% when 1 %}a{% when 2 %}b{% endcase %}");
        assert_eq!(
            nodes,
            vec![Node::Block {
                branches: vec![vec![text("a")], vec![text("b")]]
            }]
        );
    }

    #[test]
    fn raw_comment_capture_and_stray_tags() {
        let nodes = parse(
            "{% raw %}{{ keep }}{% endraw %}{% comment %}from x{% endcomment %}{% capture c %}z{% endcapture %}{% endif %}q",
        );
        assert_eq!(nodes, vec![text("{{ keep }}"), text("q")]);
    }

    #[test]
    fn unterminated_and_unclosed_input_never_fails() {
        assert_eq!(parse("a {{ b"), vec![text("a "), text("{{ b")]);
        let nodes = parse("{% if a %}x");
        assert_eq!(
            nodes,
            vec![Node::Block {
                branches: vec![vec![text("x")]]
            }]
        );
        let deep = "{% if a %}".repeat(10_000);
        assert_eq!(parse(&deep).len(), 1);
    }

    #[test]
    fn for_and_assign() {
        let nodes =
            parse("{%- assign t = 'x' -%}{% for r in regions %}{{ r }}{% else %}none{% endfor %}");
        assert_eq!(
            nodes,
            vec![
                Node::Assign {
                    name: "t".into(),
                    expr: "'x'".into()
                },
                Node::Loop {
                    var: "r".into(),
                    list: "regions".into(),
                    body: vec![Node::Output("r".into())]
                },
            ]
        );
    }
}
