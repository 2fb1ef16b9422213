//! A child's output read on threads into buffers that can be waited on, and [`Running`]: a started
//! command whose stdout is looked at line by line.

use crate::deadline::wait_exit;
use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

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

    /// Waits until `done(text so far)` holds (true), or the stream ends or `timeout` passes (false).
    pub fn wait_until(&self, timeout: Duration, done: impl Fn(&str) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut g = self.0 .0.lock().unwrap();
        loop {
            if done(&String::from_utf8_lossy(&g.0)) {
                return true;
            }
            let now = Instant::now();
            if g.1 || now >= deadline {
                return false;
            }
            g = self.0 .1.wait_timeout(g, deadline - now).unwrap().0;
        }
    }

    /// Waits until the text contains `needle` (true), or the stream ends or `timeout` passes (false).
    pub fn wait_for(&self, needle: &str, timeout: Duration) -> bool {
        self.wait_until(timeout, |t| t.contains(needle))
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

/// The complete lines of `text` (a last line without its newline is not complete yet).
fn complete_lines(text: &str) -> Vec<String> {
    let whole = text.rfind('\n').map_or("", |i| &text[..i + 1]);
    whole.lines().map(String::from).collect()
}

/// A started command (usually vt) whose stdout is read line by line.
pub struct Running {
    pub child: Child,
    stdout: Capture,
    stderr: Capture,
}

impl Running {
    pub fn start(mut cmd: Command) -> Running {
        let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let stdout = Capture::spawn(child.stdout.take().unwrap());
        let stderr = Capture::spawn(child.stderr.take().unwrap());
        Running { child, stdout, stderr }
    }

    /// The complete stdout lines so far.
    pub fn seen(&self) -> Vec<String> {
        complete_lines(&self.stdout.text())
    }

    /// Waits for a stdout line equal to `want`.
    pub fn wait_line(&mut self, want: &str, secs: u64) {
        if !self.stdout.wait_until(Duration::from_secs(secs), |t| complete_lines(t).iter().any(|l| l == want)) {
            let _ = self.child.kill();
            panic!("the command never printed {want:?}; it printed {:?}", self.seen());
        }
    }

    /// Waits for the command to exit by itself; its status, every stdout line and its stderr.
    pub fn finish(mut self, secs: u64) -> (ExitStatus, Vec<String>, String) {
        let Some(status) = wait_exit(&mut self.child, Duration::from_secs(secs)) else {
            let _ = self.child.kill();
            panic!("the command did not exit by itself within {secs} s; stdout so far {:?}", self.seen());
        };
        self.stdout.wait_eof(Duration::from_secs(2));
        self.stderr.wait_eof(Duration::from_secs(2));
        // The stream has ended: a last line without a newline counts too.
        (status, self.stdout.text().lines().map(String::from).collect(), self.stderr.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_complete_lines_count() {
        assert_eq!(complete_lines("a\n\nb\nc"), ["a", "", "b"]);
        assert_eq!(complete_lines("partial"), Vec::<String>::new());
    }
}
