//! The vt language: grammar, syntax tree with spans, parser and checker. Knows nothing of BPF.

pub mod ast;
pub mod check;
pub mod diag;
pub mod parse;
pub mod print;
pub mod printf;
pub mod provider;
pub mod typed;

pub use diag::{line_col, render, Diagnostic};
pub use parse::parse;
