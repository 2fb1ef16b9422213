//! Literals: integers (decimal, hex, octal, durations such as `500ms`), character literals and string escapes. The grammar takes
//! them greedily, so a malformed one is reported here as one token; each function records its errors and
//! returns a placeholder value so that building goes on and finds the others.

use super::ast::Span;
use crate::diag::Diagnostic;

/// Duration suffixes (bpftrace 0.20+): `500ms` is 500000000, in nanoseconds.
const DURATIONS: [(&str, u64); 7] =
    [("ns", 1), ("us", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000), ("d", 86_400_000_000_000)];

/// The value of an integer literal as written (`42`, `0x2a`, `052`, `1_000`, `10UL`, `1e6`), or a
/// duration (`500ms`, `2s`, `1m`: nanoseconds) as bpftrace 0.20+ reads them.
pub(super) fn int(text: &str, span: Span, errors: &mut Vec<Diagnostic>) -> u64 {
    let hex = text.starts_with("0x") || text.starts_with("0X");
    // `1_000_000`: underscores separate digit groups (not first, which the grammar forbids).
    let joined;
    let text = if text.contains('_') && !text.ends_with('_') && !text.contains("__") {
        joined = text.replace('_', "");
        joined.as_str()
    } else {
        text
    };
    if !hex {
        let digits_end = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
        let (n, suffix) = text.split_at(digits_end);
        if let Some(&(_, scale)) = DURATIONS.iter().find(|(s, _)| *s == suffix).filter(|_| !n.is_empty()) {
            // A duration's number is decimal even with a leading zero.
            match n.parse::<u64>().ok().and_then(|v| v.checked_mul(scale)) {
                Some(v) => return v,
                None => {
                    errors.push(
                        Diagnostic::new(span, format!("duration `{text}` is too long"), "does not fit in 64 bits of nanoseconds")
                            .with_help(format!("the longest duration is {}ns", u64::MAX)),
                    );
                    return 0;
                }
            }
        }
    }
    // C's integer suffixes are read and ignored, as bpftrace does: `10U`, `10UL`, `10LL`, `10ull`.
    let text = {
        let body = text.trim_end_matches(['u', 'U', 'l', 'L']);
        let suffix = &text[body.len()..];
        let c_suffix = matches!(suffix.to_ascii_uppercase().as_str(), "U" | "L" | "UL" | "LU" | "LL" | "ULL" | "LLU");
        if c_suffix && !body.is_empty() { body } else { text }
    };
    // `1e6`: an integer in scientific notation, as bpftrace takes it (no fraction, no sign).
    if let Some((m, e)) = text.split_once(['e', 'E']).filter(|_| !text.starts_with("0x") && !text.starts_with("0X")) {
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if digits(m) && digits(e) {
            let value = m.parse::<u64>().ok().zip(e.parse::<u32>().ok()).and_then(|(m, e)| m.checked_mul(10u64.checked_pow(e)?));
            if let Some(v) = value {
                return v;
            }
            errors.push(
                Diagnostic::new(span, format!("integer literal `{text}` is too large"), "does not fit in 64 bits")
                    .with_help(format!("the largest integer is {}", u64::MAX)),
            );
            return 0;
        }
    }
    let (digits, radix) = if let Some(h) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        (h, 16)
    } else if let Some(o) = text.strip_prefix('0').filter(|o| !o.is_empty()) {
        (o, 8)
    } else {
        (text, 10)
    };
    let ok_digits = !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix));
    if ok_digits {
        match u64::from_str_radix(digits, radix) {
            Ok(v) => return v,
            Err(_) => errors.push(
                Diagnostic::new(span, format!("integer literal `{text}` is too large"), "does not fit in 64 bits")
                    .with_help(format!("the largest integer is {}", u64::MAX)),
            ),
        }
    } else {
        let what = match radix {
            16 => "hexadecimal",
            8 => "octal",
            _ => "decimal",
        };
        errors.push(
            Diagnostic::new(span, format!("invalid number `{text}`"), format!("not a {what} number"))
                .with_help("numbers are decimal (`42`), hexadecimal (`0x2a`) or octal with a leading zero (`052`)"),
        );
    }
    0
}

/// The text between the quotes of a string or character literal.
fn quoted(text: &str) -> &str {
    text.get(1..text.len().saturating_sub(1)).unwrap_or_default()
}

/// A string literal `"..."` with its escapes decoded.
pub(super) fn string(text: &str, span: Span, errors: &mut Vec<Diagnostic>) -> String {
    unescape(quoted(text), span.start + 1, errors)
}

/// The value of a character literal `'c'`.
pub(super) fn char_lit(text: &str, span: Span, errors: &mut Vec<Diagnostic>) -> u64 {
    let s = unescape(quoted(text), span.start + 1, errors);
    let mut cs = s.chars();
    match (cs.next(), cs.next()) {
        (Some(c), None) if c.is_ascii() => c as u64,
        _ => {
            errors.push(
                Diagnostic::new(span, "a character literal holds exactly one ASCII character", "not one character")
                    .with_help("use double quotes for strings"),
            );
            0
        }
    }
}

/// Decode `\n \t \r \\ \" \' \0 \NNN (octal) \xNN`; `at` is the byte offset of `s` in the source.
fn unescape(s: &str, at: usize, errors: &mut Vec<Diagnostic>) -> String {
    let mut out = String::new();
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some((_, e)) = it.next() else { break };
        let mut end = i + 1 + e.len_utf8();
        // Up to `max` more digits of `radix` after the escape's first character.
        let mut digits = |mut v: Option<u32>, radix: u32, max: usize| {
            for _ in 0..max {
                match it.peek().and_then(|&(_, d)| d.to_digit(radix)) {
                    Some(d) => {
                        v = Some(v.unwrap_or(0) * radix + d);
                        end += 1;
                        it.next();
                    }
                    None => break,
                }
            }
            v
        };
        let value: Option<u32> = match e {
            'n' => Some(10),
            't' => Some(9),
            'r' => Some(13),
            '\\' | '"' | '\'' => Some(e as u32),
            '0'..='7' => digits(e.to_digit(8), 8, 2),
            'x' => digits(None, 16, 2),
            _ => None,
        };
        let espan = Span::new(at + i, at + end);
        match value {
            Some(v) if v < 0x80 => out.push(char::from(v as u8)),
            Some(_) => errors.push(
                Diagnostic::new(espan, "only ASCII escapes (up to `\\x7f`) are supported", "not ASCII")
                    .with_help("write the character itself"),
            ),
            None => errors.push(
                Diagnostic::new(espan, format!("unknown escape `{}`", s.get(i..end).unwrap_or_default()), "unknown escape")
                    .with_help("known escapes: \\n \\t \\r \\\\ \\\" \\' \\0 \\NNN (octal) \\xNN"),
            ),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> Result<u64, usize> {
        let mut errors = Vec::new();
        let v = int(text, Span::default(), &mut errors);
        if errors.is_empty() { Ok(v) } else { Err(errors.len()) }
    }

    #[test]
    fn durations_suffixes_and_separators() {
        assert_eq!(value("500ms"), Ok(500_000_000));
        assert_eq!(value("2s"), Ok(2_000_000_000));
        assert_eq!(value("10us"), Ok(10_000));
        assert_eq!(value("2ns"), Ok(2));
        assert_eq!(value("1m"), Ok(60_000_000_000));
        assert_eq!(value("3h"), Ok(10_800_000_000_000));
        assert_eq!(value("1d"), Ok(86_400_000_000_000));
        assert_eq!(value("1_000_000"), Ok(1_000_000));
        assert_eq!(value("10UL"), Ok(10));
        assert_eq!(value("0x1d"), Ok(29));
        assert_eq!(value("0x10ULL"), Ok(16));
        assert_eq!(value("1e3"), Ok(1000));
        assert_eq!(value("99999999999999999h"), Err(1));
        assert_eq!(value("5sec"), Err(1));
        assert_eq!(value("1__0"), Err(1));
        assert_eq!(value("10UUL"), Err(1));
    }
}
