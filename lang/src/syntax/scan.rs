//! The lexical pre-pass: what a quick scan finds before the grammar runs.

use super::ast::Span;
use crate::diag::Diagnostic;

/// What a quick scan of the text finds before the grammar runs: unterminated strings, character literals
/// and comments (reported here, as one precise error each, rather than as a confusing syntax error far
/// away), and the brackets still open at the end of the text (for the "never closed" hint).
pub(super) struct Lex {
    pub errors: Vec<Diagnostic>,
    pub unclosed: Vec<(char, usize)>,
    /// For each byte: is it whitespace, comment or shebang (outside strings)?
    pub trivia: Vec<bool>,
}

pub(super) fn scan(src: &str) -> Lex {
    let b = src.as_bytes();
    let mut errors = Vec::new();
    let mut stack: Vec<(char, usize)> = Vec::new();
    let mut trivia = vec![false; b.len()];
    let mut i = 0;
    if src.starts_with("#!") {
        i = src.find('\n').unwrap_or(src.len());
        trivia[..i].fill(true);
    }
    let line_end = |from: usize| src[from..].find('\n').map_or(src.len(), |n| from + n);
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' | b'\r' | b'\n' => {
                trivia[i] = true;
                i += 1;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = line_end(i);
                trivia[i..end].fill(true);
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => match src[i + 2..].find("*/") {
                Some(n) => {
                    trivia[i..i + 2 + n + 2].fill(true);
                    i = i + 2 + n + 2
                }
                None => {
                    errors.push(
                        Diagnostic::new(Span::new(i, i + 2), "unterminated comment", "comment starts here")
                            .with_help("close the comment with `*/`"),
                    );
                    break;
                }
            },
            q @ (b'"' | b'\'') => {
                let mut j = i + 1;
                loop {
                    match b.get(j) {
                        Some(b'\\') => j += 2,
                        Some(c) if *c == q => break,
                        Some(b'\n') | None => {
                            let end = line_end(i).min(j);
                            let (what, close) =
                                if q == b'"' { ("string", "\"") } else { ("character literal", "'") };
                            errors.push(
                                Diagnostic::new(
                                    Span::new(i, end),
                                    format!("unterminated {what}"),
                                    format!("this {what} has no closing `{close}`"),
                                )
                                .with_help(format!("add `{close}` before the end of the line")),
                            );
                            j = end;
                            break;
                        }
                        Some(_) => j += 1,
                    }
                }
                i = j + 1;
            }
            c @ (b'{' | b'(' | b'[') => {
                stack.push((c as char, i));
                i += 1;
            }
            c @ (b'}' | b')' | b']') => {
                let open = match c {
                    b'}' => '{',
                    b')' => '(',
                    _ => '[',
                };
                if stack.last().map(|s| s.0) == Some(open) {
                    stack.pop();
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    Lex { errors, unclosed: stack, trivia }
}
