//! The registry: every probe kind, builtin, function and aggregation vt knows, one file each, and the
//! one list of their names (below). Each entry carries its meaning for the checker (`lang::registry`)
//! and its BPF emission (`codegen::registry`); aggregations also decode their per-CPU bytes.
//!
//! To add one: write its file beside its kind's others (`probes/`, `builtins/`, `functions/`,
//! `aggregations/`), then declare and list it in that folder's `mod.rs`.

mod aggregations;
mod builtins;
mod functions;
mod probes;
pub mod shape;
mod stacks;

use codegen::registry::{EmitAggregation, EmitBuiltin, EmitFunction, Emitters};
use lang::registry::{Aggregation, Builtin, Function, Kind, ProbeKind, Registry};

pub use aggregations::AggregationEntry;
pub use builtins::BuiltinEntry;
pub use functions::FunctionEntry;
/// Whether `list` gives fentry/fexit functions (the runtime asks the kernel).
pub use probes::fentry::LISTED as FENTRY_LISTED;
/// The name of an x86-64 system call number (`syscall_name`'s table), for the runtime that shows it.
pub use functions::syscall_name::name as syscall_name;
/// A user function's symbol as bpftrace 0.17 prints it (`func`, `usym`, `ustack`): demangled, with a
/// Rust name's hash.
pub use probes::binary::printed as printed_symbol;

/// Calls that are statements of their own, checked by the language core (they send events).
static STATEMENTS: &[&str] = &["printf", "print", "clear", "zero", "delete", "exit", "time", "join", "cat", "system"];

/// The registry. Pass `&LIBRARY` wherever a `Registry` or `Emitters` is asked for.
pub struct Library;

pub static LIBRARY: Library = Library;

impl Library {
    /// The aggregation entry of that name, with its decoding side.
    pub fn aggregation_entry(&self, name: &str) -> Option<&'static dyn AggregationEntry> {
        aggregations::LIST.iter().copied().find(|a| a.name() == name)
    }
}

impl Registry for Library {
    fn probe_kind(&self, name: &str) -> Option<&dyn ProbeKind> {
        probes::LIST.iter().copied().find(|p| p.names().contains(&name))
    }
    fn builtin(&self, name: &str) -> Option<&dyn Builtin> {
        builtins::LIST.iter().find(|b| b.name() == name).map(|b| *b as &dyn Builtin)
    }
    fn function(&self, name: &str) -> Option<&dyn Function> {
        functions::LIST.iter().find(|f| f.name() == name).map(|f| *f as &dyn Function)
    }
    fn aggregation(&self, name: &str) -> Option<&dyn Aggregation> {
        aggregations::LIST.iter().find(|a| a.name() == name).map(|a| *a as &dyn Aggregation)
    }
    fn names(&self, kind: Kind) -> Vec<&'static str> {
        match kind {
            Kind::Probe => probes::LIST.iter().flat_map(|p| p.names().iter().copied()).collect(),
            Kind::Builtin => builtins::LIST.iter().map(|b| b.name()).collect(),
            Kind::Function => functions::LIST.iter().map(|f| f.name()).collect(),
            Kind::Aggregation => aggregations::LIST.iter().map(|a| a.name()).collect(),
            Kind::Statement => STATEMENTS.to_vec(),
        }
    }
}

impl Emitters for Library {
    fn builtin(&self, name: &str) -> Option<&dyn EmitBuiltin> {
        builtins::LIST.iter().find(|b| b.name() == name).map(|b| *b as &dyn EmitBuiltin)
    }
    fn function(&self, name: &str) -> Option<&dyn EmitFunction> {
        functions::LIST.iter().find(|f| f.name() == name).map(|f| *f as &dyn EmitFunction)
    }
    fn aggregation(&self, name: &str) -> Option<&dyn EmitAggregation> {
        aggregations::LIST.iter().find(|a| a.name() == name).map(|a| *a as &dyn EmitAggregation)
    }
}

/// Every name a script may use where a value or a call goes: builtins, functions, aggregations and
/// statement calls (for completion and for the property-test generators).
pub fn all_names(kind: Kind) -> Vec<&'static str> {
    LIBRARY.names(kind)
}

/// Each probe kind's own name (the first of its spellings: `tracepoint`, not `t`).
pub fn probe_kinds() -> Vec<&'static str> {
    probes::LIST.iter().map(|p| p.names()[0]).collect()
}

/// Parses nothing: checks a parsed script with this registry.
pub fn check(
    script: &lang::ast::Script,
    tracefs: &mut lang::tracefs::Tracefs,
    opts: &lang::check::CheckOptions,
) -> Result<lang::typed::Program, Vec<lang::Diagnostic>> {
    lang::check::check_with(script, tracefs, opts, &LIBRARY)
}

/// Compiles a checked program with this registry's emitters.
pub fn compile(program: &lang::typed::Program) -> Result<codegen::Object, lang::Diagnostic> {
    codegen::compile(program, &LIBRARY)
}

/// The probes `vt -l PATTERN` lists: every kind's names matching the glob, in the kinds' order.
pub fn list(tracefs: &lang::tracefs::Tracefs, pattern: &str) -> Vec<String> {
    let mut names: Vec<String> = probes::LIST.iter().flat_map(|p| p.list(tracefs, pattern)).collect();
    names.retain(|n| lang::tracefs::glob_match(pattern, n));
    names
}
