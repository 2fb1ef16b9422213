//! `ksym(addr)`: a kernel address, printed as the name of the kernel symbol holding it (the runtime
//! names it from /proc/kallsyms; an address no symbol holds prints in hex, as in bpftrace).

use codegen::asm::Reg;
use codegen::emit::Emitter;
use codegen::registry::{EmitFunction, FnCall};
use lang::registry::{Call, Checking, Function};
use lang::typed::{Render, TExpr, TExprKind, Ty};

pub struct Ksym;

impl Function for Ksym {
    fn name(&self) -> &'static str {
        "ksym"
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<TExpr> {
        cx.arity(call, 1..=1)?;
        let addr = cx.int_expr(&call.args[0])?;
        let ty = Ty::Text(Render::KSym);
        Some(TExpr { kind: TExprKind::Call { func: "ksym", map: None, args: vec![addr] }, ty, span: call.span })
    }
}

impl EmitFunction for Ksym {
    fn int(&self, e: &mut Emitter, call: &FnCall) -> Reg {
        e.expr(&call.args[0])
    }
}
