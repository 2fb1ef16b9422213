//! Enum constants: the names of the script's own `enum`s and of the kernel's (from BTF), which a
//! script may write where a number goes (`BLUE`, `PIDTYPE_SID`), as bpftrace allows.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::ast::CEnum;
use crate::diag::Diagnostic;

thread_local! {
    /// The enumerators of the script being checked (the checker runs on one thread).
    static SCRIPT_ENUMS: RefCell<HashMap<String, i64>> = RefCell::new(HashMap::new());
    /// The sizes of the script's named enums.
    static SCRIPT_ENUM_NAMES: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Records the script's enums (C's rule: a name without a value is one more than the one before),
/// replacing those of any script checked before on this thread.
pub fn define(enums: &[CEnum]) -> Result<(), Vec<Diagnostic>> {
    let mut values = HashMap::new();
    let mut names = Vec::new();
    let mut errors = Vec::new();
    for e in enums {
        names.extend(e.name.as_ref().map(|n| n.name.clone()));
        let mut next = 0i64;
        for (item, value) in &e.items {
            if let Some(v) = value {
                match number(&v.name) {
                    Some(n) => next = n,
                    None => {
                        errors.push(Diagnostic::new(v.span, format!("`{}` is not a number vt can read", v.name), "not a number"));
                        continue;
                    }
                }
            }
            if values.insert(item.name.clone(), next).is_some() {
                errors.push(Diagnostic::new(item.span, format!("`{}` is defined twice", item.name), "redefined"));
            }
            next = next.wrapping_add(1);
        }
    }
    SCRIPT_ENUMS.with(|t| *t.borrow_mut() = values);
    SCRIPT_ENUM_NAMES.with(|t| *t.borrow_mut() = names);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// `5`, `-1`, `0x10`.
fn number(text: &str) -> Option<i64> {
    let (neg, digits) = match text.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, text),
    };
    let n = match digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok()?,
        None => digits.parse::<u64>().ok()?,
    } as i64;
    Some(if neg { n.wrapping_neg() } else { n })
}

/// Whether the script defined an enum called `name` (`sizeof(enum color)`).
pub fn script_enum(name: &str) -> bool {
    SCRIPT_ENUM_NAMES.with(|t| t.borrow().iter().any(|n| n == name))
}

/// The value of the constant `name`: the script's enums and `#define`s first, then the macros of the
/// headers it includes (`headers`), then the kernel's enums (none without BTF).
pub fn value(name: &str) -> Option<i64> {
    if let Some(v) = SCRIPT_ENUMS.with(|t| t.borrow().get(name).copied()).or_else(|| crate::headers::value(name)) {
        return Some(v);
    }
    // `true`/`false` are enumerators of the kernel, but words of newer bpftrace that vt refuses.
    if matches!(name, "true" | "false") {
        return None;
    }
    crate::btf::kernel().ok()?.enumerator(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::{Ident, Span};

    fn id(s: &str) -> Ident {
        Ident { name: s.into(), span: Span::new(0, 0) }
    }

    #[test]
    fn values_count_on_from_the_last_one_written() {
        let e = CEnum { name: Some(id("color")), items: vec![(id("RED"), None), (id("GREEN"), Some(id("5"))), (id("BLUE"), None), (id("NEG"), Some(id("-0x2")))] };
        define(&[e]).unwrap();
        assert_eq!((value("RED"), value("GREEN"), value("BLUE"), value("NEG")), (Some(0), Some(5), Some(6), Some(-2)));
        assert!(script_enum("color") && !script_enum("colour"));
        let twice = CEnum { name: None, items: vec![(id("A"), None), (id("A"), None)] };
        assert_eq!(define(&[twice]).unwrap_err().len(), 1);
    }
}
