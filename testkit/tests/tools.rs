//! bpftrace 0.17's own tools (`fixtures/tools/`, unchanged) under vt and under bpftrace 0.17, each
//! against its own copy of a workload of known shape: the banner and column headers must be the same
//! bytes, and the workload's lines the same once numbers (times, pids) are masked. The tools trace the
//! whole machine, so only the lines that name the workload's doing are compared.

use vt_testkit::table::attachments;
use vt_testkit::{bpftrace_or_skip, kit_dir, maps_part, skip_without_bpf, Tool, Tracer, Workload};

struct Case {
    tool: &'static str,
    /// The workload (testkit/src/actions.rs).
    run: &'static str,
    /// Lines printed before any event: compared exactly.
    header: usize,
    /// What marks the workload's lines.
    marker: &'static str,
    /// How many of them the workload makes.
    lines: usize,
}

const CASES: &[Case] = &[
    Case { tool: "execsnoop", run: "exec /bin/true vt-tools-marker a bc", header: 1, marker: "vt-tools-marker", lines: 1 },
    Case { tool: "opensnoop", run: "open /vt-tools-absent 2", header: 2, marker: "/vt-tools-absent", lines: 2 },
    Case { tool: "killsnoop", run: "kill 4000000 0 + kill 4000001 9", header: 2, marker: " 400000", lines: 2 },
    Case { tool: "setuids", run: "setid 0 0", header: 2, marker: "setresuid", lines: 1 },
];

/// Numbers as `N` and each run of blanks as one space: what stays of a line when pids and times differ.
fn masked(line: &str) -> String {
    let mut out = String::new();
    let mut last = ' ';
    for c in line.trim().chars() {
        let c = if c.is_ascii_digit() { 'N' } else if c.is_whitespace() { ' ' } else { c };
        if (c == 'N' && last == 'N') || (c == ' ' && last == ' ') {
            continue;
        }
        out.push(c);
        last = c;
    }
    out
}

/// The tool's stdout (without bpftrace's `Attaching` line) against a fresh copy of the workload.
fn run(tool: Tool, script: &str, spec: &str) -> String {
    let mut workload = Workload::start(spec);
    let mut tracer = Tracer::start(tool, script, &[]);
    tracer.wait_attached(&attachments(script));
    workload.release_and_wait();
    // bpftrace 0.17 drops events still in its perf buffer when SIGINT comes (seen on a loaded
    // machine: killsnoop's second line); give its reader a moment.
    std::thread::sleep(std::time::Duration::from_millis(300));
    tracer.signal(libc::SIGINT);
    let out = tracer.finish();
    assert!(out.status.success(), "{tool:?} failed\n{}", out.describe());
    maps_part(&out.stdout).to_string()
}

#[test]
fn tools_print_as_bpftrace_does() {
    if skip_without_bpf("tools_print_as_bpftrace_does") {
        return;
    }
    let with_bpftrace = bpftrace_or_skip("tools_print_as_bpftrace_does").is_some();
    for case in CASES {
        let path = kit_dir().join("fixtures/tools").join(format!("{}.bt", case.tool));
        let script = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let vt = run(Tool::Vt, &script, case.run);
        let ours: Vec<String> = vt.lines().filter(|l| l.contains(case.marker)).map(masked).collect();
        assert_eq!(ours.len(), case.lines, "{}: the workload's lines\n{vt}", case.tool);
        if !with_bpftrace {
            continue;
        }
        let bt = run(Tool::Bpftrace, &script, case.run);
        let head = |s: &str| s.lines().take(case.header).map(String::from).collect::<Vec<_>>();
        assert_eq!(head(&vt), head(&bt), "{}: banner and headers", case.tool);
        let theirs: Vec<String> = bt.lines().filter(|l| l.contains(case.marker)).map(masked).collect();
        assert_eq!(ours, theirs, "{}: the workload's lines, numbers masked\n--- vt\n{vt}\n--- bpftrace\n{bt}", case.tool);
    }
}

/// runqlat.bt takes `TASK_RUNNING` from `#include <linux/sched.h>` (lang/src/headers.rs). bpftrace 0.17
/// cannot compile that header on this machine (no kernel build tree: `unknown type name
/// '__aligned_u64'`), so vt's output is checked for its shape: the banner, then one histogram of
/// latencies with at least one sample per wakeup of the workload's sleeps, and `@qtime` cleared.
#[test]
fn runqlat_runs_unchanged() {
    if skip_without_bpf("runqlat_runs_unchanged") {
        return;
    }
    let path = kit_dir().join("fixtures/tools/runqlat.bt");
    let script = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let out = run(Tool::Vt, &script, "sleep 20 + sleep 20 + sleep 20 + sleep 20 + sleep 20");
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("Tracing CPU scheduler... Hit Ctrl-C to end."), "{out}");
    let rest: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    assert_eq!(rest.first().map(|l| l.trim_end()), Some("@usecs:"), "{out}");
    assert!(!out.contains("@qtime"), "@qtime is cleared at END\n{out}");
    // `[4, 8)     211 |@@@...|`: the buckets' lower bounds rise and the counts add up.
    let mut total = 0u64;
    let mut last = None;
    for line in &rest[1..] {
        let (range, tail) = line.split_once(']').or_else(|| line.split_once(')')).unwrap_or_else(|| panic!("not a bucket: {line}\n{out}"));
        let low = range.trim_start_matches('[').split(',').next().unwrap().trim();
        let low: u64 = match low.strip_suffix('K') {
            Some(k) => k.parse::<u64>().unwrap() << 10,
            None => match low.strip_suffix('M') {
                Some(m) => m.parse::<u64>().unwrap() << 20,
                None => low.parse().unwrap(),
            },
        };
        assert!(last.is_none_or(|l| low > l), "buckets out of order at {line}\n{out}");
        last = Some(low);
        total += tail.trim_start_matches(')').split_whitespace().next().unwrap().parse::<u64>().unwrap();
    }
    assert!(total >= 5, "{total} samples for 5 wakeups of the workload\n{out}");
}
