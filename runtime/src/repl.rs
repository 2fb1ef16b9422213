//! `vt repl`: an interactive tracing session (being written).

/// Runs the REPL with tracepoint formats from `tracefs`.
pub fn run(tracefs: std::path::PathBuf) -> Result<(), String> {
    let _ = tracefs;
    Err("vt repl is not built yet".into())
}
