//! `buf(p, n)` / `buf(args.array)`: `n` bytes read from memory (at most 64, bpftrace's string size),
//! kept with their length and printed as bpftrace does: printable ASCII as is, other bytes as `\xNN`
//! (`%r` in printf, `%rx` every byte in hex, `%rh` hex separated by spaces). `p` is a pointer, a
//! string, or an array field of the tracepoint's record (its whole size when `n` is not given).

use codegen::asm::{helper, Reg, Src};
use codegen::emit::{Buf, Emitter, CTX};
use codegen::registry::{EmitFunction, FnCall};
use bpf_ins::{ArithmeticOperation as Alu, Instruction, JumpOperation as Jmp};
use lang::ast::{Expr, ExprKind};
use lang::diag::Diagnostic;
use lang::registry::{Call, Checking, Function};
use lang::tracefs::FieldKind;
use lang::typed::{Render, TExpr, TExprKind, Ty};

pub struct Buffer;

/// bpftrace 0.17's limit (BPFTRACE_STRLEN).
pub const MAX: u32 = 64;

/// `args.f` where `f` is an array field of the record: its bytes, as a `CtxChars` of the field's size
/// (the caller reads them raw, without a NUL). `Some(None)` when `e` is something else.
pub fn array_field(cx: &mut dyn Checking, e: &Expr) -> Option<Option<TExpr>> {
    let ExprKind::Field { base, field, .. } = &e.kind else { return Some(None) };
    if !matches!(&base.kind, ExprKind::Builtin(b) if b == "args") {
        return Some(None);
    }
    let Some(f) = cx.attach().args.as_ref().and_then(|a| a.field(&field.name)).cloned() else {
        // Not a field: the checker says why.
        cx.expr(e)?;
        return Some(None);
    };
    if f.kind != FieldKind::Array {
        return Some(None);
    }
    Some(Some(TExpr { kind: TExprKind::CtxChars { offset: f.offset }, ty: Ty::Str(f.size), span: e.span }))
}

impl Function for Buffer {
    fn name(&self) -> &'static str {
        "buf"
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<TExpr> {
        cx.arity(call, 1..=2)?;
        let src = match array_field(cx, &call.args[0])? {
            Some(a) => a,
            None => cx.expr(&call.args[0])?,
        };
        let whole = match (&src.kind, &src.ty) {
            (TExprKind::CtxChars { .. }, Ty::Str(n)) => Some(*n),
            (_, Ty::Int(_) | Ty::Str(_)) => None,
            (_, t) => {
                let msg = format!("buf() reads from a pointer, a string or an array field, not {}", t.describe());
                cx.error(Diagnostic::new(call.args[0].span, msg, "not a pointer"));
                return None;
            }
        };
        let mut args = vec![src];
        let size = match (call.args.get(1), whole) {
            (None, Some(n)) => n,
            (None, None) => {
                let d = Diagnostic::new(call.span, "buf() of a pointer needs a length", "no length")
                    .with_help("write buf(ptr, len); only an array field knows its own size");
                cx.error(d);
                return None;
            }
            (Some(l), _) => match &l.kind {
                ExprKind::Int(n) => *n as u32,
                _ => {
                    args.push(cx.int_expr(l)?);
                    MAX
                }
            },
        };
        let size = size.min(whole.unwrap_or(u32::MAX));
        if size > MAX {
            let d = Diagnostic::new(call.span, format!("buf() of {size} bytes is longer than {MAX}"), "too long")
                .with_help("bpftrace shortens it to 64 bytes (BPFTRACE_STRLEN); write a length of at most 64");
            cx.error(d);
            return None;
        }
        let ty = Ty::Text(Render::Buf(size));
        Some(TExpr { kind: TExprKind::Call { func: "buf", map: None, args }, ty, span: call.span })
    }
}

/// Where `buf()` reads its bytes from.
enum Source {
    /// A stack copy of a string.
    Stack(Buf),
    /// The record's field at this offset.
    Record(u32),
    /// A pointer, in a register.
    Pointer(Reg),
}

impl EmitFunction for Buffer {
    /// The length (8 bytes: the given one, at most the buffer's), then the bytes read.
    fn string(&self, e: &mut Emitter, call: &FnCall, dst: Buf) {
        let Ty::Text(Render::Buf(max)) = *call.ty else {
            return e.unsupported_string("buf() of this type", dst);
        };
        e.zero(dst.off, dst.size);
        let src = &call.args[0];
        let source = match (&src.kind, &src.ty) {
            (TExprKind::CtxChars { offset }, _) => Source::Record(*offset),
            (_, Ty::Str(n)) => {
                // Read from a copy zero-padded to the length, as bpftrace reads past a literal's end.
                let tmp = e.alloc((*n).max(max));
                e.zero(tmp.off, tmp.size);
                let ty = src.ty.clone();
                e.value_to(src, tmp, &ty);
                Source::Stack(tmp)
            }
            _ => Source::Pointer(e.expr(src)),
        };
        let len = e.take();
        match call.args.get(1) {
            Some(l) => {
                let r = e.expr(l);
                e.asm.mov(len, Src::Reg(r));
                e.release(r);
                let ok = e.asm.label();
                e.asm.jump_if(Jmp::IfLessThanOrEqual, len, Src::Imm(max as i32), ok);
                e.asm.mov(len, Src::Imm(max as i32));
                e.asm.bind(ok);
            }
            None => e.asm.mov(len, Src::Imm(max as i32)),
        }
        e.asm.insn(Instruction::storex64(Reg::R10, dst.off16(), len));
        e.asm.mov(Reg::R2, Src::Reg(len));
        e.release(len);
        e.addr(Reg::R1, dst.at(8, dst.size - 8));
        let read = match source {
            Source::Stack(tmp) => {
                e.addr(Reg::R3, tmp);
                helper::PROBE_READ_KERNEL
            }
            Source::Record(offset) => {
                e.asm.mov(Reg::R3, Src::Reg(CTX));
                e.asm.alu(Alu::Add, Reg::R3, Src::Imm(offset as i32));
                helper::PROBE_READ_KERNEL
            }
            Source::Pointer(p) => {
                e.asm.mov(Reg::R3, Src::Reg(p));
                e.release(p);
                // As str(): the legacy helper reads user and kernel addresses alike here.
                helper::PROBE_READ
            }
        };
        e.asm.call(read);
    }
}
