//! `comm`: the current task's name, a 16-byte string.

use codegen::asm::{helper, Reg, Src};
use codegen::emit::{Buf, Emitter};
use codegen::registry::EmitBuiltin;
use lang::diag::Diagnostic;
use lang::registry::{Builtin, BuiltinCx};
use lang::typed::{TExpr, TExprKind, Ty};

pub struct Comm;

impl Builtin for Comm {
    fn name(&self) -> &'static str {
        "comm"
    }
    fn check(&self, cx: &BuiltinCx) -> Result<TExpr, Diagnostic> {
        Ok(TExpr { kind: TExprKind::Builtin("comm"), ty: Ty::Str(16), span: cx.span })
    }
}

impl EmitBuiltin for Comm {
    fn string(&self, e: &mut Emitter, dst: Buf) {
        e.zero(dst.off, dst.size);
        e.addr(Reg::R1, dst);
        e.asm.mov(Reg::R2, Src::Imm(dst.size.min(16) as i32));
        e.asm.call(helper::GET_CURRENT_COMM);
    }
}
