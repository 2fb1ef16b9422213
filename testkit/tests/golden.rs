//! Golden BPF listings: `vt -d` on saved tracepoint formats (testkit/fixtures/tracefs), compared with the
//! reviewed listings in testkit/golden/. Needs no root and no kernel support.
//!
//! After an intended codegen change, rewrite the files with
//! `VT_BLESS=1 cargo test -p vt-testkit --test golden`, then review `git diff testkit/golden`.

use vt_testkit::fixtures::TRACEFS;

fn listing(args: &[&str], script: &str) -> String {
    let mut all = vec!["--tracefs".to_string(), TRACEFS.to_string()];
    all.extend(args.iter().map(|s| s.to_string()));
    all.extend(["-e".to_string(), script.to_string()]);
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let out = vt_testkit::vt_command(&all).output().expect("cannot run vt");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "vt -d failed ({}):\n{stderr}", out.status);
    assert_eq!(stderr, "", "vt -d prints nothing on stderr (and attaches nothing)");
    String::from_utf8(out.stdout).expect("the listing is UTF-8")
}

fn check_golden(name: &str, actual: &str) {
    vt_testkit::golden::check(&vt_testkit::kit_dir().join("golden").join(name), actual);
}

const COUNT_HIST: &str = "tracepoint:syscalls:sys_enter_getppid { @c = count(); }
tracepoint:syscalls:sys_enter_write /pid == 42/ { @h = hist(args.count); }";

#[test]
fn golden_count_and_hist() {
    check_golden("count_hist.listing", &listing(&["-d"], COUNT_HIST));
}

/// With `--metrics`, histogram buckets are `[count, sum]` (the exposition's `_sum`); without it they
/// cost what they did before (count_hist.listing).
#[test]
fn golden_count_and_hist_keeping_sums() {
    check_golden("count_hist_sums.listing", &listing(&["--metrics", "9", "-d"], COUNT_HIST));
}

#[test]
fn emit_asm_is_dash_d() {
    assert_eq!(listing(&["--emit", "asm"], COUNT_HIST), listing(&["-d"], COUNT_HIST));
}

#[test]
fn golden_sum_predicate_angle_block() {
    let script = "tracepoint:syscalls:sys_enter_write /pid == 42 && args->count > 100/ < @s = sum(args->count); @ = count() >";
    check_golden("sum_predicate.listing", &listing(&["-d"], script));
}

/// The run switch: a program without keyless aggregations tests it first; BEGIN and END, which only run
/// when the runtime asks, and an empty block, which does nothing, do not.
#[test]
fn golden_run_switch() {
    let script = "BEGIN { @n = count(); } tracepoint:syscalls:sys_enter_getppid { @k[pid] = count(); }
tracepoint:syscalls:sys_enter_write { } END { @n = count(); }";
    check_golden("run_switch.listing", &listing(&["-d"], script));
}

/// Registry entries that emit themselves: builtins (helper calls, `elapsed`'s map read, `comm`'s
/// string), functions (`str`, `has_key`, `bswap` at 16 and 64 bits) and `numaid`.
#[test]
fn golden_registry_entries() {
    let script = r#"tracepoint:syscalls:sys_enter_write { @m[comm, numaid] = count(); @b = bswap((uint16)args.count) + bswap(args.count);
  if (has_key(@m, comm, numaid)) { @e = elapsed; } printf("%s %d\n", str(args.buf, 8), uid); }"#;
    check_golden("registry_entries.listing", &listing(&["-d"], script));
}
