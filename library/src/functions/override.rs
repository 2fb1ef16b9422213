//! `override(rc)`: bpftrace's kprobe-only function that makes the probed kernel function return `rc`.
//! It needs bpf_override_return (kernels built with CONFIG_BPF_KPROBE_OVERRIDE, and only on functions
//! marked for error injection), which vt does not emit yet: refused with that reason rather than
//! reported as unknown.

use codegen::registry::EmitFunction;
use lang::diag::Diagnostic;
use lang::registry::{Call, Checking, Function};
use lang::typed::TExpr;

pub struct Override;

impl Function for Override {
    fn name(&self) -> &'static str {
        "override"
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<TExpr> {
        let d = Diagnostic::new(call.span, "vt does not support override() yet", "not supported")
            .with_help("override() changes what a probed kernel function returns (bpf_override_return), which vt does not emit");
        cx.error(d);
        None
    }
}

impl EmitFunction for Override {}
