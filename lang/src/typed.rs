//! The checked program: what the checker hands to codegen. Every probe is expanded to its attach points
//! (one program per attach point, since `args` layouts differ), every expression carries its type, every
//! field is resolved to an offset in the probe's context, every map has one kind and one key type, and
//! every variable a stack slot.

use crate::ast::{BinOp, Span, UnOp};
use crate::provider::Format;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct Program {
    pub maps: Vec<MapDef>,
    pub probes: Vec<ProbeProgram>,
    /// printf/time format strings, referred to by index from events.
    pub formats: Vec<PrintfFormat>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MapDef {
    /// Without the `@`; empty for the anonymous map.
    pub name: String,
    pub kind: MapKind,
    /// The key's parts (empty for a keyless map).
    pub key: Vec<Ty>,
    /// Where the map was first given its kind.
    pub span: Span,
}

/// What a map holds: an aggregation (per-CPU, summed by the runtime) or a plain value.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum MapKind {
    Agg(Agg),
    Value(Ty),
}

impl MapKind {
    pub fn describe(&self) -> String {
        match self {
            MapKind::Agg(a) => format!("{}()", a.name()),
            MapKind::Value(t) => t.describe(),
        }
    }
}

/// The aggregations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Agg {
    Count,
    /// `signed`: whether the summed values are signed (an unsigned sum prints unsigned).
    Sum { signed: bool },
    Min,
    Max,
    Avg,
    Stats,
    /// bpftrace's log2 histogram.
    Hist,
    /// A linear histogram.
    LHist { min: i64, max: i64, step: i64 },
}

impl Agg {
    pub fn name(self) -> &'static str {
        match self {
            Agg::Count => "count",
            Agg::Sum { .. } => "sum",
            Agg::Min => "min",
            Agg::Max => "max",
            Agg::Avg => "avg",
            Agg::Stats => "stats",
            Agg::Hist => "hist",
            Agg::LHist { .. } => "lhist",
        }
    }
}

/// Where a program attaches.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub enum Attach {
    Begin,
    End,
    Tracepoint { category: String, name: String, format: Arc<Format> },
    /// `interval:s:N` / `ms` / `us` / `hz`: every `period_ns`, on one CPU.
    Interval { unit: String, value: u64, period_ns: u64 },
}

impl Attach {
    /// The probe as bpftrace names it (`tracepoint:sched:sched_switch`, `BEGIN`, `interval:s:1`).
    pub fn probe_name(&self) -> String {
        match self {
            Attach::Begin => "BEGIN".into(),
            Attach::End => "END".into(),
            Attach::Tracepoint { category, name, .. } => format!("tracepoint:{category}:{name}"),
            Attach::Interval { unit, value, .. } => format!("interval:{unit}:{value}"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct ProbeProgram {
    pub attach: Attach,
    /// The probe block this program came from.
    pub span: Span,
    pub predicate: Option<TExpr>,
    pub body: Vec<TStmt>,
    /// Bytes of stack the variables need (slots are 8-byte aligned offsets below the frame).
    pub vars_size: u32,
}

/// A variable's home: `size` bytes at `offset` bytes into the variable area.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    pub offset: u32,
    pub size: u32,
}

#[derive(Clone, Debug)]
pub enum TStmt {
    /// Update aggregation map `map` at `keys` with `value` (none for count).
    Aggregate { map: usize, keys: Vec<TExpr>, value: Option<TExpr> },
    /// `@m[k] = v` for a plain-value map.
    MapStore { map: usize, keys: Vec<TExpr>, value: TExpr },
    /// `delete(@m[k])`
    MapDelete { map: usize, keys: Vec<TExpr> },
    /// `$v = e`
    VarStore { slot: Slot, value: TExpr },
    If { cond: TExpr, then: Vec<TStmt>, otherwise: Vec<TStmt> },
    /// `for ($i : lo..hi)`: a bounded loop with the variable in `slot`.
    For { slot: Slot, lo: TExpr, hi: TExpr, body: Vec<TStmt> },
    /// Something the runtime does, in order with the other events of the ring buffer.
    Event(EventStmt),
    /// `exit()`: ask the runtime to stop, and leave this probe.
    Exit,
    /// `return`: leave this probe.
    Return,
}

/// Statements carried out by the runtime: the program sends an event, the runtime acts on it.
#[derive(Clone, Debug)]
pub enum EventStmt {
    /// `printf(fmt, args)` with `formats[format]`.
    Printf { format: usize, args: Vec<TExpr> },
    /// `time(fmt)` with `formats[format]`.
    Time { format: usize },
    /// `print(@m, top, div)`; top 0 means all. vt's `print(@hist, "label")` prints a histogram in
    /// BCC's layout with that value label (`formats[label].text`), as BCC's `print_log2_hist(label)`.
    Print { map: usize, top: u64, div: u64, label: Option<usize> },
    /// `print(e)` of a non-map value; `formats[format].args` holds its type.
    PrintValue { format: usize, value: TExpr },
    Clear { map: usize },
    Zero { map: usize },
}

/// A printf (or time) format string, as written, with the types of its arguments.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PrintfFormat {
    pub text: String,
    pub args: Vec<Ty>,
}

/// Value types.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Ty {
    Int(IntTy),
    /// A NUL-padded string of at most `size` bytes (including the NUL).
    Str(u32),
    Tuple(Vec<Ty>),
}

impl Ty {
    pub const I64: Ty = Ty::Int(IntTy::I64);
    pub const U64: Ty = Ty::Int(IntTy::U64);

    /// Bytes this value takes in a map key, a map value, a variable or an event (8-byte aligned parts).
    pub fn size(&self) -> u32 {
        match self {
            Ty::Int(_) => 8,
            Ty::Str(n) => n.div_ceil(8) * 8,
            Ty::Tuple(parts) => parts.iter().map(Ty::size).sum(),
        }
    }

    pub fn int(&self) -> Option<IntTy> {
        match self {
            Ty::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Ty::Int(i) => format!("{}int{}", if i.signed { "" } else { "u" }, i.bits),
            Ty::Str(n) => format!("string[{n}]"),
            Ty::Tuple(p) => format!("({})", p.iter().map(Ty::describe).collect::<Vec<_>>().join(", ")),
        }
    }
}

/// An integer type: width in bits (8, 16, 32, 64) and signedness. Values are held in 64 bits, sign- or
/// zero-extended from their width.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IntTy {
    pub bits: u8,
    pub signed: bool,
}

impl IntTy {
    pub const I64: IntTy = IntTy { bits: 64, signed: true };
    pub const U64: IntTy = IntTy { bits: 64, signed: false };
}

#[derive(Clone, Debug)]
pub struct TExpr {
    pub kind: TExprKind,
    pub ty: Ty,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum TExprKind {
    Const(u64),
    /// A string literal (its type gives the padded size).
    StrConst(String),
    Builtin(Builtin),
    /// An integer field of the probe's context record, `bits / 8` bytes at `offset`.
    CtxField { offset: u32 },
    /// A `char[N]` field: `N` bytes at `offset`, as a string.
    CtxChars { offset: u32 },
    /// An element of an integer array field: `ty` sized, at `offset + index * elem` (index checked).
    CtxArrayElem { offset: u32, elem: u32, len: u32, index: Box<TExpr> },
    /// A `__data_loc char[]` field: the 32-bit locator at `offset` (`off | len << 16`) names the string.
    CtxDataLoc { offset: u32 },
    /// `str(ptr [, len])`: read a NUL-terminated string from kernel or user memory.
    ReadStr { ptr: Box<TExpr>, len: Option<Box<TExpr>>, user: bool },
    Var(Slot),
    /// A plain-value map's entry (0 or the empty string when absent).
    MapRead { map: usize, keys: Vec<TExpr> },
    /// Whether the map has an entry at `keys`.
    HasKey { map: usize, keys: Vec<TExpr> },
    Unary(UnOp, Box<TExpr>),
    /// Integer arithmetic, bitwise, shifts and comparisons (`ty` of the operands decides signedness).
    Binary(BinOp, Box<TExpr>, Box<TExpr>),
    /// `a == b` / `a != b` on strings: compares up to the first NUL.
    StrCmp { eq: bool, lhs: Box<TExpr>, rhs: Box<TExpr> },
    Ternary { cond: Box<TExpr>, then: Box<TExpr>, otherwise: Box<TExpr> },
    /// An integer cast to `ty` (truncation, then sign or zero extension).
    Cast(Box<TExpr>),
    Tuple(Vec<TExpr>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    Pid,
    Tid,
    Uid,
    Gid,
    Nsecs,
    /// Nanoseconds since the session started (the runtime stores the start in a map).
    Elapsed,
    Cpu,
    Comm,
    Rand,
    Cgroup,
    Curtask,
}
