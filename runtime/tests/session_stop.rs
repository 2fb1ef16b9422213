//! Ending a run without waiting for the kernel: the run switch stops every attached program at once
//! (`Session::stop`), and `vt` leaves the detaching to child processes (`vt-closer`, see `closer`) that
//! hold nothing but vt's BPF files and exit once the kernel has let them go.

use vt_testkit::can_trace;
use runtime::session::{Output, Session};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

fn getppid_times(n: usize) {
    for _ in 0..n {
        // SAFETY: getppid has no preconditions; the raw syscall is what the tracepoint sees.
        unsafe { libc::syscall(libc::SYS_getppid) };
    }
}

#[test]
fn after_stop_the_attached_programs_change_nothing() {
    if !can_trace("after_stop_the_attached_programs_change_nothing") {
        return;
    }
    // The getppid calls of this process are this test's own: the other test here only starts vt.
    let me = std::process::id();
    let text = format!(
        "tracepoint:syscalls:sys_enter_getppid /pid == {me}/ {{ @n = count(); @k[1] = count(); @h = hist(5); printf(\"hit\\n\"); }}
         tracepoint:syscalls:sys_enter_getppid /pid == {me}/ {{ @s[2] = sum(3); }}"
    );
    let script = lang::parse::parse(&text).expect("parses");
    let mut tracefs = lang::provider::Tracefs::new("/sys/kernel/tracing");
    let program = library::check(&script, &mut tracefs, &Default::default()).expect("checks");
    let mut session = Session::load(library::compile(&program).expect("compiles")).expect("loads");
    session.attach().expect("attaches");
    getppid_times(5);
    session.stop().expect("stops");
    getppid_times(7);
    assert!(session.attached(), "stopping detaches nothing");
    let printed = session.drain_outputs().expect("reads the ring buffer");
    assert_eq!(printed.iter().filter(|o| matches!(o, Output::Printf(b) if b == b"hit\n")).count(), 5);
    let maps = runtime::output::text::exit_text(&session.dump().expect("reads the maps"));
    for line in ["@n: 5", "@k[1]: 5", "@s[2]: 15", "[4, 8)                 5 |@@@@"] {
        assert!(maps.contains(line), "no {line:?} in\n{maps}");
    }
}

/// (pid, comm) of the processes holding one of the BPF programs `progs` (or a link to one).
fn holders(progs: &BTreeSet<u32>) -> Vec<(u32, String)> {
    vt_testkit::all_pids()
        .into_iter()
        .filter(|&pid| vt_testkit::bpf_objects(pid).progs.iter().any(|id| progs.contains(id)))
        .map(|pid| (pid, std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default().trim().to_string()))
        .collect()
}

#[test]
fn vt_exits_before_the_kernel_detaches_and_its_closer_holds_only_bpf_files() {
    if !can_trace("vt_exits_before_the_kernel_detaches_and_its_closer_holds_only_bpf_files") {
        return;
    }
    // Ten tracepoints take the kernel about a second to detach; vt itself is gone long before that.
    let names = ["getppid", "getpid", "gettid", "getuid", "getgid", "geteuid", "getegid", "getpgrp", "getsid", "sched_yield"];
    let mut script: String = names.iter().map(|n| format!("tracepoint:syscalls:sys_enter_{n} {{ @[probe] = count(); }}\n")).collect();
    script += "interval:ms:300 { exit(); }";
    let child = vt_testkit::vt()
        .args(["-q", "-e", &script])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("vt runs");
    // The programs of this vt, once all ten are loaded.
    let deadline = Instant::now() + Duration::from_secs(20);
    let (pid, mut progs) = (child.id(), BTreeSet::new());
    while progs.len() < names.len() + 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        progs = vt_testkit::bpf_objects(pid).progs.into_iter().collect();
    }
    assert_eq!(progs.len(), names.len() + 1, "vt's programs: ten tracepoints and the interval");
    let out = vt_testkit::wait_output(child, Duration::from_secs(20));
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("\n\n"), "the maps' preamble is printed");

    // Whoever still holds vt's programs is its closer, with nothing open but BPF files and a pipe.
    for (pid, comm) in holders(&progs) {
        assert_eq!(comm, "vt-closer", "process {pid} holds vt's programs");
        for fd in std::fs::read_dir(format!("/proc/{pid}/fd")).into_iter().flatten().flatten() {
            let Ok(target) = std::fs::read_link(fd.path()) else { continue };
            let target = target.to_string_lossy().into_owned();
            assert!(
                target.starts_with("anon_inode:bpf") || target == "anon_inode:[perf_event]" || target.starts_with("pipe:"),
                "the closer {pid} holds fd {:?} -> {target}",
                fd.file_name()
            );
        }
    }
    // And it lets go: nothing of vt's is left in the kernel.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !holders(&progs).is_empty() {
        assert!(Instant::now() < deadline, "vt's programs are still held: {:?}", holders(&progs));
        std::thread::sleep(Duration::from_millis(50));
    }
}
