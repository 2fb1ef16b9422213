//! The preprocessor lines bpftrace's tools use: `#if EXPR`/`#elif EXPR` (`cpp_expr.rs`), `#ifdef`/`#ifndef NAME`, `#else`, `#endif` and
//! `#define NAME` (for those tests); `#define NAME NUMBER` also makes NAME a constant (as bpftrace
//! takes the script's macros from clang). bpftrace defines `BPFTRACE_HAVE_BTF` when the kernel has BTF; so
//! does vt. Directives and the lines of branches not taken become spaces, so every span still points
//! at the text as written. `#include` lines are left to the grammar (BTF has the kernel's types).
//!
//! `#define F(x) ((x) * 2)` and `#define MASK (1 << 3)` (a body that is not a lone number) become
//! macros: the line is rewritten in place, with the same length, as `macro F(x) { ((x) * 2) }`, so
//! the body keeps its place in the text; `macros.rs` expands them as C does (no renaming, any map).

use std::collections::{HashMap, HashSet};

use crate::ast::{Ident, Span};
use crate::diag::Diagnostic;

/// A numeric `#define`: its name and its value as written.
pub type Define = (Ident, Ident);

/// What the preprocessor leaves for the parser.
#[derive(Default)]
pub struct Output {
    pub text: String,
    /// Numeric `#define`s, which are constants.
    pub numbers: Vec<Define>,
    /// Where each `#define` rewritten as a `macro` starts.
    pub c_macros: Vec<usize>,
}

/// `src` with its conditional lines resolved, its numeric defines and its macro defines; or an
/// error for an unbalanced `#else`/`#endif`/`#if…` or a `#define` vt cannot take.
pub fn preprocess(src: &str) -> Result<Output, Diagnostic> {
    let mut numbers = Vec::new();
    let mut c_macros = Vec::new();
    if !src.lines().any(|l| l.trim_start().starts_with('#') && directive(l).is_some()) {
        return Ok(Output { text: src.to_string(), numbers, c_macros });
    }
    let mut defined: HashSet<String> = HashSet::new();
    if std::path::Path::new(&crate::btf::vmlinux_path()).exists() {
        defined.insert("BPFTRACE_HAVE_BTF".into());
    }
    let mut out = src.as_bytes().to_vec();
    // Each open `#if…`: (whether its current branch is taken, whether the enclosing text is, its span,
    // whether one of its branches was taken).
    let mut open: Vec<(bool, bool, Span, bool)> = Vec::new();
    // `#if` conditions see the numeric defines made so far.
    let value_of = |numbers: &Vec<Define>| -> HashMap<String, i64> {
        numbers.iter().filter_map(|(n, v)| Some((n.name.clone(), signed(&v.name)?))).collect()
    };
    let mut start = 0;
    for line in src.split_inclusive('\n') {
        let span = Span::new(start, start + line.trim_end().len());
        let active = open.last().is_none_or(|o| o.0);
        let blank = match directive(line) {
            Some(("ifdef" | "ifndef", name)) => {
                let want = line.trim_start()[1..].trim_start().starts_with("ifdef");
                let taken = active && defined.contains(name) == want;
                open.push((taken, active, span, taken));
                true
            }
            Some(("if", _)) => {
                let taken = active && condition(line, span, &defined, &value_of(&numbers))?;
                open.push((taken, active, span, taken));
                true
            }
            Some(("elif", _)) => {
                let Some(&(_, outer, _, any)) = open.last() else { return Err(stray(span, "#elif")) };
                let taken = outer && !any && condition(line, span, &defined, &value_of(&numbers))?;
                if let Some(top) = open.last_mut() {
                    top.0 = taken;
                    top.3 |= taken;
                }
                true
            }
            Some(("else", _)) => {
                let Some(top) = open.last_mut() else { return Err(stray(span, "#else")) };
                top.0 = top.1 && !top.3;
                top.3 = true;
                true
            }
            Some(("endif", _)) => {
                if open.pop().is_none() {
                    return Err(stray(span, "#endif"));
                }
                true
            }
            Some(("define", name)) => {
                let mut blank = true;
                if active {
                    defined.insert(name.to_string());
                    match number_define(line, start) {
                        Some(n) => numbers.push(n),
                        None => {
                            if let Some(text) = super::cpp_define::as_macro(line, span)? {
                                out[start..start + line.len()].copy_from_slice(&text);
                                c_macros.push(start + line.find('#').unwrap_or(0));
                                blank = false;
                            }
                        }
                    }
                }
                blank
            }
            Some(("undef", name)) => {
                if active {
                    defined.remove(name);
                }
                true
            }
            _ => !active,
        };
        if blank {
            for b in &mut out[start..start + line.len()] {
                if *b != b'\n' {
                    *b = b' ';
                }
            }
        }
        start += line.len();
    }
    if let Some((_, _, span, _)) = open.pop() {
        return Err(Diagnostic::new(span, "this `#if` is never closed", "no `#endif`").with_help("add `#endif` after its lines"));
    }
    // Only ASCII bytes were written over whole lines, so the text is still UTF-8.
    let text = String::from_utf8(out).unwrap_or_else(|_| src.to_string());
    Ok(Output { text, numbers, c_macros })
}

/// `#define NAME 42` (or `-3`, `0x10`): the name and the value, with their places in the source.
fn number_define(line: &str, start: usize) -> Option<Define> {
    let words: Vec<(usize, &str)> = line.split_whitespace().map(|w| (w.as_ptr() as usize - line.as_ptr() as usize, w)).collect();
    let [_, (at_name, name), (at_value, value)] = words[..] else { return None };
    let digits = value.strip_prefix('-').unwrap_or(value);
    let ident = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ident || !digits.starts_with(|c: char| c.is_ascii_digit()) || !digits.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let at = |off: usize, w: &str| Ident { name: w.to_string(), span: Span::new(start + off, start + off + w.len()) };
    Some((at(at_name, name), at(at_value, value)))
}

/// A number as a `#define` gives it (`-3`, `0x10`).
fn signed(text: &str) -> Option<i64> {
    match text.strip_prefix('-') {
        Some(t) => super::cpp_expr::number(t).map(i64::wrapping_neg),
        None => super::cpp_expr::number(text),
    }
}

/// The condition of an `#if` or `#elif` line, true when not zero.
fn condition(line: &str, span: Span, defined: &HashSet<String>, numbers: &HashMap<String, i64>) -> Result<bool, Diagnostic> {
    let rest = line.trim_start().strip_prefix('#').unwrap_or_default().trim_start();
    let text = rest.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    let text = text.split("//").next().unwrap_or_default();
    super::cpp_expr::eval(text, defined, numbers).map(|v| v != 0).map_err(|why| {
        Diagnostic::new(span, format!("cannot evaluate this condition: {why}"), "bad #if")
            .with_help("#if takes integers, `defined(NAME)`, numeric #defines and C's operators")
    })
}

/// A conditional directive: (`ifdef`, NAME), (`else`, ""), ...
fn directive(line: &str) -> Option<(&str, &str)> {
    let rest = line.trim_start().strip_prefix('#')?.trim_start();
    let word_end = rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len());
    let (word, tail) = rest.split_at(word_end);
    let name = tail.split_whitespace().next().unwrap_or("");
    matches!(word, "if" | "elif" | "ifdef" | "ifndef" | "else" | "endif" | "define" | "undef").then_some((word, name))
}

fn stray(span: Span, what: &str) -> Diagnostic {
    Diagnostic::new(span, format!("`{what}` without an `#if`, `#ifdef` or `#ifndef`"), "unbalanced")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branches_not_taken_become_spaces() {
        let src = "#define A\n#ifdef A\nx\n#else\ny\n#endif\n#ifndef A\nz\n#endif\nw";
        let Output { text: out, numbers: defines, .. } = preprocess(src).unwrap();
        assert!(defines.is_empty());
        assert_eq!(out.len(), src.len());
        assert_eq!(out.split_whitespace().collect::<Vec<_>>(), ["x", "w"]);
        assert!(preprocess("#ifdef A\nx\n").is_err());
        assert!(preprocess("#endif\n").is_err());
        assert_eq!(preprocess("#include <a.h>\nx").unwrap().text, "#include <a.h>\nx");
        let Output { numbers: d, .. } = preprocess("#define A 0x10\n#define B (1)\n#ifdef Z\n#define C 1\n#endif\n#define D -3\n").unwrap();
        let d: Vec<(&str, &str)> = d.iter().map(|(n, v)| (n.name.as_str(), v.name.as_str())).collect();
        assert_eq!(d, [("A", "0x10"), ("D", "-3")]);
    }
}
