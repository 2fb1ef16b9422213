//! `vt -l` against the kernel's own list of events (and bpftrace 0.17's `-l`, where installed).

use vt_testkit::*;
use std::collections::BTreeSet;

fn tracefs_root() -> Option<std::path::PathBuf> {
    tracefs_ready();
    ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]
        .iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.join("available_events").exists())
}


#[test]
fn list_is_the_kernels_set_of_events() {
    let Some(root) = tracefs_root() else {
        skip("list_is_the_kernels_set_of_events", "no tracefs with available_events");
        return;
    };
    let listed = vt_stdout(&["-l"]);
    let tracepoints: BTreeSet<String> =
        listed.lines().filter_map(|l| l.strip_prefix("tracepoint:")).map(String::from).collect();
    let kernel: BTreeSet<String> = std::fs::read_to_string(root.join("available_events"))
        .unwrap()
        .lines()
        .map(|l| l.trim().to_string())
        .collect();
    assert!(kernel.len() > 100, "few events: {}", kernel.len());
    assert_eq!(tracepoints, kernel, "vt -l and available_events differ");
    // Every listed event has its directory (and format) in tracefs, and nothing is listed twice.
    for tp in &tracepoints {
        let (cat, name) = tp.split_once(':').unwrap();
        assert!(root.join("events").join(cat).join(name).is_dir(), "{tp} has no directory");
    }
    assert_eq!(listed.lines().filter(|l| l.starts_with("tracepoint:")).count(), tracepoints.len());
    // The other probe kinds come first.
    let others: Vec<&str> = listed.lines().filter(|l| !l.starts_with("tracepoint:") && !l.starts_with("rawtracepoint:")).collect();
    let head = ["BEGIN", "END", "interval:hz:", "interval:ms:", "interval:s:", "interval:us:", "profile:hz:", "profile:ms:"];
    assert_eq!(others[..head.len()], head);
    // Software and hardware events by name and by bpftrace's aliases.
    for event in ["software:page-faults:", "software:faults:", "software:cs:", "software:task-clock:", "hardware:cycles:", "hardware:cache-misses:"] {
        assert!(others.contains(&event), "{event} is not listed");
    }
    assert!(others.contains(&"watchpoint:") && others.contains(&"asyncwatchpoint:"), "watchpoints are not listed");
    assert_eq!(others.len(), head.len() + 2 + 11 + 3 + 10 + 2 + 2, "{others:?}");
    // Raw tracepoints are the kernel's BTF names: sys_enter is one, syscalls' trace events are not.
    assert!(listed.lines().any(|l| l == "rawtracepoint:sys_enter") && !listed.contains("rawtracepoint:sys_enter_read\n"));
}

#[test]
fn list_names_the_functions_of_a_file() {
    let shapes = workload_bin();
    let listed = vt_stdout(&["-l", &format!("uprobe:{}:vt_shapes_*", shapes.display())]);
    assert_eq!(listed, format!("uprobe:{}:vt_shapes_add\n", shapes.display()));
    let listed = vt_stdout(&["-l", &format!("uretprobe:{}:vt_shapes_a?d", shapes.display())]);
    assert_eq!(listed, format!("uretprobe:{}:vt_shapes_add\n", shapes.display()));
    // A file's USDT probes, as bpftrace lists them (`usdt:PATH:PROVIDER:NAME`), by glob.
    let s = shapes.display();
    assert_eq!(vt_stdout(&["-l", &format!("usdt:{s}:*")]), format!("usdt:{s}:vt:guarded\nusdt:{s}:vt:plain\n"));
    assert_eq!(vt_stdout(&["-l", &format!("usdt:{s}:vt:pl*")]), format!("usdt:{s}:vt:plain\n"));
    assert_eq!(vt_stdout(&["-l", "rawtracepoint:sys_ent?r"]), "rawtracepoint:sys_enter\n");
}

#[test]
fn list_globs_and_verbose_as_bpftrace() {
    let Some(root) = tracefs_root() else {
        skip("list_globs_and_verbose_as_bpftrace", "no tracefs");
        return;
    };
    if !root.join("events/syscalls/sys_enter_read").is_dir() {
        skip("list_globs_and_verbose_as_bpftrace", "no syscalls tracepoints");
        return;
    }
    assert_eq!(vt_stdout(&["-l", "tracepoint:syscalls:sys_enter_getpp*"]), "tracepoint:syscalls:sys_enter_getppid\n");
    assert_eq!(vt_stdout(&["-l", "t:syscalls:sys_exit_getppid"]), "tracepoint:syscalls:sys_exit_getppid\n");
    let verbose = vt_stdout(&["-lv", "tracepoint:syscalls:sys_enter_read"]);
    assert_eq!(
        verbose,
        "tracepoint:syscalls:sys_enter_read\n    int __syscall_nr\n    unsigned int fd\n    char * buf\n    size_t count\n"
    );
    let Some(bt) = bpftrace_or_skip("list_globs_and_verbose_as_bpftrace: the comparison with bpftrace") else { return };
    for args in [&["-l", "tracepoint:*"][..], &["-l", "tracepoint:sched:*"], &["-lv", "tracepoint:syscalls:sys_enter_read"]] {
        let out = run_with_deadline({
            let mut c = std::process::Command::new(&bt);
            c.args(args);
            c
        }, 120);
        let theirs = String::from_utf8_lossy(&out.stdout).into_owned();
        let ours = vt_stdout(args);
        if args[0] == "-lv" {
            assert_eq!(ours, theirs, "vt {args:?} and bpftrace {args:?} differ");
            continue;
        }
        // Same probes; bpftrace keeps the kernel's order, vt sorts.
        let (a, b): (BTreeSet<&str>, BTreeSet<&str>) = (ours.lines().collect(), theirs.lines().collect());
        let only_vt: Vec<_> = a.difference(&b).take(5).collect();
        let only_bt: Vec<_> = b.difference(&a).take(5).collect();
        assert!(only_vt.is_empty() && only_bt.is_empty(), "{args:?}: only vt lists {only_vt:?}, only bpftrace {only_bt:?}");
        assert_eq!(ours.lines().count(), theirs.lines().count(), "{args:?}");
    }
}

#[test]
fn list_kernel_functions_for_kprobes() {
    // A kernel without kprobes lists none (as bpftrace); the guest's listing is checked in
    // kernel-support/vm/kprobe-test.sh. vfs_read is in every kernel, and no other function matches.
    if !std::path::Path::new("/sys/bus/event_source/devices/kprobe").exists() {
        assert_eq!(vt_stdout(&["-l", "kprobe:vfs_rea?"]), "");
        assert_eq!(vt_stdout(&["-l", "k*:vfs_rea?"]), "");
        return;
    }
    assert_eq!(vt_stdout(&["-l", "kprobe:vfs_rea?"]), "kprobe:vfs_read\n");
    assert_eq!(vt_stdout(&["-l", "kretprobe:vfs_rea?"]), "kretprobe:vfs_read\n");
    assert_eq!(vt_stdout(&["-l", "k*:vfs_rea?"]), "kprobe:vfs_read\nkretprobe:vfs_read\n");
}

#[test]
fn list_kernel_functions_for_fentry() {
    // The functions with BTF that ftrace can trace, listed only where the kernel loads tracing
    // programs (as kprobes only where it has kprobes): where it lists none, running one is refused
    // (the guest's listing is checked in kernel-support/vm/fentry-test.sh). vfs_read is in every
    // kernel, and no other function matches.
    if !std::path::Path::new("/sys/kernel/btf/vmlinux").exists() {
        return;
    }
    if vt_stdout(&["-l", "fentry:vfs_rea?"]).is_empty() {
        let out = vt_command(&["-e", "fentry:vfs_read { exit(); }"]).output().expect("cannot run vt");
        assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("this kernel lacks"), "{out:?}");
        assert_eq!(vt_stdout(&["-l", "k*:vfs_rea?"]), vt_stdout(&["-l", "kprobe:vfs_rea?"]) + &vt_stdout(&["-l", "kretprobe:vfs_rea?"]));
        return;
    }
    assert_eq!(vt_stdout(&["-l", "fentry:vfs_rea?"]), "fentry:vfs_read\n");
    assert_eq!(vt_stdout(&["-l", "fexit:vfs_rea?"]), "fexit:vfs_read\n");
    // bpftrace 0.17's names list under their own name.
    assert_eq!(vt_stdout(&["-l", "kfunc:vfs_rea?"]), "kfunc:vfs_read\n");
    assert_eq!(vt_stdout(&["-l", "kretfunc:vfs_rea?"]), "kretfunc:vfs_read\n");
}
