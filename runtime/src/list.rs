//! Listing probes (`vt -l`, the REPL's `:list`) and a tracepoint's fields (`vt -lv`, `:format`).

use lang::provider::Tracefs;
use std::collections::HashSet;

/// The glob a user's pattern stands for: everything for none, `t:` for `tracepoint:`, and a bare
/// word (no `:`, no `*`) matches anywhere in the name.
pub fn pattern(arg: &str) -> String {
    match arg.split_once(':') {
        _ if arg.is_empty() => "*".to_string(),
        Some(("t", rest)) => format!("tracepoint:{rest}"),
        _ if !arg.contains(':') && !arg.contains('*') => format!("*{arg}*"),
        _ => arg.to_string(),
    }
}

/// The probes matching the user's `arg` (see [`pattern`]), one a line; with `fields`, each
/// tracepoint's fields under it.
pub fn probes(tracefs: &mut Tracefs, arg: &str, fields: bool) -> String {
    // Where the kernel says which events exist, list only those (as bpftrace does): the `ftrace`
    // category's directories, for one, are not tracepoints a program can attach to.
    let available: Option<HashSet<String>> = std::fs::read_to_string(tracefs.root().join("available_events"))
        .ok()
        .map(|text| text.lines().map(|l| format!("tracepoint:{}", l.trim())).collect());
    let pattern = pattern(arg);
    // Functions for fentry and fexit only where the kernel loads tracing programs (asked only when the
    // pattern could name them).
    let head = pattern.split(':').next().unwrap_or("");
    if ["fentry", "fexit", "kfunc", "kretfunc", "f", "fr"].iter().any(|n| lang::tracefs::glob_match(head, n)) {
        library::FENTRY_LISTED.store(crate::attach::fentry::available(), std::sync::atomic::Ordering::Relaxed);
    }
    let mut out = String::new();
    for name in library::list(tracefs, &pattern) {
        if let (Some(events), true) = (&available, name.starts_with("tracepoint:")) {
            if !events.contains(&name) {
                continue;
            }
        }
        out += &name;
        out.push('\n');
        if let (true, Some((category, event))) = (fields, name.strip_prefix("tracepoint:").and_then(|t| t.split_once(':'))) {
            out += &tracepoint_fields(tracefs, category, event).unwrap_or_default();
        }
    }
    out
}

/// A tracepoint's fields, one declaration a line, indented.
pub fn tracepoint_fields(tracefs: &mut Tracefs, category: &str, event: &str) -> std::io::Result<String> {
    let format = tracefs.format(category, event)?;
    Ok(format.fields.iter().map(|f| format!("    {}\n", f.declaration())).collect())
}
