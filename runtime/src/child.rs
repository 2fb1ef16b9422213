//! Processes a session follows: `-c CMD` (a child held before `exec` until the probes are attached)
//! and `-p PID` (a running process), each watched through a pidfd so the event loop can poll for its
//! exit next to the signal fd and the ring buffer.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

/// A pidfd: readable once the process has exited.
pub struct PidFd {
    fd: OwnedFd,
}

impl PidFd {
    pub fn open(pid: u32) -> io::Result<PidFd> {
        // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the fd was just returned to us and is owned by nobody else.
        Ok(PidFd { fd: unsafe { OwnedFd::from_raw_fd(fd as RawFd) } })
    }
}

impl AsRawFd for PidFd {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// Splits a command line into words as a shell would for simple cases: blanks separate words,
/// `'...'` and `"..."` quote (with `\"` and `\\` inside double quotes), `\` escapes one character.
pub fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("unterminated ' in the command".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err("unterminated \" in the command".into()),
                        },
                        Some(c) => word.push(c),
                        None => return Err("unterminated \" in the command".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(c) = chars.next() {
                    word.push(c);
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

/// The program a command names: a path as given, or the first match in `$PATH`.
pub fn resolve(program: &str) -> Result<PathBuf, String> {
    if program.contains('/') {
        let p = PathBuf::from(program);
        return if is_executable(&p) { Ok(p) } else { Err(format!("'{program}' does not exist or is not executable")) };
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| is_executable(p))
        .ok_or_else(|| format!("'{program}' is not found in PATH"))
}

/// A `-c` child: forked, waiting on a pipe before `exec` until [`Child::release`].
pub struct Child {
    pid: u32,
    /// The program it runs.
    program: std::path::PathBuf,
    release: Option<OwnedFd>,
    pidfd: PidFd,
    reaped: Option<i32>,
}

impl Child {
    /// Forks `command` (split into words, the program looked up in `$PATH`); it runs nothing until
    /// released.
    pub fn spawn(command: &str) -> Result<Child, String> {
        let words = split_words(command)?;
        let Some(program) = words.first() else { return Err("the command is empty".into()) };
        let path = resolve(program)?;
        let cstr = |s: &str| CString::new(s).map_err(|_| "the command has a NUL byte".to_string());
        let path_c = cstr(&path.to_string_lossy())?;
        let argv_c: Vec<CString> = words.iter().map(|w| cstr(w)).collect::<Result<_, _>>()?;
        let mut argv: Vec<*const libc::c_char> = argv_c.iter().map(|c| c.as_ptr()).collect();
        argv.push(std::ptr::null());
        let mut fds = [0 as RawFd; 2];
        // SAFETY: pipe2 writes two fds into the array.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(format!("cannot create a pipe: {}", io::Error::last_os_error()));
        }
        let (read_end, write_end) = (fds[0], fds[1]);
        // SAFETY: after fork the child only makes async-signal-safe calls (close, sigprocmask, signal,
        // read, execv, _exit) on memory prepared before the fork.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            let e = io::Error::last_os_error();
            unsafe {
                libc::close(read_end);
                libc::close(write_end);
            }
            return Err(format!("cannot fork: {e}"));
        }
        if pid == 0 {
            unsafe {
                libc::close(write_end);
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
                libc::signal(libc::SIGPIPE, libc::SIG_DFL);
                let mut byte = 0u8;
                let n = loop {
                    let n = libc::read(read_end, (&mut byte as *mut u8).cast(), 1);
                    if n >= 0 || *libc::__errno_location() != libc::EINTR {
                        break n;
                    }
                };
                if n == 1 {
                    libc::execv(path_c.as_ptr(), argv.as_ptr());
                }
                libc::_exit(127);
            }
        }
        // SAFETY: closing our copy of the child's end; wrapping our end, which nobody else owns.
        unsafe { libc::close(read_end) };
        let release = Some(unsafe { OwnedFd::from_raw_fd(write_end) });
        let pidfd = PidFd::open(pid as u32).map_err(|e| format!("cannot watch the child: {e}"))?;
        Ok(Child { pid: pid as u32, program: path, release, pidfd, reaped: None })
    }

    pub fn program(&self) -> &std::path::Path {
        &self.program
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Lets the child `exec` its command.
    pub fn release(&mut self) {
        if let Some(fd) = self.release.take() {
            // SAFETY: writing one byte from a live local to our pipe end.
            unsafe { libc::write(fd.as_raw_fd(), b"x".as_ptr().cast(), 1) };
        }
    }

    /// Readable once the child has exited.
    pub fn pidfd(&self) -> &PidFd {
        &self.pidfd
    }

    /// Reaps the child if it has exited; its wait status.
    pub fn try_wait(&mut self) -> Option<i32> {
        if self.reaped.is_none() {
            let mut status = 0;
            // SAFETY: waitpid on our own child with a valid status out-pointer.
            if unsafe { libc::waitpid(self.pid as libc::pid_t, &mut status, libc::WNOHANG) } == self.pid as libc::pid_t {
                self.reaped = Some(status);
            }
        }
        self.reaped
    }
}

impl Drop for Child {
    /// A child still running when vt is done is terminated (bpftrace does the same); one never
    /// released exits without running its command.
    fn drop(&mut self) {
        self.release.take();
        if self.try_wait().is_some() {
            return;
        }
        // SAFETY: signalling and reaping our own, not yet reaped, child.
        unsafe {
            libc::kill(self.pid as libc::pid_t, libc::SIGTERM);
            let mut status = 0;
            libc::waitpid(self.pid as libc::pid_t, &mut status, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert_eq!(split_words("a  b\tc").unwrap(), ["a", "b", "c"]);
        assert_eq!(split_words("python3 -c 'import os; os.getppid()'").unwrap(), ["python3", "-c", "import os; os.getppid()"]);
        assert_eq!(split_words(r#"echo "a \"b\" c" d\ e ''"#).unwrap(), ["echo", "a \"b\" c", "d e", ""]);
        assert!(split_words("echo 'x").is_err());
    }
}
