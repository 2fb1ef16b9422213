//! `numaid`: the NUMA node the probe runs on.

use super::{emitted, helper_value, Part};
use codegen::asm::{helper, Reg};
use codegen::emit::Emitter;
use codegen::registry::EmitBuiltin;
use lang::diag::Diagnostic;
use lang::registry::{Builtin, BuiltinCx};
use lang::typed::{IntTy, TExpr};

pub struct Numaid;

impl Builtin for Numaid {
    fn name(&self) -> &'static str {
        "numaid"
    }
    fn check(&self, cx: &BuiltinCx) -> Result<TExpr, Diagnostic> {
        Ok(emitted("numaid", IntTy { bits: 32, signed: false }, cx))
    }
}

impl EmitBuiltin for Numaid {
    fn int(&self, e: &mut Emitter, dst: Reg) {
        helper_value(e, dst, helper::GET_NUMA_NODE_ID, Part::All);
    }
}
