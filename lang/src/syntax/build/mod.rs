//! pest pairs to `ast` nodes: probes, blocks and statements here, expressions in `expr`. The builder also
//! keeps nesting within `MAX_DEPTH` and collects the errors of malformed literals.

mod expr;

use pest::iterators::Pair;

use super::ast::*;
use super::{Rule, MAX_DEPTH};
use crate::diag::Diagnostic;

/// Builds the tree of a parsed `script` pair; `trivia` marks the bytes that are whitespace or comments.
pub(super) fn script(top: Pair<Rule>, trivia: Vec<bool>) -> Result<Script, Vec<Diagnostic>> {
    let mut b = Builder { errors: Vec::new(), trivia, depth: 0, too_deep: false };
    let script = b.script_node(top);
    if b.errors.is_empty() {
        Ok(script)
    } else {
        Err(b.errors)
    }
}

pub(super) struct Builder {
    pub errors: Vec<Diagnostic>,
    trivia: Vec<bool>,
    /// Nesting of the expression or block being built (see `MAX_DEPTH`).
    depth: usize,
    /// Whether the one "nested too deeply" error was reported.
    too_deep: bool,
}

/// The span of an atomic pair (which never holds trailing whitespace).
pub(super) fn span_of(p: &Pair<Rule>) -> Span {
    let s = p.as_span();
    Span::new(s.start(), s.end())
}

pub(super) fn ident_of(p: &Pair<Rule>) -> Ident {
    Ident { name: p.as_str().to_string(), span: span_of(p) }
}

/// `enum NAME { A, B = 5 };`
/// `#include <linux/sched.h>` → `linux/sched.h` (`"x.h"` likewise), spanned.
fn include(p: &Pair<Rule>) -> Option<Ident> {
    let text = p.as_str();
    let rest = text.strip_prefix("#include")?;
    let name = rest.trim().trim_start_matches(['<', '"']);
    let name = name.split(['>', '"']).next()?.trim();
    let at = span_of(p).start + text.find(name)?;
    (!name.is_empty()).then(|| Ident { name: name.to_string(), span: Span::new(at, at + name.len()) })
}

fn c_enum(p: Pair<Rule>) -> CEnum {
    let mut name = None;
    let mut items = Vec::new();
    for q in p.into_inner() {
        match q.as_rule() {
            Rule::ident => name = Some(ident_of(&q)),
            Rule::enum_item => {
                let mut it = q.into_inner();
                let item = ident_of(&it.next().expect("enumerator"));
                items.push((item, it.next().map(|v| ident_of(&v))));
            }
            _ => {}
        }
    }
    CEnum { name, items }
}

/// `$v` or `@m` without its sigil: name `v`, span of `v` only (empty for the anonymous map `@`).
pub(super) fn unsigiled(p: &Pair<Rule>) -> Ident {
    let s = span_of(p);
    let name = p.as_str().get(1..).unwrap_or_default().to_string();
    Ident { name, span: Span::new((s.start + 1).min(s.end), s.end) }
}

/// bpftrace 0.2x's spellings of probes, as 0.17 spells them: `begin`/`end` are `BEGIN`/`END`, and
/// `interval:1s` (a duration) is `interval:s:1`.
fn newer_spec(provider: &mut Ident, parts: &mut Vec<Ident>) {
    match (provider.name.as_str(), parts.len()) {
        ("begin", 0) => provider.name = "BEGIN".into(),
        ("end", 0) => provider.name = "END".into(),
        ("interval" | "i", 1) => {
            let text = parts[0].name.clone();
            let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
            let (n, unit) = text.split_at(digits);
            if !n.is_empty() && matches!(unit, "s" | "ms" | "us" | "ns" | "hz") {
                let span = parts[0].span;
                *parts = vec![Ident { name: unit.to_string(), span }, Ident { name: n.to_string(), span }];
            }
        }
        _ => {}
    }
}

/// `+=` to `Add`, etc.
fn compound_op(text: &str) -> BinOp {
    match text {
        "+=" => BinOp::Add,
        "-=" => BinOp::Sub,
        "*=" => BinOp::Mul,
        "/=" => BinOp::Div,
        "%=" => BinOp::Mod,
        "&=" => BinOp::BitAnd,
        "|=" => BinOp::BitOr,
        "^=" => BinOp::BitXor,
        "<<=" => BinOp::Shl,
        ">>=" => BinOp::Shr,
        t => unreachable!("not a compound assignment: {t}"),
    }
}

impl Builder {
    /// The span of a pair without the whitespace and comments pest skipped after its last token
    /// (`expr = { binary ~ ("?" ...)? }` consumes the blanks before a `?` that is not there).
    pub(super) fn span(&self, p: &Pair<Rule>) -> Span {
        let s = span_of(p);
        let mut end = s.end;
        while end > s.start && self.trivia[end - 1] {
            end -= 1;
        }
        Span::new(s.start, end)
    }

    /// Enters `levels` more levels of nesting at `span`; false (and one error) past `MAX_DEPTH`. Each
    /// successful call is paired with `self.depth -= levels`.
    pub(super) fn deeper(&mut self, levels: usize, span: Span) -> bool {
        if self.depth + levels <= MAX_DEPTH {
            self.depth += levels;
            return true;
        }
        if !self.too_deep {
            self.too_deep = true;
            self.errors.push(
                Diagnostic::new(span, format!("this nests more than {MAX_DEPTH} levels deep"), "nested too deeply")
                    .with_help("split the expression with variables (`$a = ...;`) or flatten the blocks"),
            );
        }
        false
    }

    fn script_node(&mut self, p: Pair<Rule>) -> Script {
        let mut script = Script::default();
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::probe => script.probes.push(self.probe(q)),
                Rule::macro_def => {
                    let span = self.span(&q);
                    let mut it = q.into_inner();
                    it.next(); // `macro`
                    let name = ident_of(&it.next().expect("macro name"));
                    let (mut params, mut body) = (Vec::new(), Vec::new());
                    for r in it {
                        match r.as_rule() {
                            Rule::macro_param => params.push(ident_of(&r)),
                            _ => body = self.block(r),
                        }
                    }
                    script.macros.push(MacroDef { name, params, body, span, c_like: false });
                }
                Rule::c_def => {
                    let def = self.c_def(q);
                    script.types.push(def);
                }
                Rule::c_enum => script.enums.push(c_enum(q)),
                Rule::include => script.includes.extend(include(&q)),
                Rule::c_typedef => {
                    let mut parts = q.into_inner().filter(|d| d.as_rule() != Rule::kw_typedef);
                    match (parts.next(), parts.next()) {
                        (Some(d), None) => script.typedefs.push(CTypedef { decl: d.as_str().trim().to_string(), span: span_of(&d) }),
                        // `typedef struct [tag] { ... } NAME;`: the struct (an unnamed one is called
                        // `anonymous.NAME`, which no script can write), then NAME for it.
                        (Some(record), Some(name)) => {
                            let name = ident_of(&name);
                            let def = self.typedef_record(record, &name);
                            let tag = if def.union { "union" } else { "struct" };
                            let decl = format!("{tag} {} {}", def.name.name, name.name);
                            script.typedefs.push(CTypedef { decl, span: name.span });
                            script.types.push(def);
                        }
                        _ => {}
                    }
                }
                Rule::config_block => {
                    for item in q.into_inner().filter(|i| i.as_rule() == Rule::config_item) {
                        let mut it = item.into_inner();
                        let key = ident_of(&it.next().expect("config key"));
                        let value = ident_of(&it.next().expect("config value"));
                        script.config.push(ConfigItem { key, value });
                    }
                }
                _ => {}
            }
        }
        script
    }

    fn typedef_record(&mut self, p: Pair<Rule>, typedef: &Ident) -> CDef {
        let span = self.span(&p);
        let mut union = false;
        let mut name = Ident { name: format!("anonymous.{}", typedef.name), span: typedef.span };
        let mut members = Vec::new();
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::c_tag => union = q.as_str() == "union",
                Rule::ident => name = ident_of(&q),
                _ => {
                    let s = span_of(&q);
                    members.push((q.as_str().trim_end_matches(';').trim().to_string(), Span::new(s.start, s.end.saturating_sub(1))));
                }
            }
        }
        CDef { union, name, members, span }
    }

    fn c_def(&mut self, p: Pair<Rule>) -> CDef {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let union = it.next().is_some_and(|t| t.as_str() == "union");
        let name = ident_of(&it.next().expect("name"));
        let members = it
            .map(|m| {
                let s = span_of(&m);
                (m.as_str().trim_end_matches(';').trim().to_string(), Span::new(s.start, s.end.saturating_sub(1)))
            })
            .collect();
        CDef { union, name, members, span }
    }

    fn probe(&mut self, p: Pair<Rule>) -> Probe {
        let span = self.span(&p);
        let mut specs = Vec::new();
        let mut predicate = None;
        let mut body = Vec::new();
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::probe_spec => {
                    let span = self.span(&q);
                    let mut it = q.into_inner();
                    let mut provider = ident_of(&it.next().expect("provider"));
                    let unquoted = |mut id: Ident| {
                        if let Some(inner) = id.name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
                            id.name = inner.to_string();
                        }
                        id
                    };
                    let mut parts: Vec<Ident> = it.map(|p| unquoted(ident_of(&p))).collect();
                    newer_spec(&mut provider, &mut parts);
                    specs.push(ProbeSpec { provider, parts, span });
                }
                Rule::predicate => predicate = Some(self.expr(q.into_inner().next().expect("predicate expr"))),
                Rule::brace_block | Rule::angle_block => body = self.block(q),
                r => unreachable!("in probe: {r:?}"),
            }
        }
        Probe { specs, predicate, body, span }
    }

    fn block(&mut self, p: Pair<Rule>) -> Vec<Stmt> {
        if !self.deeper(1, self.span(&p)) {
            return Vec::new();
        }
        let stmts = p.into_inner().map(|s| self.stmt(s)).collect();
        self.depth -= 1;
        stmts
    }

    fn stmt(&mut self, p: Pair<Rule>) -> Stmt {
        let span = self.span(&p);
        let rule = p.as_rule();
        let mut it = p.into_inner();
        let kind = match rule {
            Rule::if_stmt => {
                it.next(); // `if`
                let cond = self.expr(it.next().expect("cond"));
                let then = self.block(it.next().expect("then"));
                let otherwise = match it.nth(1) {
                    Some(q) if q.as_rule() == Rule::if_stmt => {
                        if !self.deeper(1, self.span(&q)) {
                            return Stmt { kind: StmtKind::Return, span };
                        }
                        let nested = vec![self.stmt(q)];
                        self.depth -= 1;
                        nested
                    }
                    Some(q) => self.block(q),
                    None => Vec::new(),
                };
                StmtKind::If { cond, then, otherwise }
            }
            Rule::unroll_stmt => {
                it.next();
                let count = self.expr(it.next().expect("count"));
                let body = self.block(it.next().expect("body"));
                StmtKind::Unroll { count, body }
            }
            Rule::for_stmt => {
                it.next();
                let var = unsigiled(&it.next().expect("var"));
                let first = it.next().expect("lo");
                if first.as_rule() == Rule::for_map {
                    let map = unsigiled(&first.into_inner().next().expect("map name"));
                    let body = self.block(it.next().expect("body"));
                    return Stmt { kind: StmtKind::ForMap { var, map, body }, span };
                }
                let lo = self.expr(first);
                let hi = self.expr(it.next().expect("hi"));
                let body = self.block(it.next().expect("body"));
                StmtKind::For { var, lo, hi, body }
            }
            Rule::delete_stmt => {
                it.next();
                let mut map = self.map_ref(it.next().expect("map"));
                if let Some(k) = it.next() {
                    let key = self.expr(k);
                    if !map.keys.is_empty() {
                        self.errors.push(
                            Diagnostic::new(key.span, "too many keys for `delete`", "second key")
                                .with_help("write `delete(@m[k])` or `delete(@m, k)`"),
                        );
                    }
                    // `delete(@m, (a, b))` is `delete(@m[a, b])`.
                    match key.kind {
                        ExprKind::Tuple(ks) => map.keys = ks,
                        _ => map.keys = vec![key],
                    }
                }
                StmtKind::Delete { map }
            }
            Rule::return_stmt => StmtKind::Return,
            Rule::break_stmt => StmtKind::Break,
            Rule::continue_stmt => StmtKind::Continue,
            Rule::while_stmt => {
                it.next();
                let cond = self.expr(it.next().expect("cond"));
                let body = self.block(it.next().expect("body"));
                StmtKind::While { cond, body }
            }
            Rule::let_stmt => {
                it.next();
                let var = unsigiled(&it.next().expect("var"));
                let (mut ty, mut value) = (None, None);
                for q in it {
                    match q.as_rule() {
                        Rule::let_type => ty = Some(ident_of(&q)),
                        _ => value = Some(self.expr(q)),
                    }
                }
                StmtKind::Let { var, ty, value }
            }
            Rule::map_assign | Rule::var_assign => {
                let target = it.next().expect("target");
                let op = it.next().expect("op").as_str();
                let value = self.expr(it.next().expect("value"));
                match (rule, op) {
                    (Rule::map_assign, "=") => StmtKind::MapAssign { map: self.map_ref(target), value },
                    (Rule::map_assign, op) => {
                        StmtKind::MapCompound { map: self.map_ref(target), op: compound_op(op), value }
                    }
                    (_, "=") => StmtKind::VarAssign { var: unsigiled(&target), value },
                    (_, op) => StmtKind::VarCompound { var: unsigiled(&target), op: compound_op(op), value },
                }
            }
            Rule::map_incr_post | Rule::map_incr_pre | Rule::var_incr_post | Rule::var_incr_pre => {
                let (a, b) = (it.next().expect("a"), it.next().expect("b"));
                let (target, op) = if a.as_rule() == Rule::incr_op { (b, a) } else { (a, b) };
                let delta = if op.as_str() == "++" { 1 } else { -1 };
                if target.as_rule() == Rule::map_ref {
                    StmtKind::MapIncr { map: self.map_ref(target), delta }
                } else {
                    StmtKind::VarIncr { var: unsigiled(&target), delta }
                }
            }
            Rule::expr_stmt => StmtKind::Expr(self.expr(it.next().expect("expr"))),
            r => unreachable!("not a statement: {r:?}"),
        };
        Stmt { kind, span }
    }

    pub(super) fn map_ref(&mut self, p: Pair<Rule>) -> MapRef {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let name = unsigiled(&it.next().expect("map name"));
        let keys = it.map(|k| self.expr(k)).collect();
        MapRef { name, keys, span }
    }
}
