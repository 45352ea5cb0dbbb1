//! Records the commit the binaries are built from, for `--version`
//! (`0.1.0 (abc123def456)`); `unknown` outside a git checkout.

use std::path::Path;
use std::process::Command;

fn main() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=MODE_EXTRACTOR_COMMIT={commit}");
    // Rebuild when HEAD moves: the HEAD file names the branch, whose ref file
    // (or packed-refs) holds the commit.
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/packed-refs");
    if let Ok(head) = std::fs::read_to_string(".git/HEAD")
        && let Some(reference) = head.trim().strip_prefix("ref: ")
        && Path::new(".git").join(reference).exists()
    {
        println!("cargo:rerun-if-changed=.git/{reference}");
    }
}
