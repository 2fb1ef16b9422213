//! Deadlines: every wait in the kit is bounded, as a guard against hangs (never a timing assertion),
//! and a child that overstays is killed before the test fails.

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// How long to wait for a tracer to attach before failing: bpftrace takes seconds to start on a
/// loaded machine.
pub const ATTACH_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a tracer may take to exit after it is told to.
pub const EXIT_TIMEOUT: Duration = Duration::from_secs(60);

/// Waits for `child` to exit within `limit`: its status, or None (the child still runs).
pub fn wait_exit(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait().expect("cannot wait for the child") {
            Some(status) => return Some(status),
            None if Instant::now() >= deadline => return None,
            // Polling for exit: the deadline above is a hang guard, not an assertion.
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// Waits for `child` to exit, reading its piped stdout and stderr (if any) on threads; kills it and
/// panics after `limit`.
pub fn wait_output(mut child: Child, limit: Duration) -> Output {
    let readers = [child.stdout.take().map(|o| Box::new(o) as Box<dyn Read + Send>), child.stderr.take().map(|e| Box::new(e) as _)]
        .map(|r| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                if let Some(mut r) = r {
                    let _ = r.read_to_end(&mut buf);
                }
                buf
            })
        });
    let Some(status) = wait_exit(&mut child, limit) else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("process {} did not finish within {limit:?}", child.id());
    };
    let [stdout, stderr] = readers.map(|r| r.join().unwrap());
    Output { status, stdout, stderr }
}

/// Runs `cmd` to its end (stdin from /dev/null, stdout and stderr captured) within `secs` seconds.
pub fn run_with_deadline(mut cmd: Command, secs: u64) -> Output {
    let child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn();
    wait_output(child.unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}")), Duration::from_secs(secs))
}
