//! `macro name($v, @m, e) { body }` (bpftrace 0.21+): each call is replaced by the macro's body before
//! checking. Parameters are bound by kind: `$v` takes a variable (the body's `$v` is the caller's),
//! `@m` a map (the body's `@m` is the caller's), `e` any expression (written in the body as the bare
//! name `e`, replaced by the argument wherever it appears). The body reaches no other map, and its own
//! variables are its own: each call renames them, so they neither see nor change the caller's.
//!
//! A call as a statement becomes the body's statements; a call in an expression needs a body of one
//! expression, except where the statement evaluates it whatever happens (the whole value of an
//! assignment or `let`, an argument of a call statement): there a body of statements then an
//! expression (`{ let $x = x; $x + 1 }`) runs its statements just before the statement. (bpftrace's
//! block expressions are not supported otherwise.) A macro without parameters may be called without
//! parentheses (`one`). Nodes of an expanded body keep their spans in the macro,
//! so errors point at the text of the macro.

use std::collections::HashMap;

use super::ast::*;
use crate::diag::Diagnostic;

/// How deep macros may call macros (a recursive macro stops here with an error).
const MAX_NESTING: usize = 16;

/// Replaces every call of `script.macros` in the probes; the errors of bad calls and bad bodies.
pub fn expand(script: &mut Script) -> Result<(), Vec<Diagnostic>> {
    let macros = std::mem::take(&mut script.macros);
    let mut x = Expander { defs: HashMap::new(), errors: Vec::new(), calls: 0 };
    for m in &macros {
        if x.defs.insert(m.name.name.clone(), m).is_some() {
            x.errors.push(Diagnostic::new(m.name.span, format!("macro `{}` is defined twice", m.name.name), "second definition"));
        }
        let mut seen = Vec::new();
        for p in &m.params {
            if seen.contains(&p.name) {
                x.errors.push(Diagnostic::new(p.span, format!("parameter `{}` appears twice", p.name), "repeated"));
            }
            seen.push(p.name.clone());
        }
    }
    for probe in &mut script.probes {
        if let Some(p) = &mut probe.predicate {
            x.expr(p, 0);
        }
        let body = std::mem::take(&mut probe.body);
        probe.body = x.block(body, 0);
    }
    if x.errors.is_empty() {
        Ok(())
    } else {
        Err(x.errors)
    }
}

struct Expander<'a> {
    defs: HashMap<String, &'a MacroDef>,
    errors: Vec<Diagnostic>,
    /// Calls expanded so far: numbers each call's own variables.
    calls: usize,
}

/// What a call binds: the caller's names for `$v` and `@m` parameters, expressions for the others,
/// and the new names of the body's own variables.
struct Binding {
    vars: HashMap<String, String>,
    maps: HashMap<String, Ident>,
    exprs: HashMap<String, Expr>,
    /// Suffix of the body's own variables in this call (empty for a `#define`).
    suffix: String,
    /// A `#define`: maps other than its parameters are the caller's.
    c_like: bool,
    macro_name: String,
}

impl<'a> Expander<'a> {
    fn block(&mut self, stmts: Vec<Stmt>, depth: usize) -> Vec<Stmt> {
        let mut out = Vec::with_capacity(stmts.len());
        for mut s in stmts {
            if let Some((def, args, span)) = self.stmt_call(&s) {
                if let Some(body) = self.instantiate(def, args, span, depth) {
                    out.extend(self.block(body, depth + 1));
                }
                continue;
            }
            // A macro of statements then a value (`{ let $x = x; $x + 1 }`) where the statement
            // evaluates it unconditionally: its statements go just before this one.
            match &mut s.kind {
                StmtKind::VarAssign { value, .. }
                | StmtKind::VarCompound { value, .. }
                | StmtKind::MapAssign { value, .. }
                | StmtKind::MapCompound { value, .. }
                | StmtKind::Let { value: Some(value), .. } => self.hoist(value, depth, &mut out),
                StmtKind::Expr(Expr { kind: ExprKind::Call { args, .. }, .. }) => {
                    args.iter_mut().for_each(|a| self.hoist(a, depth, &mut out));
                }
                _ => {}
            }
            self.stmt(&mut s, depth);
            out.push(s);
        }
        out
    }

    /// When `e` is a call of a macro whose body is statements then an expression: the statements
    /// (expanded) to `out`, and `e` becomes the expression.
    fn hoist(&mut self, e: &mut Expr, depth: usize, out: &mut Vec<Stmt>) {
        let call = match &e.kind {
            ExprKind::Call { func, args } => self.defs.get(&func.name).map(|d| (*d, args.clone())),
            ExprKind::Builtin(name) => self.defs.get(name).filter(|d| d.params.is_empty()).map(|d| (*d, Vec::new())),
            _ => None,
        };
        let Some((def, args)) = call else { return };
        let valued = def.body.len() > 1 && matches!(def.body.last(), Some(Stmt { kind: StmtKind::Expr(_), .. }));
        if !valued {
            return;
        }
        let Some(mut body) = self.instantiate(def, args, e.span, depth) else { return };
        let Some(Stmt { kind: StmtKind::Expr(value), .. }) = body.pop() else { return };
        out.extend(self.block(body, depth + 1));
        *e = value;
    }

    /// A statement that is a call of a macro: the macro, its arguments and the call's span.
    fn stmt_call(&self, s: &Stmt) -> Option<(&'a MacroDef, Vec<Expr>, Span)> {
        let StmtKind::Expr(e) = &s.kind else { return None };
        match &e.kind {
            ExprKind::Call { func, args } => self.defs.get(&func.name).map(|d| (*d, args.clone(), e.span)),
            ExprKind::Builtin(name) => self.defs.get(name).filter(|d| d.params.is_empty()).map(|d| (*d, Vec::new(), e.span)),
            _ => None,
        }
    }

    fn stmt(&mut self, s: &mut Stmt, depth: usize) {
        match &mut s.kind {
            StmtKind::Expr(e) | StmtKind::VarAssign { value: e, .. } | StmtKind::VarCompound { value: e, .. } => self.expr(e, depth),
            StmtKind::MapAssign { map, value } | StmtKind::MapCompound { map, value, .. } => {
                map.keys.iter_mut().for_each(|k| self.expr(k, depth));
                self.expr(value, depth);
            }
            StmtKind::MapIncr { map, .. } | StmtKind::Delete { map } => map.keys.iter_mut().for_each(|k| self.expr(k, depth)),
            StmtKind::If { cond, then, otherwise } => {
                self.expr(cond, depth);
                *then = self.block(std::mem::take(then), depth);
                *otherwise = self.block(std::mem::take(otherwise), depth);
            }
            StmtKind::Unroll { count: a, body } | StmtKind::While { cond: a, body } => {
                self.expr(a, depth);
                *body = self.block(std::mem::take(body), depth);
            }
            StmtKind::For { lo, hi, body, .. } => {
                self.expr(lo, depth);
                self.expr(hi, depth);
                *body = self.block(std::mem::take(body), depth);
            }
            StmtKind::ForMap { body, .. } => *body = self.block(std::mem::take(body), depth),
            StmtKind::Let { value, .. } => value.iter_mut().for_each(|v| self.expr(v, depth)),
            StmtKind::VarIncr { .. } | StmtKind::Break | StmtKind::Continue | StmtKind::Return => {}
        }
    }

    fn expr(&mut self, e: &mut Expr, depth: usize) {
        let call = match &e.kind {
            ExprKind::Call { func, args } => self.defs.get(&func.name).map(|d| (*d, args.clone())),
            ExprKind::Builtin(name) => self.defs.get(name).filter(|d| d.params.is_empty()).map(|d| (*d, Vec::new())),
            _ => None,
        };
        if let Some((def, args)) = call {
            let span = e.span;
            let Some(mut body) = self.instantiate(def, args, span, depth) else { return };
            match (body.len(), body.pop()) {
                (1, Some(Stmt { kind: StmtKind::Expr(mut value), .. })) => {
                    self.expr(&mut value, depth + 1);
                    *e = value;
                }
                (n, Some(Stmt { kind: StmtKind::Expr(_), .. })) if n > 1 => self.errors.push(
                    Diagnostic::new(span, format!("macro `{}` runs statements before its value", def.name.name), "statements in an expression")
                        .with_help("vt takes such a macro as the whole value of an assignment (`$v = m(..)`) or as an argument of a call statement (`printf(.., m(..))`)"),
                ),
                _ => self.errors.push(
                    Diagnostic::new(span, format!("macro `{}` has no value", def.name.name), "used as a value")
                        .with_help("a macro used in an expression must end with an expression (`macro twice(x) { x * 2 }`); call this one as a statement"),
                ),
            }
            return;
        }
        each_sub_expr(e, &mut |sub| self.expr(sub, depth));
    }

    /// The body of `def` with `args` bound, or None (with errors) for a bad call.
    fn instantiate(&mut self, def: &MacroDef, args: Vec<Expr>, span: Span, depth: usize) -> Option<Vec<Stmt>> {
        let name = &def.name.name;
        if depth >= MAX_NESTING {
            self.errors.push(
                Diagnostic::new(span, format!("macro `{name}` expands more than {MAX_NESTING} levels deep"), "nested too deeply")
                    .with_help("a macro may not call itself"),
            );
            return None;
        }
        if args.len() != def.params.len() {
            let want = def.params.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ");
            self.errors.push(
                Diagnostic::new(span, format!("macro `{name}` takes {} arguments, not {}", def.params.len(), args.len()), "wrong number of arguments")
                    .with_help(format!("it is defined as `{name}({want})`")),
            );
            return None;
        }
        self.calls += 1;
        let mut b = Binding { vars: HashMap::new(), maps: HashMap::new(), exprs: HashMap::new(), suffix: String::new(), macro_name: name.clone(), c_like: def.c_like };
        if !def.c_like {
            // Unique per call, and readable where an error names the variable.
            b.suffix = format!(" (in macro {name}, call {})", self.calls);
        }
        let mut ok = true;
        for (p, a) in def.params.iter().zip(args) {
            if let Some(v) = p.name.strip_prefix('$') {
                match a.kind {
                    ExprKind::Var(caller) => _ = b.vars.insert(v.to_string(), caller),
                    _ => ok = self.bad_arg(&a, p, "a variable (`$x`)"),
                }
            } else if let Some(m) = p.name.strip_prefix('@') {
                match a.kind {
                    ExprKind::Map(MapRef { name, keys, .. }) if keys.is_empty() => _ = b.maps.insert(m.to_string(), name),
                    _ => ok = self.bad_arg(&a, p, "a map without keys (`@m`)"),
                }
            } else {
                b.exprs.insert(p.name.clone(), a);
            }
        }
        if !ok {
            return None;
        }
        let mut body = def.body.clone();
        body.iter_mut().for_each(|s| self.bind_stmt(s, &b));
        Some(body)
    }

    fn bad_arg(&mut self, arg: &Expr, param: &Ident, want: &str) -> bool {
        self.errors.push(
            Diagnostic::new(arg.span, format!("parameter `{}` takes {want}", param.name), "wrong kind of argument")
                .with_help("parameters `$x` take variables, `@m` maps, plain names any expression"),
        );
        false
    }

    fn var_name(b: &Binding, name: &mut String) {
        *name = match b.vars.get(name.as_str()) {
            Some(caller) => caller.clone(),
            None => format!("{name}{}", b.suffix),
        };
    }

    fn var(b: &Binding, id: &mut Ident) {
        Self::var_name(b, &mut id.name);
    }

    fn map(&mut self, b: &Binding, m: &mut MapRef) {
        match b.maps.get(&m.name.name) {
            Some(caller) => m.name.name = caller.name.clone(),
            None if b.c_like => {}
            None => self.errors.push(
                Diagnostic::new(m.name.span, format!("macro `{}` uses @{}, which is not one of its parameters", b.macro_name, m.name.name), "not a parameter")
                    .with_help(format!("pass the map in: `macro {}(..., @{})`", b.macro_name, m.name.name)),
            ),
        }
        m.keys.iter_mut().for_each(|k| self.bind_expr(k, b));
    }

    fn bind_stmt(&mut self, s: &mut Stmt, b: &Binding) {
        match &mut s.kind {
            StmtKind::Expr(e) => self.bind_expr(e, b),
            StmtKind::VarAssign { var, value } | StmtKind::VarCompound { var, value, .. } => {
                Self::var(b, var);
                self.bind_expr(value, b);
            }
            StmtKind::VarIncr { var, .. } => Self::var(b, var),
            StmtKind::MapAssign { map, value } | StmtKind::MapCompound { map, value, .. } => {
                self.map(b, map);
                self.bind_expr(value, b);
            }
            StmtKind::MapIncr { map, .. } | StmtKind::Delete { map } => self.map(b, map),
            StmtKind::If { cond, then, otherwise } => {
                self.bind_expr(cond, b);
                then.iter_mut().chain(otherwise.iter_mut()).for_each(|s| self.bind_stmt(s, b));
            }
            StmtKind::Unroll { count: a, body } | StmtKind::While { cond: a, body } => {
                self.bind_expr(a, b);
                body.iter_mut().for_each(|s| self.bind_stmt(s, b));
            }
            StmtKind::For { var, lo, hi, body } => {
                Self::var(b, var);
                self.bind_expr(lo, b);
                self.bind_expr(hi, b);
                body.iter_mut().for_each(|s| self.bind_stmt(s, b));
            }
            StmtKind::ForMap { var, map, body } => {
                Self::var(b, var);
                if let Some(caller) = b.maps.get(&map.name) {
                    map.name = caller.name.clone();
                }
                body.iter_mut().for_each(|s| self.bind_stmt(s, b));
            }
            StmtKind::Let { var, value, .. } => {
                Self::var(b, var);
                value.iter_mut().for_each(|v| self.bind_expr(v, b));
            }
            StmtKind::Break | StmtKind::Continue | StmtKind::Return => {}
        }
    }

    fn bind_expr(&mut self, e: &mut Expr, b: &Binding) {
        match &mut e.kind {
            ExprKind::Builtin(name) => {
                if let Some(arg) = b.exprs.get(name.as_str()) {
                    *e = arg.clone();
                }
                return;
            }
            ExprKind::Var(name) => return Self::var_name(b, name),
            ExprKind::Map(m) => return self.map(b, m),
            _ => {}
        }
        each_sub_expr(e, &mut |sub| self.bind_expr(sub, b));
    }
}

/// Calls `f` on each expression directly inside `e` (not on `e`, not deeper).
fn each_sub_expr(e: &mut Expr, f: &mut dyn FnMut(&mut Expr)) {
    match &mut e.kind {
        ExprKind::Int(_) | ExprKind::Str(_) | ExprKind::Builtin(_) | ExprKind::Positional(_) | ExprKind::Var(_) => {}
        ExprKind::Map(m) => m.keys.iter_mut().for_each(f),
        ExprKind::Field { base, .. } | ExprKind::Unary { expr: base, .. } | ExprKind::Cast { expr: base, .. } => f(base),
        ExprKind::Index { base, index } => {
            f(base);
            f(index);
        }
        ExprKind::Call { args, .. } | ExprKind::Tuple(args) => args.iter_mut().for_each(f),
        ExprKind::Binary { lhs, rhs, .. } => {
            f(lhs);
            f(rhs);
        }
        ExprKind::Ternary { cond, then, otherwise } => {
            f(cond);
            f(then);
            f(otherwise);
        }
        ExprKind::Incr { target, .. } => f(target),
    }
}
