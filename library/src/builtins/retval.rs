//! `retval`: a uretprobe's or kretprobe's return value (rax, from the probe's saved registers).

use crate::functions::reg;
use codegen::registry::EmitBuiltin;
use lang::diag::Diagnostic;
use lang::registry::{Builtin, BuiltinCx};
use lang::typed::{TExpr, Target, Ty};

pub struct Retval;

impl Builtin for Retval {
    fn name(&self) -> &'static str {
        "retval"
    }
    fn check(&self, cx: &BuiltinCx) -> Result<TExpr, Diagnostic> {
        match &cx.attach.target {
            Target::Uprobe(u) if u.ret => Ok(reg::read("ax", Ty::U64, cx.span)),
            Target::Kprobe(k) if k.ret => Ok(reg::read("ax", Ty::U64, cx.span)),
            _ => Err(Diagnostic::new(cx.span, "retval is only known where a function returns", "not a return probe")
                .with_help("use a uretprobe or kretprobe, e.g. `uretprobe:libc:malloc { @ = hist(retval); }`")),
        }
    }
}

/// A read of the context, made by the check: nothing to emit.
impl EmitBuiltin for Retval {}
