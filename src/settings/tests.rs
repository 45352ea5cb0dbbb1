use secrecy::ExposeSecret;

use super::*;

const HOST: Setting = Setting::new("--host", "X_HOST");
const SECRET: Setting = Setting::secret("--secret", "X_SECRET", "--secret-file", "X_SECRET_FILE");

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn layers(flags: &[(&'static str, &str)], env: &[(&str, &str)], dotenv: &[(&str, &str)]) -> Layers {
    let flags = flags.iter().map(|(k, v)| (*k, Some((*v).to_owned())));
    Layers::new(flags, pairs(env), pairs(dotenv)).unwrap()
}

#[test]
fn flag_beats_environment_beats_dotenv_and_says_where() {
    let all = layers(&[("--host", "f")], &[("X_HOST", "e")], &[("X_HOST", "d")]);
    let found = all.get(&HOST).unwrap();
    assert_eq!(
        (found.text.as_str(), found.source.to_string()),
        ("f", "--host".into())
    );
    let env = layers(&[], &[("X_HOST", "e")], &[("X_HOST", "d")]);
    assert_eq!(
        env.get(&HOST).unwrap().source.to_string(),
        "X_HOST (environment)"
    );
    let dot = layers(&[], &[("X_HOST", " ")], &[("X_HOST", "d")]);
    let found = dot.get(&HOST).unwrap();
    assert_eq!(found.source.to_string(), "X_HOST (./.env)");
    assert_eq!(
        found.invalid("is bad").to_string(),
        "X_HOST (./.env): 'd' is bad"
    );
}

#[test]
fn an_empty_flag_is_an_error_an_empty_variable_is_unset() {
    let err = Layers::new([("--token", Some(String::new()))], pairs(&[]), pairs(&[])).unwrap_err();
    assert!(
        err.to_string().contains("--token: the value is empty"),
        "{err}"
    );
    assert!(layers(&[], &[("X_HOST", "")], &[]).get(&HOST).is_none());
}

#[test]
fn missing_settings_are_reported_together() {
    let mut missing = Missing::default();
    assert_eq!(missing.require(Some(1), &HOST), Some(1));
    missing.require(None::<u8>, &HOST);
    missing.require(None::<u8>, &SECRET);
    let err = missing.check().unwrap_err().to_string();
    assert!(
        err.starts_with("missing settings: --host (or X_HOST); --secret"),
        "{err}"
    );
    assert!(Missing::default().check().is_ok());
}

#[test]
fn secrets_from_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret");
    std::fs::write(&path, "s3cr3t\n").unwrap();
    let file = path.to_str().unwrap();

    let (value, source) = layers(&[], &[("X_SECRET_FILE", file)], &[])
        .secret(&SECRET)
        .unwrap()
        .unwrap();
    assert_eq!(value.expose_secret(), "s3cr3t");
    assert!(
        source
            .to_string()
            .contains("X_SECRET_FILE (environment) file"),
        "{source}"
    );

    // a higher layer's value beats a lower layer's file, and the other way round
    let (value, _) = layers(&[("--secret", "flag")], &[("X_SECRET_FILE", file)], &[])
        .secret(&SECRET)
        .unwrap()
        .unwrap();
    assert_eq!(value.expose_secret(), "flag");
    let (value, _) = layers(&[("--secret-file", file)], &[("X_SECRET", "env")], &[])
        .secret(&SECRET)
        .unwrap()
        .unwrap();
    assert_eq!(value.expose_secret(), "s3cr3t");

    // both in one layer
    let err = layers(&[], &[("X_SECRET", "v"), ("X_SECRET_FILE", file)], &[])
        .secret(&SECRET)
        .unwrap_err();
    assert!(
        err.to_string().contains("both set in the environment"),
        "{err}"
    );
}

#[test]
fn bad_secret_files_name_the_path_never_the_content() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "\n").unwrap();
    let missing = dir.path().join("missing");
    for (path, why) in [(&empty, "is empty"), (&missing, "cannot read")] {
        let l = layers(&[("--secret-file", path.to_str().unwrap())], &[], &[]);
        let err = l.secret(&SECRET).unwrap_err().to_string();
        assert!(
            err.contains(why) && err.contains(path.to_str().unwrap()),
            "{err}"
        );
    }
    let l = layers(&[("--secret-file", dir.path().to_str().unwrap())], &[], &[]);
    assert!(
        l.secret(&SECRET)
            .unwrap_err()
            .to_string()
            .contains("not a regular file")
    );
}

#[test]
fn debug_shows_names_never_values() {
    let l = layers(
        &[("--secret", "fl4g-secret")],
        &[("X_SECRET", "3nv-secret")],
        &[("X_HOST", "d0t-host")],
    );
    let shown = format!("{l:?}");
    assert!(
        shown.contains("--secret") && shown.contains("X_SECRET") && shown.contains("X_HOST"),
        "{shown}"
    );
    for value in ["fl4g-secret", "3nv-secret", "d0t-host"] {
        assert!(!shown.contains(value), "{shown}");
    }
}
