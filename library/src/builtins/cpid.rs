//! `cpid`: the pid of the `-c CMD` child, a constant of the run.

use codegen::registry::EmitBuiltin;
use lang::diag::Diagnostic;
use lang::registry::{Builtin, BuiltinCx};
use lang::typed::{IntTy, TExpr, TExprKind, Ty};

pub struct Cpid;

impl Builtin for Cpid {
    fn name(&self) -> &'static str {
        "cpid"
    }
    fn check(&self, cx: &BuiltinCx) -> Result<TExpr, Diagnostic> {
        let Some(cpid) = cx.cpid else {
            return Err(Diagnostic::new(cx.span, "cpid cannot be used without a child command", "no child")
                .with_help("run the script with -c 'CMD'"));
        };
        Ok(TExpr { kind: TExprKind::Const(u64::from(cpid)), ty: Ty::Int(IntTy::U64), span: cx.span })
    }
}

/// A constant: the checker replaced it, nothing is emitted.
impl EmitBuiltin for Cpid {}
