//! The vt language: grammar, syntax tree with spans, parser and checker. Knows nothing of BPF.

pub mod ast;
pub mod check;
pub mod diag;
pub mod parse;
pub mod print;
pub mod printf;
pub mod tracefs;
/// The old name of `tracefs`, kept for callers.
pub use tracefs as provider;
pub mod registry;
pub mod typed;

pub use diag::{line_col, render, Diagnostic};
pub use parse::parse;
