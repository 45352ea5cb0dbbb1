//! The settings model end to end: sources named in errors, every missing
//! setting at once, secrets from files, and out-of-range input refused with one
//! clear line (exit 2), never a panic.

use std::path::Path;

use crate::support::*;

/// `extract-mode` with nothing set but what `vars` gives, run in `cwd`.
fn bare_extract(cwd: &Path, vars: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_extract-mode"));
    cmd.env_clear().current_dir(cwd).args(args);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn every_missing_setting_is_named_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = bare_extract(dir.path(), &[], &[]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    for name in ["--workspace", "--token", "--secret", "--output"] {
        assert!(err.contains(name), "{name}: {err}");
    }
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn bad_values_name_their_source_and_hint_at_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let base = [
        ("CASTOR_MODE_ANALYTICS_WORKSPACE", "acme"),
        ("CASTOR_MODE_ANALYTICS_TOKEN", "t0ken-value"),
        ("CASTOR_MODE_ANALYTICS_SECRET", "s3cret-value"),
        ("CASTOR_OUTPUT_DIRECTORY", "out"),
    ];
    let with = |extra: (&str, &str), args: &[&str]| {
        let mut vars = base.to_vec();
        vars.push(extra);
        bare_extract(dir.path(), &vars, args)
    };
    let out = with(("CASTOR_MODE_ANALYTICS_HOST", "app.mode.com"), &[]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(
        err.contains("CASTOR_MODE_ANALYTICS_HOST (environment)")
            && err.contains("https://app.mode.com"),
        "{err}"
    );

    std::fs::write(
        dir.path().join(".env"),
        "CASTOR_MODE_ANALYTICS_WORKSPACE=../etc\n",
    )
    .unwrap();
    let out = bare_extract(dir.path(), &base[1..], &[]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains(
            "CASTOR_MODE_ANALYTICS_WORKSPACE (./.env): '../etc' is not a workspace username"
        ),
        "{}",
        stderr(&out)
    );
    std::fs::remove_file(dir.path().join(".env")).unwrap();

    for args in [
        &["-w", ".."][..],
        &["-t", ""],
        &["-s", ""],
        &["--timeout", "0s"],
        &["--rate-limit", "4294967295"],
        &["--rate-limit", "4000000000", "--rate-window", "1ns"],
        &["--rate-window", "1000000000y"],
        &["--rate-window", "18446744073709551615s"],
        &["--per-page", "0"],
        &["--concurrency", "0"],
    ] {
        let out = with(("UNUSED", "x"), args);
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        assert_eq!(
            stderr(&out).trim().lines().count(),
            1,
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(!stderr(&out).contains("panicked"), "{args:?}");
    }
}

#[test]
fn a_hostile_dotenv_is_refused_without_echoing_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        b"CASTOR_MODE_ANALYTICS_SECRET=s3cr3t-\0-value\n",
    )
    .unwrap();
    let out = bare_extract(dir.path(), &[], &[]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("NUL byte") && !stderr(&out).contains("s3cr3t"),
        "{}",
        stderr(&out)
    );

    std::fs::remove_file(dir.path().join(".env")).unwrap();
    std::fs::create_dir(dir.path().join(".env")).unwrap();
    let out = bare_extract(dir.path(), &[], &[]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("not a regular file"),
        "{}",
        stderr(&out)
    );

    let upload_dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/dev/zero", upload_dir.path().join(".env")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_upload"))
        .env_clear()
        .current_dir(upload_dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not a regular file"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn secrets_come_from_files_as_kubernetes_mounts_them() {
    let sb = sandbox(small_config());
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "sandbox-secret\n").unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "sandbox-token").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = dir.path().join("out");
    let run = extract_cmd(&sb, &out)
        .env_remove("CASTOR_MODE_ANALYTICS_SECRET")
        .env_remove("CASTOR_MODE_ANALYTICS_TOKEN")
        .env("CASTOR_MODE_ANALYTICS_SECRET_FILE", &secret)
        .arg("--token-file")
        .arg(&token)
        .output()
        .unwrap();
    assert_eq!(code(&run), 0, "{}", stderr(&run));
    assert!(
        stderr(&run).contains("can be read by every user"),
        "{}",
        stderr(&run)
    );

    let both = extract_cmd(&sb, &out)
        .env("CASTOR_MODE_ANALYTICS_SECRET_FILE", &secret)
        .output()
        .unwrap();
    assert_eq!(code(&both), 2);
    assert!(
        stderr(&both).contains("both set in the environment"),
        "{}",
        stderr(&both)
    );

    let missing = dir.path().join("nope");
    let gone = extract_cmd(&sb, &out)
        .env_remove("CASTOR_MODE_ANALYTICS_SECRET")
        .env("CASTOR_MODE_ANALYTICS_SECRET_FILE", &missing)
        .output()
        .unwrap();
    assert_eq!(code(&gone), 2);
    assert!(
        stderr(&gone).contains(missing.to_str().unwrap()),
        "{}",
        stderr(&gone)
    );

    // upload's token from a file
    let upload = assert_cmd::Command::new(env!("CARGO_BIN_EXE_upload"))
        .env_clear()
        .current_dir(dir.path())
        .env("CASTOR_UPLOADER_TOKEN_FILE", {
            let p = dir.path().join("ingest");
            std::fs::write(&p, "sandbox-ingest-token\n").unwrap();
            p
        })
        .args([
            "-s",
            "7b2f9a4e-3c1d-4e8f-9a6b-2d5c8e1f0a37",
            "--endpoint",
            &sb.url(),
        ])
        .arg("-d")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(code(&upload), 0, "{}", stderr(&upload));
}
