//! End-to-end test harness: runs the `vt` binary (and bpftrace, for differential tests) against workload
//! processes of known shape, and hands back what the tracer printed.
//!
//! Run everything with `cargo test --workspace` (or `cargo test -p vt-tests`): the harness builds the `vt`
//! binary itself on first use (`cargo build -p runtime --bin vt`), unless `VT_BIN` names a binary to use.
//! Tests that load BPF need root; without it they print `SKIPPED: …` loudly to stderr and pass, unless
//! `VT_TESTS_REQUIRE_BPF=1` is set, which turns the skip into a failure (CI sets it).
//!
//! A traced run goes like this, with no sleeps anywhere:
//! 1. the workload child starts and blocks reading one byte from its stdin (it makes no other syscalls
//!    until then that the scripts count);
//! 2. its pid is substituted for `$PID` in the script, and the tracer starts;
//! 3. the harness waits for the tracer's `Attaching N probes...` line, then until the tracer process
//!    really holds an attached perf event for every tracepoint the script names (read from
//!    `/proc/<pid>/fdinfo` for BPF links, and with `BPF_TASK_FD_QUERY` for legacy perf event fds, which is
//!    what bpftrace uses): `Attaching` is printed before the probes are attached;
//! 4. the workload is released and waited for, then the tracer gets SIGINT (or SIGTERM, or nothing when
//!    the script calls `exit()`), and the harness collects exit status, stdout and stderr.

pub mod table;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Condvar, Mutex, Once};
use std::time::{Duration, Instant};

/// How long to wait for a tracer to attach before failing. A guard against hangs, not a timing assertion:
/// bpftrace takes seconds to start on a loaded machine.
pub const ATTACH_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a tracer may take to exit after it is told to.
pub const EXIT_TIMEOUT: Duration = Duration::from_secs(60);

// ---- locating binaries ----------------------------------------------------------------------------------

/// The workspace root (the parent of this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

static BUILD: Once = Once::new();

/// The `vt` binary: `$VT_BIN` if set, else `<workspace>/target/debug/vt`, built once per test process.
pub fn vt_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("VT_BIN") {
        return PathBuf::from(bin);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"));
    BUILD.call_once(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-q", "-p", "runtime", "--bin", "vt"])
            .current_dir(workspace_root())
            .stdout(Stdio::null())
            .status()
            .expect("cannot run cargo to build vt");
        assert!(status.success(), "`cargo build -p runtime --bin vt` failed ({status})");
    });
    let bin = target.join("debug").join("vt");
    assert!(bin.exists(), "{} does not exist after building it", bin.display());
    bin
}

/// A `Command` for `vt` with the given arguments.
pub fn vt_command(args: &[&str]) -> Command {
    let mut c = Command::new(vt_bin());
    c.args(args);
    c
}

/// The first `program` in `$PATH`.
pub fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(program)).find(|p| p.is_file())
}

// ---- workload side ------------------------------------------------------------------------------------

/// Used by the workload binaries (src/bin/): blocks until the harness releases the process by writing a
/// byte to its stdin. Exits with status 3, doing nothing, if stdin closes first (the test gave up).
pub fn wait_for_release() {
    let mut byte = 0u8;
    // SAFETY: reads one byte into a local.
    let n = unsafe { libc::read(0, (&mut byte as *mut u8).cast(), 1) };
    if n != 1 {
        std::process::exit(3);
    }
}

/// The workload's numeric arguments, or a usage message and exit status 2.
pub fn workload_args(usage: &str, count: usize) -> Vec<u64> {
    let args: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    if args.len() != count || std::env::args().count() != count + 1 {
        eprintln!("usage: {usage}");
        std::process::exit(2);
    }
    args
}

/// Exactly `n` getppid syscalls (through `syscall(2)`, so no libc caching can skip one).
pub fn do_getppid(n: u64) {
    for _ in 0..n {
        // SAFETY: getppid has no arguments and cannot fail.
        unsafe { libc::syscall(libc::SYS_getppid) };
    }
}

/// Opens /dev/null and returns a closure making one write of each size 1..=n to it.
pub fn prepare_writes(n: u64) -> impl FnOnce() {
    let file = std::fs::OpenOptions::new().write(true).open("/dev/null").expect("cannot open /dev/null");
    let buf = vec![b'x'; n as usize];
    move || {
        use std::os::fd::AsRawFd;
        for size in 1..=n as usize {
            // SAFETY: buf holds at least `size` bytes; the fd is open for writing.
            let w = unsafe { libc::syscall(libc::SYS_write, file.as_raw_fd(), buf.as_ptr(), size) };
            if w != size as libc::c_long {
                std::process::exit(4);
            }
        }
        drop(file);
    }
}

// ---- can we load BPF? -----------------------------------------------------------------------------------

/// `bpf(2)` with a zeroed 128-byte attribute buffer whose start is `attr`.
fn bpf(cmd: libc::c_long, attr: &[u8]) -> libc::c_long {
    let mut buf = [0u8; 128];
    buf[..attr.len()].copy_from_slice(attr);
    // SAFETY: the buffer outlives the call and the size passed is its size.
    unsafe { libc::syscall(libc::SYS_bpf, cmd, buf.as_mut_ptr(), buf.len() as libc::c_uint) }
}

/// True if we are root and the kernel lets us create a BPF map.
pub fn bpf_available() -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return false;
    }
    const BPF_MAP_CREATE: libc::c_long = 0;
    const BPF_MAP_TYPE_ARRAY: u32 = 2;
    let mut attr = Vec::new();
    for v in [BPF_MAP_TYPE_ARRAY, 4, 4, 1] {
        attr.extend_from_slice(&v.to_ne_bytes()); // map_type, key_size, value_size, max_entries
    }
    let fd = bpf(BPF_MAP_CREATE, &attr);
    if fd < 0 {
        return false;
    }
    // SAFETY: the fd was just created by us.
    unsafe { libc::close(fd as i32) };
    true
}

/// Whether a skip must fail instead (`VT_TESTS_REQUIRE_BPF=1`, set in CI).
fn skips_forbidden() -> bool {
    std::env::var("VT_TESTS_REQUIRE_BPF").is_ok_and(|v| v == "1")
}

/// Prints a loud skip message; panics instead if skipping is forbidden.
pub fn skip(test: &str, why: &str) {
    let msg = format!("SKIPPED: {test}: {why}");
    assert!(!skips_forbidden(), "{msg} (and VT_TESTS_REQUIRE_BPF=1 forbids skipping)");
    // Straight to the process's stderr: the test harness captures `eprintln!`, and a skip must be seen.
    let bang = "!".repeat(100);
    let _ = std::io::stderr().write_all(format!("\n{bang}\n!!! {msg}\n{bang}\n").as_bytes());
}

/// Returns true (after a loud message) if BPF is not usable and the calling test should return.
pub fn skip_without_bpf(test: &str) -> bool {
    if bpf_available() {
        return false;
    }
    skip(test, "BPF not available (need root and a kernel that lets us create BPF maps)");
    true
}

/// `bpftrace` on PATH, or a loud skip message and None.
pub fn bpftrace_or_skip(test: &str) -> Option<PathBuf> {
    let found = on_path("bpftrace");
    if found.is_none() {
        skip(test, "bpftrace is not on PATH (apt-get install bpftrace)");
    }
    found
}

/// `bpftool` on PATH, or a loud skip message and None.
pub fn bpftool_or_skip(test: &str) -> Option<PathBuf> {
    let found = on_path("bpftool");
    if found.is_none() {
        skip(test, "bpftool is not on PATH (apt-get install bpftool)");
    }
    found
}

// ---- running a command to its end -------------------------------------------------------------------------

/// Waits for `child` to exit, reading its piped stdout and stderr (if any) on threads; kills it and panics
/// after `limit`.
pub fn wait_output(mut child: Child, limit: Duration) -> Output {
    let pid = child.id();
    let readers = [child.stdout.take().map(|o| Box::new(o) as Box<dyn Read + Send>), child.stderr.take().map(|e| Box::new(e) as _)]
        .map(|r| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                if let Some(mut r) = r {
                    let _ = r.read_to_end(&mut buf);
                }
                buf
            })
        });
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let status = match rx.recv_timeout(limit) {
        Ok(s) => s.expect("cannot wait for the child"),
        Err(_) => {
            // SAFETY: killing the child we started, by its pid.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("process {pid} did not finish within {limit:?}");
        }
    };
    let [stdout, stderr] = readers.map(|r| r.join().unwrap());
    Output { status, stdout, stderr }
}

/// Runs `cmd` to its end (stdin from /dev/null, stdout and stderr captured) within `secs` seconds.
pub fn run_with_deadline(mut cmd: Command, secs: u64) -> Output {
    let child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn();
    wait_output(child.unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}")), Duration::from_secs(secs))
}

// ---- capturing a child's output -------------------------------------------------------------------------

/// A child's stdout or stderr, read on a thread into a buffer that can be waited on.
#[derive(Clone, Default)]
pub struct Capture(Arc<(Mutex<Buffer>, Condvar)>);

/// The bytes read so far, and whether the stream has ended.
type Buffer = (Vec<u8>, bool);

impl Capture {
    /// Starts a thread reading `r` to the end.
    pub fn spawn(mut r: impl Read + Send + 'static) -> Capture {
        let c = Capture::default();
        let inner = c.0.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                let n = r.read(&mut buf).unwrap_or(0);
                let mut g = inner.0.lock().unwrap();
                if n == 0 {
                    g.1 = true;
                    inner.1.notify_all();
                    return;
                }
                g.0.extend_from_slice(&buf[..n]);
                inner.1.notify_all();
            }
        });
        c
    }

    /// Everything read so far, lossily decoded.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0 .0.lock().unwrap().0).into_owned()
    }

    /// Waits until the text contains `needle` (true), or the stream ends or `timeout` passes (false).
    pub fn wait_for(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut g = self.0 .0.lock().unwrap();
        loop {
            if String::from_utf8_lossy(&g.0).contains(needle) {
                return true;
            }
            let now = Instant::now();
            if g.1 || now >= deadline {
                return false;
            }
            g = self.0 .1.wait_timeout(g, deadline - now).unwrap().0;
        }
    }

    /// Waits until the stream ends (true) or `timeout` passes (false).
    pub fn wait_eof(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut g = self.0 .0.lock().unwrap();
        while !g.1 {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            g = self.0 .1.wait_timeout(g, deadline - now).unwrap().0;
        }
        true
    }
}

// ---- workloads ------------------------------------------------------------------------------------------

/// A workload process, started paused: it blocks reading a byte from its stdin until `release`.
pub struct Workload {
    child: Child,
    stdin: Option<ChildStdin>,
    what: String,
}

impl Workload {
    /// Starts `bin args…` paused. `bin` is one of this crate's workload binaries
    /// (`env!("CARGO_BIN_EXE_getppid")` and so on).
    pub fn spawn(bin: &str, args: &[&str]) -> Workload {
        let child = Command::new(bin)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start workload {bin}: {e}"));
        let mut child = child;
        let stdin = child.stdin.take();
        Workload { child, stdin, what: format!("{bin} {}", args.join(" ")) }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Lets the workload run, and waits for it to finish successfully.
    pub fn release_and_wait(&mut self) {
        let mut stdin = self.stdin.take().expect("workload released twice");
        stdin.write_all(b"go").expect("cannot release the workload");
        drop(stdin);
        let status = self.child.wait().expect("cannot wait for the workload");
        assert!(status.success(), "workload `{}` failed: {status}", self.what);
    }
}

impl Drop for Workload {
    fn drop(&mut self) {
        // Closing stdin without a byte makes a paused workload exit without doing anything.
        self.stdin.take();
        let _ = self.child.wait();
    }
}

// ---- tracers --------------------------------------------------------------------------------------------

/// Which tracer runs the script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    Vt,
    Bpftrace,
}

/// How a traced run ends once the workload is done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Send SIGINT (Ctrl-C).
    Int,
    /// Send SIGTERM.
    Term,
    /// Send nothing: the script calls `exit()` and the tracer must end by itself.
    ByItself,
}

/// What a finished tracer run left behind.
#[derive(Debug)]
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    /// The script as run (with `$PID` substituted), for failure messages.
    pub script: String,
}

impl Run {
    /// Panics with everything known about the run unless the tracer exited with status 0.
    pub fn assert_success(&self) -> &Run {
        assert!(self.status.success(), "tracer failed: {}\n{}", self.status, self.describe());
        self
    }

    pub fn describe(&self) -> String {
        format!("script: {}\n--- stdout ---\n{}--- stderr ---\n{}--------------", self.script, self.stdout, self.stderr)
    }
}

/// A running tracer process (vt or bpftrace) with captured output.
pub struct Tracer {
    pub tool: Tool,
    pub script: String,
    child: Child,
    pub stdout: Capture,
    pub stderr: Capture,
}

impl Tracer {
    /// Starts `tool` on `script` (given with `-e`), with extra arguments before it.
    pub fn start(tool: Tool, script: &str, extra: &[&str]) -> Tracer {
        Tracer::start_with_params(tool, script, extra, &[])
    }

    /// [`Tracer::start`] with positional parameters (`$1`, `$2`, …) after the script.
    pub fn start_with_params(tool: Tool, script: &str, extra: &[&str], params: &[&str]) -> Tracer {
        let mut cmd = match tool {
            Tool::Vt => Command::new(vt_bin()),
            Tool::Bpftrace => Command::new(on_path("bpftrace").expect("bpftrace is not on PATH")),
        };
        cmd.args(extra).arg("-e").arg(script).args(params).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {tool:?}: {e}"));
        let stdout = Capture::spawn(child.stdout.take().unwrap());
        let stderr = Capture::spawn(child.stderr.take().unwrap());
        Tracer { tool, script: script.to_string(), child, stdout, stderr }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn describe(&self) -> String {
        format!(
            "{:?} script: {}\n--- stdout ---\n{}--- stderr ---\n{}--------------",
            self.tool,
            self.script,
            self.stdout.text(),
            self.stderr.text()
        )
    }

    /// Kills the tracer (if still running) and panics with its output.
    fn fail(&mut self, why: &str) -> ! {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stdout.wait_eof(Duration::from_secs(5));
        self.stderr.wait_eof(Duration::from_secs(5));
        panic!("{why}\n{}", self.describe());
    }

    /// Waits for the `Attaching N probes...` line (vt: stderr; bpftrace: stdout), then until the process
    /// holds an attached perf event for each of `tracepoints` (names like `sys_enter_getppid`, one entry
    /// per expected attachment). Panics with the tracer's output if that does not happen.
    pub fn wait_attached(&mut self, tracepoints: &[String]) {
        let stream = match self.tool {
            Tool::Vt => self.stderr.clone(),
            Tool::Bpftrace => self.stdout.clone(),
        };
        if !stream.wait_for("Attaching ", ATTACH_TIMEOUT) {
            self.fail("the tracer never printed `Attaching N probes...`");
        }
        let deadline = Instant::now() + ATTACH_TIMEOUT;
        loop {
            let attached = attached_tracepoints(self.pid());
            let missing: Vec<&String> = {
                let mut pool = attached.clone();
                tracepoints
                    .iter()
                    .filter(|t| match pool.iter().position(|a| a == *t).or_else(|| pool.iter().position(|a| a == UNNAMED)) {
                        Some(i) => {
                            pool.remove(i);
                            false
                        }
                        None => true,
                    })
                    .collect()
            };
            if missing.is_empty() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                self.fail(&format!("the tracer exited ({status}) before attaching {missing:?}"));
            }
            if Instant::now() >= deadline {
                self.fail(&format!("the tracer never attached {missing:?} (attached: {attached:?})"));
            }
            std::thread::sleep(Duration::from_millis(10)); // polling interval, not a wait for readiness
        }
    }

    /// Sends a signal to the tracer.
    pub fn signal(&self, sig: libc::c_int) {
        // SAFETY: kill with our own child's pid.
        let rc = unsafe { libc::kill(self.pid() as libc::pid_t, sig) };
        assert_eq!(rc, 0, "cannot signal the tracer: {}", std::io::Error::last_os_error());
    }

    /// Waits for the tracer to exit (killing it and failing after `EXIT_TIMEOUT`) and collects its output.
    pub fn finish(mut self) -> Run {
        let deadline = Instant::now() + EXIT_TIMEOUT;
        let status = loop {
            match self.child.try_wait().expect("cannot wait for the tracer") {
                Some(status) => break status,
                None if Instant::now() >= deadline => self.fail("the tracer did not exit"),
                // Polling for exit: the deadline above is a hang guard, not an assertion.
                None => std::thread::sleep(Duration::from_millis(10)),
            }
        };
        if !self.stdout.wait_eof(EXIT_TIMEOUT) || !self.stderr.wait_eof(EXIT_TIMEOUT) {
            panic!("the tracer's output never ended\n{}", self.describe());
        }
        Run { status, stdout: self.stdout.text(), stderr: self.stderr.text(), script: self.script.clone() }
    }
}

impl Drop for Tracer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The tracepoint names a script attaches (`tracepoint:CAT:NAME`, no wildcards), one per occurrence.
pub fn script_tracepoints(script: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = script;
    while let Some(i) = rest.find("tracepoint:") {
        rest = &rest[i + "tracepoint:".len()..];
        let spec: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':').collect();
        if let Some((_cat, name)) = spec.split_once(':') {
            out.push(name.to_string());
        }
    }
    out
}

/// Runs `script` (with `$PID` replaced by the workload's pid) under `tool` against `workload`: starts the
/// workload paused, starts the tracer, waits until it is attached, releases the workload and waits for it,
/// then stops the tracer as `stop` says and returns what it printed.
pub fn trace(tool: Tool, script: &str, mut workload: Workload, stop: Stop) -> Run {
    trace_with(tool, script, &[], &mut workload, stop)
}

/// `trace` with extra tracer arguments and a borrowed workload.
pub fn trace_with(tool: Tool, script: &str, extra: &[&str], workload: &mut Workload, stop: Stop) -> Run {
    let script = script.replace("$PID", &workload.pid().to_string());
    let mut tracer = Tracer::start(tool, &script, extra);
    tracer.wait_attached(&script_tracepoints(&script));
    workload.release_and_wait();
    match stop {
        Stop::Int => tracer.signal(libc::SIGINT),
        Stop::Term => tracer.signal(libc::SIGTERM),
        Stop::ByItself => {}
    }
    tracer.finish()
}

/// Runs vt on `script` against the workload `bin args…`, stopping it with SIGINT.
pub fn vt_trace(script: &str, bin: &str, args: &[&str]) -> Run {
    trace(Tool::Vt, script, Workload::spawn(bin, args), Stop::Int)
}

/// The maps part of a tracer's stdout: vt prints only that; bpftrace first prints `Attaching N probes...`
/// on stdout, which is dropped here.
pub fn maps_part(stdout: &str) -> &str {
    match stdout.strip_prefix("Attaching ") {
        Some(rest) => rest.find('\n').map_or("", |i| &rest[i + 1..]),
        None => stdout,
    }
}

// ---- what a process has attached ------------------------------------------------------------------------

/// What `attached_tracepoints` reports for a perf link whose tracepoint the kernel does not name.
pub const UNNAMED: &str = "?";

/// The tracepoints process `pid` has attached a BPF program to, one entry per attachment: BPF perf links
/// (their `/proc/PID/fdinfo` shows `tp_name` on recent kernels, else [`UNNAMED`]) and legacy perf event fds with a program (`BPF_TASK_FD_QUERY`).
pub fn attached_tracepoints(pid: u32) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return out };
    for entry in dir.flatten() {
        let Some(fd) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let Ok(target) = std::fs::read_link(entry.path()) else { continue };
        let target = target.to_string_lossy().into_owned();
        if target.contains("bpf_link") {
            let info = std::fs::read_to_string(format!("/proc/{pid}/fdinfo/{fd}")).unwrap_or_default();
            match fdinfo_field(&info, "tp_name") {
                Some(name) => out.push(name.to_string()),
                // Kernels before 6.x show no tp_name for perf links: count it as some tracepoint.
                None if fdinfo_field(&info, "link_type").is_some_and(|t| t.starts_with("perf")) => out.push(UNNAMED.into()),
                None => {}
            }
        } else if target.contains("perf_event") {
            if let Some(name) = task_fd_query_tracepoint(pid, fd) {
                out.push(name);
            }
        }
    }
    out
}

/// The value of `key:\tvalue` in an fdinfo text.
pub fn fdinfo_field<'a>(info: &'a str, key: &str) -> Option<&'a str> {
    info.lines().find_map(|l| l.strip_prefix(key)?.strip_prefix(':').map(str::trim))
}

/// The tracepoint name behind fd `fd` of process `pid`, if it is a perf event with a BPF program attached.
fn task_fd_query_tracepoint(pid: u32, fd: u32) -> Option<String> {
    const BPF_TASK_FD_QUERY: libc::c_long = 20;
    const BPF_FD_TYPE_TRACEPOINT: u32 = 1;
    let mut name = [0u8; 256];
    // struct { u32 pid, fd, flags, buf_len; u64 buf; u32 prog_id, fd_type; u64 probe_offset, probe_addr; }
    let mut attr = [0u8; 48];
    attr[0..4].copy_from_slice(&pid.to_ne_bytes());
    attr[4..8].copy_from_slice(&fd.to_ne_bytes());
    attr[12..16].copy_from_slice(&(name.len() as u32).to_ne_bytes());
    attr[16..24].copy_from_slice(&(name.as_mut_ptr() as u64).to_ne_bytes());
    // SAFETY: attr is the documented layout; the kernel writes at most buf_len bytes to `name`, which lives
    // until after the call, and writes the outputs back into attr.
    let rc = unsafe { libc::syscall(libc::SYS_bpf, BPF_TASK_FD_QUERY, attr.as_mut_ptr(), attr.len() as libc::c_uint) };
    if rc != 0 {
        return None;
    }
    let fd_type = u32::from_ne_bytes(attr[28..32].try_into().unwrap());
    if fd_type != BPF_FD_TYPE_TRACEPOINT {
        return None;
    }
    let len = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    Some(String::from_utf8_lossy(&name[..len]).into_owned())
}

/// The ids of the BPF programs, maps and links process `pid` holds open (from `/proc/PID/fdinfo`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BpfObjects {
    pub progs: Vec<u32>,
    pub maps: Vec<u32>,
    pub links: Vec<u32>,
}

/// The pid of every process, from /proc.
pub fn all_pids() -> Vec<u32> {
    let entries = std::fs::read_dir("/proc").into_iter().flatten().flatten();
    entries.filter_map(|e| e.file_name().to_str()?.parse().ok()).collect()
}

pub fn bpf_objects(pid: u32) -> BpfObjects {
    let mut out = BpfObjects::default();
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return out };
    for entry in dir.flatten() {
        let Ok(target) = std::fs::read_link(entry.path()) else { continue };
        let target = target.to_string_lossy().into_owned();
        let info = std::fs::read_to_string(format!("/proc/{pid}/fdinfo/{}", entry.file_name().to_string_lossy())).unwrap_or_default();
        let id = |key| fdinfo_field(&info, key).and_then(|v| v.parse::<u32>().ok());
        if target.contains("bpf-prog") {
            out.progs.extend(id("prog_id"));
        } else if target.contains("bpf-map") {
            out.maps.extend(id("map_id"));
        } else if target.contains("bpf_link") {
            out.links.extend(id("link_id"));
            out.progs.extend(id("prog_id"));
        }
    }
    for v in [&mut out.progs, &mut out.maps, &mut out.links] {
        v.sort_unstable();
        v.dedup();
    }
    out
}

/// `bpftool -j KIND list` parsed minimally: (id, name) of every object (`name` empty when absent).
pub fn bpftool_list(kind: &str) -> Vec<(u32, String)> {
    let out = Command::new(on_path("bpftool").expect("bpftool is not on PATH"))
        .args(["-j", kind, "list"])
        .output()
        .expect("cannot run bpftool");
    assert!(out.status.success(), "bpftool -j {kind} list failed: {}", String::from_utf8_lossy(&out.stderr));
    parse_bpftool_ids(&String::from_utf8_lossy(&out.stdout))
}

/// The `"id":N` entries of bpftool's JSON, each with the first `"name":"…"` after it and before the next id.
pub fn parse_bpftool_ids(json: &str) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let parts: Vec<&str> = json.split("\"id\":").collect();
    for part in parts.iter().skip(1) {
        let digits: String = part.trim_start().chars().take_while(|c| c.is_ascii_digit()).collect();
        let Ok(id) = digits.parse() else { continue };
        let name = part
            .split_once("\"name\":\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(name, _)| name.to_string())
            .unwrap_or_default();
        out.push((id, name));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_tracepoints_in_scripts() {
        let s = "tracepoint:syscalls:sys_enter_getppid, tracepoint:syscalls:sys_enter_write /pid == 1/ { @ = count(); }";
        assert_eq!(script_tracepoints(s), ["sys_enter_getppid", "sys_enter_write"]);
        assert_eq!(script_tracepoints("BEGIN { exit(); }"), Vec::<String>::new());
    }

    #[test]
    fn strips_bpftrace_attaching_line() {
        assert_eq!(maps_part("Attaching 1 probe...\n\n\n@c: 3\n"), "\n\n@c: 3\n");
        assert_eq!(maps_part("\n\n@c: 3\n"), "\n\n@c: 3\n");
    }

    #[test]
    fn parses_bpftool_json() {
        let j = r#"[{"id":12,"type":"tracepoint","name":"vt0_sys_enter_g","map_ids":[3],"btf_id":9,"pids":[{"pid":7,"comm":"vt"}]},{"id":13,"type":"kprobe"}]"#;
        assert_eq!(parse_bpftool_ids(j), [(12, "vt0_sys_enter_g".to_string()), (13, String::new())]);
    }

    #[test]
    fn reads_fdinfo_fields() {
        let info = "pos:\t0\nlink_type:\tperf\nlink_id:\t347\ntp_name:\tsys_enter_getppid\n";
        assert_eq!(fdinfo_field(info, "tp_name"), Some("sys_enter_getppid"));
        assert_eq!(fdinfo_field(info, "link_id"), Some("347"));
        assert_eq!(fdinfo_field(info, "prog_id"), None);
    }
}

/// Expected bpftrace 0.17 output, computed independently of vt's own formatter.
pub mod expect {
    /// bpftrace's power-of-two label: 2^power with K/M/G/T/P/E suffixes for powers of 1024.
    pub fn pow2_label(power: u32) -> String {
        const SUFFIXES: [&str; 7] = ["", "K", "M", "G", "T", "P", "E"];
        let (unit, rest) = ((power / 10) as usize, power % 10);
        format!("{}{}", 1u64 << rest, SUFFIXES[unit])
    }

    /// The log2 histogram of `values` as (label, count) rows, zero rows trimmed at both ends and kept in
    /// between: `(..., 0)` for negatives, `[0]`, `[1]`, then `[2^k, 2^(k+1))`.
    pub fn log2_rows(values: impl IntoIterator<Item = i64>) -> Vec<(String, u64)> {
        // Index 0: negative; 1: zero; 2: one; 2 + k: [2^k, 2^(k+1)) for k >= 1.
        let mut counts = vec![0u64; 66];
        for v in values {
            let i = if v < 0 {
                0
            } else if v == 0 {
                1
            } else {
                // The k with 2^k <= v < 2^(k+1), by counting halvings.
                let (mut k, mut x) = (0usize, v as u64);
                while x > 1 {
                    x /= 2;
                    k += 1;
                }
                2 + k
            };
            counts[i] += 1;
        }
        let label = |i: usize| match i {
            0 => "(..., 0)".to_string(),
            1 => "[0]".to_string(),
            2 => "[1]".to_string(),
            _ => format!("[{}, {})", pow2_label(i as u32 - 2), pow2_label(i as u32 - 1)),
        };
        let Some(first) = counts.iter().position(|&c| c > 0) else { return Vec::new() };
        let last = counts.iter().rposition(|&c| c > 0).unwrap();
        (first..=last).map(|i| (label(i), counts[i])).collect()
    }

    /// A histogram map as bpftrace prints it: `@name: ` then one row per bucket (label left-aligned in 16
    /// columns, count right-aligned in 8, a 52-column bar scaled to the largest count), then a blank line.
    pub fn hist_text(name: &str, rows: &[(String, u64)]) -> String {
        let max = rows.iter().map(|r| r.1).max().unwrap_or(0);
        let mut out = format!("{name}: \n");
        for (label, count) in rows {
            let width = if max == 0 { 0 } else { (*count as f32 / max as f32 * 52.0) as usize };
            out.push_str(&format!("{label:<16}{count:>8} |{:<52}|\n", "@".repeat(width)));
        }
        out.push('\n');
        out
    }

    /// What a tracer prints at exit for these map texts (already in name order): two newlines, then them.
    pub fn exit_text(maps: &[String]) -> String {
        format!("\n\n{}", maps.concat())
    }

    /// A scalar map line: `@name: value`.
    pub fn scalar(name: &str, value: i64) -> String {
        format!("{name}: {value}\n")
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn labels() {
            assert_eq!(pow2_label(1), "2");
            assert_eq!(pow2_label(9), "512");
            assert_eq!(pow2_label(10), "1K");
            assert_eq!(pow2_label(21), "2M");
        }

        #[test]
        fn rows_for_small_values() {
            let rows = log2_rows([1, 2, 3, 4, 7, 8, 1024, 0, -5]);
            let labels: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
            assert_eq!(labels[..5], ["(..., 0)", "[0]", "[1]", "[2, 4)", "[4, 8)"]);
            assert_eq!(labels.last(), Some(&"[1K, 2K)"));
            assert_eq!(rows.iter().find(|r| r.0 == "[512, 1K)").map(|r| r.1), Some(0));
            assert_eq!(rows.iter().map(|r| r.1).sum::<u64>(), 9);
        }

        /// A histogram printed by real bpftrace 0.17 (`hist(args->count)` over writes of 1..=10 bytes).
        #[test]
        fn text_matches_real_bpftrace() {
            let expected = "@h: \n\
[1]                    1 |@@@@@@@@@@@@@                                       |\n\
[2, 4)                 2 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n\
[4, 8)                 4 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n\
[8, 16)                3 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@             |\n\n";
            assert_eq!(hist_text("@h", &log2_rows(1..=10)), expected);
        }
    }
}
