//! `getopt("name", default)` (bpftrace 0.22+): a named parameter of the command line
//! (`vt -e '...' -- --name=value`), known at check time. The default's type is the parameter's: an
//! integer default reads the value as an integer (as positional parameters are read; `--name`,
//! `--name=true` and `--name=false` as 1 and 0, since a `true`/`false` default is an integer here),
//! a string default takes it as text. Without a default the parameter is a flag: 1 when given
//! (`--name`, `--name=true`, `--name=1`), else 0 (bpftrace 0.22+ gives a `bool`; vt's booleans are
//! integers, as in 0.17). A third argument, the description, is accepted.

use codegen::registry::EmitFunction;
use lang::ast::{ExprKind, UnOp};
use lang::diag::Diagnostic;
use lang::registry::{Call, Checking, Function};
use lang::typed::{IntTy, TExpr, TExprKind, Ty};

pub struct Getopt;

impl Function for Getopt {
    fn name(&self) -> &'static str {
        "getopt"
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<TExpr> {
        // A third argument, the option's description, is accepted and not used (vt has no
        // per-script `--help`).
        cx.arity(call, 1..=3)?;
        if let Some(d) = call.args.get(2).filter(|d| !matches!(d.kind, ExprKind::Str(_))) {
            return bad(cx, d.span, "getopt()'s description must be a string literal", "not a string literal");
        }
        let ExprKind::Str(name) = &call.args[0].kind else {
            cx.error(
                Diagnostic::new(call.args[0].span, "getopt() takes the parameter's name as a string literal", "not a string literal")
                    .with_help("write `getopt(\"depth\", 10)` and run `vt -e '...' -- --depth=20`"),
            );
            return None;
        };
        let given = cx.named_param(name);
        let span = call.span;
        let int = |v: u64, signed: bool| TExpr { kind: TExprKind::Const(v), ty: Ty::Int(IntTy { bits: 64, signed }), span };
        let Some(default) = call.args.get(1) else {
            let on = match given.as_ref() {
                None => false,
                Some(None) => true,
                Some(Some(v)) => match v.as_str() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => return bad(cx, span, &format!("--{name}={v} is not a flag's value"), "write `--NAME`, `--NAME=true` or `--NAME=false`"),
                },
            };
            return Some(int(u64::from(on), false));
        };
        match &default.kind {
            ExprKind::Str(d) => {
                let text = match given {
                    None => d.clone(),
                    Some(Some(v)) => v,
                    Some(None) => return bad(cx, span, &format!("--{name} needs a value"), "write `--NAME=TEXT`"),
                };
                let ty = Ty::Str(text.len() as u32 + 1);
                Some(TExpr { kind: TExprKind::StrConst(text), ty, span })
            }
            ExprKind::Int(_) | ExprKind::Unary { op: UnOp::Neg, .. } => {
                let (dv, signed) = match &default.kind {
                    ExprKind::Int(v) => (*v, false),
                    ExprKind::Unary { expr, .. } => match expr.kind {
                        ExprKind::Int(v) => ((v as i64).wrapping_neg() as u64, true),
                        _ => return bad(cx, default.span, "getopt()'s default must be a literal", "an integer or a string"),
                    },
                    _ => unreachable!("matched above"),
                };
                // `true`/`false` defaults are integers here, so `--NAME`, `--NAME=true` and
                // `--NAME=false` are read as bpftrace reads a boolean option.
                match given.as_ref().map(|v| v.as_deref()) {
                    None => Some(int(dv, signed)),
                    Some(None | Some("true")) => Some(int(1, signed)),
                    Some(Some("false")) => Some(int(0, signed)),
                    Some(Some(v)) => match lang::check::parse_int(v) {
                        Some(n) => Some(int(n, signed || v.starts_with('-'))),
                        None => bad(cx, span, &format!("--{name}={v} is not a number"), "this parameter's default is an integer"),
                    },
                }
            }
            _ => bad(cx, default.span, "getopt()'s default must be an integer or a string literal", "not a literal"),
        }
    }
}

fn bad<T>(cx: &mut dyn Checking, span: lang::ast::Span, msg: &str, help: &str) -> Option<T> {
    cx.error(Diagnostic::new(span, msg, "bad named parameter").with_help(help));
    None
}

/// Never emitted: the checker leaves a constant.
impl EmitFunction for Getopt {}
