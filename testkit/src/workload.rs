//! Workloads: processes of known shape for the tracers to watch. There is one program,
//! `shapes` (src/bin/shapes.rs), speaking the action language of [`crate::actions`]; a
//! [`Workload`] starts it paused, so that its pid is known (for `/pid == $PID/`) and the tracer is
//! attached before it makes a single counted call.

use crate::runner::workload_bin;
use std::io::Write;
use std::process::{Child, ChildStdin, Command, Stdio};

/// Used by the workload program: blocks until the harness releases the process by writing a byte to
/// its stdin. Exits with status 3, doing nothing, if stdin closes first (the test gave up).
pub fn wait_for_release() {
    let mut byte = 0u8;
    // SAFETY: reads one byte into a local.
    let n = unsafe { libc::read(0, (&mut byte as *mut u8).cast(), 1) };
    if n != 1 {
        std::process::exit(3);
    }
}

/// A workload process, started paused: it blocks reading a byte from its stdin until released.
pub struct Workload {
    child: Child,
    stdin: Option<ChildStdin>,
    what: String,
}

impl Workload {
    /// Starts `shapes SPEC` paused; SPEC is actions in the workload language, e.g.
    /// `getppid 3 + open /etc/passwd 2` (words separated by blanks).
    pub fn start(spec: &str) -> Workload {
        let mut child = Command::new(workload_bin())
            .args(spec.split_whitespace())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the workload `{spec}`: {e}"));
        let stdin = child.stdin.take();
        let mut workload = Workload { child, stdin, what: spec.to_string() };
        workload.wait_blocked();
        workload
    }

    /// Waits until the workload sits in its release read (`read(0, …, 1)`, seen in
    /// /proc/PID/syscall): what it does before, from the loader's reads on, must not be counted by a
    /// tracer that attaches within milliseconds (vt does; bpftrace's startup hid the race: a
    /// 1024-byte read of the workload's own start landed in a differential entry's map).
    fn wait_blocked(&mut self) {
        let path = format!("/proc/{}/syscall", self.child.id());
        let deadline = std::time::Instant::now() + crate::deadline::ATTACH_TIMEOUT;
        loop {
            let Ok(text) = std::fs::read_to_string(&path) else { return }; // exited, or not ours to read
            let mut fields = text.split_whitespace();
            if fields.next() == Some("0") && fields.next() == Some("0x0") {
                return;
            }
            if std::time::Instant::now() >= deadline {
                panic!("the workload `{}` never blocked in its release read ({})", self.what, text.trim());
            }
            // Polling the process's state: the deadline above is a hang guard.
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Lets the workload run, without waiting for it.
    pub fn release(&mut self) {
        let mut stdin = self.stdin.take().expect("workload released twice");
        stdin.write_all(b"go\n").expect("cannot release the workload");
    }

    /// Waits for a released workload to finish, which it must do successfully.
    pub fn wait(&mut self) {
        let status = self.child.wait().expect("cannot wait for the workload");
        assert!(status.success(), "workload `{}` failed: {status}", self.what);
    }

    /// Lets the workload run, and waits for it to finish successfully.
    pub fn release_and_wait(&mut self) {
        self.release();
        self.wait();
    }
}

impl Drop for Workload {
    fn drop(&mut self) {
        // Closing stdin without a byte makes a paused workload exit without doing anything.
        self.stdin.take();
        let _ = self.child.wait();
    }
}

/// The command line of a workload that runs at once, for `vt -c` (which holds the child until its
/// probes are attached): `…/shapes --now SPEC`.
pub fn workload_line(spec: &str) -> String {
    format!("{} --now {spec}", workload_bin().display())
}

/// The comm of every workload process (until a `rename` action): the program's name.
pub fn workload_comm() -> String {
    "shapes".to_string()
}
