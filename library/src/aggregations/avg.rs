//! `avg(v)`: the average (integer division, as bpftrace). `[count, total]`; the runtime derives the rest.

use codegen::asm::{Reg, Src};
use codegen::emit::Emitter;
use codegen::registry::EmitAggregation;
use lang::registry::{Aggregation, Call, Checking};
use crate::shape::{Kind, Value};
use lang::typed::{Agg, TExpr};

pub struct Avg;

impl Aggregation for Avg {
    fn name(&self) -> &'static str {
        "avg"
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<(Agg, Option<TExpr>)> {
        super::of_one_int("avg", cx, call)
    }
}

impl EmitAggregation for Avg {
    fn value_size(&self, _: &Agg) -> u32 {
        16
    }
    /// bpftrace keeps the count under key 0 and the total under key 1: delete(@) drops the count.
    fn deleted_bytes(&self, _: &Agg) -> u32 {
        8
    }
    fn update(&self, e: &mut Emitter, _: &Agg, base: Reg, off: i16, v: Option<Reg>) {
        let v = super::value(e, v);
        super::add(e, base, off, Src::Imm(1));
        super::add(e, base, off + 8, Src::Reg(v));
    }
}

impl super::Decode for Avg {
    /// After delete() it keeps its total, and prints, as bpftrace's (which deletes only the count).
    fn is_empty(&self, value: &Value) -> bool {
        matches!(value, Value::Avg { count: 0, total: 0 })
    }
    fn kind(&self, _: &Agg) -> Kind {
        Kind::Avg
    }
    fn decode(&self, _: &Agg, cpus: &[Vec<u8>]) -> Option<Value> {
        Some(Value::Avg { count: super::sum_at(cpus, 0), total: super::sum_at(cpus, 8) as i64 })
    }
}
