//! Aggregations: one file each. Their maps are per-CPU: updates need no atomics, and the runtime
//! combines the CPUs' values when it reads them.

pub mod avg;
pub mod count;
pub mod hist;
pub mod lhist;
pub mod max;
pub mod min;
pub mod stats;
pub mod sum;

use codegen::asm::{Reg, Src};
use codegen::emit::Emitter;
use codegen::registry::EmitAggregation;
use bpf_ins::{ArithmeticOperation as Alu, Instruction};
use lang::registry::{Aggregation, Call, Checking};
use lang::typed::{Agg, TExpr};

/// An aggregation with both sides: the checker's and the emitter's.
pub trait AggregationEntry: Aggregation + EmitAggregation {}
impl<T: Aggregation + EmitAggregation> AggregationEntry for T {}

/// The check of an aggregation of one integer (`sum(v)`, `avg(v)`, ...): the aggregation, signed
/// when the value is, and the typed value.
pub fn of_one_int(name: &str, cx: &mut dyn Checking, call: &Call) -> Option<(Agg, Option<TExpr>)> {
    cx.arity(call, 1..=1)?;
    let v = cx.int_expr(&call.args[0])?;
    let signed = v.ty.int().is_some_and(|t| t.signed);
    Some((Agg { name: name.to_string(), params: Vec::new(), signed }, Some(v)))
}

/// `*(u64 *)(base + off) += v`
pub fn add(e: &mut Emitter, base: Reg, off: i16, v: Src) {
    e.increment(base, off, v);
}

/// `*(u64 *)(base + off) = v` for a constant.
pub fn set(e: &mut Emitter, base: Reg, off: i16, v: i64) {
    e.asm.insn(Instruction::store64(base, off, v));
}

/// The value register an aggregation of one value was given (the checker guarantees one).
pub fn value(e: &mut Emitter, v: Option<Reg>) -> Reg {
    match v {
        Some(r) => r,
        None => {
            e.unsupported("an aggregation's value", Reg::R1);
            Reg::R1
        }
    }
}

#[allow(unused_imports)]
use Alu as _;

/// `[value, seen]`: stores `v` when nothing was seen yet or when `worse` (comparing `v` with the kept
/// value) does not hold.
pub fn keep_better(e: &mut Emitter, base: Reg, off: i16, v: Reg, worse: bpf_ins::JumpOperation) {
    let (store, keep) = (e.asm.label(), e.asm.label());
    e.asm.insn(Instruction::loadx64(Reg::R1, base, off + 8));
    e.asm.jump_if(bpf_ins::JumpOperation::IfEqual, Reg::R1, Src::Imm(0), store);
    e.asm.insn(Instruction::loadx64(Reg::R1, base, off));
    e.asm.jump_if(worse, v, Src::Reg(Reg::R1), keep);
    e.asm.bind(store);
    e.asm.insn(Instruction::storex64(base, off, v));
    e.asm.insn(Instruction::store64(base, off + 8, 1));
    e.asm.bind(keep);
}
