//! Text to syntax tree: pest does the grammar (`grammar.pest`), this file turns pairs into `ast` nodes and
//! pest's failures into diagnostics in plain words.

use std::sync::LazyLock;

use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser as _;

use crate::ast::*;
use crate::diag::Diagnostic;

#[derive(pest_derive::Parser)]
#[grammar = "grammar.pest"]
struct Grammar;

/// Parse a whole script. On failure every error found is returned (lexical errors such as unterminated
/// strings, or the first syntax error, or all malformed literals).
pub fn parse(src: &str) -> Result<Script, Vec<Diagnostic>> {
    let lex = scan(src);
    if !lex.errors.is_empty() {
        return Err(lex.errors);
    }
    pest::set_error_detail(true);
    let mut pairs = Grammar::parse(Rule::script, src).map_err(|e| vec![syntax_error(src, &lex, e)])?;
    let mut b = Builder { errors: Vec::new(), trivia: lex.trivia, depth: 0, too_deep: false };
    let script = b.script(pairs.next().expect("script pair"));
    if b.errors.is_empty() {
        Ok(script)
    } else {
        Err(b.errors)
    }
}

// ---- lexical pre-pass ---------------------------------------------------------------------------------

/// What a quick scan of the text finds before the grammar runs: unterminated strings, character literals
/// and comments (reported here, as one precise error each, rather than as a confusing syntax error far
/// away), and the brackets still open at the end of the text (for the "never closed" hint).
struct Lex {
    errors: Vec<Diagnostic>,
    unclosed: Vec<(char, usize)>,
    /// For each byte: is it whitespace, comment or shebang (outside strings)?
    trivia: Vec<bool>,
}

fn scan(src: &str) -> Lex {
    let b = src.as_bytes();
    let mut errors = Vec::new();
    let mut stack: Vec<(char, usize)> = Vec::new();
    let mut trivia = vec![false; b.len()];
    let mut i = 0;
    if src.starts_with("#!") {
        i = src.find('\n').unwrap_or(src.len());
        trivia[..i].fill(true);
    }
    let line_end = |from: usize| src[from..].find('\n').map_or(src.len(), |n| from + n);
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' | b'\r' | b'\n' => {
                trivia[i] = true;
                i += 1;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = line_end(i);
                trivia[i..end].fill(true);
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => match src[i + 2..].find("*/") {
                Some(n) => {
                    trivia[i..i + 2 + n + 2].fill(true);
                    i = i + 2 + n + 2
                }
                None => {
                    errors.push(
                        Diagnostic::new(Span::new(i, i + 2), "unterminated comment", "comment starts here")
                            .with_help("close the comment with `*/`"),
                    );
                    break;
                }
            },
            q @ (b'"' | b'\'') => {
                let mut j = i + 1;
                loop {
                    match b.get(j) {
                        Some(b'\\') => j += 2,
                        Some(c) if *c == q => break,
                        Some(b'\n') | None => {
                            let end = line_end(i).min(j);
                            let (what, close) =
                                if q == b'"' { ("string", "\"") } else { ("character literal", "'") };
                            errors.push(
                                Diagnostic::new(
                                    Span::new(i, end),
                                    format!("unterminated {what}"),
                                    format!("this {what} has no closing `{close}`"),
                                )
                                .with_help(format!("add `{close}` before the end of the line")),
                            );
                            j = end;
                            break;
                        }
                        Some(_) => j += 1,
                    }
                }
                i = j + 1;
            }
            c @ (b'{' | b'(' | b'[') => {
                stack.push((c as char, i));
                i += 1;
            }
            c @ (b'}' | b')' | b']') => {
                let open = match c {
                    b'}' => '{',
                    b')' => '(',
                    _ => '[',
                };
                if stack.last().map(|s| s.0) == Some(open) {
                    stack.pop();
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    Lex { errors, unclosed: stack, trivia }
}

// ---- syntax errors ------------------------------------------------------------------------------------

fn syntax_error(src: &str, lex: &Lex, e: pest::error::Error<Rule>) -> Diagnostic {
    use pest::error::{ErrorVariant, InputLocation};
    let mut pos = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    // pest stops before its recursion exhausts the stack.
    if let ErrorVariant::CustomError { message } = &e.variant {
        let at = pos.min(src.len());
        return Diagnostic::new(Span::new(at, at), format!("the program nests too deeply to parse ({message})"), "here")
            .with_help(format!("vt accepts at most {MAX_DEPTH} levels of nesting"));
    }
    let mut rules: Vec<Rule> = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => positives.clone(),
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    // What pest tried at the failure point: literal tokens (`;`, `}`, `+`, ...) and rules.
    let mut tokens: Vec<String> = Vec::new();
    if let Some(att) = e.parse_attempts() {
        // The tokens may have been tried further on than the rules (`if x`: `(` after `if`); then only
        // they describe the failure.
        if att.max_position > pos {
            pos = att.max_position;
            rules.clear();
        }
        // pest does not export its token type; its Display is the literal text for literal tokens.
        for t in att.expected_tokens() {
            let t = t.to_string();
            let noise = ["/*", "//", "#!", "_"].contains(&t.as_str());
            if t.chars().all(|c| c.is_ascii_punctuation()) && !noise && !tokens.contains(&t) {
                tokens.push(t);
            }
        }
    }
    if std::env::var_os("VT_PARSE_DEBUG").is_some() {
        eprintln!("tokens {tokens:?} rules {rules:?}");
    }
    let has = |t: &str, tokens: &[String]| tokens.iter().any(|x| x == t);
    // After a complete expression every binary operator could follow; that is never worth listing.
    const OPS: [&str; 24] = [
        "!=", "%", "&", "&&", "*", "+", "-", "/", "<", "<<", "<=", "==", ">", ">=", ">>", "^", "|", "||", "?",
        ".", "->", "[", "(", "=",
    ];
    let after_expr = has("+", &tokens) && has("*", &tokens);
    let in_angle = after_expr && has(";", &tokens) && !has("}", &tokens) && has(">", &tokens);
    // Inside a predicate the only thing that closes the expression is `/`, also an operator.
    let in_pred = after_expr && has("/", &tokens) && tokens.iter().all(|t| OPS.contains(&t.as_str()));
    if after_expr {
        tokens.retain(|t| !OPS.contains(&t.as_str()) || (in_angle && t == ">") || (in_pred && t == "/"));
        rules.retain(|r| rule_words(*r) != Some("an operator"));
    }
    // The first characters of an expression or statement are said as "an expression"/"a statement".
    const STARTS: [&str; 13] = ["!", "\"", "$", "$#", "'", "(", "-", "~", "@", "_", "++", "--", "/"];
    let stmt_start = has("++", &tokens) && has("@", &tokens);
    let expr_start = has("@", &tokens) && has("\"", &tokens);
    if stmt_start || expr_start {
        tokens.retain(|t| !(STARTS.contains(&t.as_str()) || (stmt_start && t == ";")));
    }
    // After a probe: a predicate or a block (the angle form and more specs are not worth listing).
    let after_spec = has("{", &tokens) && has("<", &tokens);
    let pred_possible = after_spec && has("/", &tokens);
    if after_spec {
        tokens.retain(|t| !["{", "<", ",", ":", "/"].contains(&t.as_str()));
        rules.retain(|r| !matches!(r, Rule::predicate | Rule::brace_block | Rule::angle_block));
    }
    let mut words: Vec<String> = Vec::new();
    let mut push = |w: &str| {
        if !words.iter().any(|x| x == w) {
            words.push(w.to_string());
        }
    };
    if stmt_start {
        push("a statement");
    } else if expr_start {
        push("an expression");
    }
    if pred_possible {
        push("a predicate `/.../`");
    }
    if after_spec {
        push("a block `{ ... }`");
    }
    let mut eoi = false;
    for r in &rules {
        match rule_words(*r) {
            Some("a map" | "a variable" | "an expression" | "a statement") if stmt_start || expr_start => {}
            Some("an operator") => {}
            Some("end of input") => eoi = true,
            Some(w) => push(w),
            None => {}
        }
    }
    for t in &tokens {
        push(&format!("`{t}`"));
    }
    if eoi {
        push("end of input");
    }
    let expected = match words.len() {
        0 => "something else".to_string(),
        1 => words[0].clone(),
        n => format!("{} or {}", words[..n - 1].join(", "), words[n - 1]),
    };
    let at_end = src[pos.min(src.len())..].trim().is_empty();
    let span = if at_end {
        // Point just after the last thing written, not at an empty last line.
        let end = src.trim_end().len();
        Span::new(end, end)
    } else {
        token_at(src, pos)
    };
    let found = match &src[span.start..span.end] {
        _ if at_end => "end of input".to_string(),
        t if t.trim().is_empty() => "whitespace".to_string(),
        t => format!("`{t}`"),
    };
    let mut d = Diagnostic::new(span, format!("expected {expected}, found {found}"), format!("expected {expected}"));
    // A block left open: at the end of the text, or where the next probe starts.
    let rest = &src[span.start..];
    let word = &src[span.start..span.end];
    let probe_next = word == "BEGIN" || word == "END" || (!word.is_empty() && rest[word.len()..].starts_with(':'));
    let unclosed = if at_end { lex.unclosed.last().copied() } else { scan(&src[..pos]).unclosed.last().copied() };
    if let Some((c, at)) = unclosed.filter(|_| at_end || probe_next) {
        let close = match c {
            '{' => '}',
            '(' => ')',
            _ => ']',
        };
        let (l, col) = crate::diag::line_col(src, at);
        d = d.with_help(format!("the `{c}` at {l}:{col} is never closed; add `{close}`"));
    }
    if d.help.is_none() {
        let hint = if expr_start {
            "an expression is a number, a \"string\", a builtin such as `pid`, `args.FIELD`, `@map[key]`, `$var` or a call `f(...)`"
        } else if stmt_start || tokens.iter().any(|t| t == ";") {
            "statements are separated by `;`, as in `{ @c = count(); printf(\"%d\\n\", pid) }`"
        } else {
            "a probe is written `tracepoint:CATEGORY:NAME /predicate/ { statements }`"
        };
        d = d.with_help(hint);
    }
    d
}

/// Rule names as the user would say them; `None` for rules that should not be mentioned.
fn rule_words(r: Rule) -> Option<&'static str> {
    Some(match r {
        Rule::EOI => "end of input",
        Rule::script | Rule::probe | Rule::probe_spec | Rule::provider => "a probe",
        Rule::part => "a probe name",
        Rule::predicate => "a predicate `/.../`",
        Rule::brace_block | Rule::angle_block => "a block `{ ... }`",
        Rule::if_stmt
        | Rule::unroll_stmt
        | Rule::for_stmt
        | Rule::delete_stmt
        | Rule::return_stmt
        | Rule::map_assign
        | Rule::map_incr_post
        | Rule::map_incr_pre
        | Rule::var_assign
        | Rule::var_incr_post
        | Rule::var_incr_pre
        | Rule::expr_stmt => "a statement",
        Rule::kw_else => "`else`",
        Rule::assign_op => "`=`",
        Rule::expr
        | Rule::binary
        | Rule::unary
        | Rule::postfix
        | Rule::cast
        | Rule::paren
        | Rule::call
        | Rule::builtin
        | Rule::int
        | Rule::char_lit
        | Rule::string
        | Rule::positional
        | Rule::argcount
        | Rule::neg
        | Rule::not
        | Rule::bit_not => "an expression",
        Rule::map_ref | Rule::map_name => "a map",
        Rule::var => "a variable",
        Rule::ident | Rule::field_name => "a name",
        Rule::type_name => "a type",
        Rule::or
        | Rule::and
        | Rule::bit_or
        | Rule::bit_xor
        | Rule::bit_and
        | Rule::eq
        | Rule::ne
        | Rule::le
        | Rule::ge
        | Rule::shl
        | Rule::shr
        | Rule::lt
        | Rule::gt
        | Rule::add
        | Rule::sub
        | Rule::mul
        | Rule::div
        | Rule::rem
        | Rule::field_dot
        | Rule::field_arrow
        | Rule::index => "an operator",
        _ => return None,
    })
}

/// The extent of the token starting at `pos`: a word or number, a string, an operator, or one character.
fn token_at(src: &str, pos: usize) -> Span {
    let rest = &src[pos.min(src.len())..];
    let Some(c) = rest.chars().next() else {
        return Span::new(src.len(), src.len());
    };
    let len = if c.is_ascii_alphanumeric() || c == '_' || c == '@' || c == '$' {
        let n = rest[1..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).map_or(rest.len(), |n| n + 1);
        n.max(1)
    } else if c == '"' {
        rest[1..].find('"').map_or(rest.len(), |n| n + 2)
    } else {
        const OPS: [&str; 22] = [
            "<<=", ">>=", "==", "!=", "<=", ">=", "&&", "||", "<<", ">>", "->", "++", "--", "+=", "-=", "*=",
            "/=", "%=", "&=", "|=", "^=", "..",
        ];
        OPS.iter().find(|o| rest.starts_with(**o)).map_or(c.len_utf8(), |o| o.len())
    };
    Span::new(pos, pos + len)
}

// ---- pairs to tree ------------------------------------------------------------------------------------

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

struct Builder {
    errors: Vec<Diagnostic>,
    trivia: Vec<bool>,
    /// Nesting of the expression or block being built (see `MAX_DEPTH`).
    depth: usize,
    /// Whether the one "nested too deeply" error was reported.
    too_deep: bool,
}

/// How deep expressions (operators, brackets, casts, postfix chains) and blocks may nest. The builder,
/// the checker and the emitter recurse over the tree, so a hostile `1 + 1 + ...` or `((((...` of a few
/// thousand levels would overflow their stacks; real scripts stay far below this.
pub const MAX_DEPTH: usize = 128;

/// The span of an atomic pair (which never holds trailing whitespace).
fn span_of(p: &Pair<Rule>) -> Span {
    let s = p.as_span();
    Span::new(s.start(), s.end())
}

fn ident_of(p: &Pair<Rule>) -> Ident {
    Ident { name: p.as_str().to_string(), span: span_of(p) }
}

/// `$v` or `@m` without its sigil: name `v`, span of `v` only (empty for the anonymous map `@`).
fn unsigiled(p: &Pair<Rule>) -> Ident {
    let s = span_of(p);
    Ident { name: p.as_str()[1..].to_string(), span: Span::new(s.start + 1, s.end) }
}

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
    fn span(&self, p: &Pair<Rule>) -> Span {
        let s = span_of(p);
        let mut end = s.end;
        while end > s.start && self.trivia[end - 1] {
            end -= 1;
        }
        Span::new(s.start, end)
    }

    /// Enters `levels` more levels of nesting at `span`; false (and one error) past `MAX_DEPTH`. Each
    /// successful call is paired with `self.depth -= levels`.
    fn deeper(&mut self, levels: usize, span: Span) -> bool {
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

    fn script(&mut self, p: Pair<Rule>) -> Script {
        let probes = p.into_inner().filter(|p| p.as_rule() == Rule::probe).map(|p| self.probe(p)).collect();
        Script { probes }
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
                    let provider = ident_of(&it.next().expect("provider"));
                    let parts = it.map(|p| ident_of(&p)).collect();
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
                let lo = self.expr(it.next().expect("lo"));
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

    fn map_ref(&mut self, p: Pair<Rule>) -> MapRef {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let name = unsigiled(&it.next().expect("map name"));
        let keys = it.map(|k| self.expr(k)).collect();
        MapRef { name, keys, span }
    }

    fn expr(&mut self, p: Pair<Rule>) -> Expr {
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
        if !self.deeper(1, span) {
            return Expr { kind: ExprKind::Int(0), span };
        }
        let e = self.prefixed(first, it, span);
        self.depth -= 1;
        e
    }

    /// `-e`, `!e`, `~e`, `(type) e`.
    fn prefixed(&mut self, first: Pair<Rule>, mut it: pest::iterators::Pairs<Rule>, span: Span) -> Expr {
        let kind = match first.as_rule() {
            Rule::neg | Rule::not | Rule::bit_not => {
                let op = match first.as_rule() {
                    Rule::neg => UnOp::Neg,
                    Rule::not => UnOp::Not,
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

    fn postfix_chain(&mut self, mut it: pest::iterators::Pairs<Rule>) -> Expr {
        let mut e = self.primary(it.next().expect("primary"));
        for op in it {
            let span = Span::new(e.span.start, op.as_span().end());
            let rule = op.as_rule();
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
            Rule::int => ExprKind::Int(self.int(text, span)),
            Rule::char_lit => ExprKind::Int(self.char_lit(text, span)),
            Rule::string => ExprKind::Str(self.unescape(&text[1..text.len() - 1], span.start + 1)),
            Rule::argcount => ExprKind::Builtin("$#".to_string()),
            Rule::positional => match text[1..].parse::<u32>() {
                Ok(n) => ExprKind::Positional(n),
                Err(_) => {
                    self.errors.push(Diagnostic::new(span, "positional parameter number is too large", "too large"));
                    ExprKind::Positional(0)
                }
            },
            Rule::var => ExprKind::Var(text[1..].to_string()),
            Rule::map_ref => ExprKind::Map(self.map_ref(p)),
            Rule::builtin => ExprKind::Builtin(text.to_string()),
            Rule::call => {
                let mut it = p.into_inner();
                let func = ident_of(&it.next().expect("func"));
                let args = it.map(|a| self.expr(a)).collect();
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

    fn int(&mut self, text: &str, span: Span) -> u64 {
        let (digits, radix) = if let Some(h) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            (h, 16)
        } else if text.len() > 1 && text.starts_with('0') {
            (&text[1..], 8)
        } else {
            (text, 10)
        };
        let ok_digits = !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix));
        if ok_digits {
            match u64::from_str_radix(digits, radix) {
                Ok(v) => return v,
                Err(_) => self.errors.push(
                    Diagnostic::new(span, format!("integer literal `{text}` is too large"), "does not fit in 64 bits")
                        .with_help(format!("the largest integer is {}", u64::MAX)),
                ),
            }
        } else {
            let what = match radix {
                16 => "hexadecimal",
                8 => "octal",
                _ => "decimal",
            };
            self.errors.push(
                Diagnostic::new(span, format!("invalid number `{text}`"), format!("not a {what} number"))
                    .with_help("numbers are decimal (`42`), hexadecimal (`0x2a`) or octal with a leading zero (`052`)"),
            );
        }
        0
    }

    fn char_lit(&mut self, text: &str, span: Span) -> u64 {
        let s = self.unescape(&text[1..text.len() - 1], span.start + 1);
        let mut cs = s.chars();
        match (cs.next(), cs.next()) {
            (Some(c), None) if c.is_ascii() => c as u64,
            _ => {
                self.errors.push(
                    Diagnostic::new(span, "a character literal holds exactly one ASCII character", "not one character")
                        .with_help("use double quotes for strings"),
                );
                0
            }
        }
    }

    /// Decode `\n \t \r \\ \" \' \0 \NNN (octal) \xNN`; `at` is the byte offset of `s` in the source.
    fn unescape(&mut self, s: &str, at: usize) -> String {
        let mut out = String::new();
        let mut it = s.char_indices().peekable();
        while let Some((i, c)) = it.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some((_, e)) = it.next() else { break };
            let mut end = i + 1 + e.len_utf8();
            let value: Option<u32> = match e {
                'n' => Some(10),
                't' => Some(9),
                'r' => Some(13),
                '\\' | '"' | '\'' => Some(e as u32),
                '0'..='7' => {
                    let mut v = e.to_digit(8).expect("octal");
                    for _ in 0..2 {
                        match it.peek() {
                            Some(&(_, d)) if d.is_digit(8) => {
                                v = v * 8 + d.to_digit(8).expect("octal");
                                end += 1;
                                it.next();
                            }
                            _ => break,
                        }
                    }
                    Some(v)
                }
                'x' => {
                    let mut v = None;
                    for _ in 0..2 {
                        match it.peek() {
                            Some(&(_, d)) if d.is_ascii_hexdigit() => {
                                v = Some(v.unwrap_or(0) * 16 + d.to_digit(16).expect("hex"));
                                end += 1;
                                it.next();
                            }
                            _ => break,
                        }
                    }
                    v
                }
                _ => None,
            };
            let espan = Span::new(at + i, at + end);
            match value {
                Some(v) if v < 0x80 => out.push(char::from(v as u8)),
                Some(_) => self.errors.push(
                    Diagnostic::new(espan, "only ASCII escapes (up to `\\x7f`) are supported", "not ASCII")
                        .with_help("write the character itself"),
                ),
                None => self.errors.push(
                    Diagnostic::new(espan, format!("unknown escape `{}`", &s[i..end]), "unknown escape")
                        .with_help("known escapes: \\n \\t \\r \\\\ \\\" \\' \\0 \\NNN (octal) \\xNN"),
                ),
            }
        }
        out
    }
}
