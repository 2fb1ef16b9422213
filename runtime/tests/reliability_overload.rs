//! Overload: a full map says how many updates it dropped, a full ring buffer how many events it lost
//! (and what it delivered plus what it lost is exactly what happened), and a long run at the highest
//! rate this machine gives keeps vt's memory flat and its counts exact.

use vt_testkit::*;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn gettid() -> i64 {
    unsafe { libc::syscall(libc::SYS_gettid) }
}

/// One traced event: a real getppid system call (not one a libc could answer from a cache).
fn getppid() {
    unsafe { libc::syscall(libc::SYS_getppid) };
}

/// A vt run whose stdout is read line by line as it comes.
struct Vt {
    child: Child,
    lines: mpsc::Receiver<String>,
    stdout: std::thread::JoinHandle<String>,
    stderr: std::thread::JoinHandle<String>,
}

impl Vt {
    /// Starts `program` (whose BEGIN prints `ready`) and waits until it is attached.
    fn start(program: &str, params: &[String]) -> Vt {
        let mut child = vt()
            .arg("-e")
            .arg(program)
            .args(params)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("vt runs");
        let (tx, lines) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        let stdout = std::thread::spawn(move || {
            let mut all = String::new();
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line.clone());
                all += &line;
                all.push('\n');
            }
            all
        });
        let mut err = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        let vt = Vt { child, lines, stdout, stderr };
        match vt.lines.recv_timeout(Duration::from_secs(30)) {
            Ok(l) if l == "ready" => vt,
            other => panic!("vt did not start: {other:?}"),
        }
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    fn signal(&self, sig: i32) {
        unsafe { libc::kill(self.pid(), sig) };
    }

    /// Ends vt with SIGINT: its exit status, stdout and stderr.
    fn stop(mut self) -> (std::process::ExitStatus, String, String) {
        self.signal(libc::SIGINT);
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "vt did not stop");
            std::thread::sleep(Duration::from_millis(20));
        };
        (status, self.stdout.join().unwrap(), self.stderr.join().unwrap())
    }
}

/// Runs `work` on a new thread whose tid is handed to `start` first (the script filters on it).
fn on_thread<T: Send + 'static>(start: impl FnOnce(i64) -> Vt, work: impl FnOnce() -> T + Send + 'static) -> (Vt, T) {
    let (tid_tx, tid_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        tid_tx.send(gettid()).unwrap();
        go_rx.recv().unwrap();
        work()
    });
    let vt = start(tid_rx.recv().unwrap());
    go_tx.send(()).unwrap();
    (vt, worker.join().unwrap())
}

/// `@name: N` in the exit text (the last one printed).
fn scalar(stdout: &str, name: &str) -> u64 {
    let prefix = format!("@{name}: ");
    let line = stdout.lines().rev().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("no {prefix} in {stdout}"));
    line[prefix.len()..].trim().parse().unwrap()
}

#[test]
fn full_map_reports_dropped_updates() {
    if !can_trace("full_map_reports_dropped_updates") {
        return;
    }
    const CALLS: u64 = 10_000;
    let program = "BEGIN { printf(\"ready\\n\"); }
        tracepoint:syscalls:sys_enter_getppid /tid == $1/ { @m[rand] = count(); @v[rand] = 1; @all = count(); }";
    let (vt, ()) = on_thread(|tid| Vt::start(program, &[tid.to_string()]), || (0..CALLS).for_each(|_| getppid()));
    let (status, stdout, stderr) = vt.stop();
    assert!(status.success(), "{stderr}");
    assert_eq!(scalar(&stdout, "all"), CALLS, "{stderr}");
    let entries: Vec<u64> =
        stdout.lines().filter(|l| l.starts_with("@m[")).map(|l| l.rsplit(' ').next().unwrap().parse().unwrap()).collect();
    assert_eq!(entries.len(), 4096, "the map holds its 4096 entries");
    let warning = |map: &str| {
        let prefix = "Warning: ";
        let suffix = format!(" updates to @{map} dropped: the map is full (4096 entries)");
        let line = stderr.lines().find(|l| l.starts_with(prefix) && l.ends_with(&suffix));
        let line = line.unwrap_or_else(|| panic!("no warning for @{map}: {stderr}"));
        line[prefix.len()..line.len() - suffix.len()].parse::<u64>().unwrap()
    };
    // Every update either counted in the map or counted as dropped.
    assert_eq!(entries.iter().sum::<u64>() + warning("m"), CALLS, "{stderr}");
    let stored = stdout.lines().filter(|l| l.starts_with("@v[")).count() as u64;
    assert_eq!(stored, 4096);
    assert!(warning("v") >= CALLS - 4096 - 50, "{stderr}");
    assert!(!stderr.contains("@all"), "a map with room warns of nothing: {stderr}");
}

#[test]
fn full_ring_buffer_reports_lost_events() {
    if !can_trace("full_ring_buffer_reports_lost_events") {
        return;
    }
    // 1 MiB of ring buffer holds about 20 000 of these records while vt is stopped.
    const CALLS: u64 = 100_000;
    let program = "BEGIN { printf(\"ready\\n\"); }
        tracepoint:syscalls:sys_enter_getppid /tid == $1/ { printf(\"%d %s\\n\", tid, comm); }";
    let (vt, ()) = on_thread(
        |tid| {
            let vt = Vt::start(program, &[tid.to_string()]);
            vt.signal(libc::SIGSTOP);
            vt
        },
        || (0..CALLS).for_each(|_| getppid()),
    );
    vt.signal(libc::SIGCONT);
    let (status, stdout, stderr) = vt.stop();
    assert!(status.success(), "{stderr}");
    let delivered = stdout.lines().filter(|l| l.ends_with(|c: char| c.is_ascii_alphanumeric()) && l.contains(' ')).count() as u64;
    let lost: u64 = stderr
        .lines()
        .find_map(|l| l.strip_prefix("Lost ").and_then(|r| r.strip_suffix(" events")))
        .unwrap_or_else(|| panic!("no 'Lost N events' in: {stderr}"))
        .parse()
        .unwrap();
    assert!(lost > 0 && delivered > 0, "delivered {delivered}, lost {lost}");
    assert_eq!(delivered + lost, CALLS, "delivered {delivered} + lost {lost}");
}

/// VmRSS of `pid` in KiB.
fn rss_kib(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok()).unwrap_or(0)
}

/// Events as fast as one thread makes them for `secs` seconds: vt's RSS stays flat after a one-second
/// warm-up and its counts equal the calls made.
fn soak(test: &str, secs: u64) {
    if !can_trace(test) {
        return;
    }
    let program = "BEGIN { printf(\"ready\\n\"); }
        tracepoint:syscalls:sys_enter_getppid /tid == $1/ { @c = count(); @h = hist(nsecs % 100000); @k[cpu] = count(); @s = sum(1); }
        interval:ms:200 { print(@c); }";
    let (tid_tx, tid_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        tid_tx.send(gettid()).unwrap();
        go_rx.recv().unwrap();
        let end = Instant::now() + Duration::from_secs(secs);
        let mut calls = 0u64;
        while Instant::now() < end {
            for _ in 0..1000 {
                getppid();
            }
            calls += 1000;
        }
        calls
    });
    let vt = Vt::start(program, &[tid_rx.recv().unwrap().to_string()]);
    let start = Instant::now();
    go_tx.send(()).unwrap();
    let mut samples = Vec::new();
    while !worker.is_finished() {
        std::thread::sleep(Duration::from_millis(250));
        while vt.lines.try_recv().is_ok() {}
        samples.push((start.elapsed(), rss_kib(vt.pid())));
    }
    let calls = worker.join().unwrap();
    let (status, stdout, stderr) = vt.stop();
    assert!(status.success(), "{stderr}");
    let rate = calls as f64 / secs as f64;
    let steady: Vec<u64> = samples.iter().filter(|(t, _)| *t > Duration::from_secs(1)).map(|(_, r)| *r).collect();
    let (lo, hi) = (*steady.iter().min().unwrap(), *steady.iter().max().unwrap());
    eprintln!("{calls} events in {secs} s ({rate:.0}/s); vt RSS {lo}..{hi} KiB over {} samples", steady.len());
    assert!(hi - lo < 2048, "vt's memory grew from {lo} to {hi} KiB: {samples:?}");
    assert_eq!(scalar(&stdout, "c"), calls, "exact count");
    assert_eq!(scalar(&stdout, "s"), calls, "exact sum");
    let per_cpu: u64 = stdout.lines().filter(|l| l.starts_with("@k[")).map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap()).sum();
    assert_eq!(per_cpu, calls, "exact per-CPU counts");
    assert!(!stderr.contains("Lost") && !stderr.contains("Warning"), "{stderr}");
}

#[test]
fn five_seconds_at_full_rate_keep_memory_flat_and_counts_exact() {
    soak("five_seconds_at_full_rate_keep_memory_flat_and_counts_exact", 5);
}

/// The long version: `cargo test -p runtime --test reliability_overload -- --ignored`.
#[test]
#[ignore = "60 seconds; run with --ignored"]
fn a_minute_at_full_rate_keeps_memory_flat_and_counts_exact() {
    soak("a_minute_at_full_rate_keeps_memory_flat_and_counts_exact", 60);
}
