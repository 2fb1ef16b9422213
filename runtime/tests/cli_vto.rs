//! Compile once, run anywhere: `vt build` in one process, `vt FILE.vto` in another, with the same output
//! as compiling and running directly; refused where this host's tracepoint layout differs.

use vt_testkit::*;
use std::path::{Path, PathBuf};

const SCRIPT: &str = "BEGIN { @n = 0; printf(\"ready\\n\"); }
tracepoint:syscalls:sys_enter_getppid /pid == $1/ {
  @n = @n + 1; @c = count(); @h = hist(@n); @s[comm] = sum(args.__syscall_nr);
  if (@n == 6) { exit(); }
}";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vt-cli-vto-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn build(args: &[&str], out: &Path) -> std::process::Output {
    run_with_deadline({
        let mut c = vt();
        c.arg("build").arg("-o").arg(out).args(args);
        c
    }, 60)
}

/// Runs `vt ARGS`, releases a waiting workload of 6 calls once the probes are attached, and returns
/// what vt printed when it exited by itself.
fn run_against(args: Vec<String>, target: &mut Workload) -> Vec<String> {
    let mut c = vt();
    c.args(&args);
    let mut running = Running::start(c);
    running.wait_line("ready", 30);
    target.release();
    let (status, lines, err) = running.finish(30);
    assert!(status.success(), "{args:?}: {err}");
    lines
}

#[test]
fn built_in_one_process_run_in_another_prints_the_same() {
    if !bpf_ready("built_in_one_process_run_in_another_prints_the_same") {
        return;
    }
    let dir = scratch("same");
    let vto = dir.join("s.vto");
    let mut first = Workload::start("getppid 6");
    let out = build(&["-e", SCRIPT, &first.pid().to_string()], &vto);
    assert!(out.status.success(), "{out:?}");
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{out:?}");
    let bytes = std::fs::read(&vto).unwrap();
    assert_eq!(&bytes[..4], b"\x7fVTO");
    // The listing of the .vto is the listing of the script.
    let listing = |args: &[&str]| {
        let mut c = vt();
        c.arg("-d").args(args);
        String::from_utf8(run_with_deadline(c, 60).stdout).unwrap()
    };
    let pid = first.pid().to_string();
    assert_eq!(listing(&[vto.to_str().unwrap()]), listing(&["-e", SCRIPT, &pid]));

    let from_vto = run_against(vec![vto.display().to_string()], &mut first);
    first.wait();
    let mut second = Workload::start("getppid 6");
    let direct = run_against(vec!["-e".into(), SCRIPT.into(), second.pid().to_string()], &mut second);
    second.wait();
    assert_eq!(from_vto, direct);
    let comm = workload_comm();
    let nr = 110; // getppid's number on x86_64
    let bar = |n: usize| format!("|{:<52}|", "@".repeat(n));
    let want = vec![
        "ready".to_string(),
        "".into(),
        "".into(),
        "@c: 6".into(),
        "@h: ".into(),
        format!("[1]                    1 {}", bar(17)),
        format!("[2, 4)                 2 {}", bar(34)),
        format!("[4, 8)                 3 {}", bar(52)),
        "".into(),
        "@n: 6".into(),
        format!("@s[{comm}]: {}", 6 * nr),
    ];
    if cfg!(target_arch = "x86_64") {
        assert_eq!(from_vto, want);
    } else {
        assert_eq!(from_vto[..10], want[..10]);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A saved tracefs whose getppid tracepoint has `__syscall_nr` at another offset, plus a tracepoint this
/// host does not have.
fn fake_tracefs(dir: &Path, offset: u32) -> PathBuf {
    let root = dir.join("tracefs");
    let tp = root.join("events/syscalls/sys_enter_getppid");
    std::fs::create_dir_all(&tp).unwrap();
    let format = format!(
        "name: sys_enter_getppid\nID: 305\nformat:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\tfield:int __syscall_nr;\toffset:{offset};\tsize:4;\tsigned:1;\n\nprint fmt: \"\"\n"
    );
    std::fs::write(tp.join("format"), format).unwrap();
    let fake = root.join("events/vtfake/nothing_here");
    std::fs::create_dir_all(&fake).unwrap();
    std::fs::write(fake.join("format"), "name: nothing_here\nID: 1\nformat:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\n\tfield:u64 value;\toffset:8;\tsize:8;\tsigned:0;\n\nprint fmt: \"\"\n").unwrap();
    root
}

#[test]
fn refused_where_the_tracepoint_layout_differs() {
    let dir = scratch("layout");
    let root = fake_tracefs(&dir, 16);
    let vto = dir.join("l.vto");
    let script = "tracepoint:syscalls:sys_enter_getppid { @s = sum(args.__syscall_nr); } tracepoint:vtfake:nothing_here { @v = sum(args.value); }";
    let out = build(&["--tracefs", root.to_str().unwrap(), "-e", script], &vto);
    assert!(out.status.success(), "{out:?}");
    // Checked against the host's tracefs (or, without one here, against a second saved tracefs).
    let host = std::path::Path::new(TRACEFS).join("events/syscalls/sys_enter_getppid/format").exists();
    let other = fake_tracefs(&dir.join("other"), 8);
    let mut c = vt();
    c.arg(&vto);
    if !host {
        eprintln!("*** no host tracefs: checking against a saved one ***");
        c.arg("--tracefs").arg(&other);
    }
    let out = run_with_deadline(c, 60);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines[0], format!("vt: {} was compiled against tracepoint layouts this host does not have:", vto.display()));
    assert_eq!(
        lines[1],
        "  tracepoint:syscalls:sys_enter_getppid has another layout on this host: field `int __syscall_nr` (offset 16, size 4, signed) is `int __syscall_nr` (offset 8, size 4, signed) here"
    );
    if host {
        assert!(lines[2].starts_with("  tracepoint:vtfake:nothing_here does not exist on this host"), "{err}");
    }
    assert_eq!(*lines.last().unwrap(), "rebuild it on this host with `vt build`");
    // The same file runs its checks clean against the tracefs it was built with (then -d shows it).
    let mut c = vt();
    c.arg("-d").arg(&vto).arg("--tracefs").arg(&root);
    let out = run_with_deadline(c, 60);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("tracepoint:syscalls:sys_enter_getppid (tracepoint/syscalls/sys_enter_getppid"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn damaged_or_misused_vto_files_are_refused() {
    let dir = scratch("damaged");
    let vto = dir.join("d.vto");
    let out = build(&["-e", "BEGIN { printf(\"%s\\n\", $1); exit(); }", "hello"], &vto);
    assert!(out.status.success(), "{out:?}");
    let bytes = std::fs::read(&vto).unwrap();
    let run = |bytes: &[u8], extra: &[&str]| {
        let path = dir.join("x.vto");
        std::fs::write(&path, bytes).unwrap();
        let mut c = vt();
        c.arg("-d").arg(&path).args(extra);
        let out = run_with_deadline(c, 60);
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    assert_eq!(run(&bytes, &[]).0, Some(0));
    let mut elf_flipped = bytes.clone();
    let last = elf_flipped.len() - 20;
    elf_flipped[last] ^= 0xff;
    let (code, err) = run(&elf_flipped, &[]);
    assert_eq!(code, Some(1));
    assert!(err.contains("its BPF object does not match its header"), "{err}");
    let (code, err) = run(&bytes[..bytes.len() - 3], &[]);
    assert_eq!(code, Some(1));
    assert!(err.contains("the file is truncated"), "{err}");
    let mut version = bytes.clone();
    version[4] = 9;
    let (code, err) = run(&version, &[]);
    assert_eq!(code, Some(1));
    assert!(err.contains(&format!("version 9 vt object; this vt reads version {}", runtime::vto::VERSION)), "{err}");
    let (code, err) = run(&bytes, &["again"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("was compiled with its parameters; give them to `vt build`"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn vto_prints_its_parameters_as_built() {
    if !bpf_ready("vto_prints_its_parameters_as_built") {
        return;
    }
    let dir = scratch("params");
    let vto = dir.join("p.vto");
    let out = build(&["-e", "BEGIN { printf(\"%s %d\\n\", $1, $#); exit(); }", "hello"], &vto);
    assert!(out.status.success(), "{out:?}");
    let mut c = vt();
    c.arg("-q").arg(&vto);
    let out = run_with_deadline(c, 60);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello 1\n\n\n");
    std::fs::remove_dir_all(&dir).unwrap();
}
