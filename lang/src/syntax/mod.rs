//! Text to syntax tree. pest does the grammar (`grammar.pest`); around it:
//! - `cpp`: `#ifdef`/`#ifndef`/`#else`/`#endif` lines, resolved first;
//! - `scan`: a lexical pre-pass (unterminated strings and comments, open brackets, what is whitespace);
//! - `errors`: pest's failures said in plain words;
//! - `build`: pairs to `ast` nodes (statements in `build`, expressions in `build/expr`);
//! - `literals`: numbers, character literals and string escapes;
//! - `macros`: `macro name(...) { ... }` calls replaced by their bodies.

pub mod ast;
mod build;
mod cpp;
mod cpp_define;
mod cpp_expr;
mod errors;
mod literals;
mod macros;
mod scan;

use pest::Parser as _;

use crate::diag::Diagnostic;
use ast::Script;

#[derive(pest_derive::Parser)]
#[grammar = "syntax/grammar.pest"]
struct Grammar;

/// How deep expressions (operators, brackets, casts, postfix chains) and blocks may nest. The builder,
/// the checker and the emitter recurse over the tree, so a hostile `1 + 1 + ...` or `((((...` of a few
/// thousand levels would overflow their stacks; real scripts stay far below this.
pub const MAX_DEPTH: usize = 128;

/// Parse a whole script. On failure every error found is returned (lexical errors such as unterminated
/// strings, or the first syntax error, or all malformed literals).
pub fn parse(src: &str) -> Result<Script, Vec<Diagnostic>> {
    let cpp::Output { text, numbers: defines, c_macros } = cpp::preprocess(src).map_err(|d| vec![d])?;
    let src = text.as_str();
    let lex = scan::scan(src);
    if !lex.errors.is_empty() {
        return Err(lex.errors);
    }
    pest::set_error_detail(true);
    let mut pairs = Grammar::parse(Rule::script, src).map_err(|e| vec![errors::syntax_error(src, &lex, e)])?;
    // `script` matches from SOI to EOI, so a successful parse always yields it.
    let Some(top) = pairs.next() else { return Ok(Script::default()) };
    let mut script = build::script(top, lex.trivia)?;
    for m in &mut script.macros {
        m.c_like = c_macros.contains(&m.span.start);
    }
    macros::expand(&mut script)?;
    if !defines.is_empty() {
        // Numeric macros are constants, as enum names are.
        let items = defines.into_iter().map(|(n, v)| (n, Some(v))).collect();
        script.enums.push(ast::CEnum { name: None, items });
    }
    Ok(script)
}
