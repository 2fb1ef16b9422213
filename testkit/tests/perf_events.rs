//! Perf event probes whose counts depend on time or on the machine, so that a table cannot give them
//! exactly: `profile:hz:N` samples N times a second on every CPU; `software:page-faults:1` counts the
//! faults of a workload that touches N fresh pages, as bpftrace 0.17 does.

use vt_testkit::{skip_without_bpf, trace, Stop, Tool, Workload};

/// The online CPUs, which profile samples (one event each).
fn online_cpus() -> u64 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as u64)
}

/// The value of `@NAME: V` in a tracer's output.
fn value(stdout: &str, name: &str) -> u64 {
    let line = stdout.lines().find_map(|l| l.strip_prefix(&format!("@{name}: "))).unwrap_or_else(|| panic!("no @{name} in:\n{stdout}"));
    line.trim().parse().unwrap_or_else(|_| panic!("@{name} is not a number in:\n{stdout}"))
}

#[test]
fn profile_samples_each_cpu_at_its_frequency() {
    if skip_without_bpf(module_path!()) {
        return;
    }
    let run = trace(Tool::Vt, "profile:hz:99 { @n = count(); } interval:s:2 { exit(); }", Workload::start("getppid 1"), Stop::ByItself);
    let n = value(&run.stdout, "n");
    let want = 99 * 2 * online_cpus();
    // The interval starts a moment after the first samples: a few percent either way.
    assert!(n.abs_diff(want) * 100 <= want * 5, "{n} samples, expected about {want}\n{}", run.describe());
}

#[test]
fn page_faults_of_a_workload_touching_fresh_pages() {
    if skip_without_bpf(module_path!()) {
        return;
    }
    let pages = 2000;
    let script = "software:page-faults:1 /pid == $PID/ { @faults = count(); }";
    let vt = value(&trace(Tool::Vt, script, Workload::start(&format!("touch {pages}")), Stop::Int).stdout, "faults");
    // Each page faults once; the workload's own exit adds a few more.
    assert!((pages..pages + 64).contains(&vt), "vt counted {vt} faults for {pages} pages");
    if vt_testkit::on_path("bpftrace").is_some() {
        let bt = value(&trace(Tool::Bpftrace, script, Workload::start(&format!("touch {pages}")), Stop::Int).stdout, "faults");
        assert!(vt.abs_diff(bt) <= 16, "vt counted {vt} faults, bpftrace 0.17 {bt}");
        eprintln!("page faults for {pages} pages: vt {vt}, bpftrace {bt}");
    }
}
