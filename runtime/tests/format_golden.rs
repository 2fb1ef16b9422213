//! Golden tests: each `golden/NAME.out` is the stdout of `bpftrace golden/NAME.bt` from a real
//! bpftrace 0.17 run (regenerate with `sudo runtime/tests/golden/regen.sh`). Each test rebuilds the
//! same map contents by hand and checks the formatter prints the same bytes.

use runtime::output::{shape::*, text::*};
use std::path::Path;

/// The captured stdout without bpftrace's "Attaching N probe(s)..." line.
fn golden(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(format!("{name}.out"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (first, rest) = text.split_once('\n').expect("empty golden file");
    assert!(first.starts_with("Attaching "), "unexpected first line {first:?}");
    rest.to_string()
}

fn check(name: &str, got: &str) {
    let want = golden(name);
    if got != want {
        panic!("{name}: output differs from bpftrace 0.17\n--- want\n{want}\n--- got\n{got}\n---");
    }
}

/// bpftrace 0.17's own log2 computation: like `log2_index` but capped at index 33 ([2G, 4G)).
fn bt017_index(v: i64) -> usize {
    log2_index(v).min(33)
}

fn hist(values: &[i64]) -> Value {
    let mut b = vec![0u64; HIST_BUCKETS];
    for &v in values {
        b[bt017_index(v)] += 1;
    }
    Value::Hist(b)
}

/// `(value, how many times)`.
fn hist_n(values: &[(i64, u64)]) -> Value {
    let mut b = vec![0u64; HIST_BUCKETS];
    for &(v, n) in values {
        b[bt017_index(v)] += n;
    }
    Value::Hist(b)
}

fn lhist(min: i64, max: i64, step: i64, values: &[i64]) -> Value {
    let mut buckets = vec![0u64; lhist_buckets(min, max, step)];
    for &v in values {
        buckets[lhist_index(v, min, max, step)] += 1;
    }
    Value::LHist { min, max, step, buckets }
}

fn s(x: &str) -> KeyPart {
    KeyPart::Str(x.to_string())
}
fn i(x: i64) -> KeyPart {
    KeyPart::Int(x)
}
fn e(key: Vec<KeyPart>, value: Value) -> Entry {
    Entry::new(key, value)
}
fn avg(values: &[i64]) -> Value {
    Value::Avg { count: values.len() as u64, total: values.iter().sum() }
}
fn stats(values: &[i64]) -> Value {
    Value::Stats { count: values.len() as u64, total: values.iter().sum() }
}

#[test]
fn basic() {
    let maps = vec![
        MapDump::scalar("s", Value::Int(7)),
        MapDump::scalar("h", hist(&[0, 1, 5, 1000, -3])),
        MapDump::scalar("c", Value::UInt(1)),
    ];
    check("basic", &exit_text(&maps));
}

#[test]
fn scalars() {
    let maps = vec![
        MapDump::scalar("", Value::UInt(2)),
        MapDump::scalar("count", Value::UInt(3)),
        MapDump::scalar("sum", Value::Int(7 - 20)),
        MapDump::scalar("min", Value::Int(-3)),
        MapDump::scalar("max", Value::Int(12)),
        MapDump::scalar("avg", avg(&[-7, 2])),
        MapDump::scalar("avgpos", avg(&[10, 11, 12])),
        MapDump::scalar("stats", stats(&[10, -3, 4])),
        MapDump::scalar("int", Value::Int(42)),
        MapDump::scalar("neg", Value::Int(-17)),
        MapDump::scalar("str", Value::Str("hello world".into())),
    ];
    check("scalars", &exit_text(&maps));
}

#[test]
fn keyed() {
    let maps = vec![
        MapDump::new(
            "m",
            vec![
                e(vec![KeyPart::UInt(u64::MAX)], Value::UInt(4)),
                e(vec![i(2)], Value::UInt(2)),
                e(vec![i(-4)], Value::UInt(3)),
                e(vec![i(1)], Value::UInt(1)),
            ],
        ),
        MapDump::new(
            "s",
            vec![
                e(vec![s("bash")], Value::Int(5)),
                e(vec![s("zsh")], Value::Int(-2)),
                e(vec![s("a b")], Value::Int(100)),
            ],
        ),
        MapDump::new(
            "t",
            vec![e(vec![s("sh"), i(3)], Value::UInt(2)), e(vec![s("bash"), i(12)], Value::UInt(1))],
        ),
        MapDump::new("mn", vec![e(vec![s("x")], Value::Int(3)), e(vec![s("y")], Value::Int(-8))]),
        MapDump::new("mx", vec![e(vec![s("x")], Value::Int(30)), e(vec![s("y")], Value::Int(8))]),
        MapDump::new(
            "a",
            vec![
                e(vec![s("one")], avg(&[10])),
                e(vec![s("two")], avg(&[3])),
                e(vec![s("three")], avg(&[-5])),
            ],
        ),
        MapDump::new("st", vec![e(vec![i(7)], stats(&[100, 200])), e(vec![i(8)], stats(&[1]))]),
        MapDump::new("v", vec![e(vec![s("k1")], Value::Int(10)), e(vec![s("k2")], Value::Int(-10))]),
    ];
    check("keyed", &exit_text(&maps));
}

#[test]
fn hist_bars() {
    let maps = vec![
        MapDump::scalar("a", hist_n(&[(1, 26), (2, 15), (4, 13), (8, 1), (16, 25)])),
        MapDump::scalar("b", hist_n(&[(100, 3), (200, 7), (300, 1000), (600, 19), (5000, 999)])),
    ];
    check("hist_bars", &exit_text(&maps));
}

#[test]
fn hist_labels() {
    let maps = vec![
        MapDump::scalar(
            "all",
            hist(&[-1, 0, 1, 2, 3, 1023, 1024, 1 << 20, (1 << 30) + 5, 1 << 31, 1 << 32, 1 << 40, i64::MAX]),
        ),
        MapDump::scalar("k", hist(&[1 << 10, 1 << 13])),
        MapDump::scalar("neg", hist(&[-5, -100])),
        MapDump::scalar("one", hist(&[1])),
        MapDump::scalar("zero", hist(&[0])),
    ];
    check("hist_labels", &exit_text(&maps));
}

#[test]
fn hist_trim() {
    let maps = vec![
        MapDump::scalar("h", hist(&[64, 100, 4096, 5000, 8000])),
        MapDump::scalar("g", hist(&[7, 1000000])),
    ];
    check("hist_trim", &exit_text(&maps));
}

#[test]
fn keyed_hist() {
    let maps = vec![
        MapDump::new(
            "h",
            vec![
                e(vec![s("big")], hist(&[10, 20, 30])),
                e(vec![s("small")], hist(&[1000])),
                e(vec![s("mid")], hist(&[0, 1])),
            ],
        ),
        MapDump::new(
            "l",
            vec![
                e(vec![i(1), s("a")], lhist(0, 100, 10, &[5, 15])),
                e(vec![i(2), s("b")], lhist(0, 100, 10, &[50])),
            ],
        ),
    ];
    check("keyed_hist", &exit_text(&maps));
}

#[test]
fn lhist_golden() {
    let maps = vec![
        MapDump::scalar("l", lhist(0, 100, 10, &[-5, 5, 35, 35, 100, 1000])),
        MapDump::scalar("k", lhist(0, 10240, 1024, &[3000, 1])),
        MapDump::scalar("n", lhist(0, 3145728, 1048576, &[2000000, 5000000])),
        MapDump::scalar("odd", lhist(0, 100, 30, &[7, 95, 100])),
        MapDump::scalar("mid", lhist(10, 90, 20, &[55, 57])),
        MapDump::scalar("big", lhist(100000, 200000, 5000, &[123456])),
        MapDump::scalar("wide", lhist(1000000, 2000000, 100000, &[1250000, 1])),
    ];
    check("lhist", &exit_text(&maps));
}

#[test]
fn empty_maps() {
    let maps = vec![
        MapDump::scalar("a_count", Value::UInt(0)),
        MapDump::empty("b_sum", Kind::Int),
        MapDump::empty("c_min", Kind::Int),
        MapDump::empty("d_max", Kind::Int),
        MapDump::empty("e_avg", Kind::Avg),
        MapDump::empty("f_stats", Kind::Stats),
        MapDump::empty("g_hist", Kind::Hist),
        MapDump::empty("h_lhist", Kind::LHist),
        MapDump::empty("i_int", Kind::Int),
        MapDump::empty("j_keyed", Kind::UInt),
        MapDump::empty("k_keyed_hist", Kind::Hist),
        MapDump::empty("l_keyed_avg", Kind::Avg),
        MapDump::scalar("z", Value::UInt(1)),
    ];
    check("empty", &exit_text(&maps));
}

#[test]
fn print_then_exit() {
    let h = MapDump::scalar("h", hist(&[3, 30]));
    let c = MapDump::new("c", vec![e(vec![s("y")], Value::UInt(2)), e(vec![s("x")], Value::UInt(1))]);
    let st = MapDump::scalar("s", stats(&[5]));
    let mut out = String::new();
    out += &map_text(&h);
    out += &map_text(&c);
    out += &map_text(&st);
    out += "--after print--\n";
    out += &exit_text(&[st.clone(), MapDump::empty("c", Kind::UInt), h.clone()]);
    check("print", &out);
}

#[test]
fn print_top_div() {
    let c = MapDump::new(
        "c",
        vec![
            e(vec![s("a")], Value::Int(10)),
            e(vec![s("b")], Value::Int(25)),
            e(vec![s("c")], Value::Int(37)),
            e(vec![s("d")], Value::Int(-44)),
        ],
    );
    let h = MapDump::scalar("h", hist_n(&[(8, 30), (300, 9)]));
    let l = MapDump::scalar("l", lhist(0, 10, 5, &[5, 6]));
    let av = MapDump::new("av", vec![e(vec![s("x")], avg(&[100])), e(vec![s("y")], avg(&[51]))]);
    let st = MapDump::scalar("st", stats(&[100]));
    let kh = MapDump::new(
        "kh",
        vec![e(vec![s("p")], hist(&[1])), e(vec![s("q")], hist(&[1, 2])), e(vec![s("r")], hist(&[1, 1, 1]))],
    );
    let ks = MapDump::new("ks", vec![e(vec![i(1)], stats(&[1])), e(vec![i(2)], stats(&[5]))]);
    let mut out = String::new();
    out += &map_text_with(&c, 2, 0);
    out += &map_text_with(&c, 0, 10);
    out += &map_text_with(&c, 3, 4);
    out += &map_text_with(&h, 0, 4);
    out += &map_text_with(&l, 0, 2);
    out += &map_text_with(&av, 0, 10);
    out += &map_text_with(&av, 1, 0);
    out += &map_text_with(&st, 0, 10);
    out += &map_text_with(&kh, 2, 0);
    out += &map_text_with(&ks, 1, 0);
    let cleared: Vec<MapDump> = [
        ("c", Kind::Int),
        ("h", Kind::Hist),
        ("l", Kind::LHist),
        ("av", Kind::Avg),
        ("st", Kind::Stats),
        ("kh", Kind::Hist),
        ("ks", Kind::Stats),
    ]
    .into_iter()
    .map(|(n, k)| MapDump::empty(n, k))
    .collect();
    out += &exit_text(&cleared);
    check("print_args", &out);
}

#[test]
fn tracepoint_workload() {
    let mut sizes = vec![1000i64; 300];
    sizes.extend([70; 50]);
    sizes.extend([5000; 7]);
    let total: i64 = sizes.iter().sum();
    let maps = vec![
        MapDump::scalar("bytes", hist(&sizes)),
        MapDump::scalar("lin", lhist(0, 2000, 250, &sizes)),
        MapDump::new("calls", vec![e(vec![s("dd"), i(1)], Value::UInt(357))]),
        MapDump::new("total", vec![e(vec![s("dd")], Value::Int(total))]),
        MapDump::scalar("sz", stats(&sizes)),
        MapDump::scalar("mean", avg(&sizes)),
    ];
    check("tracepoint", &exit_text(&maps));
}
