//! Embeds every rule file under `rules/` (one folder per usage and round,
//! as the official package lays them out), so a new round is a new folder.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    // Read at run time, not baked in with env!(): a compiled build script
    // may be reused for a checkout at another path (same package, same
    // hash), and must read that checkout's rules.
    let manifest_dir =
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest_dir).join("rules");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("rules/ is part of the crate")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .collect();
    dirs.sort_by_key(|e| e.file_name());
    for dir in dirs {
        println!("cargo:rerun-if-changed={}", dir.path().display());
        let mut entries: Vec<_> = std::fs::read_dir(dir.path())
            .expect("rule folder is readable")
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "yaml"))
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = format!(
                "{}/{}",
                dir.file_name().to_string_lossy(),
                entry.file_name().to_string_lossy()
            );
            files.push((name, entry.path()));
        }
    }
    let mut out = String::from("/// Every embedded rule file: (path as the rules name it, YAML text).\npub static EMBEDDED_RULE_FILES: &[(&str, &str)] = &[\n");
    for (name, path) in files {
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .expect("write to String");
    }
    out.push_str("];\n");
    let dest =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("embedded_rules.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}
