//! `func`: the name of the function a uprobe, uretprobe, kprobe, kretprobe, fentry or fexit is in, a constant of each attach point
//! (a wildcard probe is one program per function) — but for a kprobe_multi program, which serves many
//! functions: there it is the function's address (`bpf_get_func_ip`), named when printed, as `ksym()`
//! names an address (bpftrace's `func` is the same there).

use codegen::asm::{helper, Reg, Src};
use codegen::emit::{Emitter, CTX};
use codegen::registry::EmitBuiltin;
use lang::diag::Diagnostic;
use lang::registry::{Builtin, BuiltinCx};
use lang::typed::{Render, TExpr, TExprKind, Target, Ty};

pub struct Func;

impl Builtin for Func {
    fn name(&self) -> &'static str {
        "func"
    }
    fn check(&self, cx: &BuiltinCx) -> Result<TExpr, Diagnostic> {
        match &cx.attach.target {
            Target::Uprobe(u) => {
                // Named as bpftrace 0.17 prints it: a C++ or Rust symbol demangled (with its hash).
                let name = crate::probes::binary::printed(&u.func);
                let n = name.len() as u32 + 1;
                Ok(TExpr { kind: TExprKind::StrConst(name), ty: Ty::Str(n), span: cx.span })
            }
            Target::Kprobe(k) if !k.multi.is_empty() => Ok(TExpr { kind: TExprKind::Builtin("func"), ty: Ty::Text(Render::KSym), span: cx.span }),
            Target::Kprobe(k) => {
                // At least 64 bytes: a wildcard's programs share a map key of this type, whose size the
                // first program sets; a shorter name's size would cut the longer names after it.
                let n = (k.func.len() as u32 + 1).max(64);
                Ok(TExpr { kind: TExprKind::StrConst(k.func.clone()), ty: Ty::Str(n), span: cx.span })
            }
            Target::Fentry(f) => {
                let n = (f.func.len() as u32 + 1).max(64);
                Ok(TExpr { kind: TExprKind::StrConst(f.func.clone()), ty: Ty::Str(n), span: cx.span })
            }
            _ => Err(Diagnostic::new(cx.span, "func is only for probes on functions (uprobe, uretprobe, kprobe, kretprobe, fentry, fexit)", "no function here")),
        }
    }
}

/// A constant (the checker replaced it, nothing is emitted) but in a kprobe_multi program: the
/// function's entry address.
impl EmitBuiltin for Func {
    fn int(&self, e: &mut Emitter, dst: Reg) {
        e.asm.mov(Reg::R1, Src::Reg(CTX));
        e.asm.call(helper::GET_FUNC_IP);
        e.asm.mov(dst, Src::Reg(Reg::R0));
    }
}
