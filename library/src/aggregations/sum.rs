//! `sum(v)`: the total. `[value, seen]`: a sum nothing was added to prints nothing, as in bpftrace;
//! an unsigned total prints unsigned.

use codegen::asm::{Reg, Src};
use codegen::emit::Emitter;
use codegen::registry::EmitAggregation;
use lang::registry::{Aggregation, Call, Checking};
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
