//! SIGINT and SIGTERM as a file descriptor (signalfd), so the run loop waits on signals and ring buffer
//! events in one poll(2), and a signal arriving during attach is only acted on once we are ready.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

pub struct Signals {
    fd: OwnedFd,
}

impl Signals {
    /// Blocks SIGINT and SIGTERM for this thread (and threads it starts) and opens a signalfd for them.
    pub fn block() -> io::Result<Signals> {
        // SAFETY: plain libc calls on a locally owned, initialised sigset.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGINT);
            libc::sigaddset(&mut set, libc::SIGTERM);
            if libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error());
            }
            let fd = libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK);
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(Signals { fd: OwnedFd::from_raw_fd(fd) })
        }
    }

    /// Whether a signal is pending (consumes it).
    pub fn take(&self) -> bool {
        self.next().is_some()
    }

    /// The pending signal's number, if one is pending (consumes it).
    pub fn next(&self) -> Option<u32> {
        // SAFETY: an all-zero siginfo record is a valid value of this plain C struct.
        let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of::<libc::signalfd_siginfo>();
        // SAFETY: reading one siginfo record into a buffer of that size.
        let n = unsafe { libc::read(self.fd.as_raw_fd(), (&mut info as *mut libc::signalfd_siginfo).cast(), size) };
        (n == size as isize).then_some(info.ssi_signo)
    }
}

impl AsRawFd for Signals {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
