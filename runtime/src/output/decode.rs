//! Bytes into value shapes: stored values by their type and map keys. Each aggregation decodes its own
//! per-CPU values (its registry entry in `library`).

use super::shape::{KeyPart, Value};
use codegen::layout::TySize as _;
use crate::symbols::Names;
use lang::typed::Ty;

/// The 8 bytes at `at` as a number; 0 where `b` is too short.
fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8).and_then(|s| s.try_into().ok()).map_or(0, u64::from_ne_bytes)
}

/// The bytes of a string up to its first NUL.
pub fn c_str(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// A stored value of type `ty` (a map value, a `print(value)`, a printf argument); `names` names
/// stacks and addresses.
pub fn typed(ty: &Ty, b: &[u8], names: &Names) -> Value {
    match ty {
        Ty::Int(i) if i.signed => Value::Int(u64_at(b, 0) as i64),
        Ty::Int(_) => Value::UInt(u64_at(b, 0)),
        Ty::Str(n) => Value::Str(c_str(&b[..(*n as usize).min(b.len())])),
        Ty::Text(lang::typed::Render::Bytes(n)) => Value::Bytes(b.get(..*n as usize).unwrap_or(b).to_vec()),
        Ty::Text(r) => Value::Str(names.text(r, b, false).unwrap_or_else(|| super::render::text(r, b))),
        Ty::Tuple(parts) => {
            let mut at = 0;
            Value::Tuple(
                parts
                    .iter()
                    .map(|p| {
                        let size = p.size() as usize;
                        let v = typed(p, b.get(at..at + size).unwrap_or(&[]), names);
                        at += size;
                        v
                    })
                    .collect(),
            )
        }
    }
}

/// A key's parts (tuples flattened, as bpftrace prints `@m[a, b]`).
pub fn key(types: &[Ty], b: &[u8], names: &Names) -> Vec<KeyPart> {
    let mut out = Vec::new();
    let mut at = 0;
    for ty in types {
        let size = ty.size() as usize;
        let part = b.get(at..at + size).unwrap_or(&[]);
        match ty {
            Ty::Int(_) => out.push(KeyPart::Int(u64_at(part, 0) as i64)),
            Ty::Str(_) => out.push(KeyPart::Str(c_str(part))),
            Ty::Text(r) => out.push(KeyPart::Str(names.text(r, part, true).unwrap_or_else(|| super::render::key_text(r, part)))),
            Ty::Tuple(inner) => out.extend(key(inner, part, names)),
        }
        at += size;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_bytes_decode_to_zero_not_a_panic() {
        let n = Names::none();
        assert_eq!(typed(&Ty::I64, &[1, 2], &n), Value::Int(0));
        assert_eq!(key(&[Ty::U64, Ty::Str(4)], &[], &n), vec![KeyPart::Int(0), KeyPart::Str(String::new())]);
        let t = Ty::Tuple(vec![Ty::I64, Ty::Str(8)]);
        let mut b = 1i64.to_ne_bytes().to_vec();
        b.extend(b"ab\0\0\0\0\0\0");
        assert_eq!(typed(&t, &b, &n), Value::Tuple(vec![Value::Int(1), Value::Str("ab".into())]));
    }
}
