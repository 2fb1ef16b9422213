//! The tracers under test, vt and (for differential tests) bpftrace: started on a script, waited for
//! until really attached, stopped as the test says, their output collected.
//!
//! A traced run goes like this, with no sleeps anywhere:
//! 1. the workload starts paused (it makes no counted syscall until released);
//! 2. its pid is substituted for `$PID` in the script, and the tracer starts;
//! 3. the harness waits for the tracer's `Attaching N probes...` line, then until the tracer process
//!    really holds an attached perf event for every tracepoint the script names
//!    ([`crate::inventory::attached_tracepoints`]): `Attaching` is printed before the probes are attached;
//! 4. the workload is released and waited for, then the tracer gets SIGINT (or SIGTERM, or nothing when
//!    the script calls `exit()`), and the harness collects exit status, stdout and stderr.

use crate::capture::Capture;
use crate::deadline::{wait_exit, ATTACH_TIMEOUT, EXIT_TIMEOUT};
use crate::inventory::{attached_tracepoints, UNNAMED};
use crate::runner::{on_path, vt_bin};
use crate::workload::Workload;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Which tracer runs the script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    Vt,
    Bpftrace,
}

/// How a traced run ends once the workload is done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Send SIGINT (Ctrl-C).
    Int,
    /// Send SIGTERM.
    Term,
    /// Send nothing: the script calls `exit()` and the tracer must end by itself.
    ByItself,
}

/// What a finished tracer run left behind.
#[derive(Debug)]
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    /// The script as run (with `$PID` substituted), for failure messages.
    pub script: String,
}

impl Run {
    /// Panics with everything known about the run unless the tracer exited with status 0.
    pub fn assert_success(&self) -> &Run {
        assert!(self.status.success(), "tracer failed: {}\n{}", self.status, self.describe());
        self
    }

    pub fn describe(&self) -> String {
        format!("script: {}\n--- stdout ---\n{}--- stderr ---\n{}--------------", self.script, self.stdout, self.stderr)
    }
}

/// A running tracer process (vt or bpftrace) with captured output.
pub struct Tracer {
    pub tool: Tool,
    pub script: String,
    child: Child,
    pub stdout: Capture,
    pub stderr: Capture,
    /// The last signal sent, re-sent to a bpftrace that has not exited (see [`Tracer::finish`]).
    sent: std::cell::Cell<Option<libc::c_int>>,
}

impl Tracer {
    /// Starts `tool` on `script` (given with `-e`), with extra arguments before it.
    pub fn start(tool: Tool, script: &str, extra: &[&str]) -> Tracer {
        Tracer::start_with_params(tool, script, extra, &[])
    }

    /// [`Tracer::start`] with positional parameters (`$1`, `$2`, …) after the script.
    pub fn start_with_params(tool: Tool, script: &str, extra: &[&str], params: &[&str]) -> Tracer {
        let mut cmd = match tool {
            Tool::Vt => Command::new(vt_bin()),
            Tool::Bpftrace => Command::new(on_path("bpftrace").expect("bpftrace is not on PATH")),
        };
        cmd.args(extra).arg("-e").arg(script).args(params).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {tool:?}: {e}"));
        let stdout = Capture::spawn(child.stdout.take().unwrap());
        let stderr = Capture::spawn(child.stderr.take().unwrap());
        Tracer { tool, script: script.to_string(), child, stdout, stderr, sent: Default::default() }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn describe(&self) -> String {
        format!(
            "{:?} script: {}\n--- stdout ---\n{}--- stderr ---\n{}--------------",
            self.tool,
            self.script,
            self.stdout.text(),
            self.stderr.text()
        )
    }

    /// Kills the tracer (if still running) and panics with its output.
    fn fail(&mut self, why: &str) -> ! {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stdout.wait_eof(Duration::from_secs(5));
        self.stderr.wait_eof(Duration::from_secs(5));
        panic!("{why}\n{}", self.describe());
    }

    /// Waits for the `Attaching N probes...` line (vt: stderr; bpftrace: stdout), then until the process
    /// holds an attached perf event for each of `tracepoints` (names like `sys_enter_getppid`, one entry
    /// per expected attachment). Panics with the tracer's output if that does not happen.
    pub fn wait_attached(&mut self, tracepoints: &[String]) {
        let stream = match self.tool {
            Tool::Vt => self.stderr.clone(),
            Tool::Bpftrace => self.stdout.clone(),
        };
        if !stream.wait_for("Attaching ", ATTACH_TIMEOUT) {
            self.fail("the tracer never printed `Attaching N probes...`");
        }
        let deadline = Instant::now() + ATTACH_TIMEOUT;
        loop {
            let attached = attached_tracepoints(self.pid());
            let missing: Vec<&String> = {
                let mut pool = attached.clone();
                tracepoints
                    .iter()
                    .filter(|t| match pool.iter().position(|a| a == *t).or_else(|| pool.iter().position(|a| a == UNNAMED)) {
                        Some(i) => {
                            pool.remove(i);
                            false
                        }
                        None => true,
                    })
                    .collect()
            };
            if missing.is_empty() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                self.fail(&format!("the tracer exited ({status}) before attaching {missing:?}"));
            }
            if Instant::now() >= deadline {
                self.fail(&format!("the tracer never attached {missing:?} (attached: {attached:?})"));
            }
            std::thread::sleep(Duration::from_millis(10)); // polling interval, not a wait for readiness
        }
    }

    /// Sends a signal to the tracer.
    pub fn signal(&self, sig: libc::c_int) {
        // SAFETY: kill with our own child's pid.
        let rc = unsafe { libc::kill(self.pid() as libc::pid_t, sig) };
        assert_eq!(rc, 0, "cannot signal the tracer: {}", std::io::Error::last_os_error());
        self.sent.set(Some(sig));
    }

    /// Waits for the tracer to exit (killing it and failing after `EXIT_TIMEOUT`) and collects its output.
    ///
    /// bpftrace 0.17 now and then misses a SIGINT and runs on (seen once in CI, opensnoop, after its
    /// events had printed); the reference is not under test, so it gets the signal again every 10 s.
    /// vt gets it once.
    pub fn finish(mut self) -> Run {
        let status = match (self.tool, self.sent.get()) {
            (Tool::Bpftrace, Some(sig)) => {
                let deadline = Instant::now() + EXIT_TIMEOUT;
                loop {
                    if let Some(status) = wait_exit(&mut self.child, Duration::from_secs(10)) {
                        break Some(status);
                    }
                    if Instant::now() >= deadline {
                        break None;
                    }
                    eprintln!("bpftrace has not exited 10 s after signal {sig}: sending it again");
                    // SAFETY: kill with our own child's pid, which has not been waited for.
                    unsafe { libc::kill(self.pid() as libc::pid_t, sig) };
                }
            }
            _ => wait_exit(&mut self.child, EXIT_TIMEOUT),
        };
        let Some(status) = status else { self.fail("the tracer did not exit") };
        if !self.stdout.wait_eof(EXIT_TIMEOUT) || !self.stderr.wait_eof(EXIT_TIMEOUT) {
            panic!("the tracer's output never ended\n{}", self.describe());
        }
        Run { status, stdout: self.stdout.text(), stderr: self.stderr.text(), script: self.script.clone() }
    }
}

impl Drop for Tracer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The tracepoint names a script attaches (`tracepoint:CAT:NAME`, no wildcards), one per occurrence;
/// and for each uprobe or uretprobe, `uprobe`, and for each profile or software event, `perf_event`
/// (see [`crate::inventory::attached_tracepoints`]).
pub fn script_tracepoints(script: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in script.split(|c: char| c.is_whitespace() || c == ',' || c == '{') {
        let kind = word.split(':').next().unwrap_or("");
        if word.contains(':') {
            match kind {
                "uprobe" | "uretprobe" | "usdt" => out.push(crate::inventory::UPROBE.to_string()),
                "profile" | "software" | "watchpoint" => out.push(crate::inventory::PERF_EVENT.to_string()),
                // A raw tracepoint's link is named by the tracepoint (with no wildcard to expand).
                "rawtracepoint" => out.extend(word.rsplit(':').next().filter(|n| !n.contains(['*', '?'])).map(String::from)),
                _ => {}
            }
        }
    }
    let mut rest = script;
    while let Some(i) = rest.find("tracepoint:") {
        let raw = rest[..i].ends_with("raw");
        rest = &rest[i + "tracepoint:".len()..];
        if raw {
            continue;
        }
        let spec: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':').collect();
        if let Some((_cat, name)) = spec.split_once(':') {
            out.push(name.to_string());
        }
    }
    out
}

/// Runs `script` (with `$PID` replaced by the workload's pid) under `tool` against `workload`: starts the
/// workload paused, starts the tracer, waits until it is attached, releases the workload and waits for it,
/// then stops the tracer as `stop` says and returns what it printed.
pub fn trace(tool: Tool, script: &str, mut workload: Workload, stop: Stop) -> Run {
    trace_with(tool, script, &[], &mut workload, stop)
}

/// `trace` with extra tracer arguments and a borrowed workload.
pub fn trace_with(tool: Tool, script: &str, extra: &[&str], workload: &mut Workload, stop: Stop) -> Run {
    let script = script.replace("$PID", &workload.pid().to_string());
    let mut tracer = Tracer::start(tool, &script, extra);
    tracer.wait_attached(&script_tracepoints(&script));
    workload.release_and_wait();
    match stop {
        Stop::Int => tracer.signal(libc::SIGINT),
        Stop::Term => tracer.signal(libc::SIGTERM),
        Stop::ByItself => {}
    }
    tracer.finish()
}

/// Runs vt on `script` against the workload `spec` (see [`Workload::start`]), stopping it with SIGINT.
pub fn vt_trace(script: &str, spec: &str) -> Run {
    trace(Tool::Vt, script, Workload::start(spec), Stop::Int)
}

/// The maps part of a tracer's stdout: vt prints only that; bpftrace first prints `Attaching N probes...`
/// on stdout, which is dropped here.
pub fn maps_part(stdout: &str) -> &str {
    match stdout.strip_prefix("Attaching ") {
        Some(rest) => rest.find('\n').map_or("", |i| &rest[i + 1..]),
        None => stdout,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_tracepoints_in_scripts() {
        let s = "tracepoint:syscalls:sys_enter_getppid, tracepoint:syscalls:sys_enter_write /pid == 1/ { @ = count(); }";
        assert_eq!(script_tracepoints(s), ["sys_enter_getppid", "sys_enter_write"]);
        assert_eq!(script_tracepoints("BEGIN { exit(); }"), Vec::<String>::new());
    }

    #[test]
    fn strips_bpftrace_attaching_line() {
        assert_eq!(maps_part("Attaching 1 probe...\n\n\n@c: 3\n"), "\n\n@c: 3\n");
        assert_eq!(maps_part("\n\n@c: 3\n"), "\n\n@c: 3\n");
    }
}
