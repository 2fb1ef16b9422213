//! `ntop([af,] addr)`: an IPv4 address held in an integer (its bytes in memory order, as the kernel
//! keeps `__be32` addresses) or an array of 4 bytes (IPv4) or 16 bytes (IPv6): a tracepoint's field (as
//! `sock:inet_sock_set_state`'s `saddr_v6`), a kernel struct's (`skc_v6_daddr.in6_u.u6_addr8`) or
//! `pton(...)`'s, shown as text by the runtime (`Render::Inet`).

use codegen::asm::{helper, Reg, Src};
use codegen::emit::{Buf, Emitter, CTX};
use codegen::registry::{EmitFunction, FnCall};
use bpf_ins::{ArithmeticOperation as Alu, Instruction};
use lang::diag::Diagnostic;
use lang::registry::{Call, Checking, Function};
use lang::typed::{IntTy, Render, TExpr, TExprKind, Ty};

pub struct Ntop;

const AF_INET: u64 = 2;
const AF_INET6: u64 = 10;

impl Function for Ntop {
    fn name(&self) -> &'static str {
        "ntop"
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<TExpr> {
        cx.arity(call, 1..=2)?;
        let addr = call.args.last()?;
        let a = match super::buf::array_field(cx, addr)? {
            Some(a) => a,
            None => cx.expr(addr)?,
        };
        let family = match (&a.kind, &a.ty) {
            (TExprKind::CtxChars { .. } | TExprKind::ReadChars { .. }, Ty::Str(4)) => AF_INET,
            (TExprKind::CtxChars { .. } | TExprKind::ReadChars { .. }, Ty::Str(16)) => AF_INET6,
            // A byte array value (`pton(...)`).
            (_, Ty::Text(Render::Bytes(4))) => AF_INET,
            (_, Ty::Text(Render::Bytes(16))) => AF_INET6,
            (_, Ty::Int(_)) if !matches!(a.kind, TExprKind::CtxChars { .. }) => AF_INET,
            (_, t) => {
                let d = Diagnostic::new(addr.span, format!("ntop() of {} is not supported by vt", t.describe()), "not an address")
                    .with_help("ntop() takes an IPv4 address in an integer, or an array of 4 (IPv4) or 16 (IPv6) bytes");
                cx.error(d);
                return None;
            }
        };
        if call.args.len() == 2 {
            let af = cx.const_int(&call.args[0], "ntop()'s address family")?;
            if af != family {
                let want = if family == AF_INET { "AF_INET (2)" } else { "AF_INET6 (10)" };
                let d = Diagnostic::new(call.args[0].span, format!("ntop() of family {af} does not match this address"), "wrong family")
                    .with_help(format!("this address is {want}"));
                cx.error(d);
                return None;
            }
        }
        let fam = TExpr { kind: TExprKind::Const(family), ty: Ty::Int(IntTy::U64), span: call.span };
        let ty = Ty::Text(Render::Inet);
        Some(TExpr { kind: TExprKind::Call { func: "ntop", map: None, args: vec![fam, a] }, ty, span: call.span })
    }
}

impl EmitFunction for Ntop {
    /// The family (8 bytes), then the address's bytes as they lie in the integer or the record, then
    /// zeros.
    fn string(&self, e: &mut Emitter, call: &FnCall, dst: Buf) {
        e.zero(dst.off, dst.size);
        let family = match call.args[0].kind {
            TExprKind::Const(f) => f,
            _ => AF_INET,
        };
        e.asm.insn(Instruction::store64(Reg::R10, dst.off16(), family as i64));
        match (&call.args[1].kind, &call.args[1].ty) {
            (TExprKind::CtxChars { offset }, Ty::Str(n)) => {
                e.addr(Reg::R1, dst.at(8, 16));
                e.asm.mov(Reg::R2, Src::Imm(*n as i32));
                e.asm.mov(Reg::R3, Src::Reg(CTX));
                e.asm.alu(Alu::Add, Reg::R3, Src::Imm(*offset as i32));
                e.asm.call(helper::PROBE_READ_KERNEL);
            }
            // A byte array of a kernel struct (`sk->__sk_common.skc_v6_daddr.in6_u.u6_addr8`): its bytes, read
            // where it lies.
            (TExprKind::ReadChars { addr, user }, Ty::Str(n)) => {
                let r = e.expr(addr);
                e.addr(Reg::R1, dst.at(8, 16));
                e.asm.mov(Reg::R2, Src::Imm(*n as i32));
                e.asm.mov(Reg::R3, Src::Reg(r));
                e.release(r);
                e.asm.call(if *user { helper::PROBE_READ_USER } else { helper::PROBE_READ_KERNEL });
            }
            (_, Ty::Text(Render::Bytes(n))) => {
                let bytes = e.materialize(&call.args[1]);
                e.copy(Reg::R10, bytes.off, dst.at(8, 16), n.div_ceil(8) * 8);
            }
            _ => {
                let r = e.expr(&call.args[1]);
                e.asm.insn(Instruction::storex32(Reg::R10, dst.off16() + 8, r));
                e.release(r);
            }
        }
    }
}
