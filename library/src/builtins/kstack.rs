//! `kstack`: the kernel stack in bpftrace's mode with every frame: the function `kstack()`
//! (`functions/kstack.rs` emits it).

use codegen::registry::EmitBuiltin;
use lang::diag::Diagnostic;
use lang::registry::{Builtin, BuiltinCx};
use lang::typed::{StackFmt, TExpr};

pub struct Kstack;

impl Builtin for Kstack {
    fn name(&self) -> &'static str {
        "kstack"
    }
    fn check(&self, cx: &BuiltinCx) -> Result<TExpr, Diagnostic> {
        Ok(crate::stacks::value(false, StackFmt::DEFAULT, cx.span))
    }
}

/// Never emitted as a builtin: the checker leaves a call.
impl EmitBuiltin for Kstack {}
