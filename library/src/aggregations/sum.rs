//! `sum(v)`: the total. `[value, seen]`: a sum nothing was added to prints nothing, as in bpftrace;
//! an unsigned total prints unsigned.

use codegen::asm::{Reg, Src};
use codegen::emit::Emitter;
use codegen::registry::EmitAggregation;
use lang::registry::{Aggregation, Call, Checking};
use crate::shape::{Kind, Value};
use lang::typed::{Agg, TExpr};

pub struct Sum;

impl Aggregation for Sum {
    fn name(&self) -> &'static str {
        "sum"
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<(Agg, Option<TExpr>)> {
        super::of_one_int("sum", cx, call)
    }
}

impl EmitAggregation for Sum {
    fn value_size(&self, _: &Agg) -> u32 {
        16
    }
    fn update(&self, e: &mut Emitter, _: &Agg, base: Reg, off: i16, v: Option<Reg>) {
        let v = super::value(e, v);
        super::add(e, base, off, Src::Reg(v));
        super::set(e, base, off + 8, 1);
    }
}

impl super::Decode for Sum {
    fn metric(&self, _: &Agg) -> crate::shape::Metric {
        crate::shape::Metric::Total
    }
    fn kind(&self, agg: &Agg) -> Kind {
        if agg.signed { Kind::Int } else { Kind::UInt }
    }
    fn decode(&self, agg: &Agg, cpus: &[Vec<u8>]) -> Option<Value> {
        // Nothing until a CPU has added to it.
        cpus.iter().any(|v| super::u64_at(v, 8) != 0).then_some(())?;
        let total = super::sum_at(cpus, 0);
        Some(if agg.signed { Value::Int(total as i64) } else { Value::UInt(total) })
    }
    /// The `seen` flag: a zeroed sum prints 0, not nothing.
    fn zero_keeps(&self) -> usize {
        8
    }
}
