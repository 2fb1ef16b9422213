//! `nsecs`: nanoseconds since boot (`bpf_ktime_get_ns`).

use super::{emitted, helper_value, Part};
use codegen::asm::{helper, Reg};
use codegen::emit::Emitter;
use codegen::registry::EmitBuiltin;
use lang::diag::Diagnostic;
use lang::registry::{Builtin, BuiltinCx};
use lang::typed::{IntTy, TExpr};

pub struct Nsecs;

impl Builtin for Nsecs {
    fn name(&self) -> &'static str {
        "nsecs"
    }
    fn check(&self, cx: &BuiltinCx) -> Result<TExpr, Diagnostic> {
        Ok(emitted("nsecs", IntTy::U64, cx))
    }
}

impl EmitBuiltin for Nsecs {
    fn int(&self, e: &mut Emitter, dst: Reg) {
        helper_value(e, dst, helper::KTIME_GET_NS, Part::All);
    }
}
