//! `str(ptr [, len])`: a NUL-terminated string read from memory (64 bytes at most by default, as in
//! bpftrace; `str(p, N)` holds N characters). `str` of a string is that string.

use codegen::asm::{helper, Reg, Src};
use codegen::emit::{Buf, Emitter};
use codegen::registry::{EmitFunction, FnCall};
use bpf_ins::{ArithmeticOperation as Alu, JumpOperation as Jmp};
use lang::ast::{BinOp, Expr, ExprKind};
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
        if let Some(text) = positional_text(cx, &call.args[0])? {
            let size = match call.args.get(1) {
                None => STRLEN,
                Some(a) => cx.const_int(a, "str()'s length")?.min(200) as u32 + 1,
            };
            // The parameter's text, as bpftrace keeps it (`str($1)` of `0775` is "0775").
            let text: String = text.chars().take(size as usize - 1).collect();
            let ty = Ty::Str(text.len() as u32 + 1);
            return Some(TExpr { kind: TExprKind::StrConst(text), ty, span: call.span });
        }
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

/// `str($n)` and `str($n + k)`: the text of a positional parameter (from its `k`-th byte), whether
/// or not it reads as a number. `Some(None)` when the argument is something else; None after an error.
fn positional_text(cx: &mut dyn Checking, arg: &Expr) -> Option<Option<String>> {
    let (n, skip) = match &arg.kind {
        ExprKind::Positional(n) => (*n, 0),
        ExprKind::Binary { op: BinOp::Add, lhs, rhs } => match (&lhs.kind, &rhs.kind) {
            (ExprKind::Positional(n), ExprKind::Int(k)) | (ExprKind::Int(k), ExprKind::Positional(n)) => (*n, *k),
            _ => return Some(None),
        },
        _ => return Some(None),
    };
    let text = cx.positional(n);
    if skip > text.len() as u64 {
        let msg = format!("str(${n} + {skip}) skips more than the {} characters of ${n}", text.len());
        cx.error(Diagnostic::new(arg.span, msg, "past the end").with_help("the constant added may be at most the parameter's length"));
        return None;
    }
    Some(Some(text.get(skip as usize..).unwrap_or_default().to_string()))
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
