//! `strcontains(haystack, needle)`: 1 when `needle` occurs in `haystack`, else 0 (an empty needle
//! occurs everywhere). Unrolled over both buffers, so the longer they are the larger the program.

use codegen::asm::{Reg, Src};
use codegen::emit::Emitter;
use codegen::registry::{EmitFunction, FnCall};
use bpf_ins::{Instruction, JumpOperation as Jmp};
use lang::diag::Diagnostic;
use lang::registry::{Call, Checking, Function};
use lang::typed::{IntTy, TExpr, TExprKind, Ty};

pub struct Strcontains;

impl Function for Strcontains {
    fn name(&self) -> &'static str {
        "strcontains"
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<TExpr> {
        cx.arity(call, 2..=2)?;
        let (h, n) = (cx.expr(&call.args[0]), cx.expr(&call.args[1]));
        let (h, n) = (h?, n?);
        for (t, arg) in [(&h, &call.args[0]), (&n, &call.args[1])] {
            if !matches!(t.ty, Ty::Str(_)) {
                cx.error(Diagnostic::new(arg.span, format!("strcontains() searches strings, not {}", t.ty.describe()), "not a string"));
                return None;
            }
        }
        let ty = Ty::Int(IntTy::U64);
        Some(TExpr { kind: TExprKind::Call { func: "strcontains", map: None, args: vec![h, n] }, ty, span: call.span })
    }
}

impl EmitFunction for Strcontains {
    fn int(&self, e: &mut Emitter, call: &FnCall) -> Reg {
        let mark = e.mark();
        let h = e.materialize(&call.args[0]);
        let n = e.materialize(&call.args[1]);
        // A literal needle is compared only over its own characters.
        let nlen = match &call.args[1].kind {
            TExprKind::StrConst(s) => (s.len() as i32 + 1).min(n.size as i32),
            _ => n.size as i32,
        };
        let (found, missing, end) = (e.asm.label(), e.asm.label(), e.asm.label());
        // At each start `i`: the needle's NUL reached means found; a haystack NUL first means no
        // match here (and none later, when it is at the start).
        for i in 0..h.size as i32 {
            let next = e.asm.label();
            for j in 0..nlen {
                e.asm.insn(Instruction::loadx8(Reg::R2, Reg::R10, (n.off + j) as i16));
                e.asm.jump_if(Jmp::IfEqual, Reg::R2, Src::Imm(0), found);
                if i + j >= h.size as i32 {
                    e.asm.jump(missing);
                    break;
                }
                e.asm.insn(Instruction::loadx8(Reg::R1, Reg::R10, (h.off + i + j) as i16));
                e.asm.jump_if(Jmp::IfEqual, Reg::R1, Src::Imm(0), missing);
                e.asm.jump_if(Jmp::IfNotEqual, Reg::R1, Src::Reg(Reg::R2), next);
            }
            e.asm.bind(next);
        }
        e.asm.jump(missing);
        e.reset(mark);
        let r = e.take();
        e.asm.bind(found);
        e.asm.mov(r, Src::Imm(1));
        e.asm.jump(end);
        e.asm.bind(missing);
        e.asm.mov(r, Src::Imm(0));
        e.asm.bind(end);
        r
    }
}
