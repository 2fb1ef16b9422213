//! `ntop([af,] addr)`: an IPv4 address held in an integer (its bytes in memory order, as the kernel
//! keeps `__be32` addresses), shown as text by the runtime (`Render::Inet`). The family, when given,
//! must be AF_INET (2): an IPv6 address does not fit an integer, and vt reads no address arrays yet.

use codegen::asm::Reg;
use codegen::emit::{Buf, Emitter};
use codegen::registry::{EmitFunction, FnCall};
use bpf_ins::Instruction;
use lang::diag::Diagnostic;
use lang::registry::{Call, Checking, Function};
use lang::typed::{Render, TExpr, TExprKind, Ty};

pub struct Ntop;

const AF_INET: u64 = 2;

impl Function for Ntop {
    fn name(&self) -> &'static str {
        "ntop"
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<TExpr> {
        cx.arity(call, 1..=2)?;
        if call.args.len() == 2 {
            let af = cx.const_int(&call.args[0], "ntop()'s address family")?;
            if af != AF_INET {
                let d = Diagnostic::new(call.args[0].span, format!("ntop() of family {af} is not supported by vt yet"), "not AF_INET")
                    .with_help("vt's ntop() takes an IPv4 address (AF_INET, 2) held in an integer");
                cx.error(d);
                return None;
            }
        }
        let addr = call.args.last()?;
        let a = cx.expr(addr)?;
        if a.ty.int().is_none() {
            let d = Diagnostic::new(addr.span, format!("ntop() of {} is not supported by vt yet", a.ty.describe()), "not an integer")
                .with_help("vt's ntop() takes an IPv4 address held in an integer");
            cx.error(d);
            return None;
        }
        let ty = Ty::Text(Render::Inet);
        Some(TExpr { kind: TExprKind::Call { func: "ntop", map: None, args: vec![a] }, ty, span: call.span })
    }
}

impl EmitFunction for Ntop {
    /// The family (8 bytes), then the address's four bytes as they lie in the integer, then zeros.
    fn string(&self, e: &mut Emitter, call: &FnCall, dst: Buf) {
        e.zero(dst.off, dst.size);
        let r = e.expr(&call.args[0]);
        e.asm.insn(Instruction::store64(Reg::R10, dst.off16(), AF_INET as i64));
        e.asm.insn(Instruction::storex32(Reg::R10, dst.off16() + 8, r));
        e.release(r);
    }
}
