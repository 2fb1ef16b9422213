//! `username`: the current user's name. The program keeps the uid; the runtime shows its name from
//! /etc/passwd (`Render::User`), as bpftrace does.

use codegen::asm::Reg;
use codegen::emit::Emitter;
use codegen::registry::EmitBuiltin;
use lang::diag::Diagnostic;
use lang::registry::{Builtin, BuiltinCx};
use lang::typed::{Render, TExpr, TExprKind, Ty};

pub struct Username;

impl Builtin for Username {
    fn name(&self) -> &'static str {
        "username"
    }
    fn check(&self, cx: &BuiltinCx) -> Result<TExpr, Diagnostic> {
        Ok(TExpr { kind: TExprKind::Builtin("username"), ty: Ty::Text(Render::User), span: cx.span })
    }
}

impl EmitBuiltin for Username {
    fn int(&self, e: &mut Emitter, dst: Reg) {
        super::helper_value(e, dst, codegen::asm::helper::GET_CURRENT_UID_GID, super::Part::Low);
    }
}
