//! bpftrace's one-liner tutorial and README one-liners that use only tracepoints, run unchanged (with
//! `args->`, as written there), against workloads of known shape. Programs without a pid filter see the
//! whole machine, so the workload first renames itself to a name no other process has, and the
//! assertions look at that name's entries, exactly where the workload's shape allows. (Lessons with
//! kprobes, kretprobes, profile, software or hardware probes, kstack or struct casts are not tracepoint
//! programs.)

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use vt_testkit::table::attachments;
use vt_testkit::{bpftrace_or_skip, expect, maps_part, skip_without_bpf, Run, Stop, Tool, Tracer, Workload};


/// A name for the workload that no other process has (comm keeps 15 characters).
fn unique_comm(tag: &str) -> String {
    format!("ol{tag}{}", std::process::id() % 1_000_000)
}

/// Runs `program`, unchanged, under `tool` against the workload `args…`: waits until every tracepoint it
/// names is attached, releases the workload, waits for it, then stops the tracer as `stop` says.
fn run_unchanged(tool: Tool, program: &str, args: &[&str], stop: Stop) -> Run {
    let mut workload = Workload::start(&args.join(" "));
    let mut tracer = Tracer::start(tool, program, &[]);
    tracer.wait_attached(&attachments(program));
    workload.release_and_wait();
    if stop == Stop::Int {
        tracer.signal(libc::SIGINT);
    }
    tracer.finish()
}

/// The `@name[key]: value` line's value, if the map printed that key.
fn keyed_value(stdout: &str, map: &str, key: &str) -> Option<u64> {
    stdout.lines().find_map(|l| l.strip_prefix(&format!("{map}[{key}]: "))?.parse().ok())
}

#[test]
fn lesson_1_hello_world() {
    if skip_without_bpf("lesson_1_hello_world") {
        return;
    }
    for program in [r#"BEGIN { printf("hello world\n"); exit(); }"#, r#"BEGIN { printf("hello world\n"); }"#] {
        let stop = if program.contains("exit()") { Stop::ByItself } else { Stop::Int };
        let mut tracer = Tracer::start(Tool::Vt, program, &[]);
        tracer.wait_attached(&[]);
        if stop == Stop::Int {
            assert!(tracer.stdout.wait_for("hello world\n", Duration::from_secs(30)), "no hello world");
            tracer.signal(libc::SIGINT);
        }
        let run = tracer.finish();
        run.assert_success();
        assert_eq!(run.stdout, "hello world\n\n\n", "{}", run.describe());
        assert_eq!(run.stderr, "Attaching 1 probe...\n");
        if bpftrace_or_skip("lesson_1_hello_world").is_some() && stop == Stop::ByItself {
            let out = Command::new("bpftrace").args(["-e", program]).stderr(Stdio::null()).output().expect("cannot run bpftrace");
            assert_eq!(maps_part(&String::from_utf8_lossy(&out.stdout)), run.stdout);
        }
    }
}

#[test]
fn lesson_2_listing_probes() {
    if skip_without_bpf("lesson_2_listing_probes") {
        return;
    }
    let out = vt_testkit::vt_command(&["-l", "tracepoint:syscalls:sys_enter_*"]).output().expect("cannot run vt");
    assert!(out.status.success());
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    let events = std::fs::read_to_string("/sys/kernel/tracing/available_events").unwrap_or_default();
    let mut want: Vec<String> =
        events.lines().filter(|l| l.starts_with("syscalls:sys_enter_")).map(|l| format!("tracepoint:{l}")).collect();
    want.sort();
    let mut got: Vec<String> = listed.lines().map(String::from).collect();
    got.sort();
    assert_eq!(got, want);
    assert!(got.contains(&"tracepoint:syscalls:sys_enter_openat".to_string()));
    if bpftrace_or_skip("lesson_2_listing_probes").is_some() {
        let bt = Command::new("bpftrace").args(["-l", "tracepoint:syscalls:sys_enter_*"]).stderr(Stdio::null()).output().unwrap();
        assert_eq!(listed, String::from_utf8_lossy(&bt.stdout), "vt -l and bpftrace -l list the same, in the same order");
    }
}

#[test]
fn lesson_3_file_opens() {
    if skip_without_bpf("lesson_3_file_opens") {
        return;
    }
    let comm = unique_comm("o");
    let program = r#"tracepoint:syscalls:sys_enter_openat { printf("%s %s\n", comm, str(args->filename)); }"#;
    let run = run_unchanged(Tool::Vt, program, &["rename", &comm, "+", "open", "/etc/passwd", "3", "+", "open", "/etc/hostname", "1"], Stop::Int);
    run.assert_success();
    let ours: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with(&format!("{comm} "))).collect();
    let p = format!("{comm} /etc/passwd");
    let h = format!("{comm} /etc/hostname");
    assert_eq!(ours, [&p, &p, &p, &h], "{}", run.describe());
    assert_eq!(run.stderr.lines().next(), Some("Attaching 1 probe..."));
}

#[test]
fn lesson_4_syscall_counts_by_process() {
    if skip_without_bpf("lesson_4_syscall_counts_by_process") {
        return;
    }
    let comm = unique_comm("c");
    let n = 500;
    let program = "tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }";
    let run = run_unchanged(Tool::Vt, program, &["rename", &comm, "+", "getppid", &n.to_string()], Stop::Int);
    run.assert_success();
    // After the rename: the getppid calls, then whatever the process does to exit.
    let count = keyed_value(&run.stdout, "@", &comm).unwrap_or_else(|| panic!("no @[{comm}]\n{}", run.describe()));
    assert!((n..n + 20).contains(&count), "@[{comm}]: {count}, expected {n} and a few more");
    // With a pid filter and the syscall number, exactly.
    let program = "tracepoint:raw_syscalls:sys_enter /comm == \"COMM\" && args->id == 110/ { @[comm] = count(); }".replace("COMM", &comm);
    let run = run_unchanged(Tool::Vt, &program, &["rename", &comm, "+", "getppid", &n.to_string()], Stop::Int);
    run.assert_success();
    assert_eq!(run.stdout, format!("\n\n@[{comm}]: {n}\n"));
}

#[test]
fn lesson_5_distribution_of_read_bytes() {
    if skip_without_bpf("lesson_5_distribution_of_read_bytes") {
        return;
    }
    let n = 100;
    let mut workload = Workload::start(&format!("read {n}"));
    let program = format!("tracepoint:syscalls:sys_exit_read /pid == {}/ {{ @bytes = hist(args->ret); }}", workload.pid());
    let mut tracer = Tracer::start(Tool::Vt, &program, &[]);
    tracer.wait_attached(&attachments(&program));
    workload.release_and_wait();
    tracer.signal(libc::SIGINT);
    let run = tracer.finish();
    run.assert_success();
    // The reads of 1..=n bytes, and the workload's release (a read of one byte).
    let values = (1..=n).chain([1]);
    assert_eq!(run.stdout, expect::exit_text(&[expect::hist_text("@bytes", &expect::log2_rows(values))]));
}

#[test]
fn lesson_8_scheduler_probes_counted_for_five_seconds() {
    if skip_without_bpf("lesson_8_scheduler_probes_counted_for_five_seconds") {
        return;
    }
    let events = std::fs::read_to_string("/sys/kernel/tracing/available_events").unwrap_or_default();
    let sched = events.lines().filter(|l| l.starts_with("sched:sched")).count();
    let program = "tracepoint:sched:sched* { @[probe] = count(); } interval:s:5 { exit(); }";
    let started = Instant::now();
    let run = run_unchanged(Tool::Vt, program, &["sleep", "10", "+", "exec", "/bin/true"], Stop::ByItself);
    let took = started.elapsed();
    run.assert_success();
    assert!(took >= Duration::from_secs(5), "the interval ends the run after 5 s, not {took:?}");
    assert_eq!(run.stderr.lines().next(), Some(format!("Attaching {} probes...", sched + 1).as_str()));
    let lines: Vec<&str> = run.stdout.lines().filter(|l| !l.is_empty()).collect();
    assert!(!lines.is_empty(), "{}", run.describe());
    for l in &lines {
        let (key, count) = l.strip_prefix("@[tracepoint:sched:sched").and_then(|r| r.split_once("]: ")).unwrap_or_else(|| panic!("{l}"));
        assert!(!key.is_empty() && count.parse::<u64>().unwrap() > 0, "{l}");
    }
    for probe in ["sched_switch", "sched_process_exec", "sched_process_exit"] {
        assert!(keyed_value(&run.stdout, "@", &format!("tracepoint:sched:{probe}")).is_some(), "no {probe}:\n{}", run.stdout);
    }
}

#[test]
fn lesson_8_with_a_pid_filter_and_one_second() {
    if skip_without_bpf("lesson_8_with_a_pid_filter_and_one_second") {
        return;
    }
    let mut workload = Workload::start("sleep 10 + exec /bin/true");
    let program = format!("tracepoint:sched:sched* /pid == {}/ {{ @[probe] = count(); }} interval:s:1 {{ exit(); }}", workload.pid());
    let mut tracer = Tracer::start(Tool::Vt, &program, &[]);
    tracer.wait_attached(&attachments(&program));
    workload.release_and_wait();
    let run = tracer.finish();
    run.assert_success();
    assert_eq!(keyed_value(&run.stdout, "@", "tracepoint:sched:sched_process_exec"), Some(1), "{}", run.stdout);
    assert_eq!(keyed_value(&run.stdout, "@", "tracepoint:sched:sched_process_exit"), Some(1), "{}", run.stdout);
    // The sleep switches the workload out at least once (and the exit once more).
    assert!(keyed_value(&run.stdout, "@", "tracepoint:sched:sched_switch").is_some_and(|n| n >= 2), "{}", run.stdout);
}

/// Block I/O: `dd oflag=direct` writes DIRECT_WRITES blocks of 4 KiB, each one request, when /tmp is on
/// a block device; elsewhere (tmpfs, no O_DIRECT) the program still attaches and exits cleanly.
const DIRECT_WRITES: usize = 32;

fn direct_writes() -> bool {
    let path = std::env::temp_dir().join(format!("vt-oneliner-dd-{}", std::process::id()));
    let status = Command::new("dd")
        .args(["if=/dev/zero", &format!("of={}", path.display()), "bs=4096", &format!("count={DIRECT_WRITES}"), "oflag=direct"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let _ = std::fs::remove_file(&path);
    status.is_ok_and(|s| s.success())
}

/// Runs `program` while dd writes; returns the run and whether the direct writes happened.
fn with_block_io(program: &str) -> (Run, bool) {
    let mut tracer = Tracer::start(Tool::Vt, program, &[]);
    tracer.wait_attached(&attachments(program));
    let wrote = direct_writes();
    tracer.signal(libc::SIGINT);
    (tracer.finish(), wrote)
}

#[test]
fn lesson_11_block_io_sizes() {
    if skip_without_bpf("lesson_11_block_io_sizes") {
        return;
    }
    let (run, wrote) = with_block_io("tracepoint:block:block_rq_issue { @ = hist(args->bytes); }");
    run.assert_success();
    if !wrote {
        vt_testkit::skip("lesson_11_block_io_sizes", "no direct I/O to a block device under /tmp: only attach and exit checked");
        return;
    }
    let row = run.stdout.lines().find_map(|l| l.strip_prefix("[4K, 8K)")).unwrap_or_else(|| panic!("no [4K, 8K) row:\n{}", run.stdout));
    let count: usize = row.split_whitespace().next().unwrap().parse().unwrap();
    assert!(count >= DIRECT_WRITES, "{count} requests of 4K, dd made {DIRECT_WRITES}:\n{}", run.stdout);
    assert!(run.stdout.starts_with("\n\n@: \n"), "{}", run.stdout);
}

#[test]
fn readme_block_io_by_process() {
    if skip_without_bpf("readme_block_io_by_process") {
        return;
    }
    let (run, wrote) = with_block_io(r#"tracepoint:block:block_rq_issue { printf("%d %s %d\n", pid, comm, args->bytes); }"#);
    run.assert_success();
    if !wrote {
        vt_testkit::skip("readme_block_io_by_process", "no direct I/O to a block device under /tmp: only attach and exit checked");
        return;
    }
    let dd = run.stdout.lines().filter(|l| l.ends_with(" dd 4096")).count();
    assert!(dd >= DIRECT_WRITES, "{dd} lines of dd's 4K writes:\n{}", run.stdout);
}

#[test]
fn readme_read_bytes_by_process() {
    if skip_without_bpf("readme_read_bytes_by_process") {
        return;
    }
    let comm = unique_comm("r");
    let n: u64 = 50;
    let args = ["rename", comm.as_str(), "+", "read", "50"];
    let run = run_unchanged(Tool::Vt, "tracepoint:syscalls:sys_exit_read /args->ret/ { @[comm] = sum(args->ret); }", &args, Stop::Int);
    run.assert_success();
    assert_eq!(keyed_value(&run.stdout, "@", &comm), Some(n * (n + 1) / 2), "{}", run.stdout);

    let run = run_unchanged(Tool::Vt, "tracepoint:syscalls:sys_exit_read { @[comm] = hist(args->ret); }", &args, Stop::Int);
    run.assert_success();
    let ours = expect::hist_text(&format!("@[{comm}]"), &expect::log2_rows(1..=n as i64));
    assert!(run.stdout.contains(&ours), "expected\n{ours}in\n{}", run.stdout);
}

#[test]
fn readme_syscalls_per_second() {
    if skip_without_bpf("readme_syscalls_per_second") {
        return;
    }
    let program = "tracepoint:raw_syscalls:sys_enter { @ = count(); } interval:s:1 { print(@); clear(@); }";
    let mut tracer = Tracer::start(Tool::Vt, program, &[]);
    tracer.wait_attached(&attachments(program));
    let deadline = Instant::now() + Duration::from_secs(30);
    while tracer.stdout.text().matches("@: ").count() < 2 && Instant::now() < deadline {
        tracer.stdout.wait_for("@: ", Duration::from_millis(200)); // polling for the second tick
        std::thread::sleep(Duration::from_millis(100));
    }
    tracer.signal(libc::SIGINT);
    let run = tracer.finish();
    run.assert_success();
    let ticks: Vec<u64> = run.stdout.lines().filter_map(|l| l.strip_prefix("@: ")?.parse().ok()).collect();
    assert!(ticks.len() >= 3, "two ticks and the map at exit:\n{}", run.stdout);
    // Each tick counts the second since the last clear; vt itself makes syscalls every second.
    assert!(ticks[..2].iter().all(|&n| n > 0), "{}", run.stdout);
}
