//! Generated workspace members: `/api/{username}` users and `/memberships`.

use serde_json::{Value, json};

use super::ctx::{Gen, iso, link, templated};

/// (display name, ASCII form for usernames).
const FIRST: [(&str, &str); 16] = [
    ("Ada", "ada"),
    ("Zoë", "zoe"),
    ("José", "jose"),
    ("Mei", "mei"),
    ("Ivan", "ivan"),
    ("Søren", "soren"),
    ("Amara", "amara"),
    ("Liam", "liam"),
    ("Noor", "noor"),
    ("Kenji", "kenji"),
    ("Fatima", "fatima"),
    ("Lucía", "lucia"),
    ("Oliver", "oliver"),
    ("Priya", "priya"),
    ("Hana", "hana"),
    ("Mateus", "mateus"),
];
const LAST: [(&str, &str); 16] = [
    ("Lovelace", "lovelace"),
    ("Müller", "muller"),
    ("García", "garcia"),
    ("Chen", "chen"),
    ("Petrov", "petrov"),
    ("Kierkegaard", "kierkegaard"),
    ("Okafor", "okafor"),
    ("O'Brien", "obrien"),
    ("Haddad", "haddad"),
    ("田中", "tanaka"),
    ("Zahra", "zahra"),
    ("Fernández", "fernandez"),
    ("Smith", "smith"),
    ("Patel", "patel"),
    ("Kim", "kim"),
    ("Silva", "silva"),
];

/// A generated member.
pub(crate) struct Person {
    pub(crate) username: String,
    pub(crate) user: Value,
    pub(crate) membership: Value,
}

/// `count` distinct members; the first is an admin and owns the API token.
pub(crate) fn people(g: &mut Gen, count: usize) -> Vec<Person> {
    (0..count).map(|i| person(g, i)).collect()
}

/// Member `index` (0 owns the token); the index keeps the username unique.
pub(crate) fn person(g: &mut Gen, index: usize) -> Person {
    let (first, first_ascii) = *g.pick(&FIRST);
    let (last, last_ascii) = *g.pick(&LAST);
    let initial = first_ascii.chars().next().unwrap_or('u');
    // The index suffix keeps usernames unique and never equal to the workspace.
    let username = format!("{initial}{last_ascii}{index}");
    let (id, token) = (g.id(), g.token());
    let created = g.instant();
    let name = format!("{first} {last}");
    let initials: String = [first, last]
        .iter()
        .filter_map(|part| part.chars().next())
        .collect();
    let user = json!({
        "username": username, "name": name, "id": id, "token": token,
        "email": format!("{username}@example.com"),
        "dataset_size_limit_mb": 10, "query_run_size_limit_mb": 1000,
        "email_verified": true,
        "avatar": {
            "initials": initials.to_uppercase(), "seed": token,
            "color_class": format!("mode-avatar-color-{}", g.int(1..=8)), "type": "initials",
        },
        "user": true, "data_source_count": 0, "organizations_count": 1,
        "created_at": iso(created),
        "_links": {
            "self": link(format!("/api/{username}")),
            "web": link(format!("/{username}")),
            "organizations": link(format!("/api/{username}/organizations")),
            "report": templated(format!("/api/{username}/reports{{/id}}")),
        },
    });
    let ws = g.ws.clone();
    let membership = json!({
        "admin": index == 0 || g.chance(0.1),
        "invited": false,
        "state": "active",
        "member_username": username,
        "member_token": token,
        "activated_at": iso(g.later(created, 10)),
        "managed_by_scim": false,
        "_links": {
            "self": link(format!("/api/{ws}/memberships/{username}")),
            "user": link(format!("/api/{username}")),
        },
    });
    Person {
        username,
        user,
        membership,
    }
}
