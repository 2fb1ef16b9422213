//! `override(rc)`: bpftrace's kprobe-only statement that makes the probed kernel function return `rc`
//! without running it (`bpf_override_return`). It changes what the kernel does, so it needs `--unsafe`;
//! it is a statement, in a `kprobe` on a function's entry (not a kretprobe, no `+OFFSET`: the kernel
//! overrides only there). The kernel allows it only when built with `CONFIG_BPF_KPROBE_OVERRIDE` and
//! only on functions marked `ALLOW_ERROR_INJECTION` (its error-injection list): the runtime checks
//! both before loading (`runtime/src/attach/kprobe.rs`) and refuses with the reason.

use codegen::asm::{helper, Reg, Src};
use codegen::emit::{Emitter, CTX};
use codegen::registry::{EmitFunction, FnCall};
use lang::diag::Diagnostic;
use lang::registry::{Call, Checking, Function};
use lang::typed::{IntTy, TExpr, TExprKind, Target, Ty};

pub struct Override;

impl Function for Override {
    fn name(&self) -> &'static str {
        "override"
    }
    fn statement(&self) -> bool {
        true
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<TExpr> {
        cx.arity(call, 1..=1)?;
        // bpftrace's order: safe mode first, then the probe kind.
        if !cx.unsafe_allowed() {
            let d = Diagnostic::new(call.span, "override() changes what a kernel function returns and needs --unsafe", "unsafe")
                .with_help("run vt with --unsafe to allow it, as bpftrace does");
            cx.error(d);
            return None;
        }
        match &cx.attach().target {
            Target::Kprobe(k) if !k.ret && k.offset == 0 => {}
            Target::Kprobe(k) if !k.ret => {
                let d = Diagnostic::new(call.span, format!("override() needs the kprobe on the entry of `{}`, not at an offset", k.func), "not at the entry")
                    .with_help(format!("the kernel overrides a function's return only from a probe on its first instruction: `kprobe:{}`", k.func));
                cx.error(d);
                return None;
            }
            _ => {
                let msg = format!("override() can only be used in kprobes, not in {}", cx.attach().probe_name());
                cx.error(Diagnostic::new(call.span, msg, "not a kprobe").with_help("e.g. `kprobe:should_failslab { override(1); }`: the function returns 1 without running"));
                return None;
            }
        }
        let rc = cx.int_expr(&call.args[0])?;
        Some(TExpr { kind: TExprKind::Call { func: "override", map: None, args: vec![rc] }, ty: Ty::Int(IntTy::I64), span: call.span })
    }
}

impl EmitFunction for Override {
    fn int(&self, e: &mut Emitter, call: &FnCall) -> Reg {
        let r = e.expr(&call.args[0]);
        e.asm.mov(Reg::R1, Src::Reg(CTX));
        e.asm.mov(Reg::R2, Src::Reg(r));
        e.asm.call(helper::OVERRIDE_RETURN);
        e.asm.mov(r, Src::Reg(Reg::R0));
        r
    }
}
