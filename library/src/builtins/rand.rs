//! `rand`: a pseudo-random 32-bit number.

use super::{emitted, helper_value, Part};
use codegen::asm::{helper, Reg};
use codegen::emit::Emitter;
use codegen::registry::EmitBuiltin;
use lang::diag::Diagnostic;
use lang::registry::{Builtin, BuiltinCx};
use lang::typed::{IntTy, TExpr};

pub struct Rand;

impl Builtin for Rand {
    fn name(&self) -> &'static str {
        "rand"
    }
    fn check(&self, cx: &BuiltinCx) -> Result<TExpr, Diagnostic> {
        Ok(emitted("rand", IntTy { bits: 32, signed: false }, cx))
    }
}

impl EmitBuiltin for Rand {
    fn int(&self, e: &mut Emitter, dst: Reg) {
        helper_value(e, dst, helper::GET_PRANDOM_U32, Part::All);
    }
}
