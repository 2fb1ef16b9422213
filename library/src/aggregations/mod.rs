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

/// The registered entries: one line per file of this folder.
pub static LIST: &[&dyn AggregationEntry] = &[
    &count::Count,
    &sum::Sum,
    &min::Min,
    &max::Max,
    &avg::Avg,
    &stats::Stats,
    &hist::Hist,
    &lhist::LHist,
];

use codegen::asm::{Reg, Src};
use codegen::emit::Emitter;
use codegen::registry::EmitAggregation;
use bpf_ins::{ArithmeticOperation as Alu, Instruction};
use lang::registry::{Aggregation, Call, Checking};
use crate::shape::{Kind, Metric, Value};
use lang::typed::{Agg, TExpr};

/// An aggregation with its three sides: the checker's, the emitter's, and the runtime's decoding.
pub trait AggregationEntry: Aggregation + EmitAggregation + Decode {}
impl<T: Aggregation + EmitAggregation + Decode> AggregationEntry for T {}

/// How the runtime reads an aggregation's map back: its per-CPU values (as `EmitAggregation` laid
/// them out) become a value shape.
pub trait Decode: Sync {
    /// The shape of the map's values, which decides its layout even when it is empty.
    fn kind(&self, agg: &Agg) -> Kind;
    /// What its values are as metrics; by default what the shape of its values says.
    fn metric(&self, agg: &Agg) -> Metric {
        self.kind(agg).metric()
    }
    /// One entry from its CPUs' values; None while it holds nothing to print. Histograms decode their
    /// buckets with `histogram` instead.
    fn decode(&self, agg: &Agg, cpus: &[Vec<u8>]) -> Option<Value>;
    /// A histogram from its buckets' counts (summed over CPUs); None for the others.
    fn histogram(&self, agg: &Agg, counts: Vec<u64>) -> Option<Value> {
        let _ = (agg, counts);
        None
    }
    /// Whether a keyless map's entry holds nothing to print (never updated, or cleared): it prints
    /// nothing then, as in bpftrace, unless `zero()` made it 0.
    fn is_empty(&self, value: &Value) -> bool {
        let _ = value;
        false
    }
    /// One histogram bucket's count: a counter per CPU.
    fn bucket_count(&self, cpus: &[Vec<u8>]) -> u64 {
        sum_at(cpus, 0)
    }
    /// The sum of the values one histogram bucket counted, when the aggregation keeps it (summed
    /// over CPUs, wrapping at 64 bits as `sum()` does).
    fn bucket_sum(&self, agg: &Agg, cpus: &[Vec<u8>]) -> Option<i64> {
        let _ = (agg, cpus);
        None
    }
    /// Bytes at the end of each value that `zero(@m)` keeps (a `seen` flag, so that the entry prints
    /// 0 rather than nothing).
    fn zero_keeps(&self) -> usize {
        0
    }
}

/// The 8 bytes at `at` as a number; 0 where `b` is too short.
pub fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8).and_then(|s| s.try_into().ok()).map_or(0, u64::from_ne_bytes)
}

/// Per-CPU words at `at`, summed with wrapping.
pub fn sum_at(cpus: &[Vec<u8>], at: usize) -> u64 {
    cpus.iter().map(|v| u64_at(v, at)).fold(0u64, u64::wrapping_add)
}

/// The values of the CPUs that have seen one (a `[value, seen]` pair per CPU).
pub fn seen(cpus: &[Vec<u8>]) -> impl Iterator<Item = i64> + '_ {
    cpus.iter().filter(|v| u64_at(v, 8) != 0).map(|v| u64_at(v, 0) as i64)
}

/// The check of an aggregation of one integer (`sum(v)`, `avg(v)`, ...): the aggregation, signed
/// when the value is, and the typed value.
pub fn of_one_int(name: &str, cx: &mut dyn Checking, call: &Call) -> Option<(Agg, Option<TExpr>)> {
    cx.arity(call, 1..=1)?;
    let v = cx.int_expr(&call.args[0])?;
    let signed = v.ty.int().is_some_and(|t| t.signed);
    Some((Agg { name: name.to_string(), params: Vec::new(), signed , sums: false }, Some(v)))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu(words: &[u64]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_ne_bytes()).collect()
    }

    fn agg(name: &str, signed: bool) -> Agg {
        Agg { name: name.into(), params: Vec::new(), signed , sums: false }
    }

    #[test]
    fn aggregations_reduce_over_cpus() {
        let two = [cpu(&[3, 1]), cpu(&[(-5i64) as u64, 1])];
        assert_eq!(sum::Sum.decode(&agg("sum", true), &two), Some(Value::Int(-2)));
        assert_eq!(min::Min.decode(&agg("min", true), &two), Some(Value::Int(-5)));
        assert_eq!(max::Max.decode(&agg("max", true), &two), Some(Value::Int(3)));
        assert_eq!(min::Min.decode(&agg("min", true), &[cpu(&[0, 0])]), None, "no CPU has seen a value");
        assert_eq!(sum::Sum.decode(&agg("sum", false), &[cpu(&[7, 0])]), None);
        assert_eq!(sum::Sum.decode(&agg("sum", false), &[cpu(&[7, 1])]), Some(Value::UInt(7)));
        let avg = avg::Avg.decode(&agg("avg", true), &[cpu(&[2, 10]), cpu(&[1, 5])]);
        assert_eq!(avg, Some(Value::Avg { count: 3, total: 15 }));
        assert_eq!(count::Count.decode(&agg("count", false), &[cpu(&[2]), cpu(&[5])]), Some(Value::UInt(7)));
        let lhist = Agg { name: "lhist".into(), params: vec![0, 10, 5], signed: true, sums: false };
        let v = lhist::LHist.histogram(&lhist, vec![1, 2]);
        assert_eq!(v, Some(Value::LHist { min: 0, max: 10, step: 5, buckets: vec![1, 2] }));
    }
}
