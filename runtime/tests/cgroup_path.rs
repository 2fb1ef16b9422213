//! `cgroup_path(cgroup)`: a workload moved into a cgroup made for the test is named by that cgroup's
//! path in printf, in a printed map key and in a metrics label; the full text (every hierarchy) is
//! the same as bpftrace 0.17 prints for the same cgroup.

#[allow(dead_code)]
mod metrics_common;

use metrics_common::{Served, TestCgroup};
use vt_testkit::*;

fn cgroup_or_skip(test: &str) -> Option<TestCgroup> {
    let cg = TestCgroup::make(&format!("vt-test-{test}-{}", std::process::id()));
    if cg.is_none() {
        skip(test, "no cgroup2 mount where a cgroup can be made");
    }
    cg
}

const PRINTF: &str = "tracepoint:syscalls:sys_enter_getppid /pid == $PID/ { printf(\"%s|%s\\n\", cgroup_path(cgroup, \"unified\"), cgroup_path(cgroup)); exit(); }";

#[test]
fn printf_prints_the_workloads_cgroup_as_bpftrace_does() {
    let test = "printf_prints_the_workloads_cgroup_as_bpftrace_does";
    if !bpf_ready(test) {
        return;
    }
    let Some(cg) = cgroup_or_skip(test) else { return };
    let work = Workload::start("getppid 2");
    cg.enter(work.pid());
    let vt = trace(Tool::Vt, PRINTF, work, Stop::ByItself);
    vt.assert_success();
    let lines: Vec<&str> = vt.stdout.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 1, "{}", vt.describe());
    let (unified, all) = lines[0].split_once('|').unwrap();
    assert_eq!(unified, format!("unified:{}", cg.rel), "{}", vt.describe());
    assert!(all.starts_with(&format!("unified:{},", cg.rel)) || all == unified, "{}", vt.describe());

    let Some(_) = bpftrace_or_skip(test) else { return };
    let work = Workload::start("getppid 2");
    cg.enter(work.pid());
    let bt = trace(Tool::Bpftrace, PRINTF, work, Stop::ByItself);
    bt.assert_success();
    // The same text; how many events each tool printed is not the point here.
    let bt_first = maps_part(&bt.stdout).lines().find(|l| !l.is_empty());
    assert_eq!(bt_first, Some(lines[0]), "bpftrace:\n{}\nvt:\n{}", bt.describe(), vt.describe());
}

#[test]
fn a_map_keyed_by_cgroup_path_prints_and_serves_the_path() {
    let test = "a_map_keyed_by_cgroup_path_prints_and_serves_the_path";
    if !bpf_ready(test) {
        return;
    }
    let Some(cg) = cgroup_or_skip(test) else { return };
    let mut work = Workload::start("getppid 3");
    cg.enter(work.pid());
    let script = format!(
        "tracepoint:syscalls:sys_enter_getppid /pid == {}/ {{ @calls[cgroup_path(cgroup, \"unified\")] = count(); }} BEGIN {{ printf(\"ready\\n\"); }}",
        work.pid()
    );
    let served = Served::start(&script);
    work.release_and_wait();
    let (_, body) = served.get(None);
    let sample = format!("vt_calls_total{{cgroup_path=\"unified:{}\"}} 3\n", cg.rel);
    assert!(body.contains(&sample), "no {sample} in\n{body}");
    let (out, err) = served.stop();
    assert_eq!(out, format!("ready\n\n\n@calls[unified:{}]: 3\n", cg.rel), "{err}");
}
