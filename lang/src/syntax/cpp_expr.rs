//! The condition of `#if` / `#elif`: C's integer expressions over numbers, `defined(NAME)` /
//! `defined NAME`, numeric `#define`s (other names are 0, as in C), `!`, `~`, unary `-`, the binary
//! operators `* / % + - << >> < <= > >= == != & ^ | && ||`, and parentheses.

use std::collections::{HashMap, HashSet};

/// Evaluates `text`; an error message says what is wrong with it.
pub(super) fn eval(text: &str, defined: &HashSet<String>, numbers: &HashMap<String, i64>) -> Result<i64, String> {
    let tokens = tokens(text)?;
    let mut p = Parser { t: &tokens, i: 0, defined, numbers };
    let v = p.binary(0)?;
    match p.t.get(p.i) {
        None => Ok(v),
        Some(t) => Err(format!("unexpected `{t}`")),
    }
}

/// A number's value as C writes it (`10`, `0x1f`, `017`, `10UL`).
pub(super) fn number(word: &str) -> Option<i64> {
    let w = word.trim_end_matches(['u', 'U', 'l', 'L']);
    let (digits, radix) = match w.strip_prefix("0x").or_else(|| w.strip_prefix("0X")) {
        Some(h) => (h, 16),
        None if w.len() > 1 && w.starts_with('0') => (&w[1..], 8),
        None => (w, 10),
    };
    i64::from_str_radix(digits, radix).ok()
}

fn tokens(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_alphanumeric() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(text[start..i].to_string());
        } else {
            let two = text.get(i..i + 2).unwrap_or("");
            let op = ["<<", ">>", "<=", ">=", "==", "!=", "&&", "||"].iter().find(|o| **o == two);
            let len = if op.is_some() { 2 } else { 1 };
            if op.is_none() && !b"()!~-+*/%<>&^|".contains(&c) {
                return Err(format!("`{}` is not part of an #if expression", c as char));
            }
            out.push(text[i..i + len].to_string());
            i += len;
        }
    }
    Ok(out)
}

struct Parser<'a> {
    t: &'a [String],
    i: usize,
    defined: &'a HashSet<String>,
    numbers: &'a HashMap<String, i64>,
}

/// Binary operators by precedence, loosest first.
const LEVELS: [&[&str]; 10] =
    [&["||"], &["&&"], &["|"], &["^"], &["&"], &["==", "!="], &["<", "<=", ">", ">="], &["<<", ">>"], &["+", "-"], &["*", "/", "%"]];

impl Parser<'_> {
    fn next(&mut self) -> Option<&str> {
        let t = self.t.get(self.i)?;
        self.i += 1;
        Some(t.as_str())
    }

    fn peek(&self) -> Option<&str> {
        self.t.get(self.i).map(String::as_str)
    }

    fn binary(&mut self, level: usize) -> Result<i64, String> {
        if level == LEVELS.len() {
            return self.unary();
        }
        let mut v = self.binary(level + 1)?;
        while let Some(op) = self.peek().filter(|t| LEVELS[level].contains(t)).map(str::to_string) {
            self.i += 1;
            let r = self.binary(level + 1)?;
            v = match op.as_str() {
                "||" => i64::from(v != 0 || r != 0),
                "&&" => i64::from(v != 0 && r != 0),
                "|" => v | r,
                "^" => v ^ r,
                "&" => v & r,
                "==" => i64::from(v == r),
                "!=" => i64::from(v != r),
                "<" => i64::from(v < r),
                "<=" => i64::from(v <= r),
                ">" => i64::from(v > r),
                ">=" => i64::from(v >= r),
                "<<" => v.wrapping_shl(r as u32),
                ">>" => v.wrapping_shr(r as u32),
                "+" => v.wrapping_add(r),
                "-" => v.wrapping_sub(r),
                "*" => v.wrapping_mul(r),
                _ if r == 0 => return Err("division by zero".into()),
                "/" => v.wrapping_div(r),
                _ => v.wrapping_rem(r),
            };
        }
        Ok(v)
    }

    fn unary(&mut self) -> Result<i64, String> {
        let token = self.next().map(str::to_string);
        match token.as_deref() {
            Some("!") => Ok(i64::from(self.unary()? == 0)),
            Some("~") => Ok(!self.unary()?),
            Some("-") => Ok(self.unary()?.wrapping_neg()),
            Some("+") => self.unary(),
            Some("(") => {
                let v = self.binary(0)?;
                match self.next() {
                    Some(")") => Ok(v),
                    _ => Err("missing `)`".into()),
                }
            }
            Some("defined") => {
                let paren = self.peek() == Some("(");
                if paren {
                    self.i += 1;
                }
                let name = self.next().ok_or("`defined` needs a name")?.to_string();
                if paren && self.next() != Some(")") {
                    return Err("missing `)` after `defined(NAME`".into());
                }
                Ok(i64::from(self.defined.contains(&name)))
            }
            Some(w) if w.starts_with(|c: char| c.is_ascii_digit()) => number(w).ok_or_else(|| format!("`{w}` is not a number")),
            Some(w) if w.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') => Ok(self.numbers.get(w).copied().unwrap_or(0)),
            Some(t) => Err(format!("unexpected `{t}`")),
            None => Err("the expression ends too soon".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_conditions() {
        let defined: HashSet<String> = ["A".to_string()].into();
        let numbers: HashMap<String, i64> = [("N".to_string(), 5)].into();
        let e = |t: &str| eval(t, &defined, &numbers);
        assert_eq!(e("1"), Ok(1));
        assert_eq!(e("defined(A) && !defined B"), Ok(1));
        assert_eq!(e("N * 2 + 1 == 11"), Ok(1));
        assert_eq!(e("(N << 2) > 0x10 || UNKNOWN"), Ok(1));
        assert_eq!(e("N - 5"), Ok(0));
        assert_eq!(e("1 +"), Err("the expression ends too soon".into()));
        assert!(e("1 / 0").is_err());
        assert!(e("\"s\"").is_err());
        assert!(e("(1").is_err());
    }
}
