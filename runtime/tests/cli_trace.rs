//! `-c`, `-p`, `-o`, `-q` and exit codes, on real tracepoints with a workload of known shape.

use vt_testkit::*;

/// `-c`: the child is held until the probes are attached (so every one of its calls is seen), `cpid`
/// is its pid, and vt exits when it does, printing the maps as at Ctrl-C.
#[test]
fn dash_c_counts_the_childs_calls_exactly_and_exits_with_it() {
    if !bpf_ready("dash_c_counts_the_childs_calls_exactly_and_exits_with_it") {
        return;
    }
    let mut cmd = vt();
    cmd.args(["-c", &workload_line("getppid 5"), "-e"]).arg(
        "tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @c = count(); @p = pid == cpid; } END { printf(\"end\\n\"); }",
    );
    let out = run_with_deadline(cmd, 60);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout, "end\n\n\n@c: 5\n@p: 1\n", "stderr: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "Attaching 2 probes...\n");
}

/// As in bpftrace 0.17, -c does not filter probes: other processes' calls count too, and `pid == cpid`
/// tells the child's apart.
#[test]
fn dash_c_does_not_filter_without_cpid() {
    if !bpf_ready("dash_c_does_not_filter_without_cpid") {
        return;
    }
    // Another process makes 3 calls while vt runs: it is released once the probes are attached, and
    // the -c child sleeps for a second before its 4 calls.
    let mut noise = Workload::start("getppid 3");
    let mut c = vt();
    c.args(["-c", &workload_line("sleep 1000 + getppid 4"), "-e"]);
    c.arg("tracepoint:syscalls:sys_enter_getppid { @[pid == cpid] = count(); } BEGIN { printf(\"ready\\n\"); }");
    let mut running = Running::start(c);
    running.wait_line("ready", 30);
    noise.release_and_wait();
    let (status, lines, err) = running.finish(60);
    assert!(status.success(), "{err}");
    assert!(lines.contains(&"@[1]: 4".to_string()), "{lines:?}");
    let others = lines.iter().find_map(|l| l.strip_prefix("@[0]: ")).map(|v| v.parse::<u64>().unwrap());
    assert!(others.unwrap_or(0) >= 3, "the other process's 3 calls are counted too: {lines:?}");
}

/// `-p PID`: only that process's calls count (another process's are filtered out), and vt exits when it
/// exits.
#[test]
fn dash_p_filters_to_the_process_and_exits_with_it() {
    if !bpf_ready("dash_p_filters_to_the_process_and_exits_with_it") {
        return;
    }
    let mut target = Workload::start("getppid 6");
    let mut noise = Workload::start("getppid 4");
    let mut c = vt();
    c.args(["-p", &target.pid().to_string(), "-e"])
        .arg("tracepoint:syscalls:sys_enter_getppid { @c = count(); @by[pid] = count(); } BEGIN { printf(\"ready\\n\"); }");
    let mut running = Running::start(c);
    running.wait_line("ready", 30);
    noise.release_and_wait();
    target.release();
    let (status, lines, err) = running.finish(30);
    target.wait();
    assert!(status.success(), "{err}");
    assert_eq!(lines, ["ready".to_string(), "".into(), "".into(), format!("@by[{}]: 6", target.pid()), "@c: 6".into()], "{err}");
}

#[test]
fn dash_p_of_no_process_is_an_error() {
    let out = run_with_deadline({
        let mut c = vt();
        c.args(["-p", "999999999", "-e", "BEGIN { exit(); }"]);
        c
    }, 30);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot trace process 999999999"), "{out:?}");
}

#[test]
fn dash_c_of_a_missing_command_is_an_error() {
    let out = run_with_deadline({
        let mut c = vt();
        c.args(["-c", "no-such-command-here x", "-e", "BEGIN { exit(); }"]);
        c
    }, 30);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot run the -c command: 'no-such-command-here' is not found in PATH"), "{err}");
}

#[test]
fn cpid_without_dash_c_is_an_error() {
    let out = run_with_deadline({
        let mut c = vt();
        c.args(["-e", "BEGIN { printf(\"%d\\n\", cpid); }"]);
        c
    }, 30);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("-e:1:24: error: cpid cannot be used without a child command"), "{err}");
}

/// Errors go to stderr with exit status 1, nothing to stdout (as bpftrace).
#[test]
fn errors_on_stderr_exit_1() {
    let out = run_with_deadline({
        let mut c = vt();
        c.args(["-e", "BEGIN { @x = nosuch; }"]);
        c
    }, 30);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown builtin `nosuch`"));
}

/// `-o FILE` takes what the script prints; `-q` drops `Attaching N probes...`. The file holds what
/// bpftrace 0.17 writes to its -o file (its `\n\n` exit preamble still goes to stdout).
#[test]
fn dash_o_and_dash_q() {
    if !bpf_ready("dash_o_and_dash_q") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("vt-cli-o-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = "BEGIN { @a = 1; @h = hist(5); printf(\"x %d\\n\", 7); exit(); }";
    let file = dir.join("out.txt");
    let out = run_with_deadline({
        let mut c = vt();
        c.arg("-q").arg("-o").arg(&file).args(["-e", script]);
        c
    }, 30);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "\n\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "-q: nothing on stderr");
    let text = std::fs::read_to_string(&file).unwrap();
    let want = "x 7\n@a: 1\n@h: \n[4, 8)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n\n";
    assert_eq!(text, want);
    // Without -q the line is there; -o with -f json puts JSON in the file.
    let out = run_with_deadline({
        let mut c = vt();
        c.arg("-o").arg(&file).args(["-f", "json", "-e", script]);
        c
    }, 30);
    assert!(out.status.success(), "{out:?}");
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "{\"type\": \"attached_probes\", \"data\": {\"probes\": 1}}");
    assert_eq!(lines[1], "{\"type\": \"printf\", \"data\": \"x 7\\n\"}");
    assert_eq!(lines[2], "{\"type\": \"map\", \"data\": {\"@a\": 1}}");
    if let Some(bt) = bpftrace_or_skip("dash_o_and_dash_q: the comparison with bpftrace") {
        let bfile = dir.join("bpftrace.txt");
        let out = run_with_deadline({
            let mut c = std::process::Command::new(&bt);
            c.arg("-q").arg("-o").arg(&bfile).args(["-e", script]);
            c
        }, 60);
        assert!(out.status.success(), "{out:?}");
        assert_eq!(std::fs::read_to_string(&bfile).unwrap(), want, "bpftrace's -o file");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Where the kernel has no kprobes (this project's CI host), a kprobe is refused at attach time in one
/// line (kprobes themselves are tested in the VM: kernel-support/vm/kprobe-test.sh).
#[test]
fn kprobe_without_kernel_kprobes_is_one_line() {
    if std::path::Path::new("/sys/bus/event_source/devices/kprobe").exists() {
        skip("kprobe_without_kernel_kprobes_is_one_line", "this kernel has kprobes");
        return;
    }
    if !bpf_ready("kprobe_without_kernel_kprobes_is_one_line") {
        return;
    }
    let out = vt_command(&["-e", "kprobe:vfs_read { @ = count(); }"]).output().expect("cannot run vt");
    assert!(matches!(out.status.code(), Some(c) if c != 0), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.starts_with("Attaching")).collect();
    assert_eq!(lines, ["vt: cannot attach kprobe:vfs_read: this kernel has no kprobes (built without CONFIG_KPROBES)"], "{err}");
}

/// fentry either runs (a kernel with the tracing program type: exact count of one event, then exit)
/// or is refused in one line where the kernel lacks it (this project's CI host; fentry itself is
/// tested in the VM: kernel-support/vm/fentry-test.sh). Never a panic or a multi-line error.
#[test]
fn fentry_runs_or_is_refused_in_one_line() {
    if !bpf_ready("fentry_runs_or_is_refused_in_one_line") {
        return;
    }
    if !std::path::Path::new("/sys/kernel/btf/vmlinux").exists() {
        skip("fentry_runs_or_is_refused_in_one_line", "this kernel has no BTF");
        return;
    }
    let out = vt_command(&["-e", "fentry:vfs_read { @ = count(); exit(); }"]).output().expect("cannot run vt");
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.starts_with("Attaching")).collect();
    if out.status.success() {
        assert!(String::from_utf8_lossy(&out.stdout).lines().any(|l| l.starts_with("@: ")), "{out:?}");
        return;
    }
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    assert_eq!(
        lines,
        ["vt: cannot load the BPF object: fentry/fexit need the tracing program type (BPF trampolines), which this kernel lacks; kprobe:FUNC works where kprobes exist"],
        "{err}"
    );
}
