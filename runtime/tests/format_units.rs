//! Unit tests for the pieces of the bpftrace formatter: bucket indices, labels, bars, trimming,
//! sorting, trailing newlines.

use runtime::output::{shape::*, text::*};

#[test]
fn log2_index_convention() {
    let cases: &[(i64, usize)] = &[
        (i64::MIN, 0),
        (-1, 0),
        (0, 1),
        (1, 2),
        (2, 3),
        (3, 3),
        (4, 4),
        (7, 4),
        (8, 5),
        (1023, 11),
        (1024, 12),
        ((1 << 31) - 1, 32),
        (1 << 31, 33),
        (1 << 32, 34),
        (i64::MAX, 64),
    ];
    for &(v, want) in cases {
        assert_eq!(log2_index(v), want, "log2_index({v})");
    }
    // Index k + 2 is labelled [2^k, 2^(k+1)); every value lands in the bucket whose label holds it.
    for k in 0..62u32 {
        let lo = 1i64 << k;
        assert_eq!(log2_index(lo), k as usize + 2);
        assert_eq!(log2_index(2 * lo - 1), k as usize + 2);
    }
    assert!(log2_index(i64::MAX) < HIST_BUCKETS);
}

#[test]
fn lhist_index_convention() {
    // lhist(v, 0, 100, 10): 11 inner buckets... index 0 below, 1..=10 inner, 11 above.
    assert_eq!(lhist_buckets(0, 100, 10), 12);
    assert_eq!(lhist_index(-1, 0, 100, 10), 0);
    assert_eq!(lhist_index(0, 0, 100, 10), 1);
    assert_eq!(lhist_index(9, 0, 100, 10), 1);
    assert_eq!(lhist_index(10, 0, 100, 10), 2);
    assert_eq!(lhist_index(99, 0, 100, 10), 10);
    assert_eq!(lhist_index(100, 0, 100, 10), 11);
    assert_eq!(lhist_index(101, 0, 100, 10), 11);
    // step not dividing the range: 90..=100 go to the [max, ...) bucket.
    assert_eq!(lhist_index(95, 0, 100, 30), 4);
    assert_eq!(lhist_bucket_label(4, 0, 100, 30), "[100, ...)");
}

#[test]
fn power_labels() {
    let cases: &[(u32, &str)] = &[
        (0, "1"),
        (1, "2"),
        (9, "512"),
        (10, "1K"),
        (11, "2K"),
        (19, "512K"),
        (20, "1M"),
        (30, "1G"),
        (33, "8G"),
        (40, "1T"),
        (49, "512T"),
        (50, "1P"),
        (60, "1E"),
        (63, "8E"),
    ];
    for &(p, want) in cases {
        assert_eq!(hist_index_label(p), want, "2^{p}");
    }
}

#[test]
fn bucket_labels() {
    assert_eq!(hist_bucket_label(0), "(..., 0)");
    assert_eq!(hist_bucket_label(1), "[0]");
    assert_eq!(hist_bucket_label(2), "[1]");
    assert_eq!(hist_bucket_label(3), "[2, 4)");
    assert_eq!(hist_bucket_label(11), "[512, 1K)");
    assert_eq!(hist_bucket_label(12), "[1K, 2K)");
    assert_eq!(hist_bucket_label(33), "[2G, 4G)");
    assert_eq!(hist_bucket_label(64), "[4E, 8E)");
}

#[test]
fn lhist_labels() {
    assert_eq!(lhist_index_label(0), "0");
    assert_eq!(lhist_index_label(1023), "1023");
    assert_eq!(lhist_index_label(1024), "1K");
    assert_eq!(lhist_index_label(1536), "1536");
    assert_eq!(lhist_index_label(3072), "3K");
    assert_eq!(lhist_index_label(1048576), "1M");
    assert_eq!(lhist_index_label(1572864), "1536K");
    assert_eq!(lhist_index_label(3145728), "3M");
    assert_eq!(lhist_bucket_label(0, 0, 100, 10), "(..., 0)");
    assert_eq!(lhist_bucket_label(1, 0, 100, 10), "[0, 10)");
    assert_eq!(lhist_bucket_label(10, 0, 100, 10), "[90, 100)");
    assert_eq!(lhist_bucket_label(11, 0, 100, 10), "[100, ...)");
    assert_eq!(lhist_bucket_label(0, 1024, 4096, 1024), "(..., 1K)");
}

#[test]
fn bar_rounding() {
    assert_eq!(bar_len(0, 10), 0);
    assert_eq!(bar_len(10, 10), 52);
    assert_eq!(bar_len(1, 3), 17); // 17.33
    assert_eq!(bar_len(2, 3), 34); // 34.67: truncated, not rounded
    assert_eq!(bar_len(15, 26), 30); // 30 in single precision (29 in double): checked on bpftrace
    assert_eq!(bar_len(25, 26), 50);
    assert_eq!(bar_len(999, 1000), 51);
    assert_eq!(bar_len(3, 1000), 0);
    assert_eq!(bar_len(5, 0), 0);
}

#[test]
fn row_layout() {
    let mut b = vec![0u64; HIST_BUCKETS];
    b[11] = 1234567890;
    let text = hist_text(&b, 0);
    assert_eq!(text, format!("[512, 1K)       1234567890 |{}|\n", "@".repeat(52)));
    // Labels longer than 16 columns push the rest right, as C++'s setw does.
    let l = lhist_text(1000000, 2000000, 100000, &[0, 0, 0, 4]);
    assert_eq!(l, format!("[1200000, 1300000)       4 |{}|\n", "@".repeat(52)));
}

#[test]
fn trimming_keeps_inner_zeros() {
    let b = [0u64, 0, 0, 5, 0, 0, 3, 0, 0];
    let text = hist_text(&b, 0);
    let labels: Vec<&str> = text.lines().map(|l| l.split("  ").next().unwrap()).collect();
    assert_eq!(labels, ["[2, 4)", "[4, 8)", "[8, 16)", "[16, 32)"]);
    assert_eq!(hist_text(&[0; 65], 0), "");
    assert_eq!(hist_text(&[], 0), "");
    assert_eq!(lhist_text(0, 10, 1, &[0; 12]), "");
}

#[test]
fn hist_div_keeps_bars() {
    let mut b = vec![0u64; 4];
    b[2] = 10;
    b[3] = 5;
    assert_eq!(
        hist_text(&b, 5),
        format!(
            "[1]                    2 |{}|\n[2, 4)                 1 |{:<52}|\n",
            "@".repeat(52),
            "@".repeat(26)
        )
    );
}

#[test]
fn keyed_sorting_and_ties() {
    let m = MapDump::new(
        "m",
        vec![
            Entry::new(vec![KeyPart::Int(5)], Value::UInt(1)),
            Entry::new(vec![KeyPart::Int(-1)], Value::UInt(1)),
            Entry::new(vec![KeyPart::Int(2)], Value::UInt(1)),
            Entry::new(vec![KeyPart::Int(9)], Value::UInt(0)),
            Entry::new(vec![KeyPart::Int(3)], Value::UInt(7)),
        ],
    );
    // By value; ties by key with integers compared unsigned (so -1 sorts last), as sort_by_key does.
    assert_eq!(map_text(&m), "@m[9]: 0\n@m[2]: 1\n@m[5]: 1\n@m[-1]: 1\n@m[3]: 7\n");
    let s = MapDump::new(
        "s",
        vec![
            Entry::new(vec![KeyPart::Str("b".into())], Value::Str("x".into())),
            Entry::new(vec![KeyPart::Str("a".into())], Value::Str("z".into())),
            Entry::new(vec![KeyPart::Str("ab".into())], Value::Str("y".into())),
        ],
    );
    // String values sort by key.
    assert_eq!(map_text(&s), "@s[a]: z\n@s[ab]: y\n@s[b]: x\n");
    let top = map_text_with(&m, 2, 0);
    assert_eq!(top, "@m[-1]: 1\n@m[3]: 7\n");
}

#[test]
fn sum_and_avg_are_signed() {
    let m = MapDump::new(
        "s",
        vec![
            Entry::new(vec![KeyPart::Int(1)], Value::Int(-5)),
            Entry::new(vec![KeyPart::Int(2)], Value::Int(3)),
            Entry::new(vec![KeyPart::Int(3)], Value::Int(-50)),
        ],
    );
    assert_eq!(map_text(&m), "@s[3]: -50\n@s[1]: -5\n@s[2]: 3\n");
    let a = MapDump::scalar("a", Value::Avg { count: 2, total: -5 });
    assert_eq!(map_text(&a), "@a: -2\n\n");
    let z = MapDump::scalar("a", Value::Avg { count: 0, total: 0 });
    assert_eq!(map_text(&z), "@a: 0\n\n");
    let st = MapDump::scalar("st", Value::Stats { count: 3, total: 11 });
    assert_eq!(map_text(&st), "@st: count 3, average 3, total 11\n\n");
}

#[test]
fn keys() {
    assert_eq!(key_text("", &[]), "@");
    assert_eq!(key_text("m", &[KeyPart::Str("bash".into()), KeyPart::Int(12)]), "@m[bash, 12]");
    assert_eq!(key_text("m", &[KeyPart::UInt(u64::MAX)]), "@m[-1]");
    assert_eq!(key_text("m", &[KeyPart::UInt(7)]), "@m[7]");
}

#[test]
fn maps_sorted_by_name_and_trailers() {
    let maps = vec![
        MapDump::scalar("z", Value::UInt(1)),
        MapDump::empty("e", Kind::Stats),
        MapDump::scalar("", Value::UInt(2)),
        MapDump::scalar("b", Value::Hist(vec![0, 0, 1])),
        MapDump::empty("c", Kind::Hist),
    ];
    let want = "@: 2\n\
@b: \n[1]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n\n\
\n\
\n\n\
@z: 1\n";
    assert_eq!(bpftrace_text(&maps), want);
    assert_eq!(exit_text(&maps), format!("\n\n{want}"));
    assert_eq!(exit_text(&[]), "\n\n");
}

#[test]
fn keyed_hist_sorted_by_total_with_blank_lines() {
    let m = MapDump::new(
        "h",
        vec![
            Entry::new(vec![KeyPart::Str("b".into())], Value::Hist(vec![0, 0, 3])),
            Entry::new(vec![KeyPart::Str("a".into())], Value::Hist(vec![0, 1, 0])),
        ],
    );
    let bar = "@".repeat(52);
    assert_eq!(
        map_text(&m),
        format!("@h[a]: \n[0]                    1 |{bar}|\n\n@h[b]: \n[1]                    3 |{bar}|\n\n")
    );
}

#[test]
fn kind_from_value() {
    assert_eq!(Value::UInt(1).kind(), Kind::UInt);
    assert_eq!(Value::LHist { min: 0, max: 1, step: 1, buckets: vec![] }.kind(), Kind::LHist);
    assert_eq!(MapDump::scalar("x", Value::Avg { count: 1, total: 1 }).kind, Kind::Avg);
}
