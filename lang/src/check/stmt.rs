//! Statements: assignments, control flow, and the calls that are statements of their own (`exit`,
//! `printf`, `time`, `print`, `clear`, `zero`), which become events the runtime carries out in order.

use super::{int, sigiled, stmt_count, Checker, Ctx, MAX_UNROLLED};
use crate::ast::*;
use crate::diag::Diagnostic;
use crate::printf;
use crate::typed::*;

impl Checker<'_> {
    pub(super) fn stmt(&mut self, stmt: &Stmt, cx: &mut Ctx) -> Option<TStmt> {
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
                // The bound is evaluated at each turn: nothing may run before it only once.
                let hi = self.unhoisted(|ch| ch.int_expr(hi, cx));
                let var = self.declare(var, &Ty::I64, cx)?;
                cx.scope.loops += 1;
                let body = self.block(body, cx);
                cx.scope.loops -= 1;
                Some(TStmt::For { var, lo: lo?, hi: hi?, body })
            }
            StmtKind::ForMap { var, map, body } => self.for_map(stmt.span, var, map, body, cx),
            StmtKind::While { cond, body } => {
                let cond = self.unhoisted(|ch| ch.cond(cond, cx));
                cx.scope.loops += 1;
                let body = self.block(body, cx);
                cx.scope.loops -= 1;
                Some(TStmt::While { cond: cond?, body })
            }
            StmtKind::Break | StmtKind::Continue => {
                let brk = matches!(stmt.kind, StmtKind::Break);
                if cx.scope.loops == 0 {
                    let word = if brk { "break" } else { "continue" };
                    return self.fail(Diagnostic::new(stmt.span, format!("`{word}` outside a loop"), "not in a loop")
                        .with_help("`break` and `continue` go in a `while` or `for` body"));
                }
                Some(if brk { TStmt::Break } else { TStmt::Continue })
            }
            StmtKind::Let { var, ty, value } => self.let_stmt(var, ty.as_ref(), value.as_ref(), cx),
            StmtKind::Delete { map } => {
                let (index, keys) = self.map_access(map, cx, "delete")?;
                Some(TStmt::MapDelete { map: index, keys })
            }
            StmtKind::Return => Some(TStmt::Return),
            StmtKind::Expr(e) => self.expr_stmt(e, cx),
        }
    }

    /// `let $v [: type] [= e]`: a new variable of the enclosing block, hiding one of the same name
    /// until the block ends. Without a value it is declared by its first assignment (or its type).
    fn let_stmt(&mut self, var: &Ident, ty: Option<&Ident>, value: Option<&Expr>, cx: &mut Ctx) -> Option<TStmt> {
        let declared = match ty {
            None => None,
            Some(t) if t.name == "string" => Some(Ty::Str(super::STRLEN)),
            Some(t) => match super::expr::cast_type(&t.name) {
                Some(i) => Some(Ty::Int(i)),
                None => {
                    return self.fail(Diagnostic::new(t.span, format!("unknown type `{}`", t.name), "not a type vt knows")
                        .with_help("let takes an integer type (int8..int64, uint8..uint64) or string"))
                }
            },
        };
        let v = match value {
            Some(e) => match self.expr(e, cx) {
                Some(v) => Some(v),
                None => {
                    // One mistake, one error: a later use is not also "used before it is assigned".
                    if !cx.scope.vars.contains_key(&var.name) {
                        cx.scope.refused.insert(var.name.clone());
                    }
                    return None;
                }
            },
            None => None,
        };
        if let (Some(d), Some(v)) = (&declared, &v) {
            if !super::maps::compatible(d, &v.ty) {
                let msg = format!("${} is declared {} and cannot be assigned {}", var.name, d.describe(), v.ty.describe());
                return self.fail(Diagnostic::new(sigiled(var.span), msg, "type mismatch"));
            }
        }
        let before = cx.scope.vars.remove(&var.name);
        if let Some(frame) = cx.scope.frames.last_mut() {
            frame.push((var.name.clone(), before));
        }
        let ty = match (&declared, &v) {
            (Some(Ty::Int(d)), _) => Ty::Int(*d),
            (_, Some(v)) => v.ty.clone(),
            (Some(d), None) => d.clone(),
            (None, None) => return None,
        };
        let id = self.declare(var, &ty, cx)?;
        let value = match v {
            Some(v) => v,
            // A declared variable starts at 0 or "" (the prologue zeroes the variables, but a loop
            // may come back to the `let`).
            None => match &ty {
                Ty::Str(_) => TExpr { kind: TExprKind::StrConst(String::new()), ty: Ty::Str(1), span: var.span },
                _ => super::int(TExprKind::Const(0), IntTy::I64, var.span),
            },
        };
        Some(TStmt::VarStore { var: id, value })
    }

    /// `$v++` or `@m[k]--` used as a value: the change goes before the statement (`pre`), the value
    /// is the one before it (postfix, kept in a hidden variable) or after it.
    pub(super) fn incr_value(&mut self, target: &Expr, delta: i64, post: bool, span: Span, cx: &mut Ctx) -> Option<TExpr> {
        if !self.hoist {
            let msg = "`++`/`--` as a value is not supported here by vt";
            return self.fail(Diagnostic::new(span, msg, "may not run").with_help(
                "here the change could run when the value is not used (a predicate, a loop condition, `&&`, `||` or `?:`); make it a statement of its own",
            ));
        }
        let change = match &target.kind {
            ExprKind::Var(name) => StmtKind::VarIncr { var: Ident { name: name.clone(), span: Span::new(target.span.start + 1, target.span.end) }, delta },
            ExprKind::Map(m) => StmtKind::MapIncr { map: m.clone(), delta },
            _ => return self.fail(Diagnostic::new(target.span, "`++`/`--` change a variable or a map", "not a variable or map")),
        };
        let change = Stmt { kind: change, span };
        if !post {
            let t = self.stmt(&change, cx)?;
            self.pre.push(t);
            return self.int_expr(target, cx);
        }
        let before = self.int_expr(target, cx)?;
        self.incrs += 1;
        let hidden = Ident { name: format!("\0incr{}", self.incrs), span };
        let id = self.declare(&hidden, &before.ty, cx)?;
        let ty = cx.scope.list[id.0 as usize].clone();
        self.pre.push(TStmt::VarStore { var: id, value: before });
        let t = self.stmt(&change, cx)?;
        self.pre.push(t);
        Some(TExpr { kind: TExprKind::Var(id), ty, span })
    }

    /// `exit()`, `printf(..)`, `print(..)`, `clear(@m)`, `zero(@m)`, `time(..)`.
    fn expr_stmt(&mut self, e: &Expr, cx: &mut Ctx) -> Option<TStmt> {
        // `c ? printf(..) : exit()`: a ternary for its effects is an `if`.
        if let ExprKind::Ternary { cond, then, otherwise } = &e.kind {
            let branch = |b: &Expr| vec![Stmt { kind: StmtKind::Expr(b.clone()), span: b.span }];
            let as_if = StmtKind::If { cond: (**cond).clone(), then: branch(then), otherwise: branch(otherwise) };
            return self.stmt(&Stmt { kind: as_if, span: e.span }, cx);
        }
        let ExprKind::Call { func, args } = &e.kind else {
            // An expression for nothing but its value: check it, then drop it.
            self.expr(e, cx)?;
            return None;
        };
        let event = match func.name.as_str() {
            "exit" => {
                // exit(code) is bpftrace 0.20's: vt's exit status.
                self.arity(func, args, 0..=1, e.span)?;
                let code = match args.first() {
                    Some(a) => self.const_int(a, "exit()'s status")?,
                    None => 0,
                };
                let Ok(code) = u8::try_from(code) else {
                    return self.fail(Diagnostic::new(args[0].span, "an exit status is between 0 and 255", "out of range"));
                };
                return Some(TStmt::Exit(code));
            }
            "printf" => self.printf(func, args, e.span, cx)?,
            "cat" | "system" => {
                let system = func.name == "system";
                if system && !self.unsafe_allowed {
                    let d = Diagnostic::new(e.span, "system() runs a command and needs --unsafe", "unsafe")
                        .with_help("run vt with --unsafe to allow it, as bpftrace does");
                    return self.fail(d);
                }
                let EventStmt::Printf { format, args } = self.printf(func, args, e.span, cx)? else { return None };
                EventStmt::Command { format, args, system }
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
            "print" => self.print(func, args, e.span, cx)?,
            "join" => {
                // join(argv [, delim]), as bpftrace 0.17: the delimiter is a string literal.
                self.arity(func, args, 1..=2, e.span)?;
                let arr = self.int_expr(&args[0], cx)?;
                let delim = match args.get(1) {
                    Some(Expr { kind: ExprKind::Str(t), .. }) => t.clone(),
                    Some(a) => return self.fail(Diagnostic::new(a.span, "join's delimiter must be a string literal", "not a string literal")),
                    None => " ".to_string(),
                };
                EventStmt::Join { format: self.add_format(delim, Vec::new()), arr }
            }
            "clear" | "zero" => {
                self.arity(func, args, 1..=1, e.span)?;
                let ExprKind::Map(m) = &args[0].kind else {
                    return self.fail(Diagnostic::new(args[0].span, format!("{}() takes a map", func.name), "not a map"));
                };
                let map = self.existing_map(&m.name)?;
                if func.name == "clear" { EventStmt::Clear { map } } else { EventStmt::Zero { map } }
            }
            name if self.reg.function(name).is_some_and(|f| f.statement()) => {
                cx.statement = true;
                let t = self.expr(e, cx);
                cx.statement = false;
                return Some(TStmt::Eval(t?));
            }
            _ => {
                self.expr(e, cx)?;
                return None;
            }
        };
        Some(TStmt::Event(event))
    }

    fn printf(&mut self, func: &Ident, args: &[Expr], span: Span, cx: &mut Ctx) -> Option<EventStmt> {
        self.arity(func, args, 1..=usize::MAX, span)?;
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
                span,
                format!("printf's format has {} conversions but {} arguments follow", specs.len(), args.len() - 1),
                "argument count mismatch",
            ));
        }
        let mut targs = Vec::new();
        for (spec, a) in specs.iter().zip(&args[1..]) {
            let t = self.expr(a, cx)?;
            let ok = match &t.ty {
                Ty::Text(Render::Buf(_)) => spec.wants_buffer(),
                Ty::Str(_) | Ty::Text(_) => spec.wants_string(),
                Ty::Int(_) => !spec.wants_string() && !spec.wants_buffer(),
                Ty::Tuple(_) => false,
            };
            if !ok {
                let want = if spec.wants_string() {
                    "a string"
                } else if spec.wants_buffer() {
                    "a buffer (buf())"
                } else {
                    "an integer"
                };
                let msg = format!("this argument is {} but its conversion wants {want}", t.ty.describe());
                return self.fail(Diagnostic::new(a.span, msg, "wrong type"));
            }
            targs.push(t);
        }
        let format = self.add_format(text, targs.iter().map(|t| t.ty.clone()).collect());
        Some(EventStmt::Printf { format, args: targs })
    }

    fn print(&mut self, func: &Ident, args: &[Expr], span: Span, cx: &mut Ctx) -> Option<EventStmt> {
        self.arity(func, args, 1..=3, span)?;
        if let ExprKind::Map(m) = &args[0].kind {
            if m.keys.is_empty() {
                let map = self.existing_map(&m.name)?;
                if let Some(Expr { kind: ExprKind::Str(label), span }) = args.get(1) {
                    let is_hist = matches!(&self.maps[map.index()].kind, MapKind::Agg(a) if a.name == "hist");
                    if args.len() > 2 || !is_hist {
                        let msg = "print(@m, \"label\") prints a hist() map in BCC's layout";
                        return self.fail(Diagnostic::new(*span, msg, "not a histogram label"));
                    }
                    let label = Some(self.add_format(label.clone(), Vec::new()));
                    return Some(EventStmt::Print { map, top: 0, div: 0, label });
                }
                let top = match args.get(1) { Some(a) => self.const_int(a, "print's top")?, None => 0 };
                let div = match args.get(2) { Some(a) => self.const_int(a, "print's div")?, None => 0 };
                return Some(EventStmt::Print { map, top, div, label: None });
            }
        }
        if args.len() > 1 {
            return self.fail(Diagnostic::new(span, "print(value) takes one argument", "too many arguments"));
        }
        if super::kernel::is_c(&args[0]) {
            return self.print_c(&args[0], cx);
        }
        let value = self.expr(&args[0], cx)?;
        Some(EventStmt::PrintValue { format: self.add_format(String::new(), vec![value.ty.clone()]), value })
    }

    pub(super) fn add_format(&mut self, text: String, args: Vec<Ty>) -> usize {
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

    fn var_assign(&mut self, var: &Ident, value: &Expr, cx: &mut Ctx) -> Option<TStmt> {
        // A pointer of a C type keeps its type in the variable (`$t = curtask; $t->pid`).
        let value_res = match super::kernel::is_c_pointer(value) {
            true => self.c_pointer_value(value, cx),
            false => self.expr(value, cx).map(|v| (v, None)),
        };
        let Some((v, ctype)) = value_res else {
            cx.scope.refused.insert(var.name.clone());
            return None;
        };
        match ctype {
            Some(t) => cx.scope.ctypes.insert(var.name.clone(), t),
            None => cx.scope.ctypes.remove(&var.name),
        };
        let id = self.declare(var, &v.ty, cx)?;
        Some(TStmt::VarStore { var: id, value: v })
    }

    /// The variable `$var`, declared on first assignment with the value's type. An integer variable is as
    /// wide as the widest value assigned to it in its probe, a string variable
    /// holds the longest string assigned to it in its probe (the first pass learns it), as in bpftrace:
    /// `$a = ""; $a = "hello"` holds hello.
    pub(super) fn declare(&mut self, var: &Ident, ty: &Ty, cx: &mut Ctx) -> Option<VarId> {
        // An integer variable keeps the width of what is assigned to it, as in bpftrace (`sizeof($x)`,
        // `bswap($x)` of a 16-bit field): the widest of its assignments (vt's variables always take 8
        // bytes, so a wider value is never cut).
        let ty = match ty {
            Ty::Int(i) => Ty::Int(*i),
            t => super::maps::storage_ty(t),
        };
        if let Some((id, existing)) = cx.scope.vars.get(&var.name).cloned() {
            if !super::maps::compatible(&existing, &ty) {
                let msg = format!("${} is {} and cannot be assigned {}", var.name, existing.describe(), ty.describe());
                return self.fail(Diagnostic::new(sigiled(var.span), msg, "type mismatch"));
            }
            let wide = super::maps::widen(&existing, &ty);
            if wide != existing {
                let decl = cx.scope.decl[id.0 as usize];
                self.learned.insert((cx.probe.start, decl.start), wide.clone());
                cx.scope.list[id.0 as usize] = wide.clone();
                cx.scope.vars.insert(var.name.clone(), (id, wide));
            }
            return Some(id);
        }
        let ty = match self.learned.get(&(cx.probe.start, var.span.start)) {
            Some(learned) if super::maps::compatible(learned, &ty) => super::maps::widen(learned, &ty),
            _ => ty,
        };
        let id = VarId(cx.scope.list.len() as u32);
        cx.scope.list.push(ty.clone());
        cx.scope.decl.push(var.span);
        cx.scope.vars.insert(var.name.clone(), (id, ty));
        Some(id)
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
