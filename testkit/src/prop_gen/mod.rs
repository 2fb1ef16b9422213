//! Proptest strategies shared by `lang/tests/prop.rs` (parse, check) and
//! `runtime/tests/reliability_compile.rs` (compile): token soup, and structurally valid programs over the
//! saved tracepoint formats in `testkit/fixtures/tracefs`. The language's names they use are in
//! [`names`], in one place.

mod names;

pub use crate::fixtures::TRACEFS;
pub use names::{AGGREGATIONS, BUILTINS, FUNCTIONS, INT_BUILTINS, OTHER_AGGREGATIONS};
use proptest::prelude::*;

/// Positional parameters given to the checker: `$1` is a number, `$2` a string.
pub fn params() -> Vec<String> {
    vec!["7".into(), "str".into()]
}

/// The grammar's own tokens and fragments (keywords, punctuation, literals, probe parts); the names of
/// builtins, functions and aggregations come from [`names`].
const GRAMMAR: &[&str] = &[
    "BEGIN", "END", "tracepoint", "t", "interval", "ms", "s", "hz", "syscalls", "sys_enter_read", "sys_exit_read",
    "sched", "sched_switch", "*", "?", ":", ",", ";", "{", "}", "<", ">", "(", ")", "[", "]", "/", "@", "@m", "@",
    "$x", "$1", "$2", "$#", "=", "+=", "<<=", "++", "--", "+", "-", "*", "%", "&", "|", "^", "~", "!", "&&", "||",
    "==", "!=", "<=", ">=", "<<", ">>", "?", ".", "->", "..", "args", "if", "else", "unroll", "for", "return",
    "(uint8)", "(int64)", "0", "1", "100", "0x1F", "017", "18446744073709551616", "12ab", "'a'", "'\\n'",
    "\"%d\\n\"", "\"%s %-5d %llx\"", "\"", "//", "/*", "*/", "#!", "\n", "\t", " ", "é", "\u{0}",
];

/// Every token of the soup: the grammar's and the language's names.
fn tokens() -> Vec<&'static str> {
    let aggs = AGGREGATIONS.iter().map(|(name, _)| *name);
    GRAMMAR.iter().chain(BUILTINS.iter()).chain(FUNCTIONS.iter()).chain(OTHER_AGGREGATIONS.iter()).copied().chain(aggs).collect()
}

/// Grammar tokens and fragments in random order: mostly invalid, sometimes valid text.
pub fn token_soup() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        8 => proptest::sample::select(tokens()).prop_map(str::to_string),
        1 => "[a-z_]{1,8}",
        1 => "[0-9]{1,22}",
        1 => "\\PC{0,3}",
    ];
    (proptest::collection::vec(token, 0..60), proptest::collection::vec(0..3usize, 60)).prop_map(|(toks, seps)| {
        let mut s = String::new();
        for (t, sep) in toks.iter().zip(seps) {
            s += t;
            s += ["", " ", "\n"][sep];
        }
        s
    })
}

/// A tracepoint with its integer fields.
#[derive(Clone, Debug)]
pub struct Tp {
    pub spec: &'static str,
    pub ints: &'static [&'static str],
    pub strs: &'static [&'static str],
}

pub const TPS: &[Tp] = &[
    Tp { spec: "tracepoint:syscalls:sys_enter_read", ints: &["fd", "count", "__syscall_nr"], strs: &[] },
    Tp { spec: "tracepoint:syscalls:sys_exit_read", ints: &["ret"], strs: &[] },
    Tp {
        spec: "t:sched:sched_switch",
        ints: &["prev_pid", "prev_prio", "prev_state", "next_pid", "next_prio"],
        strs: &["prev_comm", "next_comm"],
    },
    Tp { spec: "tracepoint:sched:sched_process_exec", ints: &["pid", "old_pid"], strs: &["filename"] },
    Tp { spec: "tracepoint:syscalls:sys_enter_get*", ints: &[], strs: &[] },
    Tp { spec: "BEGIN", ints: &[], strs: &[] },
    Tp { spec: "END", ints: &[], strs: &[] },
    Tp { spec: "interval:ms:100", ints: &[], strs: &[] },
];

/// An integer expression over the probe's fields, builtins and the variables `$v0..$v{vars}`.
fn int_expr(tp: &'static Tp, vars: usize) -> BoxedStrategy<String> {
    let mut leaves: Vec<BoxedStrategy<String>> = vec![
        (0u64..5000).prop_map(|n| n.to_string()).boxed(),
        proptest::sample::select(INT_BUILTINS.iter().chain(&["$1", "$#"]).copied().collect::<Vec<_>>())
            .prop_map(str::to_string)
            .boxed(),
    ];
    if !tp.ints.is_empty() {
        leaves.push(
            (proptest::sample::select(tp.ints), any::<bool>())
                .prop_map(|(f, arrow)| format!("args{}{f}", if arrow { "->" } else { "." }))
                .boxed(),
        );
    }
    if vars > 0 {
        leaves.push((0..vars).prop_map(|i| format!("$v{i}")).boxed());
    }
    let leaf = proptest::strategy::Union::new(leaves);
    leaf.prop_recursive(5, 40, 3, |inner| {
        let op = proptest::sample::select(
            &["+", "-", "*", "&", "|", "^", "<<", ">>", "==", "!=", "<", ">", "<=", ">=", "&&", "||"][..],
        );
        prop_oneof![
            (inner.clone(), op, inner.clone()).prop_map(|(a, o, b)| format!("({a} {o} {b})")),
            (inner.clone(), proptest::sample::select(&["/", "%"][..]), 1u32..100).prop_map(|(a, o, d)| format!("({a} {o} {d})")),
            (proptest::sample::select(&["-", "~", "!"][..]), inner.clone()).prop_map(|(o, a)| match a.starts_with('-') {
                // `-` before `-$v` would be `--$v`, a decrement.
                true => format!("{o}({a})"),
                false => format!("{o}{a}"),
            }),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(c, a, b)| format!("({c} ? {a} : {b})")),
            (proptest::sample::select(&["uint8", "int16", "u32", "int64"][..]), inner).prop_map(|(t, a)| format!("({t}){a}")),
        ]
    })
    .boxed()
}

fn str_expr(tp: &'static Tp) -> BoxedStrategy<String> {
    let mut options: Vec<BoxedStrategy<String>> =
        vec![Just("comm".to_string()).boxed(), Just("str($2)".to_string()).boxed(), Just("\"lit\"".to_string()).boxed()];
    if !tp.strs.is_empty() {
        options.push(proptest::sample::select(tp.strs).prop_map(|f| format!("str(args.{f})")).boxed());
    }
    proptest::strategy::Union::new(options).boxed()
}

/// One statement. Map names encode what they hold (`@count_2` is a count keyed by two integers,
/// `@s_count` one keyed by a string), so that every probe agrees on each map's kind and key.
fn stmt(tp: &'static Tp, vars: usize, depth: u32) -> BoxedStrategy<String> {
    let e = || int_expr(tp, vars);
    let keys = |n: usize| proptest::collection::vec(int_expr(tp, vars), n).prop_map(|k| k.join(", "));
    let agg = proptest::sample::select(AGGREGATIONS.clone());
    let mut options: Vec<BoxedStrategy<String>> = vec![
        (agg.clone(), 0..3usize, keys(2), e()).prop_map(|((f, takes), n, k, v)| {
            let k: Vec<&str> = k.split(", ").take(n).collect();
            let key = if n == 0 { String::new() } else { format!("[{}]", k.join(", ")) };
            let arg = if takes { v } else { String::new() };
            format!("@{f}_{n}{key} = {f}({arg})")
        })
        .boxed(),
        e().prop_map(|v| format!("@lh = lhist({v}, 0, 100, 10)")).boxed(),
        (str_expr(tp), agg).prop_map(|(k, (f, takes))| {
            format!("@s_{f}[{k}] = {f}({})", if takes { "1" } else { "" })
        })
        .boxed(),
        (e(), e()).prop_map(|(k, v)| format!("@val[{k}] = {v}")).boxed(),
        (e(), e()).prop_map(|(a, b)| format!("printf(\"%d %llu\\n\", {a}, {b})")).boxed(),
        (str_expr(tp), e()).prop_map(|(s, a)| format!("printf(\"%s=%-4d\\n\", {s}, {a})")).boxed(),
        e().prop_map(|k| format!("delete(@val, {k})")).boxed(),
        Just("@val[0]++".to_string()).boxed(),
        Just("print(@count_0)".to_string()).boxed(),
        Just("time(\"%H:%M:%S\\n\")".to_string()).boxed(),
    ];
    if depth > 0 {
        options.push(
            (e(), block(tp, vars, depth - 1), block(tp, vars, depth - 1))
                .prop_map(|(c, a, b)| format!("if ({c}) {{ {a} }} else {{ {b} }}"))
                .boxed(),
        );
        options.push((1u32..4, block(tp, vars, depth - 1)).prop_map(|(n, b)| format!("unroll({n}) {{ {b} }}")).boxed());
    }
    proptest::strategy::Union::new(options).boxed()
}

fn block(tp: &'static Tp, vars: usize, depth: u32) -> BoxedStrategy<String> {
    proptest::collection::vec(stmt(tp, vars, depth), 0..4).prop_map(|s| s.join("; ")).boxed()
}

/// One probe: variables `$v0..` assigned first, then statements that may use them.
fn probe() -> impl Strategy<Value = String> {
    (proptest::sample::select(TPS), 0..3usize).prop_flat_map(|(tp, vars)| {
        let tp: &'static Tp = TPS.iter().find(|t| t.spec == tp.spec).unwrap();
        let assigns: Vec<BoxedStrategy<String>> =
            (0..vars).map(|i| int_expr(tp, i).prop_map(move |e| format!("$v{i} = {e};")).boxed()).collect();
        let pred = proptest::option::of(int_expr(tp, 0));
        (assigns, pred, block(tp, vars, 2)).prop_map(move |(a, p, b)| {
            let pred = p.map_or(String::new(), |p| format!(" /{p}/"));
            format!("{}{pred} {{ {} {b} }}", tp.spec, a.join(" "))
        })
    })
}

/// A script every layer must accept: one to three probes (after a BEGIN that defines the maps that
/// statements print or delete from).
pub fn valid_program() -> impl Strategy<Value = String> {
    proptest::collection::vec(probe(), 1..4)
        .prop_map(|p| format!("BEGIN {{ @count_0 = count(); @val[0] = 0; }}\n{}", p.join("\n")))
}

/// Whether rendered diagnostics name a position: every error line looks like `NAME:LINE:COL: error: ...`.
pub fn has_line_col(rendered: &str, name: &str) -> bool {
    let heads: Vec<&str> = rendered.lines().filter(|l| l.starts_with(&format!("{name}:"))).collect();
    !heads.is_empty()
        && heads.iter().all(|l| {
            let mut p = l[name.len() + 1..].splitn(3, ':');
            let (a, b) = (p.next().unwrap_or(""), p.next().unwrap_or(""));
            a.parse::<usize>().is_ok_and(|n| n > 0) && b.parse::<usize>().is_ok_and(|n| n > 0)
        })
}

/// Hostile shapes, `n` levels deep: each must be refused (or accepted) quickly, without a stack overflow.
pub fn deep_inputs(n: usize) -> Vec<(&'static str, String)> {
    let r = |s: &str| s.repeat(n);
    vec![
        ("parens", format!("BEGIN {{ @x = {}1{} }}", r("("), r(")"))),
        ("unclosed parens", format!("BEGIN {{ @x = {}1 }}", r("("))),
        ("sum", format!("BEGIN {{ @x = 1{} }}", r(" + 1"))),
        ("nots", format!("BEGIN {{ @x = {}1 }}", r("! "))),
        ("negs", format!("BEGIN {{ @x = {}1 }}", r("- "))),
        ("casts", format!("BEGIN {{ @x = {}1 }}", r("(u8)"))),
        ("ternaries", format!("BEGIN {{ @x = {}1{} }}", r("1 ? "), r(" : 2"))),
        ("fields", format!("tracepoint:syscalls:sys_enter_read {{ @x = args{} }}", r(".count"))),
        ("indexes", format!("BEGIN {{ $a = 1; @x = $a{} }}", r("[0]"))),
        ("map keys", format!("BEGIN {{ @o[1] = 1; @x = {}1{} }}", r("@o["), r("]"))),
        ("unclosed map keys", format!("BEGIN {{ @x = {} }}", r("@o["))),
        ("ifs", format!("BEGIN {{ {}@x = 1;{} }}", r("if (1) { "), r(" }"))),
        ("else ifs", format!("BEGIN {{ if (1) {{ @x = 1; }}{} }}", r(" else if (1) { @x = 1; }"))),
        ("unrolls", format!("BEGIN {{ {}@x = 1;{} }}", r("unroll(1) { "), r(" }"))),
        ("calls", format!("BEGIN {{ @x = {}1{} }}", r("str("), r(")"))),
    ]
}
