//! What the metrics tests share: vt serving a script on a free port, a raw HTTP client, and cgroups
//! made for a test.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
use vt_testkit::*;

pub const OM: &str = "application/openmetrics-text; version=1.0.0";

/// A port free now (the kernel's choice), for vt to bind.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// vt serving `script` on a fresh port, once its BEGIN printed `ready`.
pub struct Served {
    pub child: Child,
    pub port: u16,
    out: Capture,
    err: Capture,
}

impl Served {
    pub fn start(script: &str) -> Served {
        Served::start_with(&[], script)
    }

    /// `start` with more of vt's options.
    pub fn start_with(args: &[&str], script: &str) -> Served {
        let port = free_port();
        let mut c = vt();
        c.args(args).args(["--metrics", &port.to_string(), "-e", script]).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().expect("vt starts");
        let out = Capture::spawn(child.stdout.take().unwrap());
        let err = Capture::spawn(child.stderr.take().unwrap());
        if !out.wait_for("ready", Duration::from_secs(60)) {
            let _ = child.kill();
            panic!("vt did not get ready: {} {}", out.text(), err.text());
        }
        Served { child, port, out, err }
    }

    /// SIGINT, then vt's stdout (the maps printed at exit) and stderr.
    pub fn stop(mut self) -> (String, String) {
        // SAFETY: signals a child this test started.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.child.try_wait().ok().flatten().is_none() {
            assert!(Instant::now() < deadline, "vt did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
        self.out.wait_eof(Duration::from_secs(10));
        (self.out.text(), self.err.text())
    }

    pub fn get(&self, accept: Option<&str>) -> (String, String) {
        let accept = accept.map(|a| format!("Accept: {a}\r\n")).unwrap_or_default();
        let (status, body) = raw(self.port, &format!("GET /metrics HTTP/1.1\r\nHost: x\r\n{accept}\r\n"));
        assert!(status.starts_with("HTTP/1.1 200"), "{status}\n{body}");
        (status, body)
    }
}

/// Sends `request`, returns the response's head and body.
pub fn raw(port: u16, request: &str) -> (String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (head.to_string(), body.to_string())
}


/// A cgroup made under the cgroup2 mount (with its parents), removed when dropped, once the
/// processes moved into it have exited.
pub struct TestCgroup {
    made: Vec<PathBuf>,
    /// Its path as cgroup_path prints it: relative to the mount, from `/`.
    pub rel: String,
}

impl TestCgroup {
    /// `rel` is a path under the mount (`a/b/c`); None where there is no cgroup2 mount to make it in.
    pub fn make(rel: &str) -> Option<TestCgroup> {
        let mounts = std::fs::read_to_string("/proc/self/mounts").ok()?;
        let mut dir = mounts.lines().find_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (f.get(2) == Some(&"cgroup2")).then(|| PathBuf::from(f[1]))
        })?;
        let mut cg = TestCgroup { made: Vec::new(), rel: format!("/{rel}") };
        for part in rel.split('/') {
            dir.push(part);
            // A parent another TestCgroup made is shared, and left to that one to remove.
            if dir.is_dir() {
                continue;
            }
            std::fs::create_dir(&dir).ok()?;
            cg.made.push(dir.clone());
        }
        Some(cg)
    }

    pub fn enter(&self, pid: u32) {
        let leaf = self.made.last().expect("a cgroup");
        std::fs::write(leaf.join("cgroup.procs"), pid.to_string()).expect("move the workload into the test cgroup");
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        // A cgroup empties a moment after its last process has exited.
        for dir in self.made.iter().rev() {
            for _ in 0..100 {
                if std::fs::remove_dir(dir).is_ok() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}
