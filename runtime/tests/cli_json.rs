//! `-f json`: every line parsed back with serde_json and checked field by field against a workload of
//! known shape, and (where bpftrace is installed) byte for byte against bpftrace 0.17's `-f json`.

use vt_testkit::*;
use serde_json::{json, Value};

/// The JSON lines of a run (bpftrace's `\n\n` exit preamble, the only other lines, checked apart).
fn parse(stdout: &str) -> Vec<Value> {
    let blank = stdout.lines().filter(|l| l.is_empty()).count();
    assert_eq!(blank, 2, "the exit preamble is two newlines: {stdout}");
    stdout
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

const SCRIPT: &str = "BEGIN { printf(\"cpid %d\\n\", cpid); }
tracepoint:syscalls:sys_enter_getppid /pid == cpid/ {
  @c = count(); @h = hist(7); @l = lhist(3, 0, 10, 2); @s = stats(4); @a = avg(6);
  @k[comm] = count(); @p[pid, \"x\"] = sum(2); @mx = max(9); @mn = min(-3); printf(\"call \\\"%s\\\"\\t\\n\", \"q\");
}";

#[test]
fn json_of_a_known_workload_field_by_field() {
    if !bpf_ready("json_of_a_known_workload_field_by_field") {
        return;
    }
    let out = run_with_deadline({
        let mut c = vt();
        c.args(["-f", "json", "-c", &workload_line("getppid 7"), "-e", SCRIPT]);
        c
    }, 60);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "JSON mode puts attached_probes on stdout");
    let lines = parse(&stdout);
    assert_eq!(lines[0], json!({"type": "attached_probes", "data": {"probes": 2}}));
    assert_eq!(lines[1]["type"], "printf");
    let cpid: u64 = lines[1]["data"].as_str().unwrap().strip_prefix("cpid ").unwrap().trim().parse().unwrap();
    for l in &lines[2..9] {
        assert_eq!(*l, json!({"type": "printf", "data": "call \"q\"\t\n"}));
    }
    let maps = &lines[9..];
    let comm = workload_comm();
    let want = vec![
        json!({"type": "stats", "data": {"@a": 6}}),
        json!({"type": "map", "data": {"@c": 7}}),
        json!({"type": "hist", "data": {"@h": [{"min": 4, "max": 7, "count": 7}]}}),
        json!({"type": "map", "data": {"@k": {comm: 7}}}),
        json!({"type": "hist", "data": {"@l": [{"min": 2, "max": 3, "count": 7}]}}),
        json!({"type": "map", "data": {"@mn": -3}}),
        json!({"type": "map", "data": {"@mx": 9}}),
        json!({"type": "map", "data": {"@p": {format!("{cpid},x"): 14}}}),
        json!({"type": "stats", "data": {"@s": {"count": 7, "average": 4, "total": 28}}}),
    ];
    assert_eq!(maps, want.as_slice(), "{stdout}");
    // The layout (spaces after `:` and `,`) is bpftrace's, not serde's compact form.
    assert!(stdout.contains("{\"type\": \"hist\", \"data\": {\"@h\": [{\"min\": 4, \"max\": 7, \"count\": 7}]}}\n"));

    if let Some(bt) = bpftrace_or_skip("json_of_a_known_workload_field_by_field: the comparison with bpftrace") {
        let out = run_with_deadline({
            let mut c = std::process::Command::new(&bt);
            c.args(["-f", "json", "-c", &workload_line("getppid 7"), "-e", SCRIPT]);
            c
        }, 120);
        let theirs = String::from_utf8_lossy(&out.stdout).into_owned();
        // Only the pid differs between the runs.
        let their_cpid = parse(&theirs)[1]["data"].as_str().unwrap().strip_prefix("cpid ").unwrap().trim().to_string();
        let ours = stdout.replace(&cpid.to_string(), "PID");
        assert_eq!(theirs.replace(&their_cpid, "PID"), ours, "bpftrace 0.17 -f json and vt -f json differ");
    }
}

/// print() with top and div, print(value), time(), a cleared map (not printed at all), keyed stats and
/// lhist, a keyless count zeroed by clear(): bpftrace 0.17's exact bytes (captured from it).
const PRINTS: &str = "BEGIN { @y[3] = 5; @y[4] = 9; @y[5] = 1; print(@y, 2); print(@y, 0, 2);
  @x[1] = count(); clear(@x); print(@x); print(5); print(\"s\"); print((1, \"a\")); print(-2);
  @ks[1] = stats(3); @kh[\"a\"] = lhist(3, 0, 10, 5); @ee = count(); clear(@ee); @t[1, \"a b\"] = (1, \"x\"); exit(); }";

const PRINTS_WANT: &str = r#"{"type": "attached_probes", "data": {"probes": 1}}
{"type": "map", "data": {"@y": {"3": 5, "4": 9}}}
{"type": "map", "data": {"@y": {"5": 0, "3": 2, "4": 4}}}
{"type": "value", "data": 5}
{"type": "value", "data": "s"}
{"type": "value", "data": [1,"a"]}
{"type": "value", "data": -2}


{"type": "map", "data": {"@ee": 0}}
{"type": "hist", "data": {"@kh": {"a": [{"min": 0, "max": 4, "count": 1}]}}}
{"type": "stats", "data": {"@ks": {"1": {"count": 1, "average": 3, "total": 3}}}}
{"type": "map", "data": {"@t": {"1,a b": [1,"x"]}}}
{"type": "map", "data": {"@y": {"5": 1, "3": 5, "4": 9}}}
"#;

#[test]
fn json_prints_as_bpftrace() {
    if !bpf_ready("json_prints_as_bpftrace") {
        return;
    }
    let out = run_with_deadline({
        let mut c = vt();
        c.args(["-f", "json", "-e", PRINTS]);
        c
    }, 60);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    parse(&stdout);
    assert_eq!(stdout, PRINTS_WANT);
    if let Some(bt) = bpftrace_or_skip("json_prints_as_bpftrace: the comparison with bpftrace") {
        let out = run_with_deadline({
            let mut c = std::process::Command::new(&bt);
            c.args(["-f", "json", "-e", PRINTS]);
            c
        }, 120);
        assert_eq!(String::from_utf8_lossy(&out.stdout), PRINTS_WANT, "bpftrace 0.17 -f json");
    }
}

/// `interval` as users write it: print, then clear, each second (here every 200 ms), with time().
#[test]
fn json_interval_print_and_clear() {
    if !bpf_ready("json_interval_print_and_clear") {
        return;
    }
    let script = "interval:ms:200 { @n = @n + 1; @c = count(); time(\"%H:%M:%S\\n\"); print(@c); clear(@c); if (@n == 3) { exit(); } } BEGIN { @n = 0; }";
    let out = run_with_deadline({
        let mut c = vt();
        c.args(["-q", "-f", "json", "-e", script]);
        c
    }, 60);
    assert!(out.status.success(), "{out:?}");
    let lines = parse(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(lines.len(), 3 * 2 + 2, "{lines:?}");
    for pair in lines[..6].chunks(2) {
        assert_eq!(pair[0]["type"], "time");
        let t = pair[0]["data"].as_str().unwrap();
        assert!(t.len() == 9 && t.as_bytes()[2] == b':' && t.ends_with('\n'), "{t:?}");
        assert_eq!(pair[1], json!({"type": "map", "data": {"@c": 1}}));
    }
    assert_eq!(lines[6], json!({"type": "map", "data": {"@c": 0}}));
    assert_eq!(lines[7], json!({"type": "map", "data": {"@n": 3}}));
}
