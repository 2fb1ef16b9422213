//! `pid`: the process id (the kernel's tgid).

use super::{emitted, helper_value, Part};
use codegen::asm::{helper, Reg};
use codegen::emit::Emitter;
use codegen::registry::EmitBuiltin;
use lang::diag::Diagnostic;
use lang::registry::{Builtin, BuiltinCx};
use lang::typed::{IntTy, TExpr};

pub struct Pid;

impl Builtin for Pid {
    fn name(&self) -> &'static str {
        "pid"
    }
    fn check(&self, cx: &BuiltinCx) -> Result<TExpr, Diagnostic> {
        Ok(emitted("pid", IntTy::U64, cx))
    }
}

impl EmitBuiltin for Pid {
    fn int(&self, e: &mut Emitter, dst: Reg) {
        helper_value(e, dst, helper::GET_CURRENT_PID_TGID, Part::High);
    }
}
