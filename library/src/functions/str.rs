//! `str(ptr [, len])`: a NUL-terminated string read from memory (64 bytes at most by default, as in
//! bpftrace; `str(p, N)` holds N characters). `str` of a string is that string.

use codegen::asm::{helper, Reg, Src};
use codegen::emit::{Buf, Emitter};
use codegen::registry::{EmitFunction, FnCall};
use bpf_ins::{ArithmeticOperation as Alu, JumpOperation as Jmp};
use lang::ast::ExprKind;
use lang::check::STRLEN;
use lang::diag::Diagnostic;
use lang::registry::{Call, Checking, Function};
use lang::typed::{TExpr, TExprKind, Ty};

pub struct Str;

impl Function for Str {
    fn name(&self) -> &'static str {
        "str"
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<TExpr> {
        cx.arity(call, 1..=2)?;
        let ptr = cx.expr(&call.args[0])?;
        if let Ty::Str(_) = ptr.ty {
            return Some(ptr);
        }
        if ptr.ty.int().is_none() {
            cx.error(Diagnostic::new(call.args[0].span, "str() takes a pointer", "not a pointer"));
            return None;
        }
        let mut args = vec![ptr];
        let size = match call.args.get(1) {
            None => STRLEN,
            Some(a) => match &a.kind {
                // A constant length sizes the string (str(p, 0) is "", as in bpftrace).
                ExprKind::Int(n) => (*n).min(200) as u32 + 1,
                _ => {
                    args.push(cx.int_expr(a)?);
                    STRLEN
                }
            },
        };
        Some(TExpr { kind: TExprKind::Call { func: "str", map: None, args }, ty: Ty::Str(size), span: call.span })
    }
}

impl EmitFunction for Str {
    fn string(&self, e: &mut Emitter, call: &FnCall, dst: Buf) {
        e.zero(dst.off, dst.size);
        let p = e.expr(&call.args[0]);
        match call.args.get(1) {
            Some(l) => {
                // min(len + 1, size), at least 1: the helper needs a constant-bounded size.
                let l = e.expr(l);
                let (small, ok) = (e.asm.label(), e.asm.label());
                e.asm.mov(Reg::R2, Src::Reg(l));
                e.asm.alu(Alu::Add, Reg::R2, Src::Imm(1));
                e.asm.jump_if(Jmp::IfLessThanOrEqual, Reg::R2, Src::Imm(dst.size as i32), small);
                e.asm.mov(Reg::R2, Src::Imm(dst.size as i32));
                e.asm.bind(small);
                e.asm.jump_if(Jmp::IfNotEqual, Reg::R2, Src::Imm(0), ok);
                e.asm.mov(Reg::R2, Src::Imm(1));
                e.asm.bind(ok);
                e.release(l);
            }
            // The string's own size (str(p, 5) holds 5 characters and a NUL), not the buffer's,
            // which is rounded up to 8 bytes.
            None => {
                let n = match call.ty { Ty::Str(n) => *n, _ => dst.size };
                e.asm.mov(Reg::R2, Src::Imm(n.min(dst.size) as i32));
            }
        }
        e.addr(Reg::R1, dst);
        e.asm.mov(Reg::R3, Src::Reg(p));
        e.asm.call(helper::PROBE_READ_STR);
        e.release(p);
    }
}
