//! Expressions: the ternary, binary operators (precedence by pest's Pratt parser), unary and cast
//! prefixes, postfix chains (`.f`, `->f`, `[i]`) and primaries.

use std::sync::LazyLock;

use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};

use super::{ident_of, span_of, Builder};
use crate::diag::Diagnostic;
use crate::syntax::ast::*;
use crate::syntax::{literals, Rule};

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    use Rule::*;
    let l = |r| Op::infix(r, Assoc::Left);
    PrattParser::new()
        .op(l(or))
        .op(l(and))
        .op(l(bit_or))
        .op(l(bit_xor))
        .op(l(bit_and))
        .op(l(eq) | l(ne))
        .op(l(lt) | l(le) | l(gt) | l(ge))
        .op(l(shl) | l(shr))
        .op(l(add) | l(sub))
        .op(l(mul) | l(div) | l(rem))
});

fn binop(r: Rule) -> BinOp {
    match r {
        Rule::or => BinOp::Or,
        Rule::and => BinOp::And,
        Rule::bit_or => BinOp::BitOr,
        Rule::bit_xor => BinOp::BitXor,
        Rule::bit_and => BinOp::BitAnd,
        Rule::eq => BinOp::Eq,
        Rule::ne => BinOp::Ne,
        Rule::lt => BinOp::Lt,
        Rule::le => BinOp::Le,
        Rule::gt => BinOp::Gt,
        Rule::ge => BinOp::Ge,
        Rule::shl => BinOp::Shl,
        Rule::shr => BinOp::Shr,
        Rule::add => BinOp::Add,
        Rule::sub => BinOp::Sub,
        Rule::mul => BinOp::Mul,
        Rule::div => BinOp::Div,
        Rule::rem => BinOp::Mod,
        r => unreachable!("not an operator: {r:?}"),
    }
}

impl Builder {
    pub(super) fn expr(&mut self, p: Pair<Rule>) -> Expr {
        debug_assert_eq!(p.as_rule(), Rule::expr);
        let span = self.span(&p);
        // The Pratt parser nests a chain of n operators up to n deep.
        let ops = p.clone().into_inner().next().map_or(0, |b| b.into_inner().count() / 2);
        if !self.deeper(ops + 1, span) {
            return Expr { kind: ExprKind::Int(0), span };
        }
        let e = self.expr_tree(p, span);
        self.depth -= ops + 1;
        e
    }

    fn expr_tree(&mut self, p: Pair<Rule>, span: Span) -> Expr {
        let mut it = p.into_inner();
        let cond = self.binary(it.next().expect("binary"));
        match (it.next(), it.next()) {
            (Some(a), Some(b)) => {
                let then = Box::new(self.expr(a));
                let otherwise = Box::new(self.expr(b));
                Expr { kind: ExprKind::Ternary { cond: Box::new(cond), then, otherwise }, span }
            }
            _ => cond,
        }
    }

    fn binary(&mut self, p: Pair<Rule>) -> Expr {
        PRATT
            .map_primary(|u| self.unary(u))
            .map_infix(|lhs: Expr, op, rhs: Expr| Expr {
                span: lhs.span.to(rhs.span),
                kind: ExprKind::Binary { op: binop(op.as_rule()), lhs: Box::new(lhs), rhs: Box::new(rhs) },
            })
            .parse(p.into_inner())
    }

    fn unary(&mut self, p: Pair<Rule>) -> Expr {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let first = it.next().expect("unary content");
        if first.as_rule() == Rule::postfix {
            return self.postfix(first);
        }
        if first.as_rule() == Rule::incr_pre {
            let mut parts = first.into_inner();
            let (op, target) = (parts.next().expect("op"), parts.next().expect("target"));
            let delta = if op.as_str() == "++" { 1 } else { -1 };
            let tspan = self.span(&target);
            let kind = match target.as_rule() {
                Rule::map_ref => ExprKind::Map(self.map_ref(target)),
                _ => ExprKind::Var(target.as_str().get(1..).unwrap_or_default().to_string()),
            };
            let target = Box::new(Expr { kind, span: tspan });
            return Expr { kind: ExprKind::Incr { target, delta, post: false }, span };
        }
        if !self.deeper(1, span) {
            return Expr { kind: ExprKind::Int(0), span };
        }
        let e = self.prefixed(first, it, span);
        self.depth -= 1;
        e
    }

    /// `-e`, `!e`, `~e`, `(type) e`.
    fn prefixed(&mut self, first: Pair<Rule>, mut it: Pairs<Rule>, span: Span) -> Expr {
        let kind = match first.as_rule() {
            Rule::neg | Rule::not | Rule::bit_not | Rule::deref => {
                let op = match first.as_rule() {
                    Rule::neg => UnOp::Neg,
                    Rule::not => UnOp::Not,
                    Rule::deref => UnOp::Deref,
                    _ => UnOp::BitNot,
                };
                ExprKind::Unary { op, expr: Box::new(self.unary(it.next().expect("operand"))) }
            }
            Rule::cast => {
                let mut c = first.into_inner();
                let ty = ident_of(&c.next().expect("type"));
                ExprKind::Cast { ty, expr: Box::new(self.unary(c.next().expect("operand"))) }
            }
            r => unreachable!("in unary: {r:?}"),
        };
        Expr { kind, span }
    }

    fn postfix(&mut self, p: Pair<Rule>) -> Expr {
        let whole = self.span(&p);
        let it = p.into_inner();
        let ops = it.len() - 1;
        if !self.deeper(ops, whole) {
            return Expr { kind: ExprKind::Int(0), span: whole };
        }
        let e = self.postfix_chain(it);
        self.depth -= ops;
        e
    }

    fn postfix_chain(&mut self, mut it: Pairs<Rule>) -> Expr {
        let mut e = self.primary(it.next().expect("primary"));
        for op in it {
            let span = Span::new(e.span.start, op.as_span().end());
            let rule = op.as_rule();
            if rule == Rule::incr_post {
                // `$v++`, `@m[k]--`: the checker refuses it on anything but a variable or a map.
                let delta = if op.as_str().trim() == "++" { 1 } else { -1 };
                e = Expr { kind: ExprKind::Incr { target: Box::new(e), delta, post: true }, span };
                continue;
            }
            let inner = op.into_inner().next().expect("postfix operand");
            let kind = match rule {
                Rule::field_dot | Rule::field_arrow => ExprKind::Field {
                    base: Box::new(e),
                    field: ident_of(&inner),
                    arrow: rule == Rule::field_arrow,
                },
                Rule::index => ExprKind::Index { base: Box::new(e), index: Box::new(self.expr(inner)) },
                r => unreachable!("postfix: {r:?}"),
            };
            e = Expr { kind, span };
        }
        e
    }

    fn primary(&mut self, p: Pair<Rule>) -> Expr {
        let span = self.span(&p);
        let text = p.as_str();
        let kind = match p.as_rule() {
            Rule::int => ExprKind::Int(literals::int(text, span, &mut self.errors)),
            Rule::char_lit => ExprKind::Int(literals::char_lit(text, span, &mut self.errors)),
            Rule::string => ExprKind::Str(literals::string(text, span, &mut self.errors)),
            Rule::argcount => ExprKind::Builtin("$#".to_string()),
            Rule::positional => match text.get(1..).unwrap_or_default().parse::<u32>() {
                Ok(0) => {
                    let mut d = Diagnostic::new(span, "there is no positional parameter `$0`", "not a parameter");
                    d.help = Some("positional parameters are numbered from `$1`".to_string());
                    self.errors.push(d);
                    ExprKind::Positional(0)
                }
                Ok(n) => ExprKind::Positional(n),
                Err(_) => {
                    self.errors.push(Diagnostic::new(span, "positional parameter number is too large", "too large"));
                    ExprKind::Positional(0)
                }
            },
            Rule::var => ExprKind::Var(text.get(1..).unwrap_or_default().to_string()),
            Rule::map_ref => ExprKind::Map(self.map_ref(p)),
            // `true` and `false` are the integers 1 and 0, as bpftrace 0.17 has them (0.20+ gives them
            // a `bool` type that prints as `true`/`false`; see docs/LANGUAGE.md).
            Rule::builtin if text == "true" => ExprKind::Int(1),
            Rule::builtin if text == "false" => ExprKind::Int(0),
            Rule::builtin => ExprKind::Builtin(text.to_string()),
            Rule::call => {
                let mut it = p.into_inner();
                let func = ident_of(&it.next().expect("func"));
                // A type argument is carried as a builtin of its text, which sizeof and offsetof read.
                let args = it
                    .map(|a| match a.as_rule() {
                        Rule::type_arg => Expr { kind: ExprKind::Builtin(a.as_str().to_string()), span: span_of(&a) },
                        _ => self.expr(a),
                    })
                    .collect();
                ExprKind::Call { func, args }
            }
            Rule::paren => {
                let mut items: Vec<Expr> = p.into_inner().map(|e| self.expr(e)).collect();
                if items.len() == 1 {
                    // A parenthesised expression keeps its node; its span grows to cover the parentheses.
                    let mut e = items.pop().expect("one item");
                    e.span = span;
                    return e;
                }
                ExprKind::Tuple(items)
            }
            r => unreachable!("not a primary: {r:?}"),
        };
        Expr { kind, span }
    }
}
