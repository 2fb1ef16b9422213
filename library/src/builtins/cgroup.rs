//! `cgroup`: the cgroup (v2) id of the current task.

use super::{emitted, helper_value, Part};
use codegen::asm::{helper, Reg};
use codegen::emit::Emitter;
use codegen::registry::EmitBuiltin;
use lang::diag::Diagnostic;
use lang::registry::{Builtin, BuiltinCx};
use lang::typed::{IntTy, TExpr};

pub struct Cgroup;

impl Builtin for Cgroup {
    fn name(&self) -> &'static str {
        "cgroup"
    }
    fn check(&self, cx: &BuiltinCx) -> Result<TExpr, Diagnostic> {
        Ok(emitted("cgroup", IntTy::U64, cx))
    }
}

impl EmitBuiltin for Cgroup {
    fn int(&self, e: &mut Emitter, dst: Reg) {
        helper_value(e, dst, helper::GET_CURRENT_CGROUP_ID, Part::All);
    }
}
