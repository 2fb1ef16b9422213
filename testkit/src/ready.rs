//! Can this machine run the test? The readiness checks and the loud skip: a test that cannot run here
//! prints `SKIPPED: …` straight to stderr and passes, unless `VT_TESTS_REQUIRE_BPF=1` (CI sets it)
//! makes the skip a failure.

use crate::runner::on_path;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The kernel's tracefs, where the tests that load BPF find their tracepoints.
pub const TRACEFS: &str = "/sys/kernel/tracing";

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

/// Whether tracefs is at [`TRACEFS`], mounting it first when it is missing and we are root, as vt does
/// itself: a freshly booted machine may not have it mounted, and the tests that look for it before any
/// vt run has mounted it would otherwise skip (or, in CI, fail) depending on the order they run in.
pub fn tracefs_ready() -> bool {
    let root = Path::new(TRACEFS);
    if root.join("available_events").exists() {
        return true;
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        let status = std::process::Command::new("mount").args(["-t", "tracefs", "nodev", TRACEFS]).status();
        // Another test may have mounted it meanwhile; the check below is what counts.
        let _ = status;
    }
    root.join("available_events").exists()
}

/// Whether tests that load BPF can run here (root, a kernel that creates BPF maps, the syscall
/// tracepoints in tracefs); skips loudly when not.
pub fn bpf_ready(test: &str) -> bool {
    if skip_without_bpf(test) {
        return false;
    }
    if !tracefs_ready() || !Path::new(TRACEFS).join("events/syscalls/sys_enter_getppid/format").exists() {
        skip(test, &format!("no tracepoint syscalls:sys_enter_getppid under {TRACEFS}"));
        return false;
    }
    true
}

/// [`bpf_ready`], and bpftool to look at the kernel's objects.
pub fn can_trace(test: &str) -> bool {
    bpf_ready(test) && bpftool_or_skip(test).is_some()
}

/// `program` on PATH, or a loud skip message and None.
fn tool_or_skip(test: &str, program: &str) -> Option<PathBuf> {
    let found = on_path(program);
    if found.is_none() {
        skip(test, &format!("{program} is not on PATH (apt-get install {program})"));
    }
    found
}

/// `bpftrace` on PATH, or a loud skip message and None.
pub fn bpftrace_or_skip(test: &str) -> Option<PathBuf> {
    tool_or_skip(test, "bpftrace")
}

/// `bpftool` on PATH, or a loud skip message and None.
pub fn bpftool_or_skip(test: &str) -> Option<PathBuf> {
    tool_or_skip(test, "bpftool")
}
