//! One compile path for the CLI, `vt build` and the REPL: source -> parse -> check -> codegen ->
//! `Object`, with the diagnostics each step gives.

use codegen::Object;
use lang::ast::{Script, Span};
use lang::check::CheckOptions;
use lang::provider::Tracefs;
use lang::Diagnostic;
use std::path::PathBuf;

/// Why a script did not compile.
#[derive(Debug)]
pub enum Error {
    /// The script is wrong: syntax, types, unknown probes or fields.
    Script(Vec<Diagnostic>),
    /// It uses tracepoints and tracefs has no `events` directory there.
    NoTracepoints(PathBuf),
}

impl Error {
    /// The error as printed: diagnostics placed in `source` (named `name`), or one line.
    pub fn render(&self, name: &str, source: &str) -> String {
        match self {
            Error::Script(d) => lang::render(d, name, source),
            Error::NoTracepoints(events) => format!(
                "vt: no tracepoints: {} does not exist (mount tracefs: `mount -t tracefs nodev /sys/kernel/tracing`)",
                events.display()
            ),
        }
    }
}

/// A compiled script.
pub struct Compiled {
    pub object: Object,
    /// Where each probe of the checked program is in the source (the object's programs, in order).
    pub probe_spans: Vec<Span>,
}

/// Parses a script.
pub fn parse(source: &str) -> Result<Script, Error> {
    lang::parse(source).map_err(Error::Script)
}

/// Whether the tracepoints `script` uses can be read: tracefs has an `events` directory.
pub fn need_tracepoints(script: &Script, tracefs: &Tracefs) -> Result<(), Error> {
    let traces = script.probes.iter().flat_map(|p| &p.specs).any(|s| matches!(s.provider.name.as_str(), "tracepoint" | "t"));
    let events = tracefs.root().join("events");
    match traces && !events.is_dir() {
        true => Err(Error::NoTracepoints(events)),
        false => Ok(()),
    }
}

/// Checks a parsed script and generates its programs.
pub fn build(script: &Script, tracefs: &mut Tracefs, opts: &CheckOptions) -> Result<Compiled, Error> {
    let program = library::check(script, tracefs, opts).map_err(Error::Script)?;
    let probe_spans = program.probes.iter().map(|p| p.span).collect();
    let object = library::compile(&program).map_err(|d| Error::Script(vec![d]))?;
    Ok(Compiled { object, probe_spans })
}

/// The whole path for a script given on the command line: parse, need its tracepoints, build.
pub fn compile(source: &str, tracefs: &mut Tracefs, opts: &CheckOptions) -> Result<Object, Error> {
    let script = parse(source)?;
    need_tracepoints(&script, tracefs)?;
    Ok(build(&script, tracefs, opts)?.object)
}
