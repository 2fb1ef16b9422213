//! BPF code generation.
