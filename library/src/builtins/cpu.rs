//! `cpu`: the CPU the probe runs on.

use super::{emitted, helper_value, Part};
use codegen::asm::{helper, Reg};
use codegen::emit::Emitter;
use codegen::registry::EmitBuiltin;
use lang::diag::Diagnostic;
use lang::registry::{Builtin, BuiltinCx};
use lang::typed::{IntTy, TExpr};

pub struct Cpu;

impl Builtin for Cpu {
    fn name(&self) -> &'static str {
        "cpu"
    }
    fn check(&self, cx: &BuiltinCx) -> Result<TExpr, Diagnostic> {
        Ok(emitted("cpu", IntTy { bits: 32, signed: false }, cx))
    }
}

impl EmitBuiltin for Cpu {
    fn int(&self, e: &mut Emitter, dst: Reg) {
        helper_value(e, dst, helper::GET_SMP_PROCESSOR_ID, Part::All);
    }
}
