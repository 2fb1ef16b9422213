//! `lhist(v, min, max, step)`: a linear histogram. Bucket 0 holds values below `min`, then one bucket
//! per `step` from `min`, and the last bucket values above `max`.

use codegen::asm::{Reg, Src};
use codegen::emit::Emitter;
use codegen::registry::EmitAggregation;
use bpf_ins::{ArithmeticOperation as Alu, JumpOperation as Jmp};
use lang::diag::Diagnostic;
use lang::registry::{Aggregation, Call, Checking};
use crate::shape::{Kind, Value};
use lang::typed::{Agg, TExpr};

pub struct LHist;

/// min, max, step and the number of buckets of a valid lhist (the checker's rules); None for others
/// (a damaged `.vto`).
fn bounds(agg: &Agg) -> Option<(i64, i64, i64, u32)> {
    let [min, max, step] = *agg.params.as_slice() else { return None };
    let inner = max.checked_sub(min)?.checked_div(step)?;
    (step > 0 && max > min && inner <= 1000).then_some((min, max, step, inner as u32 + 2))
}

impl Aggregation for LHist {
    fn name(&self) -> &'static str {
        "lhist"
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<(Agg, Option<TExpr>)> {
        cx.arity(call, 4..=4)?;
        let min = cx.const_int(&call.args[1], "lhist's min")? as i64;
        let max = cx.const_int(&call.args[2], "lhist's max")? as i64;
        let step = cx.const_int(&call.args[3], "lhist's step")? as i64;
        // Checked: bounds near the ends of i64 must be refused, not overflow.
        if step <= 0 || max <= min || max.checked_sub(min).is_none_or(|d| d / step > 1000) {
            let msg = "lhist needs min < max, step > 0 and at most 1000 buckets";
            cx.error(Diagnostic::new(call.span, msg, "bad lhist bounds"));
            return None;
        }
        let v = cx.int_expr(&call.args[0])?;
        let signed = v.ty.int().is_some_and(|t| t.signed);
        Some((Agg { name: "lhist".into(), params: vec![min, max, step], signed , sums: false }, Some(v)))
    }
}

impl EmitAggregation for LHist {
    /// A count per bucket; `[count, sum]` when the program keeps sums (`Agg::sums`, the exposition's
    /// `_sum`; bpftrace's histograms keep none, and text and JSON print none).
    fn value_size(&self, agg: &Agg) -> u32 {
        if agg.sums { 16 } else { 8 }
    }
    fn buckets(&self, agg: &Agg) -> Option<u32> {
        bounds(agg).map(|b| b.3)
    }
    fn bucket(&self, e: &mut Emitter, agg: &Agg, v: Reg, _: u8) {
        match bounds(agg) {
            Some((min, max, step, _)) => linear_bucket(e, v, min, max, step),
            None => e.unsupported("lhist bounds", v),
        }
    }
    fn update(&self, e: &mut Emitter, agg: &Agg, base: Reg, off: i16, v: Option<Reg>) {
        super::add(e, base, off, Src::Imm(1));
        if agg.sums {
            let v = super::value(e, v);
            super::add(e, base, off + 8, Src::Reg(v));
        }
    }
}

/// Replaces `v` by its lhist bucket: 0 below `min`, `1 + (v - min) / step` inside, the last above `max`.
fn linear_bucket(e: &mut Emitter, v: Reg, min: i64, max: i64, step: i64) {
    let (below, above, done) = (e.asm.label(), e.asm.label(), e.asm.label());
    e.asm.mov_const(Reg::R1, min as u64);
    e.asm.jump_if(Jmp::IfSignedLessThan, v, Src::Reg(Reg::R1), below);
    e.asm.mov_const(Reg::R1, max as u64);
    e.asm.jump_if(Jmp::IfSignedGreater, v, Src::Reg(Reg::R1), above);
    e.asm.mov_const(Reg::R1, min as u64);
    e.asm.alu(Alu::Sub, v, Src::Reg(Reg::R1));
    e.asm.mov_const(Reg::R1, step as u64);
    e.asm.alu(Alu::Div, v, Src::Reg(Reg::R1));
    e.asm.alu(Alu::Add, v, Src::Imm(1));
    // v == max with a step that does not divide the range lands past the last inner bucket.
    let last = ((max - min) / step + 1) as i32;
    e.asm.jump_if(Jmp::IfSignedGreater, v, Src::Imm(last), above);
    e.asm.jump(done);
    e.asm.bind(below);
    e.asm.mov(v, Src::Imm(0));
    e.asm.jump(done);
    e.asm.bind(above);
    e.asm.mov(v, Src::Imm(last));
    e.asm.bind(done);
}

impl super::Decode for LHist {
    fn kind(&self, _: &Agg) -> Kind {
        Kind::LHist
    }
    fn decode(&self, _: &Agg, _: &[Vec<u8>]) -> Option<Value> {
        None
    }
    fn bucket_sum(&self, agg: &Agg, cpus: &[Vec<u8>]) -> Option<i64> {
        agg.sums.then(|| super::sum_at(cpus, 8) as i64)
    }
    fn histogram(&self, agg: &Agg, counts: Vec<u64>) -> Option<Value> {
        let (min, max, step, _) = bounds(agg)?;
        Some(Value::LHist { min, max, step, buckets: counts })
    }
}
