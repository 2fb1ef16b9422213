//! pest's failures as diagnostics in plain words: what was expected (tokens and rules said as the user
//! would say them, without the noise pest lists after every expression), what was found, and a hint.

use super::ast::Span;
use super::scan::{scan, Lex};
use super::{Rule, MAX_DEPTH};
use crate::diag::Diagnostic;

pub(super) fn syntax_error(src: &str, lex: &Lex, e: pest::error::Error<Rule>) -> Diagnostic {
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
    // Positions from pest lie within the text; clamped so that no slice below can be out of range.
    let pos = pos.min(src.len());
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
    const STARTS: [&str; 14] = ["!", "\"", "$", "$#", "'", "(", "-", "~", "*", "@", "_", "++", "--", "/"];
    // (`++` also starts an expression, `++$x`; only a statement may also be an empty `;`.)
    let stmt_start = has("++", &tokens) && has("@", &tokens) && has(";", &tokens);
    let expr_start = has("@", &tokens) && has("\"", &tokens);
    if stmt_start || expr_start {
        tokens.retain(|t| !(STARTS.contains(&t.as_str()) || (stmt_start && t == ";")));
    } else {
        // After an operand, `++`/`--` would be its postfix change: not worth listing, as operators.
        tokens.retain(|t| t != "++" && t != "--");
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
        Rule::include | Rule::c_def | Rule::c_tag | Rule::c_member | Rule::c_enum | Rule::kw_enum | Rule::c_typedef | Rule::kw_typedef
        | Rule::typedef_decl | Rule::typedef_record => "a C definition",
        Rule::enum_item => "an enum name",
        Rule::enum_value => "a number",
        Rule::part => "a probe name",
        // A config block may only open the script: "a probe" says enough where one may also go.
        Rule::config_block | Rule::kw_config => return None,
        Rule::config_item => "a config option `name = value`",
        Rule::config_value => "a config value",
        Rule::predicate => "a predicate `/.../`",
        // A macro may stand where a probe may: "a probe" says enough.
        Rule::macro_def | Rule::kw_macro => return None,
        Rule::macro_param => "a macro parameter",
        Rule::for_map => "a map",
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
        | Rule::while_stmt
        | Rule::let_stmt
        | Rule::break_stmt
        | Rule::continue_stmt
        | Rule::expr_stmt => "a statement",
        Rule::let_type => "a type",
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
        | Rule::bit_not
        | Rule::deref
        | Rule::incr_pre
        | Rule::incr_post => "an expression",
        Rule::map_ref | Rule::map_name => "a map",
        Rule::var => "a variable",
        Rule::ident | Rule::field_name => "a name",
        Rule::type_name | Rule::typedef_name => "a type",
        // Where a type argument may go, an expression may too: say the usual words.
        Rule::type_arg => "an expression",
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
