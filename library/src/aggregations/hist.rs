//! `hist(v)`: bpftrace's log2 histogram. Bucket 0 holds negative values, 1 zero, then one bucket per
//! power of two up to `[2^62, 2^63)`: 65 buckets, each a u64 count; the bucket index is part of the key.

use codegen::asm::{Reg, Src};
use codegen::emit::Emitter;
use codegen::registry::EmitAggregation;
use codegen::HIST_BUCKETS;
use bpf_ins::{ArithmeticOperation as Alu, JumpOperation as Jmp};
use lang::registry::{Aggregation, Call, Checking};
use crate::shape::{Kind, Value};
use lang::typed::{Agg, TExpr};

pub struct Hist;

impl Aggregation for Hist {
    fn name(&self) -> &'static str {
        "hist"
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<(Agg, Option<TExpr>)> {
        super::of_one_int("hist", cx, call)
    }
}

impl EmitAggregation for Hist {
    /// A count per bucket; `[count, sum]` when the program keeps sums (`Agg::sums`, the exposition's
    /// `_sum`; bpftrace's histograms keep none, and text and JSON print none).
    fn value_size(&self, agg: &Agg) -> u32 {
        if agg.sums { 16 } else { 8 }
    }
    fn buckets(&self, _: &Agg) -> Option<u32> {
        Some(HIST_BUCKETS)
    }
    fn bucket(&self, e: &mut Emitter, _: &Agg, v: Reg, bits: u8) {
        log2_bucket(e, v, bits);
    }
    fn update(&self, e: &mut Emitter, agg: &Agg, base: Reg, off: i16, v: Option<Reg>) {
        super::add(e, base, off, Src::Imm(1));
        if agg.sums {
            let v = super::value(e, v);
            super::add(e, base, off + 8, Src::Reg(v));
        }
    }
}

/// Replaces the signed value in `v` by its bpftrace log2 bucket: 0 for negatives, 1 for zero, and
/// `2 + floor(log2(v))` otherwise — a binary search over the bit width, no loop. A value of `bits`
/// bits needs only the search steps below that width.
fn log2_bucket(e: &mut Emitter, v: Reg, bits: u8) {
    let (positive, done) = (e.asm.label(), e.asm.label());
    e.asm.jump_if(Jmp::IfSignedGreater, v, Src::Imm(0), positive);
    // v <= 0: the sign (-1 or 0) plus one is the bucket (0 for negatives, 1 for zero).
    e.asm.alu(Alu::Ash, v, Src::Imm(63));
    e.asm.alu(Alu::Add, v, Src::Imm(1));
    e.asm.jump(done);
    e.asm.bind(positive);
    // r1 holds what is left of the value, v counts the bucket.
    e.asm.mov(Reg::R1, Src::Reg(v));
    e.asm.mov(v, Src::Imm(2));
    for shift in [32, 16, 8, 4, 2, 1].into_iter().filter(|&s| s < bits as i32) {
        let next = e.asm.label();
        if shift == 32 {
            // 1 << 32 does not fit an immediate: test the shifted value instead.
            e.asm.mov(Reg::R2, Src::Reg(Reg::R1));
            e.asm.alu(Alu::Rhs, Reg::R2, Src::Imm(32));
            e.asm.jump_if(Jmp::IfEqual, Reg::R2, Src::Imm(0), next);
            e.asm.mov(Reg::R1, Src::Reg(Reg::R2));
        } else {
            e.asm.jump_if(Jmp::IfLessThan, Reg::R1, Src::Imm(1 << shift), next);
            e.asm.alu(Alu::Rhs, Reg::R1, Src::Imm(shift));
        }
        e.asm.alu(Alu::Add, v, Src::Imm(shift));
        e.asm.bind(next);
    }
    e.asm.bind(done);
}

impl super::Decode for Hist {
    fn kind(&self, _: &Agg) -> Kind {
        Kind::Hist
    }
    fn decode(&self, _: &Agg, _: &[Vec<u8>]) -> Option<Value> {
        None
    }
    fn bucket_sum(&self, agg: &Agg, cpus: &[Vec<u8>]) -> Option<i64> {
        agg.sums.then(|| super::sum_at(cpus, 8) as i64)
    }
    fn histogram(&self, _: &Agg, counts: Vec<u64>) -> Option<Value> {
        Some(Value::Hist(counts))
    }
}
