//! `probe`: the name of the probe the program runs for, a constant of each attach point.

use codegen::registry::EmitBuiltin;
use lang::diag::Diagnostic;
use lang::registry::{Builtin, BuiltinCx};
use lang::typed::{TExpr, TExprKind, Ty};

pub struct Probe;

impl Builtin for Probe {
    fn name(&self) -> &'static str {
        "probe"
    }
    fn check(&self, cx: &BuiltinCx) -> Result<TExpr, Diagnostic> {
        let name = cx.attach.probe_name();
        let n = name.len() as u32 + 1;
        Ok(TExpr { kind: TExprKind::StrConst(name), ty: Ty::Str(n), span: cx.span })
    }
}

/// A constant: the checker replaced it, nothing is emitted.
impl EmitBuiltin for Probe {}
