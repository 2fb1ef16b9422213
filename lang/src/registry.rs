//! The registry as the checker sees it: what a probe kind, a builtin, a function or an aggregation must
//! say about itself so that the checker can type a script. The entries themselves live in the `library`
//! crate, one file each, and also carry their BPF emission (codegen's side of the same entry).
//!
//! The checker holds a `&dyn Registry` and asks it by name; it has no list of names of its own.

use crate::ast::{Expr, Ident, MapRef, ProbeSpec, Span};
use crate::diag::Diagnostic;
use crate::tracefs::Tracefs;
use crate::typed::{Agg, Attach, MapId, TExpr};
use std::ops::RangeInclusive;

/// The kinds of names the registry holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Probe,
    Builtin,
    Function,
    Aggregation,
    /// Calls that are statements of their own (`printf`, `print`, `clear`, `zero`, `delete`, `exit`,
    /// `time`): the checker's core handles them, but their names are listed here all the same.
    Statement,
}

/// The one list of names, and the entries behind them.
pub trait Registry: Sync {
    fn probe_kind(&self, name: &str) -> Option<&dyn ProbeKind>;
    fn builtin(&self, name: &str) -> Option<&dyn Builtin>;
    fn function(&self, name: &str) -> Option<&dyn Function>;
    fn aggregation(&self, name: &str) -> Option<&dyn Aggregation>;
    /// Every name of one kind, aliases included, in registration order.
    fn names(&self, kind: Kind) -> Vec<&'static str>;
}

/// A probe kind: its spec syntax and how a spec becomes attach points.
pub trait ProbeKind: Sync {
    /// The names a spec may start with (`tracepoint`, `t`).
    fn names(&self) -> &'static [&'static str];
    /// Turns a spec into attach points (several where it has wildcards).
    fn resolve(&self, spec: &ProbeSpec, cx: &mut Resolve) -> Result<Vec<Attach>, Diagnostic>;
    /// What `vt -l PATTERN` lists for this kind (only names; the caller matches them against the
    /// pattern, which kinds whose names live in files, as uprobes, read to find those files).
    fn list(&self, tracefs: &Tracefs, pattern: &str) -> Vec<String>;
}

/// What resolving a spec may look at besides the spec itself.
pub struct Resolve<'a> {
    pub tracefs: &'a mut Tracefs,
    /// `-p PID`: the process whose mappings name libraries (`uprobe:libc:malloc`) and that uprobes
    /// attach to.
    pub pid: Option<u32>,
    /// `-c CMD`: the child's pid (watchpoints watch its memory when there is no `-p`).
    pub cpid: Option<u32>,
    /// `-c CMD`: the program it runs.
    pub cmd: Option<&'a std::path::Path>,
    /// One program may serve all of a wildcard's matches (see `CheckOptions::kprobe_multi`).
    pub shared: bool,
}

/// What a builtin's check may look at.
pub struct BuiltinCx<'a> {
    pub attach: &'a Attach,
    pub params: &'a [String],
    /// `-c CMD`'s pid, if any.
    pub cpid: Option<u32>,
    pub span: Span,
}

/// A builtin value (`pid`, `comm`, `probe`, ...).
pub trait Builtin: Sync {
    fn name(&self) -> &'static str;
    /// The typed value here: usually `TExprKind::Builtin(name)` (emitted by the entry), or a constant.
    fn check(&self, cx: &BuiltinCx) -> Result<TExpr, Diagnostic>;
}

/// A call as written.
pub struct Call<'a> {
    pub func: &'a Ident,
    pub args: &'a [Expr],
    pub span: Span,
}

/// What the checker lends an entry while it checks a call: typing of its arguments and error reports.
pub trait Checking {
    fn expr(&mut self, e: &Expr) -> Option<TExpr>;
    /// An expression that must be an integer.
    fn int_expr(&mut self, e: &Expr) -> Option<TExpr>;
    /// An integer known at check time (a literal or a positional parameter).
    fn const_int(&mut self, e: &Expr, what: &str) -> Option<u64>;
    /// `Some(())` when the call has an allowed number of arguments; reports it otherwise.
    fn arity(&mut self, call: &Call, want: RangeInclusive<usize>) -> Option<()>;
    /// A map that exists and its keys, typed and checked against its key type.
    fn map_access(&mut self, m: &MapRef, what: &str) -> Option<(MapId, Vec<TExpr>)>;
    /// The text of positional parameter `$n` as given on the command line (`""` when missing).
    fn positional(&self, n: u32) -> String;
    fn error(&mut self, d: Diagnostic);
    /// The attach point the probe is being checked for.
    fn attach(&self) -> &Attach;
    /// Whether the command line allowed unsafe functions (`--unsafe`).
    fn unsafe_allowed(&self) -> bool {
        false
    }
    /// A named parameter (`-- --name=value`, `-- --flag`) as given: None when absent, `Some(None)`
    /// when given without `=value` (bpftrace 0.22+'s `getopt`).
    fn named_param(&self, _name: &str) -> Option<Option<String>> {
        None
    }
}

/// A function that yields a value (`str`, `has_key`, `bswap`, ...).
pub trait Function: Sync {
    fn name(&self) -> &'static str;
    /// The typed call (usually `TExprKind::Call`), or None after reporting what is wrong.
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<TExpr>;
    /// A call made for what it does (`signal`): a statement of its own, never a value.
    fn statement(&self) -> bool {
        false
    }
}

/// An aggregation (`count`, `hist`, ...): assigned to a map, never read as a value.
pub trait Aggregation: Sync {
    fn name(&self) -> &'static str;
    /// The aggregation and the typed value it is fed (None for `count()`), or None after reporting.
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<(Agg, Option<TExpr>)>;
}
