//! Expressions: literals, variables, map reads, operators with bpftrace's integer rules, casts, tuples,
//! and the names the registry resolves (builtins, functions) or the probe's `args` record.

use super::services::Services;
use super::{int, unsupported, Checker, Ctx, STRLEN};
use crate::ast::*;
use crate::diag::Diagnostic;
use crate::tracefs::{closest, did_you_mean, FieldKind};
use crate::registry::{BuiltinCx, Call, Kind};
use crate::typed::*;

impl Checker<'_> {
    /// A condition: any integer.
    pub(super) fn cond(&mut self, e: &Expr, cx: &mut Ctx) -> Option<TExpr> {
        self.int_expr(e, cx)
    }

    pub(super) fn int_expr(&mut self, e: &Expr, cx: &mut Ctx) -> Option<TExpr> {
        let t = self.expr(e, cx)?;
        if t.ty.int().is_none() {
            return self.fail(Diagnostic::new(e.span, format!("expected an integer, found {}", t.ty.describe()), "not an integer"));
        }
        Some(t)
    }

    pub(super) fn expr(&mut self, e: &Expr, cx: &mut Ctx) -> Option<TExpr> {
        let span = e.span;
        let (kind, ty) = match &e.kind {
            ExprKind::Int(v) => (TExprKind::Const(*v), Ty::Int(if *v > i64::MAX as u64 { IntTy::U64 } else { IntTy::I64 })),
            ExprKind::Str(s) => (TExprKind::StrConst(s.clone()), Ty::Str(s.len() as u32 + 1)),
            ExprKind::Positional(n) => match self.param(*n, span)? {
                TExprKind::StrConst(s) => {
                    let n = s.len() as u32 + 1;
                    (TExprKind::StrConst(s), Ty::Str(n))
                }
                k => (k, Ty::I64),
            },
            ExprKind::Builtin(name) => return self.builtin(name, cx, span),
            ExprKind::Var(name) => match cx.scope.vars.get(name) {
                Some((id, ty)) => (TExprKind::Var(*id), ty.clone()),
                // Its assignment was already refused: one mistake, one error.
                None if cx.scope.refused.contains(name) => return None,
                None => {
                    let names: Vec<String> = cx.scope.vars.keys().map(|v| format!("${v}")).collect();
                    let mut d = Diagnostic::new(span, format!("${name} is used before it is assigned"), "undefined variable");
                    d.help = did_you_mean(&closest(&format!("${name}"), names.iter().map(String::as_str)));
                    return self.fail(d);
                }
            },
            ExprKind::Map(m) if self.learning && !self.maps.iter().any(|d| d.name == m.name.name) => {
                // Not defined yet (perhaps by this very statement, `@n = @n + 1`): an integer for now,
                // unsigned as in bpftrace, so `@n -= 1` on a new map prints 18446744073709551615; but
                // `@n--` is signed there.
                (TExprKind::Const(0), if self.incr { Ty::I64 } else { Ty::U64 })
            }
            ExprKind::Map(m) => {
                let (map, keys) = self.map_access(m, cx, "a read")?;
                let MapKind::Value(ty) = self.maps[map.index()].kind.clone() else {
                    let msg = format!("@{} holds {} and cannot be read in an expression", m.name.name, self.maps[map.index()].kind.describe());
                    return self.fail(Diagnostic::new(span, msg, "aggregation").with_help("print it with print(@m) instead"));
                };
                (TExprKind::MapRead { map, keys }, ty)
            }
            ExprKind::Field { base, field, arrow: false } if field.name.bytes().all(|b| b.is_ascii_digit()) => {
                let t = self.expr(base, cx)?;
                let Ty::Tuple(parts) = &t.ty else {
                    let msg = format!("`.{}` takes a part of a tuple, not of {}", field.name, t.ty.describe());
                    return self.fail(Diagnostic::new(span, msg, "not a tuple"));
                };
                let index = field.name.parse::<usize>().ok().filter(|i| *i < parts.len());
                let Some(index) = index else {
                    let msg = format!("the tuple has {} parts, numbered from 0", parts.len());
                    return self.fail(Diagnostic::new(field.span, msg, "no such part"));
                };
                let ty = parts[index].clone();
                (TExprKind::TupleField { base: Box::new(t), index: index as u32 }, ty)
            }
            ExprKind::Index { base, index } if is_byte_array(base, cx) => {
                let b = self.expr(base, cx)?;
                let Ty::Text(Render::Bytes(n)) = b.ty else { unreachable!("is_byte_array") };
                let i = self.const_int(index, "an array index")?;
                if i >= u64::from(n) {
                    let msg = format!("index {i} is past the end of this array of {n} bytes");
                    return self.fail(Diagnostic::new(index.span, msg, "out of bounds").with_help(format!("indices run from 0 to {}", n - 1)));
                }
                (TExprKind::ByteAt { base: Box::new(b), index: i as u32 }, Ty::Int(IntTy { bits: 8, signed: false }))
            }
            ExprKind::Field { .. } | ExprKind::Index { .. } if super::kernel::is_c(e) => return self.c_value(e, cx),
            ExprKind::Field { field, .. } => return self.args_field_value(field, cx, span),
            ExprKind::Index { base, index } => {
                let ExprKind::Field { field, .. } = &base.kind else { unreachable!("is_c takes other indexing") };
                return self.args_field(field, Some(index), cx, span);
            }
            ExprKind::Call { func, args } => return self.call(func, args, cx, span),
            ExprKind::Incr { target, delta, post } => return self.incr_value(target, *delta, *post, span, cx),
            ExprKind::Unary { op: UnOp::Deref, .. } => return self.c_value(e, cx),
            ExprKind::Unary { op, expr } => {
                let inner = self.int_expr(expr, cx)?;
                let signed = inner.ty.int().is_some_and(|t| t.signed);
                let ty = match op {
                    // As in bpftrace, negating an unsigned value leaves it unsigned.
                    UnOp::Neg => IntTy { bits: 64, signed },
                    UnOp::Not => IntTy::U64,
                    UnOp::BitNot | UnOp::Deref => IntTy { bits: 64, signed },
                };
                (TExprKind::Unary(*op, Box::new(inner)), Ty::Int(ty))
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let l = self.expr(lhs, cx);
                // The right side of `&&` and `||` may not run.
                let r = if matches!(op, BinOp::And | BinOp::Or) { self.unhoisted(|ch| ch.expr(rhs, cx)) } else { self.expr(rhs, cx) };
                let (l, r) = (l?, r?);
                return self.binary(*op, l, r, span);
            }
            ExprKind::Ternary { cond, then, otherwise } => {
                let c = self.cond(cond, cx);
                let (a, b) = self.unhoisted(|ch| (ch.expr(then, cx), ch.expr(otherwise, cx)));
                let (c, a, b) = (c?, a?, b?);
                let ty = match (&a.ty, &b.ty) {
                    (Ty::Int(x), Ty::Int(y)) => Ty::Int(IntTy { bits: 64, signed: x.signed && y.signed }),
                    (Ty::Str(x), Ty::Str(y)) => Ty::Str(*x.max(y)),
                    (x, y) => {
                        let msg = format!("the branches of `?:` differ: {} and {}", x.describe(), y.describe());
                        return self.fail(Diagnostic::new(span, msg, "type mismatch"));
                    }
                };
                (TExprKind::Ternary { cond: Box::new(c), then: Box::new(a), otherwise: Box::new(b) }, ty)
            }
            ExprKind::Cast { ty, .. } if super::kernel::is_c_cast(&ty.name) => return self.c_value(e, cx),
            ExprKind::Cast { ty, expr } => {
                let inner = self.int_expr(expr, cx)?;
                // `(u32_t)x`: a typedef of an integer type (the script's or the kernel's) casts as that type.
                let typedef = || match crate::ctype::typedef_named(&ty.name) {
                    Some(crate::ctype::CType::Int { size, signed }) if matches!(size, 1 | 2 | 4 | 8) => Some(IntTy { bits: size as u8 * 8, signed }),
                    _ => None,
                };
                let Some(target) = cast_type(&ty.name).or_else(typedef) else {
                    return self.fail(Diagnostic::new(ty.span, format!("unknown type `{}`", ty.name), "not an integer type")
                        .with_help("casts take int8..int64, uint8..uint64, or a typedef of one of them"));
                };
                (TExprKind::Cast(Box::new(inner)), Ty::Int(target))
            }
            ExprKind::Tuple(items) => {
                let typed: Option<Vec<TExpr>> = items.iter().map(|i| self.expr(i, cx)).collect::<Vec<_>>().into_iter().collect();
                let typed = typed?;
                let ty = Ty::Tuple(typed.iter().map(|t| super::maps::storage_ty(&t.ty)).collect());
                (TExprKind::Tuple(typed), ty)
            }
        };
        Some(TExpr { kind, ty, span })
    }

    fn binary(&mut self, op: BinOp, l: TExpr, r: TExpr, span: Span) -> Option<TExpr> {
        match (&l.ty, &r.ty) {
            (Ty::Int(a), Ty::Int(b)) => {
                let ty = match op {
                    BinOp::And | BinOp::Or => IntTy::U64,
                    op if op.is_comparison() => IntTy::U64,
                    _ => IntTy { bits: 64, signed: a.signed && b.signed },
                };
                Some(int(TExprKind::Binary(op, Box::new(l), Box::new(r)), ty, span))
            }
            (Ty::Str(_), Ty::Str(_)) if matches!(op, BinOp::Eq | BinOp::Ne) => Some(int(
                TExprKind::StrCmp { eq: op == BinOp::Eq, lhs: Box::new(l), rhs: Box::new(r) },
                IntTy::U64,
                span,
            )),
            (a, b) => {
                let msg = format!("`{}` cannot combine {} and {}", op.symbol(), a.describe(), b.describe());
                let hint = if matches!((a, b), (Ty::Str(_), Ty::Str(_))) { "strings compare with == and != only" } else { "both sides must be integers, or both strings for == and !=" };
                self.fail(Diagnostic::new(span, msg, "type mismatch").with_help(hint))
            }
        }
    }

    /// A bare name: `args` and `$#` are the language's own; the rest are the registry's builtins.
    fn builtin(&mut self, name: &str, cx: &mut Ctx, span: Span) -> Option<TExpr> {
        match name {
            "$#" => return Some(int(TExprKind::Const(self.params.len() as u64), IntTy::I64, span)),
            "args" => {
                return self.fail(
                    Diagnostic::new(span, "`args` must be followed by a field", "needs a field")
                        .with_help("write `args.FIELD` (or `args->FIELD`)"),
                )
            }
            _ => {}
        }
        let Some(entry) = self.reg.builtin(name) else {
            // An enum's name (the script's or the kernel's) is its value, as in bpftrace.
            if let Some(v) = crate::cenum::value(name) {
                return Some(int(TExprKind::Const(v as u64), IntTy::I64, span));
            }
            if let Some(d) = not_a_value(name, span) {
                return self.fail(d);
            }
            let mut names = self.reg.names(Kind::Builtin);
            names.extend(["args", "$#"]);
            let mut d = Diagnostic::new(span, format!("unknown builtin `{name}`"), "not a builtin");
            d.help = did_you_mean(&closest(name, names));
            return self.fail(d);
        };
        let bcx = BuiltinCx { attach: cx.attach, params: self.params, cpid: self.cpid, span };
        match entry.check(&bcx) {
            Ok(t) => Some(t),
            Err(d) => self.fail(d),
        }
    }

    fn call(&mut self, func: &Ident, args: &[Expr], cx: &mut Ctx, span: Span) -> Option<TExpr> {
        if let Some(entry) = self.reg.function(&func.name) {
            if entry.statement() && !cx.statement {
                let d = Diagnostic::new(span, format!("{}() has no value", func.name), "not a value").with_help("call it as a statement of its own");
                return self.fail(d);
            }
            cx.statement = false;
            let call = Call { func, args, span };
            return entry.check(&mut Services { ch: self, cx }, &call);
        }
        let name = func.name.as_str();
        let is = |kind| self.reg.names(kind).contains(&name);
        if is(Kind::Aggregation) || is(Kind::Statement) {
            let hint = if is(Kind::Aggregation) { "aggregations are assigned to maps: `@m = count()`" } else { "call it as a statement of its own" };
            let d = Diagnostic::new(span, format!("{name}() cannot be used as a value here"), "not a value").with_help(hint);
            return self.fail(d);
        }
        let mut names = self.reg.names(Kind::Aggregation);
        names.extend(self.reg.names(Kind::Statement));
        names.extend(self.reg.names(Kind::Function));
        let mut d = Diagnostic::new(func.span, format!("unknown function `{name}`"), "no such function");
        d.help = did_you_mean(&closest(name, names));
        self.fail(d)
    }

    pub(super) fn args_field_value(&mut self, field: &Ident, cx: &mut Ctx, span: Span) -> Option<TExpr> {
        self.args_field(field, None, cx, span)
    }

    /// `args.f` / `args.f[i]`: a field of the record the probe kind gave this attach point.
    fn args_field(&mut self, field: &Ident, index: Option<&Expr>, cx: &mut Ctx, span: Span) -> Option<TExpr> {
        let Some(format) = cx.attach.args.clone() else {
            return self.fail(Diagnostic::new(span, format!("{} has no `args`", cx.attach.probe_name()), "no args here"));
        };
        // `$`-named fields are the probe kind's own (fexit's return value), not `args.NAME`s.
        let Some(f) = format.field(&field.name).filter(|_| !field.name.starts_with('$')) else {
            let names: Vec<&str> = format.fields.iter().map(|f| f.name.as_str()).filter(|n| !n.starts_with('$')).collect();
            if let Target::Fentry(fe) = &cx.attach.target {
                let hint = did_you_mean(&closest(&field.name, names.iter().copied())).unwrap_or_else(|| match names.is_empty() {
                    true => "it takes no arguments".into(),
                    false => format!("its parameters are: {}", names.join(", ")),
                });
                let msg = format!("function {} has no parameter `{}`", fe.func, field.name);
                return self.fail(Diagnostic::new(field.span, msg, "unknown parameter").with_help(hint));
            }
            let hint = did_you_mean(&closest(&field.name, names.iter().copied())).unwrap_or_else(|| {
                if names.is_empty() {
                    "this tracepoint has no fields".into()
                } else {
                    format!("its fields are: {}", names.join(", "))
                }
            });
            let probe = cx.attach.probe.strip_prefix("tracepoint:").unwrap_or(&cx.attach.probe);
            return self.fail(
                Diagnostic::new(field.span, format!("tracepoint {probe} has no field `{}`", field.name), "unknown field")
                    .with_help(hint),
            );
        };
        let f = f.clone();
        let elem_of = |c_type: &str| c_type.split('[').next().unwrap_or("").trim().to_string();
        match (f.kind, index) {
            (FieldKind::Int, None) if matches!(f.size, 1 | 2 | 4 | 8) => {
                let ty = IntTy { bits: (f.size * 8) as u8, signed: f.signed };
                Some(int(TExprKind::CtxField { offset: f.offset }, ty, span))
            }
            (FieldKind::Array, None) if elem_of(&f.c_type).ends_with("char") => {
                Some(TExpr { kind: TExprKind::CtxChars { offset: f.offset }, ty: Ty::Str(f.size), span })
            }
            (FieldKind::Array, Some(i)) => {
                let elem = c_int_size(&elem_of(&f.c_type)).filter(|s| f.size % s == 0);
                let Some(elem) = elem else {
                    return self.fail(unsupported(span, &format!("indexing field `{}` of type `{}`", f.name, f.c_type)));
                };
                if let ExprKind::Int(n) = i.kind {
                    if n >= u64::from(f.size / elem) {
                        let msg = format!("index {n} is out of bounds: `{}` has {} elements", f.name, f.size / elem);
                        return self.fail(Diagnostic::new(i.span, msg, "out of bounds"));
                    }
                }
                let idx = self.int_expr(i, cx)?;
                let ty = IntTy { bits: (elem * 8) as u8, signed: !elem_of(&f.c_type).contains("unsigned") && f.signed };
                Some(int(TExprKind::CtxArrayElem { offset: f.offset, elem, len: f.size / elem, index: Box::new(idx) }, ty, span))
            }
            (FieldKind::DataLoc, None) => Some(TExpr { kind: TExprKind::CtxDataLoc { offset: f.offset }, ty: Ty::Str(STRLEN), span }),
            _ => self.fail(unsupported(span, &format!("field `{}` of type `{}` used this way", f.name, f.c_type))),
        }
    }
}

/// Why the word `name`, which is no builtin nor constant, cannot be a value, when vt knows better than
/// "unknown": it is a type (a typedef's name), or a macro of a header the script does not include.
pub(super) fn not_a_value(name: &str, span: Span) -> Option<Diagnostic> {
    if crate::ctype::typedef_named(name).is_some() {
        return Some(Diagnostic::new(span, format!("`{name}` is a type, not a value"), "a type").with_help(format!(
            "a cast is `({name})EXPR`; an operand starting with `-`, `+`, `*` or `&` goes in brackets: `({name})(-1)`"
        )));
    }
    let headers = crate::headers::headers_of(name);
    let (first, more) = headers.split_first()?;
    let also = if more.is_empty() { String::new() } else { format!(" (or {})", more.iter().map(|h| format!("<{h}>")).collect::<Vec<_>>().join(", ")) };
    Some(
        Diagnostic::new(span, format!("`{name}` is a macro of <{first}>, which the script does not include"), "header not included")
            .with_help(format!("add `#include <{first}>`{also} before the probes")),
    )
}

pub(super) fn cast_type(name: &str) -> Option<IntTy> {
    let (signed, bits) = match name {
        "int8" | "s8" | "i8" => (true, 8),
        "int16" | "s16" | "i16" => (true, 16),
        "int32" | "s32" | "i32" => (true, 32),
        "int64" | "s64" | "i64" => (true, 64),
        "uint8" | "u8" => (false, 8),
        "uint16" | "u16" => (false, 16),
        "uint32" | "u32" => (false, 32),
        "uint64" | "u64" => (false, 64),
        _ => return None,
    };
    Some(IntTy { bits, signed })
}

/// The size of a C integer type as format files spell them.
fn c_int_size(c_type: &str) -> Option<u32> {
    let t = c_type.trim_start_matches("const ").trim_start_matches("unsigned ").trim_start_matches("signed ");
    Some(match t {
        "char" | "u8" | "s8" | "__u8" | "bool" => 1,
        "short" | "u16" | "s16" | "__u16" => 2,
        "int" | "u32" | "s32" | "__u32" => 4,
        "long" | "long long" | "u64" | "s64" | "__u64" | "size_t" => 8,
        _ if t.ends_with('*') => 8,
        _ => return None,
    })
}

/// Whether `base` is a variable holding a byte array (`$a = pton("1.2.3.4")`), which `[i]` indexes.
fn is_byte_array(base: &Expr, cx: &Ctx) -> bool {
    match &base.kind {
        ExprKind::Var(name) => matches!(cx.scope.vars.get(name), Some((_, Ty::Text(Render::Bytes(_))))),
        _ => false,
    }
}
