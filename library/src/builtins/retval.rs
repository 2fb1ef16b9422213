//! `retval`: a uretprobe's or kretprobe's return value (rax, from the probe's saved registers), or
//! fexit's (the context slot after the arguments, its type the function's BTF return type).

use crate::functions::reg;
use codegen::registry::EmitBuiltin;
use lang::diag::Diagnostic;
use lang::registry::{Builtin, BuiltinCx};
use lang::typed::{IntTy, TExpr, TExprKind, Target, Ty};

pub struct Retval;

impl Builtin for Retval {
    fn name(&self) -> &'static str {
        "retval"
    }
    fn check(&self, cx: &BuiltinCx) -> Result<TExpr, Diagnostic> {
        match &cx.attach.target {
            Target::Uprobe(u) if u.ret => Ok(reg::read("ax", Ty::U64, cx.span)),
            Target::Kprobe(k) if k.ret => Ok(reg::read("ax", Ty::U64, cx.span)),
            // fexit: the context slot after the arguments, typed from BTF (a pointer as a u64).
            Target::Fentry(f) if f.ret => {
                let slot = cx.attach.args.as_ref().and_then(|a| a.field(crate::probes::fentry::RETVAL));
                let Some(slot) = slot else {
                    return Err(Diagnostic::new(cx.span, format!("`{}` returns nothing (void)", f.func), "no return value"));
                };
                let ty = match slot.size {
                    1 | 2 | 4 | 8 => IntTy { bits: (slot.size * 8) as u8, signed: slot.signed },
                    _ => return Err(Diagnostic::new(cx.span, format!("`{}` returns a `{}`, which retval cannot hold", f.func, slot.c_type), "not an integer")),
                };
                Ok(TExpr { kind: TExprKind::CtxField { offset: slot.offset }, ty: Ty::Int(ty), span: cx.span })
            }
            _ => Err(Diagnostic::new(cx.span, "retval is only known where a function returns", "not a return probe")
                .with_help("use a uretprobe, kretprobe or fexit, e.g. `uretprobe:libc:malloc { @ = hist(retval); }`")),
        }
    }
}

/// A read of the context, made by the check: nothing to emit.
impl EmitBuiltin for Retval {}
