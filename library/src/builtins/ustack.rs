//! `ustack`: the user stack in bpftrace's mode with every frame: the function `ustack()`
//! (`functions/ustack.rs` emits it).

use codegen::registry::EmitBuiltin;
use lang::diag::Diagnostic;
use lang::registry::{Builtin, BuiltinCx};
use lang::typed::{StackFmt, TExpr};

pub struct Ustack;

impl Builtin for Ustack {
    fn name(&self) -> &'static str {
        "ustack"
    }
    fn check(&self, cx: &BuiltinCx) -> Result<TExpr, Diagnostic> {
        Ok(crate::stacks::value(true, StackFmt::DEFAULT, cx.span))
    }
}

/// Never emitted as a builtin: the checker leaves a call.
impl EmitBuiltin for Ustack {}
