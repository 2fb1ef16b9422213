//! The registry: every probe kind, builtin, function and aggregation vt knows, one file each, and the
//! one list of their names (below). Each entry carries its meaning for the checker (`lang::registry`)
//! and its BPF emission (`codegen::registry`); aggregations also decode their per-CPU bytes.
//!
//! To add one: write its file beside its kind's others, then add it to the list below.

mod aggregations;
mod builtins;
mod functions;
mod probes;
pub mod shape;

use codegen::registry::{EmitAggregation, EmitBuiltin, EmitFunction, Emitters};
use lang::registry::{Aggregation, Builtin, Function, Kind, ProbeKind, Registry};

pub use aggregations::AggregationEntry;
pub use builtins::BuiltinEntry;
pub use functions::FunctionEntry;

/// Probe kinds, in the order `vt -l` lists them.
static PROBES: &[&dyn ProbeKind] = &[&probes::begin::Begin, &probes::end::End, &probes::interval::Interval, &probes::tracepoint::Tracepoint];

static BUILTINS: &[&dyn BuiltinEntry] = &[
    &builtins::pid::Pid,
    &builtins::tid::Tid,
    &builtins::uid::Uid,
    &builtins::gid::Gid,
    &builtins::nsecs::Nsecs,
    &builtins::elapsed::Elapsed,
    &builtins::cpu::Cpu,
    &builtins::numaid::Numaid,
    &builtins::comm::Comm,
    &builtins::rand::Rand,
    &builtins::cgroup::Cgroup,
    &builtins::curtask::Curtask,
    &builtins::probe::Probe,
    &builtins::cpid::Cpid,
];

static FUNCTIONS: &[&dyn FunctionEntry] = &[&functions::str::Str, &functions::has_key::HasKey, &functions::bswap::Bswap];

static AGGREGATIONS: &[&dyn AggregationEntry] = &[
    &aggregations::count::Count,
    &aggregations::sum::Sum,
    &aggregations::min::Min,
    &aggregations::max::Max,
    &aggregations::avg::Avg,
    &aggregations::stats::Stats,
    &aggregations::hist::Hist,
    &aggregations::lhist::LHist,
];

/// Calls that are statements of their own, checked by the language core (they send events).
static STATEMENTS: &[&str] = &["printf", "print", "clear", "zero", "delete", "exit", "time"];

/// The registry. Pass `&LIBRARY` wherever a `Registry` or `Emitters` is asked for.
pub struct Library;

pub static LIBRARY: Library = Library;

impl Library {
    /// The aggregation entry of that name, with its decoding side.
    pub fn aggregation_entry(&self, name: &str) -> Option<&'static dyn AggregationEntry> {
        AGGREGATIONS.iter().copied().find(|a| a.name() == name)
    }
}

impl Registry for Library {
    fn probe_kind(&self, name: &str) -> Option<&dyn ProbeKind> {
        PROBES.iter().copied().find(|p| p.names().contains(&name))
    }
    fn builtin(&self, name: &str) -> Option<&dyn Builtin> {
        BUILTINS.iter().find(|b| b.name() == name).map(|b| *b as &dyn Builtin)
    }
    fn function(&self, name: &str) -> Option<&dyn Function> {
        FUNCTIONS.iter().find(|f| f.name() == name).map(|f| *f as &dyn Function)
    }
    fn aggregation(&self, name: &str) -> Option<&dyn Aggregation> {
        AGGREGATIONS.iter().find(|a| a.name() == name).map(|a| *a as &dyn Aggregation)
    }
    fn names(&self, kind: Kind) -> Vec<&'static str> {
        match kind {
            Kind::Probe => PROBES.iter().flat_map(|p| p.names().iter().copied()).collect(),
            Kind::Builtin => BUILTINS.iter().map(|b| b.name()).collect(),
            Kind::Function => FUNCTIONS.iter().map(|f| f.name()).collect(),
            Kind::Aggregation => AGGREGATIONS.iter().map(|a| a.name()).collect(),
            Kind::Statement => STATEMENTS.to_vec(),
        }
    }
}

impl Emitters for Library {
    fn builtin(&self, name: &str) -> Option<&dyn EmitBuiltin> {
        BUILTINS.iter().find(|b| b.name() == name).map(|b| *b as &dyn EmitBuiltin)
    }
    fn function(&self, name: &str) -> Option<&dyn EmitFunction> {
        FUNCTIONS.iter().find(|f| f.name() == name).map(|f| *f as &dyn EmitFunction)
    }
    fn aggregation(&self, name: &str) -> Option<&dyn EmitAggregation> {
        AGGREGATIONS.iter().find(|a| a.name() == name).map(|a| *a as &dyn EmitAggregation)
    }
}

/// Every name a script may use where a value or a call goes: builtins, functions, aggregations and
/// statement calls (for completion and for the property-test generators).
pub fn all_names(kind: Kind) -> Vec<&'static str> {
    LIBRARY.names(kind)
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
    let mut names: Vec<String> = PROBES.iter().flat_map(|p| p.list(tracefs)).collect();
    names.retain(|n| lang::tracefs::glob_match(pattern, n));
    names
}
