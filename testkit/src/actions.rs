//! The workload language: `+`-separated actions that fire known tracepoints a known number of times.
//! One program runs it, `shapes` (src/bin/shapes.rs); [`crate::Workload`] starts it paused.
//!
//! ```text
//! getppid N                  N getppid(2)
//! writes N                   N writes to /dev/null, of 1, 2, …, N bytes
//! bytes N                    N writes to /dev/null of the 24 bytes of `BYTES` (printable and not)
//! open PATH N                N openat(AT_FDCWD, PATH, O_RDONLY) (each closed again)
//! read N                     N reads of 1, 2, …, N bytes from /dev/zero
//! lseek N                    N lseek(1<<32 | 1000 + i, 3 * i - 4, 1<<36 | 7) for i in 0..N, all EBADF
//!                            (the high bits are dropped by the kernel, not by a tracer)
//! kill PID SIG               kill(PID, SIG) (use values that fail: a pid that does not exist)
//! killself N                 N kill(getpid(), 0): signal 0 to itself, which only checks
//! flock                      flock(a, LOCK_EX); flock(b, LOCK_EX|LOCK_NB) fails; flock(a, LOCK_UN)
//! listen PORT                a TCP socket on 127.0.0.1:PORT: listen(2), then close(2)
//! connect PORT               one TCP connection on 127.0.0.1:PORT: listen, connect, accept, 100 bytes
//!                            each way, then both ends and the listener closed (client first)
//! oom ADJ                    writes ADJ to /proc/self/oom_score_adj
//! rename NAME                prctl(PR_SET_NAME, NAME)
//! sleep MS                   nanosleep(MS milliseconds): the process is switched out
//! setid UID GID              setresgid(GID) then setresuid(UID) (for the actions after it)
//! exec PATH ARGS…            execv(PATH, [PATH, ARGS…]): must be the last action
//! touch N                    writes one byte to each of N fresh pages (mapped before the release, no
//!                            huge pages): N page faults
//! call N                     N calls of `vt_shapes_add(i, 100 + i % 3)` for i in 1..=N (a function
//!                            for uprobes: it returns `3 * i + 100 + i % 3`)
//! usdt N                     for i in 1..=N: USDT probe vt:plain(-i as int32, i * 1000000007 as u64,
//!                            "alpha"/"beta"/"gamma" for i % 3 = 0/1/2, the constant 42), and
//!                            vt:guarded(i as int64, -i as int32) only while its semaphore is raised
//!                            (csrc/)
//! watch N                    writes 1, 2, …, N to the global `shapes_watched` (csrc/)
//! caught SIG N               a handler for signal SIG is installed before the release (wherever the
//!                            action stands); here the process checks that it ran exactly N times
//!                            (exit status 14 if not): for `signal()`, whose signal it then survives
//! getppid 3 + open /etc/passwd 2
//! ```
//!
//! Everything an action needs that could be counted by a script (files to lock, /dev/zero, /dev/null)
//! is opened by [`parse`], before the release, except `oom`'s /proc file and `open`'s own opens.
//! A malformed action is a usage error (exit status 2); a failing syscall that must succeed exits
//! with a status of its own (4 and up), so that a test sees the workload failed.

use std::ffi::CString;
use std::os::fd::AsRawFd;

/// One parsed action, holding what it needs.
pub enum Action {
    Getppid(u64),
    Writes(u64, std::fs::File),
    Bytes(u64, std::fs::File),
    Open(CString, u64),
    Read(u64, std::fs::File),
    Lseek(u64),
    Kill(i64, i64),
    KillSelf(u64),
    Flock(std::fs::File, std::fs::File),
    Listen(std::net::TcpListener),
    Connect(u16),
    Oom(String),
    Rename(CString),
    SetId(u32, u32),
    Sleep(u64),
    Exec(Vec<CString>),
    Touch(u64, *mut u8),
    Call(u64),
    Usdt(u64),
    Watch(u64),
    Caught(usize, u64),
}

// The workload's C part (csrc/, built by build.rs).
#[link(name = "vtshapesc", kind = "static")]
extern "C" {
    fn shapes_usdt(n: u64) -> i64;
    fn shapes_watch(n: u64);
}

/// What `bytes` writes: printable ASCII, a NUL, control bytes, a backslash and a quote, bytes >= 0x7f.
pub const BYTES: &[u8; 24] = b"ab\x00\x01\n\t\\\"%\x7f\x80\xffXYZ ~0123456";

/// The function `call` calls, for uprobes (a symbol of its own, never inlined).
#[no_mangle]
#[inline(never)]
pub extern "C" fn vt_shapes_add(a: u64, b: u64) -> u64 {
    std::hint::black_box(3 * a + b)
}

const PAGE: usize = 4096;

/// How many times each signal's handler ran (`caught`).
static CAUGHT: [std::sync::atomic::AtomicU64; 65] = [const { std::sync::atomic::AtomicU64::new(0) }; 65];

/// The handler `caught` installs: it only counts (an atomic add is async-signal-safe).
extern "C" fn count_signal(sig: libc::c_int) {
    if let Some(c) = CAUGHT.get(sig as usize) {
        c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Installs [`count_signal`] for `sig` (exit status 14 if the kernel refuses).
fn catch(sig: usize) {
    // SAFETY: a zeroed sigaction with a handler of the right type and an empty mask.
    unsafe {
        let mut act: libc::sigaction = std::mem::zeroed();
        act.sa_sigaction = count_signal as extern "C" fn(libc::c_int) as usize;
        act.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut act.sa_mask);
        if libc::sigaction(sig as libc::c_int, &act, std::ptr::null_mut()) != 0 {
            std::process::exit(14);
        }
    }
}

/// `n` fresh pages of anonymous memory, not yet touched, without transparent huge pages.
fn fresh_pages(n: u64) -> *mut u8 {
    let len = (n as usize).max(1) * PAGE;
    // SAFETY: a new private anonymous mapping; madvise only on it.
    unsafe {
        let p = libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0);
        if p == libc::MAP_FAILED {
            std::process::exit(11);
        }
        libc::madvise(p, len, libc::MADV_NOHUGEPAGE);
        p.cast()
    }
}

fn usage() -> ! {
    eprintln!("usage: shapes [--now] ACTION [+ ACTION]… (see testkit/src/actions.rs)");
    std::process::exit(2)
}

fn num<T: std::str::FromStr>(s: Option<&String>) -> T {
    s.and_then(|s| s.parse().ok()).unwrap_or_else(|| usage())
}

fn cstr(s: Option<&String>) -> CString {
    CString::new(s.unwrap_or_else(|| usage()).as_str()).unwrap_or_else(|_| usage())
}

/// Parses one action (its words, without the `+`); a usage error exits with status 2.
pub fn parse(words: &[String]) -> Action {
    let arg = |i: usize| words.get(i);
    let want = |n: usize| {
        if words.len() != n + 1 {
            usage()
        }
    };
    match words.first().map(String::as_str) {
        Some("getppid") => (want(1), Action::Getppid(num(arg(1)))).1,
        Some("writes") => {
            want(1);
            let null = std::fs::OpenOptions::new().write(true).open("/dev/null").expect("cannot open /dev/null");
            Action::Writes(num(arg(1)), null)
        }
        Some("bytes") => {
            want(1);
            let null = std::fs::OpenOptions::new().write(true).open("/dev/null").expect("cannot open /dev/null");
            Action::Bytes(num(arg(1)), null)
        }
        Some("open") => (want(2), Action::Open(cstr(arg(1)), num(arg(2)))).1,
        Some("read") => {
            want(1);
            Action::Read(num(arg(1)), std::fs::File::open("/dev/zero").expect("cannot open /dev/zero"))
        }
        Some("lseek") => (want(1), Action::Lseek(num(arg(1)))).1,
        Some("kill") => (want(2), Action::Kill(num(arg(1)), num(arg(2)))).1,
        Some("killself") => (want(1), Action::KillSelf(num(arg(1)))).1,
        Some("flock") => {
            want(0);
            let path = std::env::temp_dir().join(format!("vt-shapes-flock-{}", std::process::id()));
            let a = std::fs::File::create(&path).expect("cannot create the lock file");
            let b = std::fs::File::open(&path).expect("cannot open the lock file");
            let _ = std::fs::remove_file(&path);
            Action::Flock(a, b)
        }
        Some("listen") => {
            want(1);
            Action::Listen(socket(num(arg(1))))
        }
        Some("connect") => (want(1), Action::Connect(num(arg(1)))).1,
        Some("oom") => (want(1), Action::Oom(arg(1).unwrap().clone())).1,
        Some("rename") => (want(1), Action::Rename(cstr(arg(1)))).1,
        Some("sleep") => (want(1), Action::Sleep(num(arg(1)))).1,
        Some("setid") => (want(2), Action::SetId(num(arg(1)), num(arg(2)))).1,
        Some("touch") => {
            want(1);
            let n = num(arg(1));
            Action::Touch(n, fresh_pages(n))
        }
        Some("call") => (want(1), Action::Call(num(arg(1)))).1,
        Some("usdt") => (want(1), Action::Usdt(num(arg(1)))).1,
        Some("watch") => (want(1), Action::Watch(num(arg(1)))).1,
        Some("caught") => {
            want(2);
            let sig: usize = num(arg(1));
            if sig == 0 || sig >= CAUGHT.len() {
                usage()
            }
            catch(sig);
            Action::Caught(sig, num(arg(2)))
        }
        Some("exec") if words.len() >= 2 => Action::Exec(words[1..].iter().map(|w| cstr(Some(w))).collect()),
        _ => usage(),
    }
}

/// A bound, not yet listening TCP socket on 127.0.0.1:port (std's TcpListener listens at once, so
/// this goes through libc and wraps the fd).
fn socket(port: u16) -> std::net::TcpListener {
    use std::os::fd::FromRawFd;
    // SAFETY: plain socket calls on a descriptor we create; sockaddr_in is fully initialised.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        let one: libc::c_int = 1;
        libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, (&one as *const libc::c_int).cast(), 4);
        let mut addr: libc::sockaddr_in = std::mem::zeroed();
        addr.sin_family = libc::AF_INET as libc::sa_family_t;
        addr.sin_port = port.to_be();
        addr.sin_addr.s_addr = u32::from_be_bytes([127, 0, 0, 1]).to_be();
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        if fd < 0 || libc::bind(fd, (&addr as *const libc::sockaddr_in).cast(), len) != 0 {
            eprintln!("shapes: cannot bind 127.0.0.1:{port}: {}", std::io::Error::last_os_error());
            std::process::exit(10);
        }
        std::net::TcpListener::from_raw_fd(fd)
    }
}

/// Does what the action says.
pub fn run(action: Action) {
    match action {
        Action::Touch(n, pages) => {
            for i in 0..n as usize {
                // SAFETY: within the n pages mapped for this action.
                unsafe { std::ptr::write_volatile(pages.add(i * PAGE), 1) };
            }
        }
        Action::Usdt(n) => {
            // SAFETY: plain C functions of csrc/ taking a count.
            if unsafe { shapes_usdt(n) } < 0 {
                eprintln!("shapes: built without <sys/sdt.h>: no USDT probes (install systemtap-sdt-dev, as tests/run.sh does)");
                std::process::exit(12);
            }
        }
        // SAFETY: as above.
        Action::Watch(n) => unsafe { shapes_watch(n) },
        Action::Caught(sig, n) => {
            if CAUGHT[sig].load(std::sync::atomic::Ordering::SeqCst) != n {
                std::process::exit(14);
            }
        }
        Action::Call(n) => {
            for i in 1..=n {
                std::hint::black_box(vt_shapes_add(std::hint::black_box(i), 100 + i % 3));
            }
        }
        Action::Getppid(n) => {
            for _ in 0..n {
                // SAFETY: getppid has no arguments and cannot fail; through syscall(2), so that no libc
                // caching can skip one.
                unsafe { libc::syscall(libc::SYS_getppid) };
            }
        }
        Action::Writes(n, null) => {
            let buf = vec![b'x'; n as usize];
            for size in 1..=n as usize {
                // SAFETY: buf holds at least `size` bytes; the fd is open for writing.
                let w = unsafe { libc::syscall(libc::SYS_write, null.as_raw_fd(), buf.as_ptr(), size) };
                if w != size as libc::c_long {
                    std::process::exit(4);
                }
            }
        }
        Action::Bytes(n, null) => {
            for _ in 0..n {
                // SAFETY: BYTES is 24 bytes long; the fd is open for writing.
                let w = unsafe { libc::syscall(libc::SYS_write, null.as_raw_fd(), BYTES.as_ptr(), BYTES.len()) };
                if w != BYTES.len() as libc::c_long {
                    std::process::exit(4);
                }
            }
        }
        Action::Open(path, n) => {
            for _ in 0..n {
                // SAFETY: a NUL-terminated path; the returned fd (if any) is ours to close.
                let fd = unsafe { libc::syscall(libc::SYS_openat, libc::AT_FDCWD, path.as_ptr(), libc::O_RDONLY) };
                if fd >= 0 {
                    // SAFETY: closing the fd just opened.
                    unsafe { libc::close(fd as i32) };
                }
            }
        }
        Action::Read(n, zero) => {
            let mut buf = vec![0u8; n as usize];
            for size in 1..=n as usize {
                // SAFETY: buf holds at least `size` bytes.
                let r = unsafe { libc::syscall(libc::SYS_read, zero.as_raw_fd(), buf.as_mut_ptr(), size) };
                if r != size as libc::c_long {
                    std::process::exit(4);
                }
            }
        }
        Action::Lseek(n) => {
            for i in 0..n {
                // SAFETY: lseek on a descriptor that is not open only fails.
                unsafe { libc::syscall(libc::SYS_lseek, (1u64 << 32) | (1000 + i), (3 * i) as i64 - 4, (1u64 << 36) | 7) };
            }
        }
        Action::Kill(pid, sig) => {
            // SAFETY: the caller picks a pid and signal that only fail.
            unsafe { libc::syscall(libc::SYS_kill, pid, sig) };
        }
        Action::KillSelf(n) => {
            // SAFETY: getpid has no preconditions.
            let me = unsafe { libc::getpid() };
            for _ in 0..n {
                // SAFETY: signal 0 delivers nothing; it only checks that we may signal ourselves.
                unsafe { libc::syscall(libc::SYS_kill, me, 0) };
            }
        }
        Action::Flock(a, b) => {
            // SAFETY: flock on descriptors we own.
            unsafe {
                if libc::flock(a.as_raw_fd(), libc::LOCK_EX) != 0 {
                    std::process::exit(5);
                }
                if libc::flock(b.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 {
                    std::process::exit(6);
                }
                libc::flock(a.as_raw_fd(), libc::LOCK_UN);
            }
        }
        Action::Listen(sock) => {
            use std::os::fd::IntoRawFd;
            let fd = sock.into_raw_fd();
            // SAFETY: listen and close on the socket we own.
            unsafe {
                if libc::listen(fd, 1) != 0 {
                    std::process::exit(10);
                }
                libc::close(fd);
            }
        }
        Action::Oom(adj) => {
            if std::fs::write("/proc/self/oom_score_adj", adj).is_err() {
                std::process::exit(7);
            }
        }
        Action::Rename(name) => {
            // SAFETY: PR_SET_NAME reads at most 16 bytes of a NUL-terminated string.
            unsafe { libc::prctl(libc::PR_SET_NAME, name.as_ptr()) };
        }
        Action::Sleep(ms) => std::thread::sleep(std::time::Duration::from_millis(ms)),
        Action::Connect(port) => connect(port),
        Action::SetId(uid, gid) => {
            // SAFETY: plain credential changes.
            unsafe {
                if libc::setresgid(gid, gid, gid) != 0 || libc::setresuid(uid, uid, uid) != 0 {
                    std::process::exit(8);
                }
            }
        }
        Action::Exec(argv) => {
            let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
            ptrs.push(std::ptr::null());
            // SAFETY: a NULL-terminated array of NUL-terminated strings that outlive the call.
            unsafe { libc::execv(ptrs[0], ptrs.as_ptr()) };
            std::process::exit(9);
        }
    }
}

/// Parses a whole workload line's words: `+`-separated actions.
pub fn parse_all(words: &[String]) -> Vec<Action> {
    if words.is_empty() {
        usage();
    }
    words.split(|w| w == "+").map(parse).collect()
}

/// `connect PORT`: one whole TCP connection over loopback (exit status 13 if any step fails).
fn connect(port: u16) {
    use std::io::{Read, Write};
    fn ok<T>(r: std::io::Result<T>) -> T {
        r.unwrap_or_else(|_| std::process::exit(13))
    }
    let listener = ok(std::net::TcpListener::bind(("127.0.0.1", port)));
    let mut client = ok(std::net::TcpStream::connect(("127.0.0.1", port)));
    let (mut server, _) = ok(listener.accept());
    let mut buf = [b'x'; 100];
    ok(client.write_all(&buf));
    ok(server.read_exact(&mut buf));
    ok(server.write_all(&buf));
    ok(client.read_exact(&mut buf));
    drop(client);
    drop(server);
    drop(listener);
}
