//! The checker: resolves probes through their providers, gives every map one aggregation kind, types every
//! expression, and reports each problem as a spanned diagnostic (all of them, not just the first).

use crate::ast::*;
use crate::diag::Diagnostic;
use crate::provider::{self, closest, did_you_mean, FieldKind, Tracefs};
use crate::typed::*;

pub fn check(script: &Script, tracefs: &mut Tracefs) -> Result<Program, Vec<Diagnostic>> {
    let mut cx = Checker { maps: Vec::new(), errors: Vec::new() };
    let mut probes = Vec::new();
    for probe in &script.probes {
        for spec in &probe.specs {
            let Some(p) = provider::find(&spec.provider.name) else {
                let names = provider::PROVIDERS.iter().flat_map(|p| p.names.iter().copied());
                let mut d = Diagnostic::new(
                    spec.provider.span,
                    format!("unknown probe type `{}`", spec.provider.name),
                    "no such probe type",
                );
                d.help = did_you_mean(&closest(&spec.provider.name, names));
                cx.errors.push(d);
                continue;
            };
            match (p.resolve)(spec, tracefs) {
                Ok(attaches) => {
                    for attach in attaches {
                        probes.push(cx.probe(probe, attach));
                    }
                }
                Err(d) => cx.errors.push(d),
            }
        }
    }
    if cx.errors.is_empty() {
        Ok(Program { maps: cx.maps, probes })
    } else {
        // One error per place: a block attached to many tracepoints reports each problem once.
        let mut seen = std::collections::HashSet::new();
        cx.errors.retain(|d| seen.insert((d.span, d.message.clone())));
        Err(cx.errors)
    }
}

struct Checker {
    maps: Vec<MapDef>,
    errors: Vec<Diagnostic>,
}

fn unsupported(span: Span, what: &str) -> Diagnostic {
    Diagnostic::new(span, format!("{what} is not supported by vt yet"), "not supported")
}

impl Checker {
    fn probe(&mut self, probe: &Probe, attach: Attach) -> ProbeProgram {
        let predicate = probe.predicate.as_ref().and_then(|e| self.expr(e, &attach));
        let body = probe.body.iter().filter_map(|s| self.stmt(s, &attach)).collect();
        ProbeProgram { attach, span: probe.span, predicate, body }
    }

    fn stmt(&mut self, stmt: &Stmt, attach: &Attach) -> Option<TStmt> {
        match &stmt.kind {
            StmtKind::MapAssign { map, value } => self.map_assign(map, value, attach),
            StmtKind::Expr(Expr { kind: ExprKind::Call { func, args }, span }) if func.name == "exit" => {
                self.arity(func, args, 0, *span)?;
                Some(TStmt::Exit { span: *span })
            }
            StmtKind::Expr(e) => {
                self.errors.push(unsupported(e.span, "this statement"));
                None
            }
            _ => {
                self.errors.push(unsupported(stmt.span, "this statement"));
                None
            }
        }
    }

    fn arity(&mut self, func: &Ident, args: &[Expr], want: usize, span: Span) -> Option<()> {
        if args.len() == want {
            return Some(());
        }
        let plural = if want == 1 { "" } else { "s" };
        self.errors.push(Diagnostic::new(
            span,
            format!("{}() takes {want} argument{plural}, {} given", func.name, args.len()),
            "wrong number of arguments",
        ));
        None
    }

    fn map_assign(&mut self, map: &MapRef, value: &Expr, attach: &Attach) -> Option<TStmt> {
        if let Some(k) = map.keys.first() {
            self.errors.push(unsupported(k.span, "a map key"));
            return None;
        }
        let ExprKind::Call { func, args } = &value.kind else {
            self.errors.push(
                Diagnostic::new(value.span, "a map can only be assigned an aggregation here", "not an aggregation")
                    .with_help("use `count()`, `sum(x)` or `hist(x)`"),
            );
            return None;
        };
        let (agg, want) = match func.name.as_str() {
            "count" => (Agg::Count, 0),
            "sum" => (Agg::Sum, 1),
            "hist" => (Agg::Hist, 1),
            other => {
                let mut d = Diagnostic::new(func.span, format!("unknown aggregation `{other}`"), "not an aggregation");
                d.help = did_you_mean(&closest(other, ["count", "sum", "hist"]));
                self.errors.push(d);
                return None;
            }
        };
        self.arity(func, args, want, value.span)?;
        let value = match args.first() {
            Some(a) => Some(self.expr(a, attach)?),
            None => None,
        };
        let index = self.map_index(&map.name, agg, map.span.to(func.span))?;
        Some(TStmt::Aggregate { map: index, value, span: map.span.to(func.span) })
    }

    /// The map called `name`, created on first use; an error if it already holds another kind.
    fn map_index(&mut self, name: &Ident, agg: Agg, span: Span) -> Option<usize> {
        if let Some(i) = self.maps.iter().position(|m| m.name == name.name) {
            let def = &self.maps[i];
            if def.agg == agg {
                return Some(i);
            }
            let msg = format!("@{} is a {} map and cannot also hold {}()", name.name, def.agg.name(), agg.name());
            self.errors.push(Diagnostic::new(span, msg, "different aggregation").with_help(format!(
                "@{} was first assigned {}() elsewhere; use another map name",
                name.name,
                def.agg.name()
            )));
            return None;
        }
        self.maps.push(MapDef { name: name.name.clone(), agg, span });
        Some(self.maps.len() - 1)
    }

    fn expr(&mut self, e: &Expr, attach: &Attach) -> Option<TExpr> {
        let (kind, ty) = match &e.kind {
            ExprKind::Int(v) => {
                let ty = if *v > i64::MAX as u64 { IntTy::U64 } else { IntTy::I64 };
                (TExprKind::Const(*v), ty)
            }
            ExprKind::Builtin(name) => {
                let b = match name.as_str() {
                    "pid" => Builtin::Pid,
                    "tid" => Builtin::Tid,
                    "nsecs" => Builtin::Nsecs,
                    "cpu" => Builtin::Cpu,
                    "args" => {
                        self.errors.push(
                            Diagnostic::new(e.span, "`args` must be followed by a field", "needs a field")
                                .with_help("write `args.FIELD` (or `args->FIELD`)"),
                        );
                        return None;
                    }
                    other => {
                        let mut d = Diagnostic::new(e.span, format!("unknown builtin `{other}`"), "not a builtin");
                        d.help = did_you_mean(&closest(other, ["pid", "tid", "nsecs", "cpu", "args"]));
                        self.errors.push(d);
                        return None;
                    }
                };
                (TExprKind::Builtin(b), IntTy::U64)
            }
            ExprKind::Field { base, field, .. } => {
                if !matches!(&base.kind, ExprKind::Builtin(b) if b == "args") {
                    self.errors.push(unsupported(e.span, "a field of anything but `args`"));
                    return None;
                }
                return self.args_field(field, attach, e.span);
            }
            ExprKind::Unary { op, expr } => {
                let inner = self.expr(expr, attach)?;
                let ty = match op {
                    UnOp::Neg => IntTy::I64,
                    UnOp::Not => IntTy::U64,
                    UnOp::BitNot => IntTy { bits: 64, signed: inner.ty.signed },
                };
                (TExprKind::Unary(*op, Box::new(inner)), ty)
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let (l, r) = (self.expr(lhs, attach), self.expr(rhs, attach));
                let (l, r) = (l?, r?);
                let both_signed = l.ty.signed && r.ty.signed;
                let ty = match op {
                    BinOp::And | BinOp::Or => IntTy::U64,
                    op if op.is_comparison() => IntTy::U64,
                    _ => IntTy { bits: 64, signed: both_signed },
                };
                (TExprKind::Binary(*op, Box::new(l), Box::new(r)), ty)
            }
            ExprKind::Str(_) => return self.fail(unsupported(e.span, "a string")),
            ExprKind::Var(_) => return self.fail(unsupported(e.span, "a variable")),
            ExprKind::Map(_) => return self.fail(unsupported(e.span, "reading a map")),
            ExprKind::Call { func, .. } => {
                return self.fail(unsupported(e.span, &format!("`{}()` in an expression", func.name)))
            }
            _ => return self.fail(unsupported(e.span, "this expression")),
        };
        Some(TExpr { kind, ty, span: e.span })
    }

    fn fail<T>(&mut self, d: Diagnostic) -> Option<T> {
        self.errors.push(d);
        None
    }

    fn args_field(&mut self, field: &Ident, attach: &Attach, span: Span) -> Option<TExpr> {
        let Attach::Tracepoint { category, name, format } = attach else {
            return self.fail(Diagnostic::new(
                span,
                format!("{} has no `args`", attach.probe_name()),
                "no args here",
            ));
        };
        let Some(f) = format.field(&field.name) else {
            let names: Vec<&str> = format.fields.iter().map(|f| f.name.as_str()).collect();
            let hint = did_you_mean(&closest(&field.name, names.iter().copied())).unwrap_or_else(|| {
                if names.is_empty() {
                    "this tracepoint has no fields".into()
                } else {
                    format!("its fields are: {}", names.join(", "))
                }
            });
            return self.fail(
                Diagnostic::new(
                    field.span,
                    format!("tracepoint {category}:{name} has no field `{}`", field.name),
                    "unknown field",
                )
                .with_help(hint),
            );
        };
        if f.kind != FieldKind::Int || !matches!(f.size, 1 | 2 | 4 | 8) {
            return self.fail(unsupported(span, &format!("field `{}` of type `{}`", f.name, f.c_type)));
        }
        let ty = IntTy { bits: (f.size * 8) as u8, signed: f.signed };
        Some(TExpr { kind: TExprKind::CtxField { offset: f.offset }, ty, span })
    }
}
