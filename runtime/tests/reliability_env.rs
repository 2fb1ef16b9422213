//! A hostile environment: not root, tracefs missing, an unknown or vanished tracepoint, an unreadable
//! script. Each gets one clear line (or one spanned error), a non-zero exit code, and nothing stays
//! attached, and each kind of failure has its own exit status.

use vt_testkit::*;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(30);
const PROGRAM: &str = "BEGIN { @b = count(); } tracepoint:syscalls:sys_enter_getppid { @c = count(); exit(); }";
const NOBODY: u32 = 65534;

/// vt's exit statuses (runtime/src/cli/mod.rs `status`).
mod status {
    pub const SCRIPT: i32 = 1;
    /// The script file cannot be read (usage errors exit 1, as in bpftrace).
    pub const UNREADABLE: i32 = 2;
    pub const PERMISSION: i32 = 3;
    pub const KERNEL_REFUSED: i32 = 4;
    pub const ENVIRONMENT: i32 = 5;
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vt-reliability-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs vt, as `nobody` when `as_nobody`.
fn vt_as(as_nobody: bool, args: &[&str]) -> Output {
    let mut cmd = vt();
    cmd.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    if as_nobody {
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setgroups(0, std::ptr::null()) != 0 || libc::setgid(NOBODY) != 0 || libc::setuid(NOBODY) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    wait_output(cmd.spawn().expect("vt runs"), LIMIT)
}

/// A saved tracefs that nobody may read: `sys_enter_getppid` (real) and `sys_enter_vanished` (a copy of
/// its format under a name this kernel does not have).
fn saved_tracefs() -> PathBuf {
    let dir = temp_dir("tracefs");
    let src = PathBuf::from(vt_testkit::fixtures::TRACEFS).join("events/syscalls/sys_enter_getppid/format");
    for name in ["sys_enter_getppid", "sys_enter_vanished"] {
        let d = dir.join("events/syscalls").join(name);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::copy(&src, d.join("format")).unwrap();
    }
    Command::new("chmod").args(["-R", "a+rX"]).arg(&dir).status().unwrap();
    dir
}

struct Case {
    name: &'static str,
    as_nobody: bool,
    args: Vec<String>,
    /// Words the one line (or the spanned error's first line) must hold.
    says: &'static str,
    status: i32,
}

fn cases() -> Vec<Case> {
    let saved = saved_tracefs();
    let empty = temp_dir("empty");
    let script = temp_dir("script").join("locked.vt");
    std::fs::write(&script, PROGRAM).unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let saved = saved.display().to_string();
    vec![
        Case { name: "not root", as_nobody: true, args: s(&["-e", PROGRAM]), says: "run vt as root", status: status::PERMISSION },
        Case {
            name: "not root, saved formats (BPF refused)",
            as_nobody: true,
            args: s(&["--tracefs", &saved, "-e", PROGRAM]),
            says: "BPF is not permitted",
            status: status::PERMISSION,
        },
        Case {
            name: "tracefs missing",
            as_nobody: false,
            args: s(&["--tracefs", &empty.display().to_string(), "-e", PROGRAM]),
            says: "no tracepoints",
            status: status::ENVIRONMENT,
        },
        Case {
            name: "unknown tracepoint",
            as_nobody: false,
            args: s(&["-e", "tracepoint:syscalls:sys_enter_nonexistent { @c = count(); }"]),
            says: "unknown tracepoint",
            status: status::SCRIPT,
        },
        Case {
            name: "vanished tracepoint",
            as_nobody: false,
            args: s(&["--tracefs", &saved, "-e", "tracepoint:syscalls:sys_enter_getppid { @c = count(); } tracepoint:syscalls:sys_enter_vanished { @v = count(); }"]),
            says: "cannot attach tracepoint:syscalls:sys_enter_vanished",
            status: status::ENVIRONMENT,
        },
        Case {
            name: "unreadable script",
            as_nobody: true,
            args: vec![script.display().to_string()],
            says: "cannot read",
            status: status::UNREADABLE,
        },
        Case {
            name: "missing script",
            as_nobody: false,
            args: s(&["/nonexistent/script.vt"]),
            says: "cannot read /nonexistent/script.vt",
            status: status::UNREADABLE,
        },
    ]
}

/// What vt says about `case`: its first line that is not "Attaching N probes...".
fn first_line(out: &Output) -> String {
    text(&out.stderr).lines().find(|l| !l.starts_with("Attaching ")).unwrap_or("").to_string()
}

#[test]
fn hostile_environments_get_one_clear_line_and_leave_nothing() {
    if !can_trace("hostile_environments_get_one_clear_line_and_leave_nothing") {
        return;
    }
    let before = vt_objects(&kernel_objects());
    for case in cases() {
        let args: Vec<&str> = case.args.iter().map(String::as_str).collect();
        let out = vt_as(case.as_nobody, &args);
        let stderr = text(&out.stderr);
        let what = format!("{}: exit {}\n{stderr}", case.name, code(&out.status));
        assert_ne!(code(&out.status), 0, "{what}");
        assert!(code(&out.status) < 128, "died of a signal: {what}");
        assert!(!stderr.contains("panicked"), "{what}");
        let line = first_line(&out);
        assert!(line.contains(case.says), "{what}");
        let others: Vec<&str> = stderr.lines().filter(|l| !l.starts_with("Attaching ")).collect();
        if line.starts_with("vt: ") {
            assert_eq!(others.len(), 1, "one line: {what}");
        } else {
            // A spanned error: `-e:1:C: error: ...`, the source line, the underline, maybe a hint.
            assert!(line.starts_with("-e:1:") && others.len() <= 4, "{what}");
        }
        assert!(text(&out.stdout).trim().is_empty(), "no maps: {what}");
    }
    let leaked = leaked_since(&before, Duration::from_secs(5));
    assert!(leaked.is_empty(), "left attached: {leaked:?}");
}

#[test]
fn hostile_environments_have_distinct_exit_codes() {
    if !can_trace("hostile_environments_have_distinct_exit_codes") {
        return;
    }
    for case in cases() {
        let args: Vec<&str> = case.args.iter().map(String::as_str).collect();
        let out = vt_as(case.as_nobody, &args);
        assert_eq!(code(&out.status), case.status, "{}: {}", case.name, text(&out.stderr));
    }
    let refused = vt_as(false, &["-e", "tracepoint:syscalls:sys_enter_read { for ($i : 0..args.count) { @x = count(); } }"]);
    assert_eq!(code(&refused.status), status::KERNEL_REFUSED, "{}", text(&refused.stderr));
}
