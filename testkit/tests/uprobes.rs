//! Uprobes that a table cannot say: a library function found by name through `-p PID`'s mappings.

use vt_testkit::{skip_without_bpf, trace_with, Stop, Tool, Workload};

#[test]
fn libc_function_by_library_name_in_one_process() {
    if skip_without_bpf(module_path!()) {
        return;
    }
    // The workload makes its getppid calls through libc's syscall(3), and nothing else of it after
    // the release; -p attaches to that process only (and vt exits with it).
    let mut w = Workload::start("getppid 7");
    let pid = w.pid().to_string();
    let script = "uprobe:libc:syscall { @calls = count(); @nr[arg0] = count(); @pids[pid == $PID] = count(); }";
    let run = trace_with(Tool::Vt, script, &["-p", &pid], &mut w, Stop::ByItself);
    let out = run.stdout.clone();
    assert!(out.contains("@calls: 7\n"), "{}", run.describe());
    assert!(out.contains(&format!("@nr[{}]: 7\n", libc::SYS_getppid)), "{}", run.describe());
    assert!(out.contains("@pids[1]: 7\n") && !out.contains("@pids[0]"), "{}", run.describe());
}
