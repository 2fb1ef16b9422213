//! `signal()` (with `--unsafe`): the signal reaches the process that made the event. A table entry
//! cannot show it (the program that sends it cannot see the signal tracepoints fire, and the signalled
//! workload does not finish well), so the child of `-c` is killed at its first of three calls, under
//! vt and under bpftrace 0.17.

use std::process::Command;
use vt_testkit::{bpf_ready, bpftrace_or_skip, maps_part, on_path, run_with_deadline, vt, workload_line};

const SCRIPT: &str = "tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @n = count(); signal(\"KILL\"); } \
                      tracepoint:syscalls:sys_exit_getppid /pid == cpid/ { @after = count(); }";

#[test]
fn signal_kills_the_child_at_its_first_call() {
    if !bpf_ready("signal_kills_the_child_at_its_first_call") {
        return;
    }
    let mut cmd = vt();
    cmd.args(["--unsafe", "-c", &workload_line("getppid 3"), "-e", SCRIPT]);
    let out = run_with_deadline(cmd, 60);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{out:?}");
    // The kill is pending when the call returns: its exit tracepoint still fires, once.
    assert_eq!(stdout, "\n\n@after: 1\n@n: 1\n", "stderr: {}", String::from_utf8_lossy(&out.stderr));
    if bpftrace_or_skip("signal_kills_the_child_at_its_first_call").is_some() {
        let mut bt = Command::new(on_path("bpftrace").expect("bpftrace"));
        bt.args(["--unsafe", "-c", &workload_line("getppid 3"), "-e", SCRIPT]);
        let theirs = run_with_deadline(bt, 60);
        assert_eq!(maps_part(&String::from_utf8_lossy(&theirs.stdout)), stdout);
    }
}
