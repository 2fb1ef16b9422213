//! `gid`: the group id.

use super::{emitted, helper_value, Part};
use codegen::asm::{helper, Reg};
use codegen::emit::Emitter;
use codegen::registry::EmitBuiltin;
use lang::diag::Diagnostic;
use lang::registry::{Builtin, BuiltinCx};
use lang::typed::{IntTy, TExpr};

pub struct Gid;

impl Builtin for Gid {
    fn name(&self) -> &'static str {
        "gid"
    }
    fn check(&self, cx: &BuiltinCx) -> Result<TExpr, Diagnostic> {
        Ok(emitted("gid", IntTy { bits: 32, signed: false }, cx))
    }
}

impl EmitBuiltin for Gid {
    fn int(&self, e: &mut Emitter, dst: Reg) {
        helper_value(e, dst, helper::GET_CURRENT_UID_GID, Part::High);
    }
}
