//! What the runtime's integration tests share: the `vt` binary, loud skips where BPF cannot run (from
//! the vt-tests crate, as every test of the project skips), a workload of known shape — the test binary
//! itself, run with `VT_CLI_WORKLOAD` set, makes exactly N getppid syscalls (optionally after a line on
//! stdin) and exits — and the BPF objects vt leaves in the kernel.
#![allow(dead_code, unused_imports)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
pub use vt_tests::{bpftrace_or_skip, run_with_deadline, skip, wait_output};

pub const VT: &str = env!("CARGO_BIN_EXE_vt");
pub const TRACEFS: &str = "/sys/kernel/tracing";

pub fn vt() -> Command {
    Command::new(VT)
}

/// Whether tests that load BPF can run here (root, a kernel that creates BPF maps, the syscall
/// tracepoints in tracefs); skips loudly when not.
pub fn bpf_ready(test: &str) -> bool {
    if vt_tests::skip_without_bpf(test) {
        return false;
    }
    if !Path::new(TRACEFS).join("events/syscalls/sys_enter_getppid/format").exists() {
        skip(test, &format!("no tracepoint syscalls:sys_enter_getppid under {TRACEFS}"));
        return false;
    }
    true
}

/// [`bpf_ready`], and bpftool to look at the kernel's objects.
pub fn can_trace(test: &str) -> bool {
    bpf_ready(test) && vt_tests::bpftool_or_skip(test).is_some()
}

/// What `vt ARGS` prints on stdout; it must succeed within a minute.
pub fn vt_stdout(args: &[&str]) -> String {
    let mut c = vt();
    c.args(args);
    let out = run_with_deadline(c, 60);
    assert!(out.status.success(), "vt {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// `vt ARGS` to its end within `limit`.
pub fn run_vt(args: &[&str], limit: Duration) -> Output {
    let mut c = vt();
    c.args(args);
    run_with_deadline(c, limit.as_secs())
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

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The exit code, or 128 + signal as a shell says it.
pub fn code(s: &ExitStatus) -> i32 {
    s.code().unwrap_or_else(|| 128 + s.signal().unwrap_or(0))
}

/// A BPF object: `prog`, `map` or `link`, its id and name.
pub type Obj = (&'static str, u64, String);

/// Every program, map and link in the kernel, by `bpftool -j`.
pub fn kernel_objects() -> BTreeSet<Obj> {
    let mut all = BTreeSet::new();
    for kind in ["prog", "map", "link"] {
        let out = Command::new("bpftool").args(["-j", kind, "list"]).output().expect("bpftool runs");
        let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        for obj in list.as_array().into_iter().flatten() {
            let Some(id) = obj["id"].as_u64() else { continue };
            // Links have no name: their program's id stands in.
            let name = match kind {
                "link" => format!("prog {}", obj["prog_id"].as_u64().unwrap_or(0)),
                _ => obj["name"].as_str().unwrap_or("").to_string(),
            };
            all.insert((kind, id, name));
        }
    }
    all
}

/// Whether a name is one vt gives: programs `vt<N>_...`, maps `vt_...` (`vt_m<N>`, `vt_events`,
/// `vt_lost`, `vt_start`, `vt_scalars`) and the run switch (`codegen::RUN_SWITCH`).
pub fn vt_named(name: &str) -> bool {
    name.starts_with("vt_")
        || name == codegen::RUN_SWITCH
        || (name.starts_with("vt") && name[2..].starts_with(|c: char| c.is_ascii_digit()))
}

/// vt's objects among `objects`: its programs and maps by name, and the links of its programs.
pub fn vt_objects(objects: &BTreeSet<Obj>) -> BTreeSet<Obj> {
    let progs: BTreeSet<String> =
        objects.iter().filter(|(k, _, n)| *k == "prog" && vt_named(n)).map(|(_, id, _)| format!("prog {id}")).collect();
    objects
        .iter()
        .filter(|(k, _, n)| if *k == "link" { progs.contains(n) } else { vt_named(n) })
        .cloned()
        .collect()
}

/// Ids of BPF objects some live process holds an fd of (a link's program counts as held), as (kind, id).
pub fn held_objects() -> BTreeSet<(&'static str, u64)> {
    let mut held = BTreeSet::new();
    for pid in vt_tests::all_pids() {
        let o = vt_tests::bpf_objects(pid);
        for (kind, ids) in [("prog", &o.progs), ("map", &o.maps), ("link", &o.links)] {
            held.extend(ids.iter().map(|&id| (kind, id as u64)));
        }
    }
    held
}

/// vt objects created since `before` that no live process holds (those of another vt running on this
/// machine are held by it): after a grace period for the kernel's deferred frees, they are leaks.
pub fn leaked_since(before: &BTreeSet<Obj>, grace: Duration) -> Vec<Obj> {
    let start = Instant::now();
    loop {
        let now = vt_objects(&kernel_objects());
        let held = held_objects();
        let leaked: Vec<Obj> =
            now.difference(before).filter(|(k, id, _)| !held.contains(&(*k, *id))).cloned().collect();
        if leaked.is_empty() || start.elapsed() > grace {
            return leaked;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A tiny xorshift generator: the tests print their seed so that a failure can be replayed.
pub struct Rng(pub u64);

impl Rng {
    pub fn from_env_or_time() -> Rng {
        let seed = std::env::var("VT_TEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
        });
        eprintln!("seed {seed} (replay with VT_TEST_SEED={seed})");
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
