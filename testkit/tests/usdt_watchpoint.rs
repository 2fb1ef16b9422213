//! What tables cannot say: USDT with `-p PID` while another process fires the same probes, and a
//! watchpoint on the workload's global `shapes_watched`, whose address is known only once the
//! (position-independent) workload is mapped.

use std::process::Command;
use vt_testkit::{skip_without_bpf, trace_with, workload_bin, Stop, Tool, Workload};

#[test]
fn usdt_in_one_process_only() {
    if skip_without_bpf(module_path!()) {
        return;
    }
    let shapes = workload_bin().to_string_lossy().into_owned();
    // Another process fires the same probes while vt is attached (released first, it fires after
    // 1.5 s; the traced one 2 s after its own release, which follows the attaching), untraced.
    let mut other = Workload::start("sleep 1500 + usdt 50");
    let mut w = Workload::start("sleep 2000 + usdt 12");
    let pid = w.pid().to_string();
    let script = format!("usdt:{shapes}:vt:* {{ @[probe] = count(); @pids[pid == $PID] = count(); @g = sum(arg0); }}");
    other.release();
    let run = trace_with(Tool::Vt, &script, &["-p", &pid], &mut w, Stop::ByItself);
    other.wait();
    let out = &run.stdout;
    // vt:plain's arg0 sums -78, vt:guarded's 78: 0 in all.
    assert!(out.contains(&format!("@[usdt:{shapes}:vt:plain]: 12\n")), "{}", run.describe());
    assert!(out.contains(&format!("@[usdt:{shapes}:vt:guarded]: 12\n")), "{}", run.describe());
    assert!(out.contains("@g: 0\n") && out.contains("@pids[1]: 24\n") && !out.contains("@pids[0]"), "{}", run.describe());
}

/// The address of `shapes_watched` in process `pid`: its symbol's value (from `nm`) plus where the
/// workload's file is mapped from offset 0.
fn watched_address(pid: u32) -> u64 {
    let shapes = workload_bin();
    let nm = Command::new("nm").arg(&shapes).output().expect("cannot run nm (binutils)");
    let symbols = String::from_utf8_lossy(&nm.stdout);
    let value = symbols
        .lines()
        .find_map(|l| l.strip_suffix(" shapes_watched").and_then(|l| l.split_whitespace().next()))
        .and_then(|v| u64::from_str_radix(v, 16).ok())
        .expect("no shapes_watched in the workload's symbols");
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).expect("the workload's maps");
    let path = std::fs::canonicalize(&shapes).expect("the workload's path");
    let base = maps
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 6 && f[2] == "00000000" && std::path::Path::new(f[5]) == path).then(|| f[0].split('-').next().map(str::to_string))?
        })
        .and_then(|b| u64::from_str_radix(&b, 16).ok())
        .expect("the workload's first mapping");
    base + value
}

#[test]
fn watchpoint_counts_each_write_of_a_global() {
    if skip_without_bpf(module_path!()) {
        return;
    }
    let mut w = Workload::start("watch 40");
    let addr = watched_address(w.pid());
    let pid = w.pid().to_string();
    let script = format!("watchpoint:{addr:#x}:8:w {{ @writes = count(); @p[probe] = count(); }}");
    let run = trace_with(Tool::Vt, &script, &["-p", &pid], &mut w, Stop::ByItself);
    let out = &run.stdout;
    assert!(out.contains("@writes: 40\n"), "{}", run.describe());
    // bpftrace's name for it: the address in decimal.
    assert!(out.contains(&format!("@p[watchpoint:{addr}:8:w]: 40\n")), "{}", run.describe());
}

#[test]
fn watchpoint_on_reads_alone_is_refused_plainly() {
    if skip_without_bpf(module_path!()) {
        return;
    }
    let w = Workload::start("watch 1");
    let addr = watched_address(w.pid());
    let out = vt_testkit::vt_command(&["-p", &w.pid().to_string(), "-e", &format!("watchpoint:{addr:#x}:8:r {{ @ = count(); }}")])
        .output()
        .expect("cannot run vt");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("cannot watch reads alone") && !stderr.contains("panicked"), "{stderr}");
}

#[test]
fn usdt_semaphore_of_a_process_started_after_attaching() {
    if skip_without_bpf(module_path!()) {
        return;
    }
    // `-c` starts the workload once the probes are attached: the kernel raises the semaphore in a
    // process that maps the file after the uprobe exists, so every guarded probe fires.
    let shapes = workload_bin().to_string_lossy().into_owned();
    let script = format!("usdt:{shapes}:vt:guarded /pid == cpid/ {{ @g = count(); @s = sum(arg0); }}");
    let cmd = vt_testkit::workload_line("usdt 9");
    let out = vt_testkit::run_with_deadline(vt_testkit::vt_command(&["-c", &cmd, "-e", &script]), 60);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("@g: 9\n") && stdout.contains("@s: 45\n"), "{stdout}");
}
