//! Leaving the kernel's slow part of detaching to a child process.
//!
//! Taking a program off a tracepoint makes close(2) wait for an RCU grace period (25–40 ms here), and
//! closing the tracepoint's last perf event waits for more while the kernel holds its `event_mutex`:
//! about 70 ms per tracepoint, one tracepoint after another (`runtime/benches/close_cost.c`). bpftrace
//! pays that before it exits. vt does not need to: once the run switch is off (`Session::stop`), the programs do nothing
//! and the maps hold still, so vt prints them, hands its BPF file descriptors to a child process and
//! exits. The child closes them and exits in turn, when the kernel is done: until then `bpftool` still
//! lists vt's (idle) programs, held by that child.

use crate::session::Session;
use std::os::fd::RawFd;

/// Whether fd `fd` of this process is a BPF object or a perf event.
fn is_bpf(fd: RawFd) -> bool {
    std::fs::read_link(format!("/proc/self/fd/{fd}")).is_ok_and(|target| {
        let target = target.to_string_lossy();
        ["anon_inode:bpf-prog", "anon_inode:bpf-map", "anon_inode:bpf_link", "anon_inode:[perf_event]"].contains(&target.as_ref())
    })
}

/// This process's BPF and perf event file descriptors, in order.
fn bpf_fds() -> Vec<RawFd> {
    let mut fds: Vec<RawFd> = std::fs::read_dir("/proc/self/fd")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .filter(|&fd| is_bpf(fd))
        .collect();
    fds.sort_unstable();
    fds
}

/// Closes every file descriptor of this process but the sorted `keep` (async-signal-safe).
fn close_all_but(keep: &[RawFd]) {
    let mut first: libc::c_uint = 0;
    for &fd in keep {
        if fd as libc::c_uint > first {
            // SAFETY: close_range on a range of descriptors is a plain system call.
            unsafe { libc::syscall(libc::SYS_close_range, first, fd as libc::c_uint - 1, 0) };
        }
        first = fd as libc::c_uint + 1;
    }
    // SAFETY: as above.
    unsafe { libc::syscall(libc::SYS_close_range, first, libc::c_uint::MAX, 0) };
}

/// Ends `session`. When it has something attached, its BPF file descriptors go to a child process
/// first, which closes them once this process has dropped its own (so that none of the slow closes
/// happens here); without a child, the session closes here, the slow way.
pub fn outlive(session: Session) {
    if !session.attached() {
        return;
    }
    let mut pipe = [0 as RawFd; 2];
    // SAFETY: a valid two-int out array.
    if unsafe { libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return;
    }
    let mut keep = bpf_fds();
    keep.push(pipe[0]);
    keep.sort_unstable();
    // SAFETY: fork in a threaded process; the child makes only async-signal-safe system calls.
    match unsafe { libc::fork() } {
        0 => {
            // The child: nothing but the BPF fds and the pipe's read end stays open (no stdout, so that
            // nobody reading vt's output waits for this process). The pipe reads end-of-file once the
            // parent has closed the write end, after its copies of the fds; then the child exits and
            // the kernel closes them.
            close_all_but(&keep);
            // SAFETY: names this process for ps ("vt-closer"); a NUL-terminated string.
            unsafe { libc::prctl(libc::PR_SET_NAME, c"vt-closer".as_ptr()) };
            let mut byte = 0u8;
            // SAFETY: a one-byte buffer; end-of-file and errors both mean go on.
            unsafe { libc::read(pipe[0], &mut byte as *mut u8 as *mut libc::c_void, 1) };
            // SAFETY: leaves without running this process's atexit handlers or destructors.
            unsafe { libc::_exit(0) }
        }
        _ => {
            // The parent (or, when fork failed, the only process): its copies close now, quickly when
            // the child holds the same files.
            drop(session);
            // SAFETY: both ends are ours; closing the write end lets the child go on.
            unsafe {
                libc::close(pipe[0]);
                libc::close(pipe[1]);
            }
        }
    }
}
