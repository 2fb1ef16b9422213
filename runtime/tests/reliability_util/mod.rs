//! Helpers of the `reliability_*` tests: running `vt`, skipping without BPF, and finding the BPF
//! programs, maps and links vt leaves behind.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

pub fn vt() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_vt"))
}

/// Whether this machine can load and attach tracepoint programs: root, tracefs with the syscall
/// tracepoints, and bpftool to look at the kernel's objects. Says so loudly when not.
pub fn can_trace(test: &str) -> bool {
    let why = if unsafe { libc::geteuid() } != 0 {
        Some("not root")
    } else if !Path::new("/sys/kernel/tracing/events/syscalls/sys_enter_getppid").exists() {
        Some("no tracefs with syscall tracepoints at /sys/kernel/tracing")
    } else if Command::new("bpftool").arg("version").output().map_or(true, |o| !o.status.success()) {
        Some("no bpftool")
    } else {
        None
    };
    match why {
        Some(why) => {
            let msg = format!("SKIPPED {test}: {why}");
            assert!(std::env::var_os("VT_TESTS_REQUIRE_BPF").is_none(), "{msg}, and VT_TESTS_REQUIRE_BPF forbids skipping");
            eprintln!("\n*** {msg} ***\n");
            false
        }
        None => true,
    }
}

/// Runs vt to completion with a time limit; panics if it hangs.
pub fn run_vt(args: &[&str], limit: Duration) -> Output {
    let child = Command::new(vt())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vt runs");
    wait_output(child, limit)
}

/// Waits for `child` (stdout and stderr piped), killing it and panicking after `limit`.
pub fn wait_output(mut child: Child, limit: Duration) -> Output {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    let out = child.stdout.take();
    let err = child.stderr.take();
    let readers = [out.map(|o| Box::new(o) as Box<dyn std::io::Read + Send>), err.map(|e| Box::new(e) as _)]
        .map(|r| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                if let Some(mut r) = r {
                    let _ = r.read_to_end(&mut buf);
                }
                buf
            })
        });
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let status = match rx.recv_timeout(limit) {
        Ok(s) => s.expect("wait"),
        Err(_) => {
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("vt (pid {pid}) did not finish within {limit:?}");
        }
    };
    let [o, e] = readers.map(|r| r.join().unwrap());
    Output { status, stdout: o, stderr: e }
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
/// `vt_lost`, `vt_start`, `vt_scalars`).
pub fn vt_named(name: &str) -> bool {
    name.starts_with("vt_") || (name.starts_with("vt") && name[2..].starts_with(|c: char| c.is_ascii_digit()))
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

/// Ids of BPF objects some live process holds an fd of (from /proc/*/fdinfo), as (kind, id).
pub fn held_objects() -> BTreeSet<(&'static str, u64)> {
    let mut held = BTreeSet::new();
    for proc in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(fds) = std::fs::read_dir(proc.path().join("fdinfo")) else { continue };
        for fd in fds.flatten() {
            let Ok(info) = std::fs::read_to_string(fd.path()) else { continue };
            for line in info.lines() {
                // A link's fdinfo names its program too, which the link keeps alive.
                for (key, kind) in [("prog_id:", "prog"), ("map_id:", "map"), ("link_id:", "link")] {
                    if let Some(v) = line.strip_prefix(key).and_then(|v| v.trim().parse().ok()) {
                        held.insert((kind, v));
                    }
                }
            }
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
