//! The checked program: what the checker hands to codegen. Every probe is expanded to its attach points
//! (one program per attach point, since `args` layouts differ), every expression carries its type, every
//! field is resolved to an offset in the probe's context, and every map has one aggregation kind.

use crate::ast::{BinOp, Span, UnOp};
use crate::provider::Format;
use std::rc::Rc;

#[derive(Clone, Debug)]
pub struct Program {
    pub maps: Vec<MapDef>,
    pub probes: Vec<ProbeProgram>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MapDef {
    /// Without the `@`; empty for the anonymous map.
    pub name: String,
    pub agg: Agg,
    /// Where the map was first given its kind.
    pub span: Span,
}

/// The aggregation a map holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agg {
    Count,
    Sum,
    /// bpftrace's log2 histogram.
    Hist,
}

impl Agg {
    pub fn name(self) -> &'static str {
        match self {
            Agg::Count => "count",
            Agg::Sum => "sum",
            Agg::Hist => "hist",
        }
    }
}

/// Where a program attaches.
#[derive(Clone, Debug)]
pub enum Attach {
    Begin,
    End,
    Tracepoint { category: String, name: String, format: Rc<Format> },
}

impl Attach {
    /// The probe as bpftrace names it (`tracepoint:sched:sched_switch`, `BEGIN`).
    pub fn probe_name(&self) -> String {
        match self {
            Attach::Begin => "BEGIN".into(),
            Attach::End => "END".into(),
            Attach::Tracepoint { category, name, .. } => format!("tracepoint:{category}:{name}"),
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
}

#[derive(Clone, Debug)]
pub enum TStmt {
    /// Update map `map` (an index into `Program::maps`) with its aggregation of `value` (none for count).
    Aggregate { map: usize, value: Option<TExpr>, span: Span },
    /// `exit()`: ask the runtime to stop.
    Exit { span: Span },
}

/// An integer type: width in bits (8, 16, 32, 64) and signedness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    pub ty: IntTy,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum TExprKind {
    Const(u64),
    Builtin(Builtin),
    /// A field of the probe's context record, `ty.bits / 8` bytes at `offset`.
    CtxField { offset: u32 },
    Unary(UnOp, Box<TExpr>),
    Binary(BinOp, Box<TExpr>, Box<TExpr>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    Pid,
    Tid,
    Nsecs,
    Cpu,
}
