//! THE LANGUAGE'S NAMES AS THE GENERATORS KNOW THEM: the one place to change when the language gains
//! or loses a builtin, a function or an aggregation. (To be replaced by the registry's list of names,
//! issue 12 item 1; until then, keep these in step with lang's checker by hand.)

/// Builtins (variables without parentheses), for the token soup.
pub const BUILTINS: &[&str] =
    &["pid", "tid", "comm", "nsecs", "elapsed", "cpu", "rand", "probe", "uid", "gid", "cgroup"];

/// The builtins that are integers: leaves of the valid programs' integer expressions.
pub const INT_BUILTINS: &[&str] = &["pid", "tid", "cpu", "nsecs", "uid", "gid", "rand", "elapsed"];

/// Functions (called with parentheses, not aggregations), for the token soup.
pub const FUNCTIONS: &[&str] = &["printf", "print", "clear", "zero", "delete", "exit", "str", "time", "has_key"];

/// Aggregations of no or one argument, each with whether it takes a value (`count()` does not,
/// `sum(x)` does).
pub const AGGREGATIONS: &[(&str, bool)] = &[
    ("count", false),
    ("sum", true),
    ("min", true),
    ("max", true),
    ("avg", true),
    ("stats", true),
    ("hist", true),
];

/// Aggregations with more arguments: `lhist(v, min, max, step)` (written out where the valid programs
/// use it).
pub const OTHER_AGGREGATIONS: &[&str] = &["lhist"];
