//! The language's names as the generators use them, all from the registry's one list (`library`):
//! a new builtin, function or aggregation reaches the generators without an edit here. What a name
//! needs (an integer builtin, an aggregation of one value) is found by asking the checker.

use lang::registry::Kind;
use std::sync::LazyLock;

/// Whether `BEGIN { BODY }` checks with this registry.
fn checks(body: &str) -> bool {
    let text = format!("BEGIN {{ {body} }}");
    let Ok(script) = lang::parse(&text) else { return false };
    let mut tracefs = lang::tracefs::Tracefs::new(crate::fixtures::TRACEFS);
    library::check(&script, &mut tracefs, &Default::default()).is_ok()
}

/// Builtins (variables without parentheses), for the token soup.
pub static BUILTINS: LazyLock<Vec<&'static str>> = LazyLock::new(|| library::all_names(Kind::Builtin));

/// The builtins that are integers: leaves of the valid programs' integer expressions.
pub static INT_BUILTINS: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| BUILTINS.iter().copied().filter(|b| checks(&format!("@x = {b} + 1;"))).collect());

/// Calls that are not aggregations (functions and statement calls), for the token soup.
pub static FUNCTIONS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut names = library::all_names(Kind::Statement);
    names.extend(library::all_names(Kind::Function));
    names
});

/// Aggregations of no or one argument, each with whether it takes a value (`count()` does not,
/// `sum(x)` does).
pub static AGGREGATIONS: LazyLock<Vec<(&'static str, bool)>> = LazyLock::new(|| {
    let mut out = Vec::new();
    for a in library::all_names(Kind::Aggregation) {
        if checks(&format!("@x = {a}();")) {
            out.push((a, false));
        } else if checks(&format!("@x = {a}(1);")) {
            out.push((a, true));
        }
    }
    out
});

/// Aggregations with more arguments (`lhist(v, min, max, step)`, written out where the valid programs
/// use it).
pub static OTHER_AGGREGATIONS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let simple: Vec<&str> = AGGREGATIONS.iter().map(|(a, _)| *a).collect();
    library::all_names(Kind::Aggregation).into_iter().filter(|a| !simple.contains(a)).collect()
});
