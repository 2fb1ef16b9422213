//! `curtask`: the current task's `struct task_struct` address.

use super::{emitted, helper_value, Part};
use codegen::asm::{helper, Reg};
use codegen::emit::Emitter;
use codegen::registry::EmitBuiltin;
use lang::diag::Diagnostic;
use lang::registry::{Builtin, BuiltinCx};
use lang::typed::{IntTy, TExpr};

pub struct Curtask;

impl Builtin for Curtask {
    fn name(&self) -> &'static str {
        "curtask"
    }
    fn check(&self, cx: &BuiltinCx) -> Result<TExpr, Diagnostic> {
        Ok(emitted("curtask", IntTy::U64, cx))
    }
}

impl EmitBuiltin for Curtask {
    fn int(&self, e: &mut Emitter, dst: Reg) {
        helper_value(e, dst, helper::GET_CURRENT_TASK, Part::All);
    }
}
