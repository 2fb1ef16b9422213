//! `ctx`: the address of the probe's context (the tracepoint's record, the perf event's data). BEGIN
//! and END have none, as in bpftrace.

use codegen::asm::{Reg, Src};
use codegen::emit::{Emitter, CTX};
use codegen::registry::EmitBuiltin;
use lang::diag::Diagnostic;
use lang::registry::{Builtin, BuiltinCx};
use lang::typed::{IntTy, TExpr};

pub struct Ctx;

impl Builtin for Ctx {
    fn name(&self) -> &'static str {
        "ctx"
    }
    fn check(&self, cx: &BuiltinCx) -> Result<TExpr, Diagnostic> {
        if cx.attach.is_special() {
            let msg = format!("{} has no context: `ctx` is for probes the kernel runs", cx.attach.probe_name());
            return Err(Diagnostic::new(cx.span, msg, "no ctx here"));
        }
        Ok(super::emitted("ctx", IntTy::U64, cx))
    }
}

impl EmitBuiltin for Ctx {
    fn int(&self, e: &mut Emitter, dst: Reg) {
        e.asm.mov(dst, Src::Reg(CTX));
    }
}
