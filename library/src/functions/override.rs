//! `override(rc)`: bpftrace's kprobe-only function that makes the probed kernel function return `rc`.
//! vt attaches no kprobes (this kernel offers none), so the function is refused with that reason
//! rather than reported as unknown.

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
        let d = Diagnostic::new(call.span, "override() works only in kprobes, and vt has no kprobes", "needs a kprobe")
            .with_help("override() changes what a probed kernel function returns; tracepoints cannot do that");
        cx.error(d);
        None
    }
}

impl EmitFunction for Override {}
