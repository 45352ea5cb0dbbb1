"""Checks a --metrics-file with prometheus_client's text-format parser.

Usage: check_metrics.py FILE [CHECK...]
  NAME=VALUE           the sample NAME (without the mode_extractor_ prefix) equals VALUE
  NAME{LABEL=V}=VALUE  the sample of NAME whose LABEL is V equals VALUE
  NAME>VALUE           greater than VALUE
  NAME                 present;  !NAME  absent
  print:NAME           print the value (for a later NAME=VALUE check)
  nosecret:TEXT        TEXT appears nowhere in the file
Every sample must carry tool and workspace or source_id labels. Exits 1 on the
first failed check."""
import re
import sys

from prometheus_client.parser import text_string_to_metric_families

PREFIX = "mode_extractor_"


def samples(text):
    out = {}
    for family in text_string_to_metric_families(text):
        assert family.type == "gauge", f"{family.name}: type {family.type}, not gauge"
        for s in family.samples:
            labels = dict(s.labels)
            assert "tool" in labels and ("workspace" in labels or "source_id" in labels), s
            extra = tuple(sorted((k, v) for k, v in labels.items() if k not in ("tool", "workspace", "source_id")))
            out[(s.name.removeprefix(PREFIX), extra)] = s.value
    return out


def key(spec):
    m = re.fullmatch(r"([a-z_]+)(?:\{([a-z_]+)=([^}]*)\})?", spec)
    assert m, f"bad check {spec!r}"
    return (m[1], ((m[2], m[3]),) if m[2] else ())


def check(found, text, spec):
    if spec.startswith("nosecret:"):
        assert spec[9:] and spec[9:] not in text, "a secret is in the metrics file"
    elif spec.startswith("print:"):
        print(found[key(spec[6:])])
    elif spec.startswith("!"):
        assert key(spec[1:]) not in found, f"{spec[1:]} present"
    elif ">" in spec:
        name, value = spec.split(">", 1)
        assert found[key(name)] > float(value), f"{name} = {found[key(name)]}, not > {value}"
    elif "=" in spec.rsplit("}", 1)[-1]:
        name, value = spec.rsplit("=", 1)
        assert found[key(name)] == float(value), f"{name} = {found.get(key(name))}, not {value}"
    else:
        assert key(spec) in found, f"{spec} absent"


def main():
    path, checks = sys.argv[1], sys.argv[2:]
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        found = samples(text)
        for spec in checks:
            check(found, text, spec)
    except (AssertionError, KeyError, ValueError) as e:
        sys.exit(f"{path}: {e!r}")
    if not any(c.startswith("print:") for c in checks):
        print(f"{path}: {len(found)} samples parsed, {len(checks)} checks passed")


main()
