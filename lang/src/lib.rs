//! The vt language: grammar, syntax tree with spans, parser and checker. Knows nothing of BPF.

pub mod ast;
pub mod check;
pub mod diag;
pub mod provider;
pub mod typed;
