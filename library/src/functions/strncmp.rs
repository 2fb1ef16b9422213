//! `strncmp(a, b, n)`: 0 when the strings agree in their first `n` characters (up to a NUL), else 1,
//! as in bpftrace. `n` is a constant; the comparison is unrolled over at most the shorter buffer.

use codegen::asm::{Reg, Src};
use codegen::emit::Emitter;
use codegen::registry::{EmitFunction, FnCall};
use bpf_ins::{Instruction, JumpOperation as Jmp};
use lang::diag::Diagnostic;
use lang::registry::{Call, Checking, Function};
use lang::typed::{IntTy, TExpr, TExprKind, Ty};

pub struct Strncmp;

impl Function for Strncmp {
    fn name(&self) -> &'static str {
        "strncmp"
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<TExpr> {
        cx.arity(call, 3..=3)?;
        let (a, b) = (cx.expr(&call.args[0]), cx.expr(&call.args[1]));
        let n = cx.const_int(&call.args[2], "strncmp()'s length")?;
        let (a, b) = (a?, b?);
        for (t, arg) in [(&a, &call.args[0]), (&b, &call.args[1])] {
            if !matches!(t.ty, Ty::Str(_)) {
                cx.error(Diagnostic::new(arg.span, format!("strncmp() compares strings, not {}", t.ty.describe()), "not a string"));
                return None;
            }
        }
        let len = TExpr { kind: TExprKind::Const(n), ty: Ty::U64, span: call.args[2].span };
        let ty = Ty::Int(IntTy::U64);
        Some(TExpr { kind: TExprKind::Call { func: "strncmp", map: None, args: vec![a, b, len] }, ty, span: call.span })
    }
}

impl EmitFunction for Strncmp {
    fn int(&self, e: &mut Emitter, call: &FnCall) -> Reg {
        let n = match call.args[2].kind {
            TExprKind::Const(n) => n,
            _ => 0,
        };
        let mark = e.mark();
        let a = e.materialize(&call.args[0]);
        let b = e.materialize(&call.args[1]);
        let (differ, same, end) = (e.asm.label(), e.asm.label(), e.asm.label());
        let count = n.min(u64::from(a.size.min(b.size))) as i32;
        for i in 0..count {
            e.asm.insn(Instruction::loadx8(Reg::R1, Reg::R10, (a.off + i) as i16));
            e.asm.insn(Instruction::loadx8(Reg::R2, Reg::R10, (b.off + i) as i16));
            e.asm.jump_if(Jmp::IfNotEqual, Reg::R1, Src::Reg(Reg::R2), differ);
            e.asm.jump_if(Jmp::IfEqual, Reg::R1, Src::Imm(0), same);
        }
        e.reset(mark);
        let r = e.take();
        e.asm.bind(same);
        e.asm.mov(r, Src::Imm(0));
        e.asm.jump(end);
        e.asm.bind(differ);
        e.asm.mov(r, Src::Imm(1));
        e.asm.bind(end);
        r
    }
}
