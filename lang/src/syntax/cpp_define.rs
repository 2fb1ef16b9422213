//! `#define NAME BODY` and `#define NAME(a, b) BODY` as macros: the line is rewritten, byte for byte
//! in place, as `macro NAME(a, b) { BODY }` so that the grammar reads it and every span in BODY still
//! points at the text as written. `#define` is two bytes longer than `macro`; the name moves left to
//! make room for `()` where the define has no parameters, `{` takes the blank before BODY and `}` the
//! end of the line (its newline, or the start of a trailing comment).

use crate::ast::Span;
use crate::diag::Diagnostic;

/// The rewritten line (same length as `line`), None for a define without a body, or an error.
pub(super) fn as_macro(line: &str, span: Span) -> Result<Option<Vec<u8>>, Diagnostic> {
    let bytes = line.as_bytes();
    let hash = line.find('#').unwrap_or(0);
    let after = hash + 1 + line[hash + 1..].find("define").unwrap_or(0) + "define".len();
    let name_start = after + line[after..].len() - line[after..].trim_start().len();
    let name_len = line[name_start..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(line.len() - name_start);
    let mut head_end = name_start + name_len;
    let function_like = bytes.get(head_end) == Some(&b'(');
    if function_like {
        let Some(close) = line[head_end..].find(')') else {
            return Err(bad(span, "this macro's parameter list has no `)`"));
        };
        head_end += close + 1;
    }
    // The body ends at a comment or the end of the line.
    let code_end = comment_start(line).unwrap_or(line.trim_end().len()).max(head_end);
    let body = line[head_end..code_end].trim();
    if body.is_empty() {
        return Ok(None);
    }
    if body.ends_with('\\') {
        return Err(bad(span, "a `#define` that goes on over several lines (`\\`) is not supported"));
    }
    let body_start = head_end + line[head_end..].find(|c: char| !c.is_whitespace()).unwrap_or(0);
    let body_end = body_start + body.len();
    // Room for `{` before the body and `}` after it.
    let close_at = if body_end < line.len() { Some(body_end) } else { None };
    let (Some(close_at), true) = (close_at, body_start > head_end) else {
        return Err(bad(span, "vt needs a blank between this macro's name or parameters and its body, and a newline after it"));
    };
    let mut out = vec![b' '; line.len()];
    // Newlines stay where they are (so does any character of the body).
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' && i != close_at {
            out[i] = b'\n';
        }
    }
    out[hash..hash + 5].copy_from_slice(b"macro");
    let head = &bytes[name_start..head_end];
    if function_like {
        out[name_start..head_end].copy_from_slice(head);
    } else {
        // `NAME()`: the name moves two bytes left, into the room `#define` leaves.
        let at = name_start - 2;
        out[at..at + head.len()].copy_from_slice(head);
        out[at + head.len()..at + head.len() + 2].copy_from_slice(b"()");
    }
    out[body_start - 1] = b'{';
    out[body_start..body_end].copy_from_slice(body.as_bytes());
    out[close_at] = b'}';
    Ok(Some(out))
}

/// Where a `//` or `/*` comment starts on the line, outside string and character literals.
fn comment_start(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    let mut quote = None;
    let mut i = 0;
    while i < b.len() {
        match (quote, b[i]) {
            (Some(_), b'\\') => i += 1,
            (Some(q), c) if c == q => quote = None,
            (None, b'"' | b'\'') => quote = Some(b[i]),
            (None, b'/') if matches!(b.get(i + 1), Some(b'/' | b'*')) => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

fn bad(span: Span, msg: &str) -> Diagnostic {
    Diagnostic::new(span, msg, "unsupported #define").with_help("write the macro on one line: `#define TWICE(x) ((x) * 2)`")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(line: &str) -> String {
        String::from_utf8(as_macro(line, Span::default()).unwrap().unwrap()).unwrap()
    }

    #[test]
    fn rewritten_in_place() {
        assert_eq!(text("#define F(x) ((x)*2)\n"), "macro   F(x){((x)*2)}");
        assert_eq!(text("#define MASK (1 << 3)\n"), "macro MASK(){(1 << 3)}");
        assert_eq!(text("#define RED \"\\033[31m\" // red\n"), "macro RED(){\"\\033[31m\"}      \n");
        assert!(as_macro("#define FLAG\n", Span::default()).unwrap().is_none());
        assert!(as_macro("#define F(x)((x)*2)\n", Span::default()).is_err());
        assert!(as_macro("#define F(x) (x)", Span::default()).is_err());
    }
}
