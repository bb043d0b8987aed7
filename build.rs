//! Puts the git commit into `--version` (as `DESCVIEW_COMMIT`), so that a bug report names
//! the exact code. Built from a tarball, without git or without `.git`, the commit reads
//! "unknown"; nothing here may fail the build.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .map(|text| text.trim().to_string())
        .filter(|text| !text.is_empty() && text.chars().all(|c| c.is_ascii_hexdigit()))
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=DESCVIEW_COMMIT={commit}");

    // A new commit changes the branch's ref (or HEAD itself when it is detached). Only paths
    // that exist are named: cargo reruns the script on every build for a missing one.
    let head = Path::new(".git/HEAD");
    if head.is_file() {
        println!("cargo:rerun-if-changed=.git/HEAD");
        let branch_ref = std::fs::read_to_string(head)
            .ok()
            .and_then(|text| text.strip_prefix("ref: ").map(|r| r.trim().to_string()));
        if let Some(branch_ref) = branch_ref {
            let ref_path = Path::new(".git").join(&branch_ref);
            if ref_path.is_file() {
                println!("cargo:rerun-if-changed={}", ref_path.display());
            }
            // After `git gc` the ref lives in packed-refs instead.
            if Path::new(".git/packed-refs").is_file() {
                println!("cargo:rerun-if-changed=.git/packed-refs");
            }
        }
    }
}
