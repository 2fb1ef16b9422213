//! The checker: resolves probes through their providers, gives every map one kind and one key type,
//! types every expression with bpftrace's rules, and reports each problem as a spanned diagnostic (all of
//! them, not just the first).
//!
//! Maps may be read in a probe that comes before the one that assigns them, so checking runs twice: a
//! first pass only learns the maps' kinds (and reports nothing), the second checks for real.

use crate::ast::*;
use crate::diag::Diagnostic;
use crate::printf;
use crate::provider::{self, closest, did_you_mean, FieldKind, Tracefs};
use crate::typed::*;
use std::collections::HashMap;

/// bpftrace's default for `str()` and for string maps: 64 bytes including the NUL.
pub const STRLEN: u32 = 64;
/// A program's stack is 512 bytes; keep most of it for keys, strings and events.
const MAX_VARS_BYTES: u32 = 256;
/// Statements an `unroll` (nested ones multiplied) may expand to.
const MAX_UNROLLED: usize = 10_000;

/// Statements in `stmts`, counting those inside `if` and `for` bodies.
fn stmt_count(stmts: &[TStmt]) -> usize {
    stmts
        .iter()
        .map(|s| match s {
            TStmt::If { then, otherwise, .. } => 1 + stmt_count(then) + stmt_count(otherwise),
            TStmt::For { body, .. } => 1 + stmt_count(body),
            _ => 1,
        })
        .sum()
}

const BUILTINS: &[&str] =
    &["pid", "tid", "uid", "gid", "nsecs", "elapsed", "cpu", "comm", "rand", "cgroup", "curtask", "probe", "args", "$#", "cpid"];
const FUNCTIONS: &[&str] = &[
    "count", "sum", "min", "max", "avg", "stats", "hist", "lhist", "printf", "print", "clear", "zero", "delete",
    "exit", "str", "time", "has_key",
];

/// What the command line adds to a script.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// The positional parameters (`$1` is `params[0]`).
    pub params: Vec<String>,
    /// `-p PID`: every tracepoint program is filtered to this process (an implicit `pid == PID &&`
    /// before its predicate). BEGIN, END and interval programs are not: they do not run in the
    /// traced process's context.
    pub pid: Option<u32>,
    /// `-c CMD`: the child's pid, the value of `cpid` (an error without it).
    pub cpid: Option<u32>,
}

/// Checks `script` against the tracepoints of `tracefs`; `params` are the positional parameters
/// (`$1` is `params[0]`).
pub fn check(script: &Script, tracefs: &mut Tracefs, params: &[String]) -> Result<Program, Vec<Diagnostic>> {
    check_with(script, tracefs, &CheckOptions { params: params.to_vec(), ..Default::default() })
}

/// [`check`] with the command line's options.
pub fn check_with(script: &Script, tracefs: &mut Tracefs, opts: &CheckOptions) -> Result<Program, Vec<Diagnostic>> {
    let params = opts.params.as_slice();
    if script.probes.is_empty() {
        // bpftrace refuses an empty script too; without the check vt would wait, attached to nothing.
        let d = Diagnostic::new(Span::new(0, 0), "the script has no probes", "a probe block goes here")
            .with_help("write one, e.g. `tracepoint:syscalls:sys_enter_getppid { @calls = count(); }`");
        return Err(vec![d]);
    }
    let mut attaches = Vec::new();
    let mut errors = Vec::new();
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
                errors.push(d);
                continue;
            };
            match (p.resolve)(spec, tracefs) {
                Ok(list) => attaches.extend(list.into_iter().map(|a| (probe, a))),
                Err(d) => errors.push(d),
            }
        }
    }
    let mut cx = Checker { maps: Vec::new(), formats: Vec::new(), errors: Vec::new(), params, cpid: opts.cpid, learning: true, incr: false };
    for (probe, attach) in &attaches {
        cx.probe(probe, attach.clone());
    }
    cx.learning = false;
    cx.errors.clear();
    cx.formats.clear();
    let mut probes: Vec<ProbeProgram> = attaches.into_iter().map(|(p, a)| cx.probe(p, a)).collect();
    if let Some(pid) = opts.pid {
        for p in probes.iter_mut().filter(|p| matches!(p.attach, Attach::Tracepoint { .. })) {
            p.predicate = Some(pid_filter(pid, p.predicate.take(), p.span));
        }
    }
    errors.append(&mut cx.errors);
    if errors.is_empty() {
        Ok(Program { maps: cx.maps, probes, formats: cx.formats })
    } else {
        // One error per place: a block attached to many tracepoints reports each problem once.
        let mut seen = std::collections::HashSet::new();
        errors.retain(|d| seen.insert((d.span, d.message.clone())));
        Err(errors)
    }
}

struct Checker<'p> {
    maps: Vec<MapDef>,
    formats: Vec<PrintfFormat>,
    errors: Vec<Diagnostic>,
    params: &'p [String],
    cpid: Option<u32>,
    /// The first pass: define maps, report nothing.
    learning: bool,
    /// Checking `@m++` / `@m--`, which (as in bpftrace) defines a new map as signed.
    incr: bool,
}

/// The variables of one probe program.
#[derive(Default)]
struct Scope {
    vars: HashMap<String, (Slot, Ty)>,
    size: u32,
}

struct Ctx<'a> {
    attach: &'a Attach,
    scope: Scope,
}

fn unsupported(span: Span, what: &str) -> Diagnostic {
    Diagnostic::new(span, format!("{what} is not supported by vt yet"), "not supported")
}

fn int(kind: TExprKind, ty: IntTy, span: Span) -> TExpr {
    TExpr { kind, ty: Ty::Int(ty), span }
}

impl Checker<'_> {
    fn err(&mut self, d: Diagnostic) {
        self.errors.push(d);
    }

    fn fail<T>(&mut self, d: Diagnostic) -> Option<T> {
        self.err(d);
        None
    }

    fn probe(&mut self, probe: &Probe, attach: Attach) -> ProbeProgram {
        let mut cx = Ctx { attach: &attach, scope: Scope::default() };
        let predicate = probe.predicate.as_ref().and_then(|e| self.cond(e, &mut cx));
        let body = self.block(&probe.body, &mut cx);
        let vars_size = cx.scope.size;
        if vars_size > MAX_VARS_BYTES {
            self.err(Diagnostic::new(
                probe.span,
                format!("this probe's variables need {vars_size} bytes of stack; at most {MAX_VARS_BYTES} fit"),
                "too many variables",
            ));
        }
        ProbeProgram { attach, span: probe.span, predicate, body, vars_size }
    }

    fn block(&mut self, stmts: &[Stmt], cx: &mut Ctx) -> Vec<TStmt> {
        let mut out = Vec::new();
        for s in stmts {
            if let Some(t) = self.stmt(s, cx) {
                out.push(t);
            }
        }
        out
    }

    fn stmt(&mut self, stmt: &Stmt, cx: &mut Ctx) -> Option<TStmt> {
        match &stmt.kind {
            StmtKind::MapAssign { map, value } => self.map_assign(map, value, cx),
            StmtKind::MapCompound { map, op, value } => {
                let current = Expr { kind: ExprKind::Map(map.clone()), span: map.span };
                self.map_assign(map, &combined(current, *op, value.clone(), stmt.span), cx)
            }
            StmtKind::MapIncr { map, delta } => {
                let (op, one) = incr(*delta, stmt.span);
                let current = Expr { kind: ExprKind::Map(map.clone()), span: map.span };
                self.incr = true;
                let t = self.map_assign(map, &combined(current, op, one, stmt.span), cx);
                self.incr = false;
                t
            }
            StmtKind::VarAssign { var, value } => self.var_assign(var, value, cx),
            StmtKind::VarCompound { var, op, value } => {
                let current = Expr { kind: ExprKind::Var(var.name.clone()), span: var.span };
                self.var_assign(var, &combined(current, *op, value.clone(), stmt.span), cx)
            }
            StmtKind::VarIncr { var, delta } => {
                let (op, one) = incr(*delta, stmt.span);
                let current = Expr { kind: ExprKind::Var(var.name.clone()), span: var.span };
                self.var_assign(var, &combined(current, op, one, stmt.span), cx)
            }
            StmtKind::If { cond, then, otherwise } => {
                let cond = self.cond(cond, cx);
                let then = self.block(then, cx);
                let otherwise = self.block(otherwise, cx);
                Some(TStmt::If { cond: cond?, then, otherwise })
            }
            StmtKind::Unroll { count, body } => {
                let n = self.const_int(count, "unroll count")?;
                if !(1..=100).contains(&n) {
                    return self.fail(Diagnostic::new(count.span, "unroll count must be between 1 and 100", "out of range"));
                }
                let body = self.block(body, cx);
                // Nested unrolls multiply: `unroll(100)` four deep would be 10^8 statements.
                let total = (n as usize).saturating_mul(stmt_count(&body));
                if total > MAX_UNROLLED {
                    let msg = format!("this unroll expands to {total} statements; at most {MAX_UNROLLED} fit a BPF program");
                    return self.fail(Diagnostic::new(stmt.span, msg, "unrolled too far"));
                }
                let cond = int(TExprKind::Const(1), IntTy::U64, stmt.span);
                let repeated = (0..n).flat_map(|_| body.clone()).collect();
                Some(TStmt::If { cond, then: repeated, otherwise: Vec::new() })
            }
            StmtKind::For { var, lo, hi, body } => {
                let lo = self.int_expr(lo, cx);
                let hi = self.int_expr(hi, cx);
                let slot = self.declare(var, &Ty::I64, cx)?;
                let body = self.block(body, cx);
                Some(TStmt::For { slot, lo: lo?, hi: hi?, body })
            }
            StmtKind::Delete { map } => {
                let (index, keys) = self.map_access(map, cx, "delete")?;
                Some(TStmt::MapDelete { map: index, keys })
            }
            StmtKind::Return => Some(TStmt::Return),
            StmtKind::Expr(e) => self.expr_stmt(e, cx),
        }
    }

    /// `exit()`, `printf(..)`, `print(..)`, `clear(@m)`, `zero(@m)`, `time(..)`.
    fn expr_stmt(&mut self, e: &Expr, cx: &mut Ctx) -> Option<TStmt> {
        let ExprKind::Call { func, args } = &e.kind else {
            // An expression for nothing but its value: check it, then drop it.
            self.expr(e, cx)?;
            return None;
        };
        let event = match func.name.as_str() {
            "exit" => {
                self.arity(func, args, 0..=0, e.span)?;
                return Some(TStmt::Exit);
            }
            "printf" => {
                self.arity(func, args, 1..=usize::MAX, e.span)?;
                let (text, pieces) = self.format_arg(&args[0])?;
                let specs: Vec<&printf::Spec> = pieces
                    .iter()
                    .filter_map(|p| match p {
                        printf::Piece::Conv(s) => Some(s),
                        printf::Piece::Lit(_) => None,
                    })
                    .collect();
                if specs.len() != args.len() - 1 {
                    return self.fail(Diagnostic::new(
                        e.span,
                        format!("printf's format has {} conversions but {} arguments follow", specs.len(), args.len() - 1),
                        "argument count mismatch",
                    ));
                }
                let mut targs = Vec::new();
                for (spec, a) in specs.iter().zip(&args[1..]) {
                    let t = self.expr(a, cx)?;
                    let ok = match &t.ty {
                        Ty::Str(_) => spec.wants_string(),
                        Ty::Int(_) => !spec.wants_string(),
                        Ty::Tuple(_) => false,
                    };
                    if !ok {
                        return self.fail(Diagnostic::new(
                            a.span,
                            format!("this argument is {} but its conversion wants {}", t.ty.describe(), if spec.wants_string() { "a string" } else { "an integer" }),
                            "wrong type",
                        ));
                    }
                    targs.push(t);
                }
                let format = self.add_format(text, targs.iter().map(|t| t.ty.clone()).collect());
                EventStmt::Printf { format, args: targs }
            }
            "time" => {
                self.arity(func, args, 0..=1, e.span)?;
                // time() takes a strftime format, not a printf one.
                let text = match args.first() {
                    Some(Expr { kind: ExprKind::Str(t), .. }) => t.clone(),
                    Some(a) => return self.fail(Diagnostic::new(a.span, "the format must be a string literal", "not a string literal")),
                    None => "%H:%M:%S\n".to_string(),
                };
                EventStmt::Time { format: self.add_format(text, Vec::new()) }
            }
            "print" => {
                self.arity(func, args, 1..=3, e.span)?;
                if let ExprKind::Map(m) = &args[0].kind {
                    if m.keys.is_empty() {
                        let map = self.existing_map(&m.name)?;
                        if let Some(Expr { kind: ExprKind::Str(label), span }) = args.get(1) {
                            if args.len() > 2 || !matches!(self.maps[map].kind, MapKind::Agg(Agg::Hist)) {
                                let msg = "print(@m, \"label\") prints a hist() map in BCC's layout";
                                return self.fail(Diagnostic::new(*span, msg, "not a histogram label"));
                            }
                            let label = Some(self.add_format(label.clone(), Vec::new()));
                            return Some(TStmt::Event(EventStmt::Print { map, top: 0, div: 0, label }));
                        }
                        let top = match args.get(1) { Some(a) => self.const_int(a, "print's top")?, None => 0 };
                        let div = match args.get(2) { Some(a) => self.const_int(a, "print's div")?, None => 0 };
                        return Some(TStmt::Event(EventStmt::Print { map, top, div, label: None }));
                    }
                }
                if args.len() > 1 {
                    return self.fail(Diagnostic::new(e.span, "print(value) takes one argument", "too many arguments"));
                }
                let value = self.expr(&args[0], cx)?;
                EventStmt::PrintValue { format: self.add_format(String::new(), vec![value.ty.clone()]), value }
            }
            "clear" | "zero" => {
                self.arity(func, args, 1..=1, e.span)?;
                let ExprKind::Map(m) = &args[0].kind else {
                    return self.fail(Diagnostic::new(args[0].span, format!("{}() takes a map", func.name), "not a map"));
                };
                let map = self.existing_map(&m.name)?;
                if func.name == "clear" { EventStmt::Clear { map } } else { EventStmt::Zero { map } }
            }
            _ => {
                self.expr(e, cx)?;
                return None;
            }
        };
        Some(TStmt::Event(event))
    }

    fn add_format(&mut self, text: String, args: Vec<Ty>) -> usize {
        self.formats.push(PrintfFormat { text, args });
        self.formats.len() - 1
    }

    /// A format string argument: a string literal that parses as a printf format.
    fn format_arg(&mut self, a: &Expr) -> Option<(String, Vec<printf::Piece>)> {
        let ExprKind::Str(text) = &a.kind else {
            return self.fail(Diagnostic::new(a.span, "the format must be a string literal", "not a string literal"));
        };
        match printf::parse(text) {
            Ok(p) => Some((text.clone(), p)),
            Err(msg) => self.fail(Diagnostic::new(a.span, msg, "bad format")),
        }
    }

    fn arity(&mut self, func: &Ident, args: &[Expr], want: std::ops::RangeInclusive<usize>, span: Span) -> Option<()> {
        if want.contains(&args.len()) {
            return Some(());
        }
        let expected = match (*want.start(), *want.end()) {
            (a, b) if a == b => format!("{a}"),
            (a, usize::MAX) => format!("at least {a}"),
            (a, b) => format!("{a} to {b}"),
        };
        self.fail(Diagnostic::new(
            span,
            format!("{}() takes {expected} argument(s), {} given", func.name, args.len()),
            "wrong number of arguments",
        ))
    }

    /// An integer known at check time (a literal, or a positional parameter).
    fn const_int(&mut self, e: &Expr, what: &str) -> Option<u64> {
        match &e.kind {
            ExprKind::Int(v) => Some(*v),
            ExprKind::Unary { op: UnOp::Neg, expr } => self.const_int(expr, what).map(|v| (v as i64).wrapping_neg() as u64),
            ExprKind::Positional(n) => match self.param(*n, e.span)? {
                TExprKind::Const(v) => Some(v),
                _ => self.fail(Diagnostic::new(e.span, format!("{what} must be an integer"), "not an integer")),
            },
            _ => self.fail(Diagnostic::new(e.span, format!("{what} must be an integer literal"), "not a constant")),
        }
    }

    fn param(&mut self, n: u32, span: Span) -> Option<TExprKind> {
        // bpftrace: a missing positional parameter is 0 (or "" when used as a string).
        let text = self.params.get(n as usize - 1).map(String::as_str).unwrap_or("0");
        Some(match parse_int(text) {
            Some(v) => TExprKind::Const(v),
            None if n as usize <= self.params.len() => TExprKind::StrConst(text.to_string()),
            None => return self.fail(Diagnostic::new(span, format!("no parameter ${n}"), "missing")),
        })
    }

    /// `@m[k] = e`: an aggregation call defines or feeds an aggregation map; anything else a value map.
    fn map_assign(&mut self, map: &MapRef, value: &Expr, cx: &mut Ctx) -> Option<TStmt> {
        let keys = self.keys(&map.keys, cx);
        if let ExprKind::Call { func, args } = &value.kind {
            if let Some(agg) = self.aggregation(func, args, value.span) {
                let agg = agg?;
                let v = match args.first() {
                    Some(a) => Some(self.int_expr(a, cx)?),
                    None => None,
                };
                let agg = match (agg, &v) {
                    (Agg::Sum { .. }, Some(v)) => Agg::Sum { signed: v.ty.int().is_some_and(|t| t.signed) },
                    (agg, _) => agg,
                };
                let keys = keys?;
                let index = self.define(&map.name, MapKind::Agg(agg), &keys, map.span.to(value.span))?;
                return Some(TStmt::Aggregate { map: index, keys, value: v });
            }
        }
        let v = self.expr(value, cx);
        let (keys, v) = (keys?, v?);
        let index = self.define(&map.name, MapKind::Value(storage_ty(&v.ty)), &keys, map.span.to(value.span))?;
        Some(TStmt::MapStore { map: index, keys, value: v })
    }

    /// `Some(..)` when `func` is an aggregation (with its arguments checked), `None` otherwise.
    fn aggregation(&mut self, func: &Ident, args: &[Expr], span: Span) -> Option<Option<Agg>> {
        let (agg, n) = match func.name.as_str() {
            "count" => (Agg::Count, 0),
            "sum" => (Agg::Sum { signed: true }, 1),
            "min" => (Agg::Min, 1),
            "max" => (Agg::Max, 1),
            "avg" => (Agg::Avg, 1),
            "stats" => (Agg::Stats, 1),
            "hist" => (Agg::Hist, 1),
            "lhist" => (Agg::LHist { min: 0, max: 0, step: 0 }, 4),
            _ => return None,
        };
        Some((|| {
            self.arity(func, args, n..=n, span)?;
            if let Agg::LHist { .. } = agg {
                let min = self.const_int(&args[1], "lhist's min")? as i64;
                let max = self.const_int(&args[2], "lhist's max")? as i64;
                let step = self.const_int(&args[3], "lhist's step")? as i64;
                if step <= 0 || max <= min || (max - min) / step > 1000 {
                    return self.fail(Diagnostic::new(
                        span,
                        "lhist needs min < max, step > 0 and at most 1000 buckets",
                        "bad lhist bounds",
                    ));
                }
                return Some(Agg::LHist { min, max, step });
            }
            Some(agg)
        })())
    }

    fn keys(&mut self, keys: &[Expr], cx: &mut Ctx) -> Option<Vec<TExpr>> {
        let typed: Vec<Option<TExpr>> = keys.iter().map(|k| self.expr(k, cx)).collect();
        typed.into_iter().collect()
    }

    /// The map called `name`, created with `kind` and key types on first definition; an error if it
    /// already holds something else.
    fn define(&mut self, name: &Ident, kind: MapKind, keys: &[TExpr], span: Span) -> Option<usize> {
        let key: Vec<Ty> = keys.iter().map(|k| storage_ty(&k.ty)).collect();
        if let Some(i) = self.maps.iter().position(|m| m.name == name.name) {
            let def = &self.maps[i];
            let same_kind = match (&def.kind, &kind) {
                // A sum stays the sum it was first defined as, whatever its values' signedness.
                (MapKind::Agg(Agg::Sum { .. }), MapKind::Agg(Agg::Sum { .. })) => true,
                (MapKind::Agg(a), MapKind::Agg(b)) => a == b,
                (MapKind::Value(a), MapKind::Value(b)) => compatible(a, b),
                _ => false,
            };
            if !same_kind {
                let msg = format!("@{} holds {} and cannot also hold {}", name.name, def.kind.describe(), kind.describe());
                let hint = format!("@{} was first assigned at another place; use another map name", name.name);
                return self.fail(Diagnostic::new(span, msg, "different kind of value").with_help(hint));
            }
            if !keys_compatible(&def.key, &key) {
                let msg = format!(
                    "@{} is keyed by [{}], not [{}]",
                    name.name,
                    def.key.iter().map(Ty::describe).collect::<Vec<_>>().join(", "),
                    key.iter().map(Ty::describe).collect::<Vec<_>>().join(", ")
                );
                return self.fail(Diagnostic::new(span, msg, "different key"));
            }
            return Some(i);
        }
        self.maps.push(MapDef { name: name.name.clone(), kind, key, span });
        Some(self.maps.len() - 1)
    }

    fn existing_map(&mut self, name: &Ident) -> Option<usize> {
        if let Some(i) = self.maps.iter().position(|m| m.name == name.name) {
            return Some(i);
        }
        if self.learning {
            return None;
        }
        let names: Vec<&str> = self.maps.iter().map(|m| m.name.as_str()).collect();
        let mut d = Diagnostic::new(sigiled(name.span), format!("@{} is never assigned", name.name), "unknown map");
        d.help = did_you_mean(&closest(&name.name, names.iter().copied()));
        self.fail(d)
    }

    /// A map and its typed keys, checked against the map's key type.
    fn map_access(&mut self, m: &MapRef, cx: &mut Ctx, what: &str) -> Option<(usize, Vec<TExpr>)> {
        let keys = self.keys(&m.keys, cx)?;
        let index = self.existing_map(&m.name)?;
        let def = &self.maps[index];
        let key: Vec<Ty> = keys.iter().map(|k| storage_ty(&k.ty)).collect();
        if !keys_compatible(&def.key, &key) {
            let msg = format!("{what} of @{} with a key of the wrong type", m.name.name);
            return self.fail(Diagnostic::new(m.span, msg, "different key"));
        }
        Some((index, keys))
    }

    fn var_assign(&mut self, var: &Ident, value: &Expr, cx: &mut Ctx) -> Option<TStmt> {
        let v = self.expr(value, cx)?;
        let slot = self.declare(var, &v.ty, cx)?;
        Some(TStmt::VarStore { slot, value: v })
    }

    /// The slot of `$var`, allocated on first assignment with the value's type.
    fn declare(&mut self, var: &Ident, ty: &Ty, cx: &mut Ctx) -> Option<Slot> {
        let ty = storage_ty(ty);
        if let Some((slot, existing)) = cx.scope.vars.get(&var.name) {
            if !compatible(existing, &ty) {
                let msg = format!("${} is {} and cannot be assigned {}", var.name, existing.describe(), ty.describe());
                return self.fail(Diagnostic::new(sigiled(var.span), msg, "type mismatch"));
            }
            return Some(*slot);
        }
        let slot = Slot { offset: cx.scope.size, size: ty.size() };
        cx.scope.size += slot.size;
        cx.scope.vars.insert(var.name.clone(), (slot, ty));
        Some(slot)
    }

    /// A condition: any integer.
    fn cond(&mut self, e: &Expr, cx: &mut Ctx) -> Option<TExpr> {
        self.int_expr(e, cx)
    }

    fn int_expr(&mut self, e: &Expr, cx: &mut Ctx) -> Option<TExpr> {
        let t = self.expr(e, cx)?;
        if t.ty.int().is_none() {
            return self.fail(Diagnostic::new(e.span, format!("expected an integer, found {}", t.ty.describe()), "not an integer"));
        }
        Some(t)
    }

    fn expr(&mut self, e: &Expr, cx: &mut Ctx) -> Option<TExpr> {
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
                Some((slot, ty)) => (TExprKind::Var(*slot), ty.clone()),
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
                let MapKind::Value(ty) = self.maps[map].kind.clone() else {
                    let msg = format!("@{} holds {} and cannot be read in an expression", m.name.name, self.maps[map].kind.describe());
                    return self.fail(Diagnostic::new(span, msg, "aggregation").with_help("print it with print(@m) instead"));
                };
                (TExprKind::MapRead { map, keys }, ty)
            }
            ExprKind::Field { base, field, .. } => {
                if !matches!(&base.kind, ExprKind::Builtin(b) if b == "args") {
                    return self.fail(unsupported(span, "a field of anything but `args`"));
                }
                return self.args_field(field, None, cx, span);
            }
            ExprKind::Index { base, index } => {
                if let ExprKind::Field { base: b, field, .. } = &base.kind {
                    if matches!(&b.kind, ExprKind::Builtin(n) if n == "args") {
                        return self.args_field(field, Some(index), cx, span);
                    }
                }
                return self.fail(unsupported(span, "indexing this"));
            }
            ExprKind::Call { func, args } => return self.call(func, args, cx, span),
            ExprKind::Unary { op, expr } => {
                let inner = self.int_expr(expr, cx)?;
                let signed = inner.ty.int().unwrap().signed;
                let ty = match op {
                    // As in bpftrace, negating an unsigned value leaves it unsigned.
                    UnOp::Neg => IntTy { bits: 64, signed },
                    UnOp::Not => IntTy::U64,
                    UnOp::BitNot => IntTy { bits: 64, signed },
                };
                (TExprKind::Unary(*op, Box::new(inner)), Ty::Int(ty))
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let (l, r) = (self.expr(lhs, cx), self.expr(rhs, cx));
                let (l, r) = (l?, r?);
                return self.binary(*op, l, r, span);
            }
            ExprKind::Ternary { cond, then, otherwise } => {
                let c = self.cond(cond, cx);
                let (a, b) = (self.expr(then, cx), self.expr(otherwise, cx));
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
            ExprKind::Cast { ty, expr } => {
                let inner = self.int_expr(expr, cx)?;
                let Some(target) = cast_type(&ty.name) else {
                    return self.fail(Diagnostic::new(ty.span, format!("unknown type `{}`", ty.name), "not an integer type")
                        .with_help("casts take int8..int64 or uint8..uint64"));
                };
                (TExprKind::Cast(Box::new(inner)), Ty::Int(target))
            }
            ExprKind::Tuple(items) => {
                let typed: Option<Vec<TExpr>> = items.iter().map(|i| self.expr(i, cx)).collect::<Vec<_>>().into_iter().collect();
                let typed = typed?;
                let ty = Ty::Tuple(typed.iter().map(|t| storage_ty(&t.ty)).collect());
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

    fn builtin(&mut self, name: &str, cx: &mut Ctx, span: Span) -> Option<TExpr> {
        let b = match name {
            "pid" => Builtin::Pid,
            "tid" => Builtin::Tid,
            "uid" => Builtin::Uid,
            "gid" => Builtin::Gid,
            "nsecs" => Builtin::Nsecs,
            "elapsed" => Builtin::Elapsed,
            "cpu" => Builtin::Cpu,
            "rand" => Builtin::Rand,
            "cgroup" => Builtin::Cgroup,
            "curtask" => Builtin::Curtask,
            "comm" => return Some(TExpr { kind: TExprKind::Builtin(Builtin::Comm), ty: Ty::Str(16), span }),
            "probe" => {
                let name = cx.attach.probe_name();
                let n = name.len() as u32 + 1;
                return Some(TExpr { kind: TExprKind::StrConst(name), ty: Ty::Str(n), span });
            }
            "cpid" => {
                let Some(cpid) = self.cpid else {
                    let d = Diagnostic::new(span, "cpid cannot be used without a child command", "no child")
                        .with_help("run the script with -c 'CMD'");
                    return self.fail(d);
                };
                return Some(int(TExprKind::Const(u64::from(cpid)), IntTy::U64, span));
            }
            "$#" => return Some(int(TExprKind::Const(self.params.len() as u64), IntTy::I64, span)),
            "args" => {
                return self.fail(
                    Diagnostic::new(span, "`args` must be followed by a field", "needs a field")
                        .with_help("write `args.FIELD` (or `args->FIELD`)"),
                )
            }
            other => {
                let mut d = Diagnostic::new(span, format!("unknown builtin `{other}`"), "not a builtin");
                d.help = did_you_mean(&closest(other, BUILTINS.iter().copied()));
                return self.fail(d);
            }
        };
        let ty = match b {
            Builtin::Cpu | Builtin::Uid | Builtin::Gid | Builtin::Rand => IntTy { bits: 32, signed: false },
            _ => IntTy::U64,
        };
        Some(int(TExprKind::Builtin(b), ty, span))
    }

    fn call(&mut self, func: &Ident, args: &[Expr], cx: &mut Ctx, span: Span) -> Option<TExpr> {
        match func.name.as_str() {
            "str" => {
                self.arity(func, args, 1..=2, span)?;
                let ptr = self.expr(&args[0], cx)?;
                if let Ty::Str(_) = ptr.ty {
                    return Some(ptr); // str() of a string is the string
                }
                if ptr.ty.int().is_none() {
                    return self.fail(Diagnostic::new(args[0].span, "str() takes a pointer", "not a pointer"));
                }
                let (len, size) = match args.get(1) {
                    None => (None, STRLEN),
                    Some(a) => match &a.kind {
                        // str(p, 0) is "", as in bpftrace.
                        ExprKind::Int(n) => (None, (*n).min(200) as u32 + 1),
                        _ => (Some(Box::new(self.int_expr(a, cx)?)), STRLEN),
                    },
                };
                Some(TExpr { kind: TExprKind::ReadStr { ptr: Box::new(ptr), len, user: false }, ty: Ty::Str(size), span })
            }
            "has_key" => {
                self.arity(func, args, 2..=usize::MAX, span)?;
                let ExprKind::Map(m) = &args[0].kind else {
                    return self.fail(Diagnostic::new(args[0].span, "has_key() takes a map first", "not a map"));
                };
                let keys = MapRef { name: m.name.clone(), keys: args[1..].to_vec(), span: m.span };
                let (map, keys) = self.map_access(&keys, cx, "has_key")?;
                Some(int(TExprKind::HasKey { map, keys }, IntTy::U64, span))
            }
            name if FUNCTIONS.contains(&name) => self.fail(Diagnostic::new(
                span,
                format!("{name}() cannot be used as a value here"),
                "not a value",
            ).with_help(match name {
                "count" | "sum" | "min" | "max" | "avg" | "stats" | "hist" | "lhist" => "aggregations are assigned to maps: `@m = count()`",
                _ => "call it as a statement of its own",
            })),
            other => {
                let mut d = Diagnostic::new(func.span, format!("unknown function `{other}`"), "no such function");
                d.help = did_you_mean(&closest(other, FUNCTIONS.iter().copied()));
                self.fail(d)
            }
        }
    }

    fn args_field(&mut self, field: &Ident, index: Option<&Expr>, cx: &mut Ctx, span: Span) -> Option<TExpr> {
        let Attach::Tracepoint { category, name, format } = cx.attach else {
            return self.fail(Diagnostic::new(span, format!("{} has no `args`", cx.attach.probe_name()), "no args here"));
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
                Diagnostic::new(field.span, format!("tracepoint {category}:{name} has no field `{}`", field.name), "unknown field")
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

/// The span of a `$var` or `@map` name with its sigil (an `Ident`'s span leaves it out), as bpftrace
/// underlines it.
fn sigiled(name: Span) -> Span {
    Span::new(name.start.saturating_sub(1), name.end)
}

/// `pid == PID && (predicate)`, the filter `-p PID` puts on a tracepoint program.
fn pid_filter(pid: u32, predicate: Option<TExpr>, span: Span) -> TExpr {
    let own = int(TExprKind::Builtin(Builtin::Pid), IntTy::U64, span);
    let target = int(TExprKind::Const(u64::from(pid)), IntTy::U64, span);
    let eq = int(TExprKind::Binary(BinOp::Eq, Box::new(own), Box::new(target)), IntTy::U64, span);
    match predicate {
        None => eq,
        Some(p) => int(TExprKind::Binary(BinOp::And, Box::new(eq), Box::new(p)), IntTy::U64, span),
    }
}

/// `current op rhs`: what a compound assignment or `++`/`--` stores.
fn combined(current: Expr, op: BinOp, rhs: Expr, span: Span) -> Expr {
    Expr { kind: ExprKind::Binary { op, lhs: Box::new(current), rhs: Box::new(rhs) }, span }
}

fn incr(delta: i64, span: Span) -> (BinOp, Expr) {
    let op = if delta < 0 { BinOp::Sub } else { BinOp::Add };
    (op, Expr { kind: ExprKind::Int(delta.unsigned_abs()), span })
}

/// The type a value is stored with in a map or variable: integers widen to 64 bits.
fn storage_ty(ty: &Ty) -> Ty {
    match ty {
        Ty::Int(i) => Ty::Int(IntTy { bits: 64, signed: i.signed }),
        Ty::Str(n) => Ty::Str(*n),
        Ty::Tuple(p) => Ty::Tuple(p.iter().map(storage_ty).collect()),
    }
}

/// Whether a value of type `b` may be stored where `a` was defined: same shape; strings of any size
/// (they are truncated or padded), integers of either signedness.
fn compatible(a: &Ty, b: &Ty) -> bool {
    match (a, b) {
        (Ty::Int(_), Ty::Int(_)) => true,
        (Ty::Str(_), Ty::Str(_)) => true,
        (Ty::Tuple(x), Ty::Tuple(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| compatible(a, b)),
        _ => false,
    }
}

/// Keys agree part by part in the same way; a string key part takes the size the map was defined with.
fn keys_compatible(a: &[Ty], b: &[Ty]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| compatible(x, y))
}

fn cast_type(name: &str) -> Option<IntTy> {
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

fn parse_int(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse::<u64>().ok().or_else(|| s.parse::<i64>().ok().map(|v| v as u64)),
    }
}
