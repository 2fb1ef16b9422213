//! One golden BPF listing per registry entry (testkit/golden/entries/): each builtin, function,
//! aggregation and probe kind's emission on its own, from the small script examples.txt gives it.
//! A registry entry without an example line fails here, so a new entry arrives with its listing.
//!
//! Bless with `VT_BLESS=1 cargo test -p vt-testkit --test entries`, then review the diff.

use lang::registry::{Kind, Registry};
use std::collections::BTreeSet;
use vt_testkit::fixtures::TRACEFS;

struct Example {
    kind: String,
    name: String,
    /// vt's options, then the script; None when the entry's code depends on the machine.
    args: Option<Vec<String>>,
}

fn examples() -> Vec<Example> {
    let path = vt_testkit::kit_dir().join("golden/entries/examples.txt");
    let text = std::fs::read_to_string(&path).expect("examples.txt");
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let mut parts: Vec<&str> = line.split(" | ").collect();
        let head: Vec<&str> = parts.remove(0).split_whitespace().collect();
        assert_eq!(head.len(), 2, "`KIND NAME` expected in: {line}");
        let args = if parts.len() == 1 && parts[0].starts_with("- ") {
            None
        } else {
            assert!(matches!(parts.len(), 1 | 2), "`| [OPTIONS |] SCRIPT` expected in: {line}");
            let mut args: Vec<String> = vec!["--tracefs".into(), TRACEFS.into(), "-d".into()];
            if parts.len() == 2 {
                args.extend(parts[0].split_whitespace().map(String::from));
            }
            args.extend(["-e".to_string(), parts[parts.len() - 1].to_string()]);
            Some(args)
        };
        out.push(Example { kind: head[0].to_string(), name: head[1].to_string(), args });
    }
    out
}

#[test]
fn every_registry_entry_has_an_example() {
    let have: BTreeSet<(String, String)> = examples().into_iter().map(|e| (e.kind, e.name)).collect();
    let mut missing = Vec::new();
    for (kind, word) in [(Kind::Builtin, "builtin"), (Kind::Function, "function"), (Kind::Aggregation, "aggregation")] {
        for name in library::LIBRARY.names(kind) {
            if !have.contains(&(word.to_string(), name.to_string())) {
                missing.push(format!("{word} {name}"));
            }
        }
    }
    for name in library::probe_kinds() {
        if !have.contains(&("probe".to_string(), name.to_string())) {
            missing.push(format!("probe {name}"));
        }
    }
    assert!(missing.is_empty(), "add a line to testkit/golden/entries/examples.txt for: {}", missing.join(", "));
}

#[test]
fn each_entry_listing_matches_its_golden() {
    let dir = vt_testkit::kit_dir().join("golden/entries");
    for ex in examples() {
        let Some(args) = ex.args else { continue };
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = vt_testkit::vt_command(&argv).output().expect("cannot run vt");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{} {}: vt -d failed:\n{stderr}", ex.kind, ex.name);
        let listing = String::from_utf8(out.stdout).expect("UTF-8 listing");
        vt_testkit::golden::check(&dir.join(format!("{}-{}.listing", ex.kind, ex.name)), &listing);
    }
}
