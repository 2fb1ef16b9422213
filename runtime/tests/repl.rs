//! `vt repl` driven through a pseudo-terminal against real tracepoints, with workloads of known shape
//! (the test kit's, started paused so that the pid is known before it runs): optionally renamed,
//! then exactly N getppid (or kill) syscalls.
//!
//! Needs root and BPF; without them each test prints `SKIPPED: …` loudly and passes, unless
//! `VT_TESTS_REQUIRE_BPF=1` is set (CI sets it), which makes the skip a failure.

use rexpect::session::{spawn_with_options, Options, PtySession};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use vt_testkit::{bpf_objects, bpf_ready, kernel_objects, vt_bin, vt_objects, Obj, Workload};

const TIMEOUT_MS: u64 = 30_000;

/// Whether the test cannot run: no BPF or no getppid tracepoint (`vt_testkit::bpf_ready`).
fn unavailable(test: &str) -> bool {
    !bpf_ready(test)
}

fn tempdir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vt-repl-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn repl(state: &Path) -> PtySession {
    let mut cmd = Command::new(vt_bin());
    cmd.arg("repl").env("TERM", "xterm").env("XDG_STATE_HOME", state).env_remove("NO_COLOR");
    let opts = Options::new().timeout_ms(Some(TIMEOUT_MS)).strip_ansi_escape_codes(true);
    let mut p = spawn_with_options(cmd, opts).expect("spawn vt repl");
    p.exp_string("vt> ").expect("the prompt");
    p
}

/// Types `text` and Enter (a carriage return, as a terminal sends it).
fn enter(p: &mut PtySession, text: &str) {
    p.send(text).unwrap();
    p.send("\r").unwrap();
    p.flush().unwrap();
}

fn expect(p: &mut PtySession, what: &str) -> String {
    match p.exp_string(what) {
        Ok(before) => before,
        Err(e) => panic!("waiting for {what:?}: {e}"),
    }
}

/// A number printed after `prefix`, e.g. `@calls: ` → 5.
fn expect_number(p: &mut PtySession, prefix: &str) -> u64 {
    number_after(p, &regex_escape(prefix))
}

/// A number printed after text matching the regular expression `prefix`.
fn number_after(p: &mut PtySession, prefix: &str) -> u64 {
    let (_, m) = p.exp_regex(&format!("{prefix}[0-9]+")).unwrap_or_else(|e| panic!("waiting for /{prefix}/: {e}"));
    let digits = m.len() - m.chars().rev().take_while(char::is_ascii_digit).count();
    m[digits..].parse().unwrap()
}

fn regex_escape(s: &str) -> String {
    s.chars().map(|c| if r"\.+*?()|[]{}^$".contains(c) { format!("\\{c}") } else { c.to_string() }).collect()
}

/// The pid of the vt repl started with `XDG_STATE_HOME=state` (tests run side by side).
fn child_tagged(state: &Path) -> Option<u32> {
    let tag = format!("XDG_STATE_HOME={}", state.display());
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
        let env = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
        let tagged = env.split(|&b| b == 0).any(|v| v == tag.as_bytes());
        (comm.trim() == "vt" && tagged).then_some(pid)
    })
}

/// The workload for `n` getppid calls and `kills` kill(self, 0) calls, renamed to `comm` first if
/// given; paused until released.
fn workload(n: usize, kills: usize, comm: Option<&str>) -> Workload {
    let rename = comm.map_or(String::new(), |c| format!("rename {c} + "));
    Workload::start(&format!("{rename}getppid {n} + killself {kills}"))
}

/// Ids of the BPF programs loaded by process `pid` (from its fds' fdinfo).
fn prog_ids_of(pid: u32) -> Vec<u32> {
    bpf_objects(pid).progs
}

/// The vt programs (`vt<N>_...`) among `ids` that the kernel still has, from bpftool.
fn vt_programs_loaded(ids: &[u32]) -> Vec<Obj> {
    vt_objects(&kernel_objects()).into_iter().filter(|(kind, id, _)| *kind == "prog" && ids.contains(id)).collect()
}

fn wait_exit(p: &mut PtySession) {
    p.exp_eof().expect("vt repl to exit");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match p.process().status() {
            Some(rexpect::process::WaitStatus::Exited(_, code)) => {
                assert_eq!(code, 0, "vt repl exit status");
                return;
            }
            Some(rexpect::process::WaitStatus::StillAlive) | None if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20))
            }
            other => panic!("vt repl ended with {other:?}"),
        }
    }
}

#[test]
fn counts_persist_detach_stops_and_nothing_is_left_attached() {
    if unavailable("repl counts") {
        return;
    }
    let state = tempdir("counts");
    let mut p = repl(&state);
    let vt_pid = child_tagged(&state).expect("the vt repl process");

    // A probe on the required form, counting one child's getppid calls: exactly 7.
    let mut w = workload(7, 0, None);
    enter(&mut p, &format!("tracepoint:syscalls:sys_enter_getppid /pid == {}/ {{ @calls = count(); }}", w.pid()));
    expect(&mut p, "[1] attached 1 probe");
    w.release_and_wait();
    enter(&mut p, ":print @calls");
    assert_eq!(expect_number(&mut p, "@calls: "), 7);

    // A second block joins: the first map keeps its count and both accumulate.
    let comm = format!("vtrc{}", std::process::id() % 100000);
    enter(
        &mut p,
        &format!(
            "tracepoint:syscalls:sys_enter_getppid /comm == \"{comm}\"/ {{\r@calls = count();\r@named = count(); }}"
        ),
    );
    expect(&mut p, "[2] attached 1 probe");
    workload(5, 0, Some(&comm)).release_and_wait();
    enter(&mut p, ":print");
    assert_eq!(expect_number(&mut p, "@calls: "), 12, "7 before the second block, 5 after");
    assert_eq!(expect_number(&mut p, "@named: "), 5);

    enter(&mut p, ":probes");
    expect(&mut p, "   1  attached");
    let hits = number_after(&mut p, "   2  attached +");
    assert!(hits >= 5, "block 2 ran at least for the workload's 5 calls (hits {hits})");

    // :watch redraws until Ctrl-C, then the session goes on.
    enter(&mut p, ":watch @named 200ms");
    expect(&mut p, "Every 200ms: @named (Ctrl-C stops)");
    expect(&mut p, "@named: 5");
    std::thread::sleep(Duration::from_millis(500));
    p.send_control('c').unwrap();
    expect(&mut p, "vt> ");

    // `elapsed` runs on across the swap a new entry makes: the session is older than the 500 ms above.
    enter(&mut p, "BEGIN { printf(\"elapsed %d ms\\n\", elapsed / 1000000); }");
    let ms = number_after(&mut p, "elapsed ");
    expect(&mut p, "[3] added (BEGIN ran)");
    assert!(ms >= 500, "elapsed restarted at the swap: {ms} ms");

    // Detached, a probe counts no more.
    let loaded = prog_ids_of(vt_pid);
    assert!(!vt_programs_loaded(&loaded).is_empty(), "bpftool lists the session's programs while it runs");
    enter(&mut p, ":detach 2");
    expect(&mut p, "[2] detached");
    workload(4, 0, Some(&comm)).release_and_wait();
    enter(&mut p, ":print @named");
    assert_eq!(expect_number(&mut p, "@named: "), 5, "no count after :detach");
    enter(&mut p, ":probes");
    expect(&mut p, "   2  detached");

    // :attach brings it back, in a rebuilt session, counting on from where it stopped.
    enter(&mut p, ":attach 2");
    expect(&mut p, "[2] attached");
    workload(3, 0, Some(&comm)).release_and_wait();
    enter(&mut p, ":print @named");
    assert_eq!(expect_number(&mut p, "@named: "), 8, "5 before :detach, 3 after :attach");
    let loaded = prog_ids_of(vt_pid);

    // Ctrl-D: everything detached, the maps printed, exit 0, and no program of ours left.
    p.send_control('d').unwrap();
    assert_eq!(expect_number(&mut p, "@calls: "), 15, "block 2 counts @calls too: 12, then 3 after :attach");
    wait_exit(&mut p);
    // The kernel's part of detaching happens in vt's closers, which outlive it for a moment.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !vt_programs_loaded(&loaded).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let left = vt_programs_loaded(&loaded);
    assert!(left.is_empty(), "programs left after exit: {left:?}");

    // History: every entry, in a file only its owner can read.
    let history = state.join("vt/history");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&history).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    assert!(std::fs::read_to_string(&history).unwrap().contains(":detach 2"));
    let _ = std::fs::remove_dir_all(state);
}

#[test]
fn completion_errors_and_a_saved_session_that_vt_runs() {
    if unavailable("repl completion and save") {
        return;
    }
    let state = tempdir("save");
    let mut p = repl(&state);

    // Tab completes the category, then the one tracepoint that starts so.
    let comm = format!("vtrs{}", std::process::id() % 100000);
    p.send("tracepoint:sysc\t").unwrap();
    p.flush().unwrap();
    expect(&mut p, "tracepoint:syscalls:");
    p.send("sys_enter_getpp\t").unwrap();
    p.flush().unwrap();
    expect(&mut p, "sys_enter_getppid");
    enter(&mut p, &format!(" /comm == \"{comm}\"/ {{ @bycomm = count(); printf(\"seen %s\\n\", comm); }}"));
    expect(&mut p, "[1] attached 1 probe");

    // args.<TAB><TAB> lists the fields of the probe being typed; a unique prefix completes.
    let mut w = workload(0, 3, None);
    p.send(&format!("tracepoint:syscalls:sys_enter_kill /pid == {}/ {{ @sig[args.\t\t", w.pid())).unwrap();
    p.flush().unwrap();
    let listed = expect(&mut p, "sig");
    assert!(listed.contains("pid"), "the field list shows pid and sig: {listed:?}");
    p.send("si\t").unwrap();
    p.flush().unwrap();
    enter(&mut p, "] = count(); }");
    expect(&mut p, "[2] attached 1 probe");
    w.release_and_wait();
    enter(&mut p, ":print @sig");
    assert_eq!(expect_number(&mut p, "@sig[0]: "), 3, "args.sig completed to the field kill(2) got");

    // A syntax error shows the spanned message and the session goes on.
    enter(&mut p, "tracepoint:syscalls:sys_enter_getppid { @x = ; }");
    expect(&mut p, "<repl>:1:");
    expect(&mut p, "error:");
    expect(&mut p, "^");
    enter(&mut p, "BEGIN { printf(\"after the error %d\\n\", 7); }");
    expect(&mut p, "after the error 7");
    expect(&mut p, "[3] added (BEGIN ran)");

    // printf from a running probe appears above the prompt, and the half-typed line is drawn again below.
    p.send("tracepoint:sys").unwrap();
    p.flush().unwrap();
    expect(&mut p, "tracepoint:sys");
    workload(6, 0, Some(&comm)).release_and_wait();
    for _ in 0..6 {
        expect(&mut p, &format!("seen {comm}\r\n"));
    }
    expect(&mut p, "vt> tracepoint:sys");
    // Ctrl-C drops the half-typed line and pauses the stream; the probes keep counting.
    p.send_control('c').unwrap();
    expect(&mut p, "printf output paused");
    workload(6, 0, Some(&comm)).release_and_wait();
    enter(&mut p, ":print @bycomm");
    let before = expect(&mut p, "@bycomm: ");
    assert!(!before.contains("seen"), "no printf output while paused: {before:?}");
    assert_eq!(expect_number(&mut p, ""), 12);
    enter(&mut p, ":resume");

    let file = state.join("session.vt");
    enter(&mut p, &format!(":save {}", file.display()));
    expect(&mut p, "saved");
    enter(&mut p, ":quit");
    wait_exit(&mut p);

    // The saved script, run by `vt FILE`, does what the session did.
    let script = std::fs::read_to_string(&file).unwrap();
    assert!(
        script.contains("@bycomm = count()") && script.contains("args.sig") && script.contains("after the error"),
        "{script}"
    );
    assert!(!script.contains("@x = ;"), "the line with the error is not part of the session");
    let mut vt = Command::new(vt_bin()).arg(&file).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut out = BufReader::new(vt.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "after the error 7\n", "BEGIN runs after every probe is attached");
    workload(6, 0, Some(&comm)).release_and_wait();
    // SAFETY: signalling our own child.
    unsafe { libc::kill(vt.id() as i32, libc::SIGINT) };
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert!(vt.wait().unwrap().success());
    assert!(rest.contains("@bycomm: 6\n"), "vt FILE counted the same workload the same way: {rest}");
    let _ = std::fs::remove_dir_all(state);
}
