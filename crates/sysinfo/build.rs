//! Stamps the git commit the crate was built from into `YARDSTICK_GIT_COMMIT`.
//! Without git (a source tarball, a sandbox) the commit is "unknown": the
//! build never fails for want of it.

use std::process::Command;

fn main() {
    let commit = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=YARDSTICK_GIT_COMMIT={commit}");
    // Rerun when HEAD moves (a commit, a checkout). Only files that exist are
    // named: cargo treats a missing one as always changed, which would rebuild
    // every dependant on every build.
    if let Some(git_dir) = git_dir() {
        let mut watched = vec![format!("{git_dir}/HEAD"), format!("{git_dir}/packed-refs")];
        if let Ok(head) = std::fs::read_to_string(format!("{git_dir}/HEAD")) {
            if let Some(reference) = head.trim().strip_prefix("ref: ") {
                watched.push(format!("{git_dir}/{reference}"));
            }
        }
        for path in watched.iter().filter(|p| std::path::Path::new(p).exists()) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}

fn git_dir() -> Option<String> {
    let out = Command::new("git")
        .args(["rev-parse", "--absolute-git-dir"])
        .output()
        .ok()
        .filter(|out| out.status.success())?;
    let dir = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!dir.is_empty()).then_some(dir)
}
