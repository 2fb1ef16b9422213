//! `tid`: the thread id (the kernel's pid).

use super::{emitted, helper_value, Part};
use codegen::asm::{helper, Reg};
use codegen::emit::Emitter;
use codegen::registry::EmitBuiltin;
use lang::diag::Diagnostic;
use lang::registry::{Builtin, BuiltinCx};
use lang::typed::{IntTy, TExpr};

pub struct Tid;

impl Builtin for Tid {
    fn name(&self) -> &'static str {
        "tid"
    }
    fn check(&self, cx: &BuiltinCx) -> Result<TExpr, Diagnostic> {
        Ok(emitted("tid", IntTy::U64, cx))
    }
}

impl EmitBuiltin for Tid {
    fn int(&self, e: &mut Emitter, dst: Reg) {
        helper_value(e, dst, helper::GET_CURRENT_PID_TGID, Part::Low);
    }
}
