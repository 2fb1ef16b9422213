//! Shared by the `cli_*` tests: the `vt` binary, a loud skip when BPF is not usable, and a workload of
//! known shape — the test binary itself, run with `VT_CLI_WORKLOAD` set, makes exactly N getppid
//! syscalls (optionally after a line on stdin) and exits.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const VT: &str = env!("CARGO_BIN_EXE_vt");
pub const TRACEFS: &str = "/sys/kernel/tracing";

/// Whether tests that load BPF can run here; prints `SKIPPED` loudly when not.
pub fn bpf_ready(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let tp = std::path::Path::new(TRACEFS).join("events/syscalls/sys_enter_getppid/format").exists()
        || std::path::Path::new("/sys/kernel/debug/tracing/events/syscalls/sys_enter_getppid/format").exists();
    if !root || !tp {
        let msg = format!("SKIPPED {test}: needs root and tracepoint syscalls:sys_enter_getppid (root={root}, tracepoint={tp})");
        assert!(std::env::var_os("VT_TESTS_REQUIRE_BPF").is_none(), "{msg}, and VT_TESTS_REQUIRE_BPF forbids skipping");
        eprintln!("\n*** {msg} ***\n");
        return false;
    }
    true
}

/// The workload: when `VT_CLI_WORKLOAD` is set, the test binary does this before `main` (from
/// `.init_array`, so the test harness neither prints nor calls anything): `N` makes N getppid calls,
/// `wait:N` first waits for a line on stdin, `sleep:N` for a second; then it exits.
extern "C" fn workload_init() {
    // SAFETY: getenv with a NUL-terminated name; the string it returns is read before anything
    // changes the environment.
    let spec = unsafe {
        let p = libc::getenv(c"VT_CLI_WORKLOAD".as_ptr());
        if p.is_null() {
            return;
        }
        std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
    };
    let (mode, n) = spec.split_once(':').unwrap_or(("", spec.as_str()));
    let n: usize = n.parse().unwrap_or(0);
    if mode == "sleep" {
        // SAFETY: sleep has no preconditions.
        unsafe { libc::sleep(1) };
    }
    if mode == "wait" {
        let mut byte = 0u8;
        // SAFETY: reading single bytes from stdin into a local.
        while unsafe { libc::read(0, (&mut byte as *mut u8).cast(), 1) } == 1 && byte != b'\n' {}
    }
    for _ in 0..n {
        // SAFETY: getppid has no preconditions.
        unsafe { libc::syscall(libc::SYS_getppid) };
    }
    // SAFETY: leaving at once, without running the test harness.
    unsafe { libc::_exit(0) };
}

#[used]
#[link_section = ".init_array"]
static WORKLOAD_INIT: extern "C" fn() = workload_init;

/// The command line that runs the workload (for `-c`; `VT_CLI_WORKLOAD` must be in the environment).
pub fn workload_line() -> String {
    std::env::current_exe().unwrap().display().to_string()
}

/// The workload as a process of its own, waiting for a line on stdin before its `n` calls.
pub fn waiting_workload(n: usize) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .env("VT_CLI_WORKLOAD", format!("wait:{n}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

pub fn release(child: &mut Child) {
    use std::io::Write;
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"go\n").unwrap();
}

/// The comm of the workload: the test binary's file name, cut to 15 bytes.
pub fn workload_comm() -> String {
    let exe = std::env::current_exe().unwrap();
    let name = exe.file_name().unwrap().to_string_lossy().into_owned();
    name.chars().take(15).collect()
}

/// Runs a command to its end with a deadline; panics if it hangs.
pub fn run_with_deadline(mut cmd: Command, secs: u64) -> Output {
    let child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            // SAFETY: killing the child we started, by its pid.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("{cmd:?} did not finish within {secs} s");
        }
    }
}

pub fn vt() -> Command {
    Command::new(VT)
}

/// What `vt ARGS` prints on stdout; it must succeed within a minute.
pub fn vt_stdout(args: &[&str]) -> String {
    let mut c = vt();
    c.args(args);
    let out = run_with_deadline(c, 60);
    assert!(out.status.success(), "vt {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// A started vt whose stdout is read line by line.
pub struct Running {
    pub child: Child,
    lines: mpsc::Receiver<String>,
    pub seen: Vec<String>,
}

impl Running {
    pub fn start(mut cmd: Command) -> Running {
        let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let stdout: ChildStdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Running { child, lines, seen: Vec::new() }
    }

    /// Waits for a stdout line equal to `want`.
    pub fn wait_line(&mut self, want: &str, secs: u64) {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    let hit = l == want;
                    self.seen.push(l);
                    if hit {
                        return;
                    }
                }
                Err(_) => break,
            }
        }
        let _ = self.child.kill();
        panic!("vt never printed {want:?}; it printed {:?}", self.seen);
    }

    /// Waits for vt to exit by itself; its status, every stdout line and its stderr.
    pub fn finish(mut self, secs: u64) -> (std::process::ExitStatus, Vec<String>, String) {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                while let Ok(l) = self.lines.recv_timeout(Duration::from_secs(2)) {
                    self.seen.push(l);
                }
                let mut err = String::new();
                let _ = self.child.stderr.take().unwrap().read_to_string(&mut err);
                return (status, self.seen, err);
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("vt did not exit by itself within {secs} s; stdout so far {:?}", self.seen);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Whether bpftrace is installed (for side-by-side checks).
pub fn bpftrace() -> Option<&'static str> {
    ["/usr/bin/bpftrace", "/usr/local/bin/bpftrace"].into_iter().find(|p| std::path::Path::new(p).exists())
}
