//! `strftime(fmt, nsecs)`: a time in nanoseconds since boot, shown as local wall-clock time with a
//! strftime format (`%f` is the microseconds, as in bpftrace). The program keeps the number; the
//! runtime formats it (`Render::Time`).

use codegen::asm::Reg;
use codegen::emit::Emitter;
use codegen::registry::{EmitFunction, FnCall};
use lang::ast::ExprKind;
use lang::diag::Diagnostic;
use lang::registry::{Call, Checking, Function};
use lang::typed::{Render, TExpr, TExprKind, Ty};

pub struct Strftime;

impl Function for Strftime {
    fn name(&self) -> &'static str {
        "strftime"
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<TExpr> {
        cx.arity(call, 2..=2)?;
        let ExprKind::Str(fmt) = &call.args[0].kind else {
            cx.error(Diagnostic::new(call.args[0].span, "strftime()'s format must be a string literal", "not a string literal"));
            return None;
        };
        let ns = cx.int_expr(&call.args[1])?;
        let ty = Ty::Text(Render::Time(fmt.clone()));
        Some(TExpr { kind: TExprKind::Call { func: "strftime", map: None, args: vec![ns] }, ty, span: call.span })
    }
}

impl EmitFunction for Strftime {
    fn int(&self, e: &mut Emitter, call: &FnCall) -> Reg {
        e.expr(&call.args[0])
    }
}
