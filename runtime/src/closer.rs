//! Leaving the kernel's slow part of detaching to child processes.
//!
//! Taking a program off a tracepoint makes close(2) wait for an RCU grace period (25–40 ms here), and
//! closing the tracepoint's last perf event waits for more while the kernel holds its `event_mutex`:
//! about 70 ms per tracepoint, one tracepoint after another (`runtime/benches/close_cost.c`). bpftrace
//! pays that before it exits. vt need not: once the run switch is off (`Session::stop`) the programs
//! do nothing and the maps hold still, so vt prints them, hands its attachments (the links) to child
//! processes and exits. The children close them and exit in turn when the kernel is done; until then
//! `bpftool` still lists vt's idle programs, held by their links.

use crate::session::Session;
use std::os::fd::RawFd;

/// The most closer processes: the program detaches overlap across them (the tracepoint unregisters
/// take turns under the kernel's mutex whatever the number).
const CLOSERS: usize = 8;

/// This process's attachments, in order: BPF links, and perf events that hold a program without one.
fn attachment_fds() -> Vec<RawFd> {
    let mut fds: Vec<RawFd> = std::fs::read_dir("/proc/self/fd")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .filter(|&fd: &RawFd| {
            std::fs::read_link(format!("/proc/self/fd/{fd}"))
                .is_ok_and(|t| matches!(t.to_str(), Some("anon_inode:bpf_link" | "anon_inode:[perf_event]")))
        })
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

/// Ends `session`. Its attachments go to up to `CLOSERS` child processes first, each of which closes
/// its share once this process has dropped its own copies, so that none of the slow closes happens
/// here. (Where a child cannot be made, its share closes here, the slow way.)
pub fn outlive(session: Session) {
    if !session.attached() {
        return;
    }
    let links = attachment_fds();
    let mut pipe = [0 as RawFd; 2];
    // SAFETY: a valid two-int out array.
    if links.is_empty() || unsafe { libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return;
    }
    let closers = links.len().min(CLOSERS);
    for k in 0..closers {
        let mut keep: Vec<RawFd> = links.iter().copied().skip(k).step_by(closers).collect();
        keep.push(pipe[0]);
        keep.sort_unstable();
        // SAFETY: fork in a threaded process; the child makes only async-signal-safe system calls.
        if unsafe { libc::fork() } == 0 {
            // A closer: nothing but its share and the pipe's read end stays open (no stdout, so that
            // nobody reading vt's output waits for it). The pipe reads end-of-file once the parent
            // has closed the write end, after its own copies; then the closer exits, and the kernel
            // closes what it held.
            close_all_but(&keep);
            // SAFETY: names this process for ps ("vt-closer"); a NUL-terminated string.
            unsafe { libc::prctl(libc::PR_SET_NAME, c"vt-closer".as_ptr()) };
            let mut byte = 0u8;
            // SAFETY: a one-byte buffer; end-of-file and errors both mean go on.
            unsafe { libc::read(pipe[0], &mut byte as *mut u8 as *mut libc::c_void, 1) };
            // SAFETY: leaves without running this process's atexit handlers or destructors.
            unsafe { libc::_exit(0) }
        }
    }
    // This process's copies close now: quickly, as the closers hold the same files.
    drop(session);
    // SAFETY: both ends are ours; closing the write end lets the closers go on.
    unsafe {
        libc::close(pipe[0]);
        libc::close(pipe[1]);
    }
}
