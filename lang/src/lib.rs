//! The vt language: grammar, syntax tree with spans, parser and checker. Knows nothing of BPF.

pub mod btf;
pub mod btf_module;
pub mod check;
pub mod checked;
pub mod cenum;
pub mod ctype;
pub mod diag;
pub mod headers;
pub mod print;
pub mod printf;
pub mod registry;
pub mod syntax;
pub mod target;
pub mod tracefs;
/// The old name of `tracefs`, kept for callers.
pub use tracefs as provider;
pub mod typed;

pub use syntax::ast;

/// The parser's entry points under their older path (`lang::parse::parse`, `lang::parse::MAX_DEPTH`).
pub mod parse {
    pub use crate::syntax::{parse, MAX_DEPTH};
}

pub use diag::{line_col, render, Diagnostic};
pub use parse::parse;
