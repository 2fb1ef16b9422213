//! A compact, deterministic S-expression form of the syntax tree, for golden tests. Spans are not shown.
//!
//! One probe per line: `(probe SPEC... [(pred E)] STMT...)`, a spec as `(provider part...)`.
//! Expressions: literals as written (strings re-escaped), builtins bare, `$v`, `$1`, `(map name key...)`
//! (the anonymous map prints as `(map @ key...)`), `(field base f)`, `(arrow base f)`, `(index base i)`,
//! `(call f arg...)`, `(OP a b)`, `(OP a)`, `(? c a b)`, `(cast ty e)`, `(tuple a...)`.
//! Statements: `(assign target e)`, `(OP= target e)`, `(++ target)`, `(-- target)`,
//! `(if c (then s...) (else s...))`, `(unroll n s...)`, `(for $i lo hi s...)`, `(delete (map ...))`,
//! `(return)`; an expression statement prints as its expression.

use crate::ast::*;
use std::fmt::Write;

pub fn sexpr(script: &Script) -> String {
    let mut out = String::new();
    if !script.config.is_empty() {
        let items: Vec<String> = script.config.iter().map(|c| format!("({} {})", c.key.name, c.value.name)).collect();
        out.push_str(&format!("(config {})\n", items.join(" ")));
    }
    for p in &script.probes {
        probe(&mut out, p);
        out.push('\n');
    }
    out
}

/// One expression, e.g. for tests of the expression grammar.
pub fn expr_sexpr(e: &Expr) -> String {
    let mut out = String::new();
    expr(&mut out, e);
    out
}

fn probe(o: &mut String, p: &Probe) {
    o.push_str("(probe");
    for s in &p.specs {
        o.push_str(" (");
        o.push_str(&s.provider.name);
        for part in &s.parts {
            o.push(' ');
            o.push_str(&part.name);
        }
        o.push(')');
    }
    if let Some(pred) = &p.predicate {
        o.push_str(" (pred ");
        expr(o, pred);
        o.push(')');
    }
    stmts(o, &p.body);
    o.push(')');
}

/// Each statement preceded by a space.
fn stmts(o: &mut String, body: &[Stmt]) {
    for s in body {
        o.push(' ');
        stmt(o, s);
    }
}

fn stmt(o: &mut String, s: &Stmt) {
    match &s.kind {
        StmtKind::Expr(e) => expr(o, e),
        StmtKind::MapAssign { map, value } => {
            o.push_str("(assign ");
            map_ref(o, map);
            o.push(' ');
            expr(o, value);
            o.push(')');
        }
        StmtKind::MapCompound { map, op, value } => {
            let _ = write!(o, "({}= ", op.symbol());
            map_ref(o, map);
            o.push(' ');
            expr(o, value);
            o.push(')');
        }
        StmtKind::MapIncr { map, delta } => {
            o.push_str(if *delta > 0 { "(++ " } else { "(-- " });
            map_ref(o, map);
            o.push(')');
        }
        StmtKind::VarAssign { var, value } => {
            let _ = write!(o, "(assign ${} ", var.name);
            expr(o, value);
            o.push(')');
        }
        StmtKind::VarCompound { var, op, value } => {
            let _ = write!(o, "({}= ${} ", op.symbol(), var.name);
            expr(o, value);
            o.push(')');
        }
        StmtKind::VarIncr { var, delta } => {
            let _ = write!(o, "({} ${})", if *delta > 0 { "++" } else { "--" }, var.name);
        }
        StmtKind::If { cond, then, otherwise } => {
            o.push_str("(if ");
            expr(o, cond);
            o.push_str(" (then");
            stmts(o, then);
            o.push(')');
            if !otherwise.is_empty() {
                o.push_str(" (else");
                stmts(o, otherwise);
                o.push(')');
            }
            o.push(')');
        }
        StmtKind::Unroll { count, body } => {
            o.push_str("(unroll ");
            expr(o, count);
            stmts(o, body);
            o.push(')');
        }
        StmtKind::For { var, lo, hi, body } => {
            let _ = write!(o, "(for ${} ", var.name);
            expr(o, lo);
            o.push(' ');
            expr(o, hi);
            stmts(o, body);
            o.push(')');
        }
        StmtKind::ForMap { var, map, body } => {
            let _ = write!(o, "(for ${} @{}", var.name, map.name);
            stmts(o, body);
            o.push(')');
        }
        StmtKind::Delete { map } => {
            o.push_str("(delete ");
            map_ref(o, map);
            o.push(')');
        }
        StmtKind::Return => o.push_str("(return)"),
        StmtKind::Break => o.push_str("(break)"),
        StmtKind::Continue => o.push_str("(continue)"),
        StmtKind::While { cond, body } => {
            o.push_str("(while ");
            expr(o, cond);
            stmts(o, body);
            o.push(')');
        }
        StmtKind::Let { var, ty, value } => {
            let _ = write!(o, "(let ${}", var.name);
            if let Some(t) = ty {
                let _ = write!(o, " : {}", t.name);
            }
            if let Some(v) = value {
                o.push(' ');
                expr(o, v);
            }
            o.push(')');
        }
    }
}

fn map_ref(o: &mut String, m: &MapRef) {
    o.push_str("(map ");
    o.push_str(if m.name.name.is_empty() { "@" } else { &m.name.name });
    for k in &m.keys {
        o.push(' ');
        expr(o, k);
    }
    o.push(')');
}

fn expr(o: &mut String, e: &Expr) {
    match &e.kind {
        ExprKind::Int(v) => {
            let _ = write!(o, "{v}");
        }
        ExprKind::Str(s) => {
            o.push('"');
            for c in s.chars() {
                match c {
                    '\n' => o.push_str("\\n"),
                    '\t' => o.push_str("\\t"),
                    '\r' => o.push_str("\\r"),
                    '"' => o.push_str("\\\""),
                    '\\' => o.push_str("\\\\"),
                    c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                        let _ = write!(o, "\\x{:02x}", c as u32);
                    }
                    c => o.push(c),
                }
            }
            o.push('"');
        }
        ExprKind::Builtin(b) => o.push_str(b),
        ExprKind::Positional(n) => {
            let _ = write!(o, "${n}");
        }
        ExprKind::Var(v) => {
            let _ = write!(o, "${v}");
        }
        ExprKind::Map(m) => map_ref(o, m),
        ExprKind::Field { base, field, arrow } => {
            o.push_str(if *arrow { "(arrow " } else { "(field " });
            expr(o, base);
            let _ = write!(o, " {})", field.name);
        }
        ExprKind::Index { base, index } => {
            o.push_str("(index ");
            expr(o, base);
            o.push(' ');
            expr(o, index);
            o.push(')');
        }
        ExprKind::Call { func, args } => {
            let _ = write!(o, "(call {}", func.name);
            for a in args {
                o.push(' ');
                expr(o, a);
            }
            o.push(')');
        }
        ExprKind::Unary { op, expr: x } => {
            let _ = write!(o, "({} ", op.symbol());
            expr(o, x);
            o.push(')');
        }
        ExprKind::Incr { target, delta, post } => {
            let op = if *delta > 0 { "++" } else { "--" };
            let _ = write!(o, "({}{} ", if *post { "post" } else { "pre" }, op);
            expr(o, target);
            o.push(')');
        }
        ExprKind::Binary { op, lhs, rhs } => {
            let _ = write!(o, "({} ", op.symbol());
            expr(o, lhs);
            o.push(' ');
            expr(o, rhs);
            o.push(')');
        }
        ExprKind::Ternary { cond, then, otherwise } => {
            o.push_str("(? ");
            expr(o, cond);
            o.push(' ');
            expr(o, then);
            o.push(' ');
            expr(o, otherwise);
            o.push(')');
        }
        ExprKind::Cast { ty, expr: x } => {
            let _ = write!(o, "(cast {} ", ty.name);
            expr(o, x);
            o.push(')');
        }
        ExprKind::Tuple(items) => {
            o.push_str("(tuple");
            for i in items {
                o.push(' ');
                expr(o, i);
            }
            o.push(')');
        }
    }
}
