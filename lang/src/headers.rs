//! The macros scripts take from headers. bpftrace runs a script's `#include`s through clang, so
//! `#include <linux/sched.h>` makes `TASK_RUNNING` a name of the script; vt reads the kernel's types
//! and enums from BTF, which has no macros. This table is the few ABI-stable constants bpftrace's
//! tools and one-liners take from headers, each listed under the headers that define it (directly or
//! through the headers they include), with its value on x86_64 Linux. A name is defined only when the
//! script includes one of its headers (outside a branch `#ifdef` dropped); used without it, the
//! error names the header.
//!
//! Where the values come from (and how `tests` checks them):
//! - `AF_*`/`PF_*` (address families), `O_*`/`AT_*` (open flags), `SIG*` (signals), `E*` (errno),
//!   `CLONE_*`, `SCHED_*` (policies): the kernel's UAPI and glibc headers; the tests compile a C
//!   program against the installed headers and compare every value.
//! - `TASK_*`, `__TASK_*`, `EXIT_*` (task states, kernel-internal `include/linux/sched.h`): the values
//!   since Linux 4.14, which the running kernel's `sched_switch` tracepoint format lists with their
//!   letters (`R` is 0, `S` 1, `D` 2 ...); the tests read that format. States that moved between
//!   kernels (`TASK_DEAD`, `TASK_WAKEKILL`, `TASK_TRACED`, ...) are left out.
//! - `O_LARGEFILE` is 0100000 in the kernel's `linux/fcntl.h` but 0 in glibc's `fcntl.h` on 64-bit
//!   machines: each header gives its own (glibc's is left out rather than be 0).

use std::cell::RefCell;

/// Constants that go together: (name, value).
type Group = &'static [(&'static str, i64)];

const ADDRESS_FAMILIES: Group = &[
    ("AF_UNSPEC", 0), ("AF_UNIX", 1), ("AF_LOCAL", 1), ("AF_INET", 2), ("AF_AX25", 3), ("AF_IPX", 4),
    ("AF_APPLETALK", 5), ("AF_NETROM", 6), ("AF_BRIDGE", 7), ("AF_ATMPVC", 8), ("AF_X25", 9),
    ("AF_INET6", 10), ("AF_ROSE", 11), ("AF_DECnet", 12), ("AF_NETBEUI", 13), ("AF_SECURITY", 14),
    ("AF_KEY", 15), ("AF_NETLINK", 16), ("AF_ROUTE", 16), ("AF_PACKET", 17), ("AF_ASH", 18),
    ("AF_ECONET", 19), ("AF_ATMSVC", 20), ("AF_RDS", 21), ("AF_SNA", 22), ("AF_IRDA", 23),
    ("AF_PPPOX", 24), ("AF_WANPIPE", 25), ("AF_LLC", 26), ("AF_IB", 27), ("AF_MPLS", 28), ("AF_CAN", 29),
    ("AF_TIPC", 30), ("AF_BLUETOOTH", 31), ("AF_IUCV", 32), ("AF_RXRPC", 33), ("AF_ISDN", 34),
    ("AF_PHONET", 35), ("AF_IEEE802154", 36), ("AF_CAIF", 37), ("AF_ALG", 38), ("AF_NFC", 39),
    ("AF_VSOCK", 40), ("AF_KCM", 41), ("AF_QIPCRTR", 42), ("AF_SMC", 43), ("AF_XDP", 44), ("AF_MCTP", 45),
];

/// `PF_X` is `AF_X` in both the kernel's and glibc's headers.
const PROTOCOL_FAMILIES: Group = &[
    ("PF_UNSPEC", 0), ("PF_UNIX", 1), ("PF_LOCAL", 1), ("PF_INET", 2), ("PF_INET6", 10), ("PF_NETLINK", 16),
    ("PF_PACKET", 17), ("PF_CAN", 29), ("PF_BLUETOOTH", 31), ("PF_ALG", 38), ("PF_VSOCK", 40), ("PF_XDP", 44),
];

/// Task states (`task_struct.__state`, sched_switch's `prev_state`): see the module's comment.
const TASK_STATES: Group = &[
    ("TASK_RUNNING", 0), ("TASK_INTERRUPTIBLE", 1), ("TASK_UNINTERRUPTIBLE", 2), ("__TASK_STOPPED", 4),
    ("__TASK_TRACED", 8), ("EXIT_DEAD", 0x10), ("EXIT_ZOMBIE", 0x20), ("TASK_PARKED", 0x40),
];

/// `linux/sched.h` (UAPI): clone flags and scheduling policies.
const CLONE_AND_POLICIES: Group = &[
    ("CSIGNAL", 0xff), ("CLONE_VM", 0x100), ("CLONE_FS", 0x200), ("CLONE_FILES", 0x400), ("CLONE_SIGHAND", 0x800),
    ("CLONE_PIDFD", 0x1000), ("CLONE_PTRACE", 0x2000), ("CLONE_VFORK", 0x4000), ("CLONE_PARENT", 0x8000),
    ("CLONE_THREAD", 0x10000), ("CLONE_NEWNS", 0x20000), ("CLONE_SYSVSEM", 0x40000), ("CLONE_SETTLS", 0x80000),
    ("CLONE_PARENT_SETTID", 0x100000), ("CLONE_CHILD_CLEARTID", 0x200000), ("CLONE_DETACHED", 0x400000),
    ("CLONE_UNTRACED", 0x800000), ("CLONE_CHILD_SETTID", 0x1000000), ("CLONE_NEWCGROUP", 0x2000000),
    ("CLONE_NEWUTS", 0x4000000), ("CLONE_NEWIPC", 0x8000000), ("CLONE_NEWUSER", 0x10000000),
    ("CLONE_NEWPID", 0x20000000), ("CLONE_NEWNET", 0x40000000), ("CLONE_IO", 0x80000000),
    ("SCHED_NORMAL", 0), ("SCHED_FIFO", 1), ("SCHED_RR", 2), ("SCHED_BATCH", 3), ("SCHED_IDLE", 5),
    ("SCHED_DEADLINE", 6),
];

/// Open flags and `*at` arguments (octal as the headers write them), the same in glibc and the kernel.
const OPEN_FLAGS: Group = &[
    ("O_ACCMODE", 0o3), ("O_RDONLY", 0), ("O_WRONLY", 1), ("O_RDWR", 2), ("O_CREAT", 0o100), ("O_EXCL", 0o200),
    ("O_NOCTTY", 0o400), ("O_TRUNC", 0o1000), ("O_APPEND", 0o2000), ("O_NONBLOCK", 0o4000),
    ("O_NDELAY", 0o4000), ("O_DSYNC", 0o10000), ("O_DIRECT", 0o40000), ("O_DIRECTORY", 0o200000),
    ("O_NOFOLLOW", 0o400000), ("O_NOATIME", 0o1000000), ("O_CLOEXEC", 0o2000000), ("O_SYNC", 0o4010000),
    ("O_PATH", 0o10000000), ("O_TMPFILE", 0o20200000), ("AT_FDCWD", -100), ("AT_SYMLINK_NOFOLLOW", 0x100),
    ("AT_REMOVEDIR", 0x200), ("AT_SYMLINK_FOLLOW", 0x400), ("AT_NO_AUTOMOUNT", 0x800), ("AT_EMPTY_PATH", 0x1000),
];

/// The kernel's own spelling: `FASYNC` (glibc's is `O_ASYNC`) and `O_LARGEFILE`.
const KERNEL_OPEN_FLAGS: Group = &[("FASYNC", 0o20000), ("O_LARGEFILE", 0o100000)];
const GLIBC_OPEN_FLAGS: Group = &[("O_ASYNC", 0o20000), ("FASYNC", 0o20000)];

const SIGNALS: Group = &[
    ("SIGHUP", 1), ("SIGINT", 2), ("SIGQUIT", 3), ("SIGILL", 4), ("SIGTRAP", 5), ("SIGABRT", 6), ("SIGIOT", 6),
    ("SIGBUS", 7), ("SIGFPE", 8), ("SIGKILL", 9), ("SIGUSR1", 10), ("SIGSEGV", 11), ("SIGUSR2", 12),
    ("SIGPIPE", 13), ("SIGALRM", 14), ("SIGTERM", 15), ("SIGSTKFLT", 16), ("SIGCHLD", 17), ("SIGCONT", 18),
    ("SIGSTOP", 19), ("SIGTSTP", 20), ("SIGTTIN", 21), ("SIGTTOU", 22), ("SIGURG", 23), ("SIGXCPU", 24),
    ("SIGXFSZ", 25), ("SIGVTALRM", 26), ("SIGPROF", 27), ("SIGWINCH", 28), ("SIGIO", 29), ("SIGPOLL", 29),
    ("SIGPWR", 30), ("SIGSYS", 31),
];

/// `asm-generic/errno-base.h`.
const ERRNO_BASE: Group = &[
    ("EPERM", 1), ("ENOENT", 2), ("ESRCH", 3), ("EINTR", 4), ("EIO", 5), ("ENXIO", 6), ("E2BIG", 7),
    ("ENOEXEC", 8), ("EBADF", 9), ("ECHILD", 10), ("EAGAIN", 11), ("ENOMEM", 12), ("EACCES", 13),
    ("EFAULT", 14), ("ENOTBLK", 15), ("EBUSY", 16), ("EEXIST", 17), ("EXDEV", 18), ("ENODEV", 19),
    ("ENOTDIR", 20), ("EISDIR", 21), ("EINVAL", 22), ("ENFILE", 23), ("EMFILE", 24), ("ENOTTY", 25),
    ("ETXTBSY", 26), ("EFBIG", 27), ("ENOSPC", 28), ("ESPIPE", 29), ("EROFS", 30), ("EMLINK", 31),
    ("EPIPE", 32), ("EDOM", 33), ("ERANGE", 34),
];

/// `asm-generic/errno.h`: the ones tracing scripts compare with most.
const ERRNO_MORE: Group = &[
    ("EDEADLK", 35), ("ENAMETOOLONG", 36), ("ENOSYS", 38), ("ENOTEMPTY", 39), ("ELOOP", 40),
    ("EWOULDBLOCK", 11), ("ENODATA", 61), ("ETIME", 62), ("EOVERFLOW", 75), ("ENOTSOCK", 88),
    ("EOPNOTSUPP", 95), ("EADDRINUSE", 98), ("EADDRNOTAVAIL", 99), ("ENETUNREACH", 101),
    ("ECONNABORTED", 103), ("ECONNRESET", 104), ("ENOBUFS", 105), ("EISCONN", 106), ("ENOTCONN", 107),
    ("ETIMEDOUT", 110), ("ECONNREFUSED", 111), ("EHOSTUNREACH", 113), ("EALREADY", 114),
    ("EINPROGRESS", 115), ("ECANCELED", 125),
];

/// Each header a script may include, and the groups it defines. Kernel-internal headers (as bpftrace
/// reads them from a kernel build tree) define what their UAPI part and their includes define:
/// `net/sock.h` reaches `linux/socket.h` through `linux/net.h`, and `linux/sched.h` includes the UAPI
/// `linux/sched.h`.
const HEADERS: &[(&str, &[Group])] = &[
    ("sys/socket.h", &[ADDRESS_FAMILIES, PROTOCOL_FAMILIES]),
    ("linux/socket.h", &[ADDRESS_FAMILIES, PROTOCOL_FAMILIES]),
    ("net/sock.h", &[ADDRESS_FAMILIES, PROTOCOL_FAMILIES]),
    ("linux/net.h", &[ADDRESS_FAMILIES, PROTOCOL_FAMILIES]),
    ("linux/sched.h", &[TASK_STATES, CLONE_AND_POLICIES]),
    ("fcntl.h", &[OPEN_FLAGS, GLIBC_OPEN_FLAGS]),
    ("linux/fcntl.h", &[OPEN_FLAGS, KERNEL_OPEN_FLAGS]),
    ("signal.h", &[SIGNALS]),
    ("linux/signal.h", &[SIGNALS]),
    ("asm/signal.h", &[SIGNALS]),
    ("errno.h", &[ERRNO_BASE, ERRNO_MORE]),
    ("linux/errno.h", &[ERRNO_BASE, ERRNO_MORE]),
    ("asm-generic/errno.h", &[ERRNO_BASE, ERRNO_MORE]),
    ("asm-generic/errno-base.h", &[ERRNO_BASE]),
];

thread_local! {
    /// The headers the script being checked includes (the checker runs on one thread).
    static INCLUDED: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) };
}

/// `<linux/sched.h>`, `"linux/sched.h"` or `linux/sched.h` → `linux/sched.h`.
fn bare(header: &str) -> &str {
    header.trim().trim_start_matches(['<', '"']).trim_end_matches(['>', '"']).trim()
}

/// Records the headers the script includes (those vt has no table for define nothing), replacing
/// those of any script checked before on this thread.
pub fn define<'a>(includes: impl IntoIterator<Item = &'a str>) {
    let known: Vec<&'static str> =
        includes.into_iter().filter_map(|h| HEADERS.iter().find(|(n, _)| *n == bare(h)).map(|(n, _)| *n)).collect();
    INCLUDED.with(|i| *i.borrow_mut() = known);
}

fn lookup(header: &str, name: &str) -> Option<i64> {
    let (_, groups) = HEADERS.iter().find(|(n, _)| *n == header)?;
    groups.iter().flat_map(|g| g.iter()).find(|(n, _)| *n == name).map(|(_, v)| *v)
}

/// The value of macro `name` if a header the script includes defines it.
pub fn value(name: &str) -> Option<i64> {
    INCLUDED.with(|i| i.borrow().iter().find_map(|h| lookup(h, name)))
}

/// The headers that define `name`, in the table's order (for the error of a macro used without one).
pub fn headers_of(name: &str) -> Vec<&'static str> {
    HEADERS.iter().filter(|(h, _)| lookup(h, name).is_some()).map(|(h, _)| *h).collect()
}

/// Every (header, name, value) of the table: for the tests that check it against real headers.
pub fn all() -> impl Iterator<Item = (&'static str, &'static str, i64)> {
    HEADERS.iter().flat_map(|(h, groups)| groups.iter().flat_map(|g| g.iter()).map(move |(n, v)| (*h, *n, *v)))
}

#[cfg(test)]
#[path = "headers_tests.rs"]
mod tests;
