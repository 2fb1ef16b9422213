//! Diagnostics: every error the language layers report is one of these, pointing at the source.

use crate::ast::Span;

#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// One line saying what is wrong, e.g. "unknown field 'recv_pkt' of vhost_net:vhost_net_rx_end".
    pub message: String,
    /// The offending text.
    pub span: Span,
    /// A short label printed under the underline, e.g. "no such field".
    pub label: String,
    /// What to do about it, e.g. "did you mean 'recv_pkts'?".
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(span: Span, message: impl Into<String>, label: impl Into<String>) -> Self {
        Diagnostic { message: message.into(), span, label: label.into(), help: None }
    }
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// 1-based line and column of a byte offset; the column counts characters, not bytes.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = boundary(source, offset);
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |n| n + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Render diagnostics as plain text (no colors), one after another, bpftrace-like:
///
/// ```text
/// vhost.vt:2:16: error: expected `;` or `}`, found `exit`
///     2 |   printf("hi") exit()
///       |                ^^^^ expected `;` or `}`
/// hint: HELP
/// ```
///
/// The underline covers the span's characters on its first line (one `^` for an empty span).
/// (miette's graphical handler was tried: it frames the snippet in boxes, adds context lines, and draws
/// nothing for an empty span at the end of the text, so the few lines here are simpler and clearer.)
pub fn render(diags: &[Diagnostic], file_name: &str, source: &str) -> String {
    let mut out = String::new();
    for d in diags {
        let start = boundary(source, d.span.start);
        let (line, col) = line_col(source, start);
        out.push_str(&format!("{file_name}:{line}:{col}: error: {}\n", d.message));
        let line_start = source[..start].rfind('\n').map_or(0, |n| n + 1);
        let line_end = source[start..].find('\n').map_or(source.len(), |n| start + n);
        let text = &source[line_start..line_end];
        let width = source[start..boundary(source, d.span.end.clamp(start, line_end))].chars().count().max(1);
        // Keep tabs in the padding so the underline lines up with the text above it.
        let pad: String = text.chars().take(col - 1).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
        let gutter = line.to_string();
        let blank = " ".repeat(gutter.len());
        out.push_str(&format!("{gutter:>5} | {text}\n"));
        let mut under = format!("{blank:>5} | {pad}{}", "^".repeat(width));
        if !d.label.is_empty() {
            under.push(' ');
            under.push_str(&d.label);
        }
        out.push_str(under.trim_end());
        out.push('\n');
        if let Some(help) = &d.help {
            out.push_str(&format!("hint: {help}\n"));
        }
    }
    out
}

/// `offset` moved into the text and back to the start of the character it falls in, so that a span from
/// anywhere (a damaged one included) can be shown without slicing through a character.
fn boundary(source: &str, offset: usize) -> usize {
    let mut at = offset.min(source.len());
    while !source.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_outside_the_text_or_inside_a_character_render() {
        let src = "BEGIN { printf(\"é\") }";
        let at = src.find('é').unwrap() + 1;
        let d = vec![
            Diagnostic::new(Span::new(at, at + 1), "inside", "here"),
            Diagnostic::new(Span::new(500, 400), "past the end", "there"),
        ];
        let out = render(&d, "x.vt", src);
        assert!(out.starts_with("x.vt:1:17: error: inside\n"), "{out}");
        assert!(out.contains("x.vt:1:22: error: past the end\n"), "{out}");
        assert_eq!(line_col(src, at), (1, 17));
    }
}
