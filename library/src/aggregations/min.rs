//! `min(v)`: the smallest value seen (signed). `[value, seen]`: the first value is taken whatever it is.

use super::keep_better;
use codegen::asm::Reg;
use codegen::emit::Emitter;
use codegen::registry::EmitAggregation;
use bpf_ins::JumpOperation as Jmp;
use lang::registry::{Aggregation, Call, Checking};
use crate::shape::{Kind, Value};
use lang::typed::{Agg, TExpr};

pub struct Min;

impl Aggregation for Min {
    fn name(&self) -> &'static str {
        "min"
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<(Agg, Option<TExpr>)> {
        super::of_one_int("min", cx, call)
    }
}

impl EmitAggregation for Min {
    fn value_size(&self, _: &Agg) -> u32 {
        16
    }
    fn update(&self, e: &mut Emitter, _: &Agg, base: Reg, off: i16, v: Option<Reg>) {
        let v = super::value(e, v);
        // A value no better than the kept one jumps past the store.
        keep_better(e, base, off, v, Jmp::IfSignedGreaterOrEqual);
    }
}

impl super::Decode for Min {
    fn kind(&self, _: &Agg) -> Kind {
        Kind::Int
    }
    fn decode(&self, _: &Agg, cpus: &[Vec<u8>]) -> Option<Value> {
        Some(Value::Int(super::seen(cpus).min()?))
    }
    /// The `seen` flag: a zeroed min prints 0, not nothing.
    fn zero_keeps(&self) -> usize {
        8
    }
}
