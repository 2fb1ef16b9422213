//! `strerror(errno)`: the message of an error number, as strerror(3) says it (the runtime writes it).

use codegen::asm::Reg;
use codegen::emit::Emitter;
use codegen::registry::{EmitFunction, FnCall};
use lang::registry::{Call, Checking, Function};
use lang::typed::{Render, TExpr, TExprKind, Ty};

pub struct Strerror;

impl Function for Strerror {
    fn name(&self) -> &'static str {
        "strerror"
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<TExpr> {
        cx.arity(call, 1..=1)?;
        let n = cx.int_expr(&call.args[0])?;
        let ty = Ty::Text(Render::Errno);
        Some(TExpr { kind: TExprKind::Call { func: "strerror", map: None, args: vec![n] }, ty, span: call.span })
    }
}

impl EmitFunction for Strerror {
    fn int(&self, e: &mut Emitter, call: &FnCall) -> Reg {
        e.expr(&call.args[0])
    }
}
