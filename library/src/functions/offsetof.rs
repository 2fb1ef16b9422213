//! `offsetof(struct S, field)` (and `offsetof(struct S, a.b)`): a member's byte offset in a kernel
//! type, from BTF, known at check time.

use lang::ast::{Expr, ExprKind};
use lang::diag::Diagnostic;
use lang::registry::{Call, Checking, Function};
use lang::typed::{TExpr, TExprKind, Ty};
use codegen::registry::EmitFunction;

pub struct Offsetof;

/// `a.b.c` as the names `[a, b, c]`.
fn path(e: &Expr) -> Option<Vec<&str>> {
    match &e.kind {
        ExprKind::Builtin(name) => Some(vec![name.as_str()]),
        ExprKind::Field { base, field, arrow: false } => {
            let mut p = path(base)?;
            p.push(field.name.as_str());
            Some(p)
        }
        _ => None,
    }
}

impl Function for Offsetof {
    fn name(&self) -> &'static str {
        "offsetof"
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<TExpr> {
        cx.arity(call, 2..=2)?;
        let (ty, member) = (&call.args[0], &call.args[1]);
        let ExprKind::Builtin(name) = &ty.kind else {
            cx.error(Diagnostic::new(ty.span, "offsetof() takes a type first", "not a type").with_help("write `offsetof(struct task_struct, pid)`"));
            return None;
        };
        let t = match lang::ctype::resolve(name, ty.span) {
            Ok(t) => t,
            Err(d) => {
                cx.error(d);
                return None;
            }
        };
        let Some(names) = path(member) else {
            cx.error(Diagnostic::new(member.span, "offsetof() takes a field name second", "not a field").with_help("write `offsetof(struct task_struct, pid)`"));
            return None;
        };
        match lang::ctype::offset_of(&t, &names) {
            Ok(off) => Some(TExpr { kind: TExprKind::Const(off), ty: Ty::U64, span: call.span }),
            Err(msg) => {
                cx.error(Diagnostic::new(member.span, msg, "unknown field"));
                None
            }
        }
    }
}

/// Never emitted: the checker leaves a constant.
impl EmitFunction for Offsetof {}
