//! Bytes into value shapes: stored values by their type, map keys, and one function per aggregation
//! from its per-CPU values (laid out as codegen lays them out: `codegen::value_size`). Only std, `lang`
//! and the shapes here, so each aggregation's decoder can move beside it in the registry.

use super::shape::{KeyPart, Value};
use codegen::layout::TySize as _;
use lang::typed::{Agg, Ty};

/// The 8 bytes at `at` as a number; 0 where `b` is too short.
fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8).and_then(|s| s.try_into().ok()).map_or(0, u64::from_ne_bytes)
}

/// The bytes of a string up to its first NUL.
pub fn c_str(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// A stored value of type `ty` (a map value, a `print(value)`, a printf argument).
pub fn typed(ty: &Ty, b: &[u8]) -> Value {
    match ty {
        Ty::Int(i) if i.signed => Value::Int(u64_at(b, 0) as i64),
        Ty::Int(_) => Value::UInt(u64_at(b, 0)),
        Ty::Str(n) => Value::Str(c_str(&b[..(*n as usize).min(b.len())])),
        Ty::Tuple(parts) => {
            let mut at = 0;
            Value::Tuple(
                parts
                    .iter()
                    .map(|p| {
                        let size = p.size() as usize;
                        let v = typed(p, b.get(at..at + size).unwrap_or(&[]));
                        at += size;
                        v
                    })
                    .collect(),
            )
        }
    }
}

/// A key's parts (tuples flattened, as bpftrace prints `@m[a, b]`).
pub fn key(types: &[Ty], b: &[u8]) -> Vec<KeyPart> {
    let mut out = Vec::new();
    let mut at = 0;
    for ty in types {
        let size = ty.size() as usize;
        let part = b.get(at..at + size).unwrap_or(&[]);
        match ty {
            Ty::Int(_) => out.push(KeyPart::Int(u64_at(part, 0) as i64)),
            Ty::Str(_) => out.push(KeyPart::Str(c_str(part))),
            Ty::Tuple(inner) => out.extend(key(inner, part)),
        }
        at += size;
    }
    out
}

/// Per-CPU words at `at`, summed with wrapping.
fn sum_at(cpus: &[Vec<u8>], at: usize) -> u64 {
    cpus.iter().map(|v| u64_at(v, at)).fold(0u64, u64::wrapping_add)
}

/// The values of the CPUs that have seen one (a `[value, seen]` pair per CPU).
fn seen(cpus: &[Vec<u8>]) -> impl Iterator<Item = i64> + '_ {
    cpus.iter().filter(|v| u64_at(v, 8) != 0).map(|v| u64_at(v, 0) as i64)
}

/// `count()`: a counter per CPU.
pub fn count(cpus: &[Vec<u8>]) -> Option<Value> {
    Some(Value::UInt(sum_at(cpus, 0)))
}

/// `sum(x)`: `[total, seen]` per CPU; nothing until a CPU has added to it.
pub fn sum(signed: bool, cpus: &[Vec<u8>]) -> Option<Value> {
    cpus.iter().any(|v| u64_at(v, 8) != 0).then_some(())?;
    Some(if signed { Value::Int(sum_at(cpus, 0) as i64) } else { Value::UInt(sum_at(cpus, 0)) })
}

/// `min(x)`: `[min, seen]` per CPU; nothing until a CPU has seen a value.
pub fn min(cpus: &[Vec<u8>]) -> Option<Value> {
    Some(Value::Int(seen(cpus).min()?))
}

/// `max(x)`: `[max, seen]` per CPU; nothing until a CPU has seen a value.
pub fn max(cpus: &[Vec<u8>]) -> Option<Value> {
    Some(Value::Int(seen(cpus).max()?))
}

/// `avg(x)`: `[count, total]` per CPU.
pub fn avg(cpus: &[Vec<u8>]) -> Option<Value> {
    Some(Value::Avg { count: sum_at(cpus, 0), total: sum_at(cpus, 8) as i64 })
}

/// `stats(x)`: `[count, total]` per CPU.
pub fn stats(cpus: &[Vec<u8>]) -> Option<Value> {
    Some(Value::Stats { count: sum_at(cpus, 0), total: sum_at(cpus, 8) as i64 })
}

/// One histogram bucket (`hist`, `lhist`): a counter per CPU. The bucket's index is part of the key.
pub fn bucket(cpus: &[Vec<u8>]) -> u64 {
    sum_at(cpus, 0)
}

/// `hist(x)`: its buckets' counts, by index.
pub fn hist(counts: Vec<u64>) -> Value {
    Value::Hist(counts)
}

/// `lhist(x, min, max, step)`: its buckets' counts, by index.
pub fn lhist(min: i64, max: i64, step: i64, counts: Vec<u64>) -> Value {
    Value::LHist { min, max, step, buckets: counts }
}

/// An entry of an aggregation that is not a histogram (whose buckets are entries of their own, see
/// [`bucket`]); `None` while it holds nothing to print.
pub fn agg(agg: &Agg, cpus: &[Vec<u8>]) -> Option<Value> {
    match agg.name.as_str() {
        "count" => count(cpus),
        "sum" => sum(agg.signed, cpus),
        "min" => min(cpus),
        "max" => max(cpus),
        "avg" => avg(cpus),
        "stats" => stats(cpus),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu(words: &[u64]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_ne_bytes()).collect()
    }

    #[test]
    fn aggregations_reduce_over_cpus() {
        let two = [cpu(&[3, 1]), cpu(&[(-5i64) as u64, 1])];
        assert_eq!(sum(true, &two), Some(Value::Int(-2)));
        assert_eq!(min(&two), Some(Value::Int(-5)));
        assert_eq!(max(&two), Some(Value::Int(3)));
        assert_eq!(min(&[cpu(&[0, 0])]), None, "no CPU has seen a value");
        assert_eq!(sum(false, &[cpu(&[7, 0])]), None);
        assert_eq!(avg(&[cpu(&[2, 10]), cpu(&[1, 5])]), Some(Value::Avg { count: 3, total: 15 }));
    }

    #[test]
    fn short_bytes_decode_to_zero_not_a_panic() {
        assert_eq!(typed(&Ty::I64, &[1, 2]), Value::Int(0));
        assert_eq!(key(&[Ty::U64, Ty::Str(4)], &[]), vec![KeyPart::Int(0), KeyPart::Str(String::new())]);
        let t = Ty::Tuple(vec![Ty::I64, Ty::Str(8)]);
        let mut b = 1i64.to_ne_bytes().to_vec();
        b.extend(b"ab\0\0\0\0\0\0");
        assert_eq!(typed(&t, &b), Value::Tuple(vec![Value::Int(1), Value::Str("ab".into())]));
    }
}
