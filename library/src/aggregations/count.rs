//! `count()`: how many times it ran. One u64.

use codegen::asm::{Reg, Src};
use codegen::emit::Emitter;
use codegen::registry::EmitAggregation;
use lang::registry::{Aggregation, Call, Checking};
use crate::shape::{Kind, Value};
use lang::typed::{Agg, TExpr};

pub struct Count;

impl Aggregation for Count {
    fn name(&self) -> &'static str {
        "count"
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<(Agg, Option<TExpr>)> {
        cx.arity(call, 0..=0)?;
        Some((Agg { name: "count".into(), params: Vec::new(), signed: false , sums: false }, None))
    }
}

impl EmitAggregation for Count {
    fn value_size(&self, _: &Agg) -> u32 {
        8
    }
    fn update(&self, e: &mut Emitter, _: &Agg, base: Reg, off: i16, _: Option<Reg>) {
        super::add(e, base, off, Src::Imm(1));
    }
}

impl super::Decode for Count {
    fn metric(&self, _: &Agg) -> crate::shape::Metric {
        crate::shape::Metric::Counter
    }
    fn kind(&self, _: &Agg) -> Kind {
        Kind::UInt
    }
    fn decode(&self, _: &Agg, cpus: &[Vec<u8>]) -> Option<Value> {
        Some(Value::UInt(super::sum_at(cpus, 0)))
    }
}
