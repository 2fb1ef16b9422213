//! Table-driven end-to-end tests: a file of entries, each a script, the workload it runs against and
//! the exact output it must print (the shape of bpftrace's runtime tests, in our own words).
//!
//! ```text
//! # A comment (outside a `|` block).
//! NAME  printf_signed                    the entry's name (starts an entry)
//! PROG  tracepoint:... { ... }           the script, on one line; or PROG alone then `|` lines
//! RUN   getppid 3 + open /etc/passwd 1   a workload (src/actions.rs), started paused and
//!                                        released once the tracer is attached; none if absent
//! CMD   getppid 3                        a workload the tracer runs itself (`-c '…/shapes --now
//!                                        getppid 3'`: `cpid` is its pid); the run ends when it does
//!                                        (no STOP, no RUN beside it)
//! PARAMS 42 hello                        positional parameters, after the script
//! FLAGS --unsafe                         options of the tracer (vt and bpftrace), before the script
//! STOP  int | term | exit                how the run ends: SIGINT, SIGTERM, or by itself (the default is
//!                                        `exit` when the script calls exit(), else `int`)
//! BPFTRACE                               also run under bpftrace 0.17: it must print the same stdout
//!                                        (after its `Attaching` line) and the same `Attaching` line
//! STATUS 1                               vt's exit status (default 0); not 0: vt runs once, no waiting
//! EXPECT                                 vt's stdout, exactly: the `|` lines that follow, each without
//! | 1 1                                  its `|` and one space (`|` alone is an empty line)
//! STDERR                                 vt's stderr, exactly, in the same form (default: not checked,
//! | Attaching 1 probe...                 except that a successful run's starts with `Attaching`)
//! ```
//!
//! In PROG, PARAMS, RUN, EXPECT and STDERR, `$PID` is the workload's pid, `$NPROC` the number of
//! possible CPUs, `$CGROUP` the workload's cgroup v2 id, `$PORT` a free TCP port on 127.0.0.1 and
//! `$SHAPES` the workload program's path (for uprobes on its `vt_shapes_add`, USDT probes on its `vt:*`).
//! (bpftrace runs get their own workload, so a differential entry must not print `$PID`.)
//!
//! `VT_TABLE_ONLY=NAME[,NAME…]` runs only those entries.

use crate::{bpf_available, kit_dir, maps_part, on_path, skip, vt_command, Stop, Tool, Tracer, Workload};
use std::time::Instant;

/// One entry of a table.
#[derive(Clone, Debug, Default)]
pub struct Entry {
    pub name: String,
    /// `file:line` of the NAME line.
    pub at: String,
    pub prog: String,
    pub run: Option<String>,
    /// The actions of a workload given to the tracer with `-c` (CMD).
    pub cmd: Option<String>,
    pub params: Vec<String>,
    pub flags: Vec<String>,
    pub stop: Option<Stop>,
    pub bpftrace: bool,
    pub status: i32,
    pub expect: Option<String>,
    pub stderr: Option<String>,
}

/// Parses a table file's text (`file` names it in messages).
pub fn parse(file: &str, text: &str) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    // Which field the `|` lines being read belong to.
    #[derive(Clone, Copy, PartialEq)]
    enum Block {
        None,
        Prog,
        Expect,
        Stderr,
    }
    let mut block = Block::None;
    for (i, line) in text.lines().enumerate() {
        let at = format!("{file}:{}", i + 1);
        if let Some(rest) = line.strip_prefix('|') {
            let rest = rest.strip_prefix(' ').unwrap_or(rest);
            let e = entries.last_mut().unwrap_or_else(|| panic!("{at}: a `|` line before any NAME"));
            let field = match block {
                Block::Prog => &mut e.prog,
                Block::Expect => e.expect.get_or_insert_with(String::new),
                Block::Stderr => e.stderr.get_or_insert_with(String::new),
                Block::None => panic!("{at}: a `|` line outside PROG, EXPECT or STDERR"),
            };
            field.push_str(rest);
            field.push('\n');
            continue;
        }
        block = Block::None;
        let line = line.trim_end();
        if line.trim_start().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let (key, value) = line.split_once(char::is_whitespace).map_or((line, ""), |(k, v)| (k, v.trim()));
        if key == "NAME" {
            assert!(!value.is_empty(), "{at}: NAME needs a name");
            assert!(!entries.iter().any(|e| e.name == value), "{at}: a second entry named {value}");
            entries.push(Entry { name: value.to_string(), at, ..Entry::default() });
            continue;
        }
        let e = entries.last_mut().unwrap_or_else(|| panic!("{at}: {key} before any NAME"));
        match key {
            "PROG" if value.is_empty() => block = Block::Prog,
            "PROG" => e.prog = value.to_string(),
            "RUN" => e.run = Some(value.to_string()),
            "CMD" => e.cmd = Some(value.to_string()),
            "PARAMS" => e.params = value.split_whitespace().map(String::from).collect(),
            "FLAGS" => e.flags = value.split_whitespace().map(String::from).collect(),
            "STOP" => {
                e.stop = Some(match value {
                    "int" => Stop::Int,
                    "term" => Stop::Term,
                    "exit" => Stop::ByItself,
                    _ => panic!("{at}: STOP is int, term or exit"),
                })
            }
            "BPFTRACE" => e.bpftrace = true,
            "STATUS" => e.status = value.parse().unwrap_or_else(|_| panic!("{at}: STATUS takes a number")),
            "EXPECT" => {
                block = Block::Expect;
                e.expect = Some(String::new());
            }
            "STDERR" => {
                block = Block::Stderr;
                e.stderr = Some(String::new());
            }
            _ => panic!("{at}: unknown key {key}"),
        }
    }
    for e in &entries {
        assert!(!e.prog.trim().is_empty(), "{}: entry {} has no PROG", e.at, e.name);
        assert!(e.cmd.is_none() || (e.run.is_none() && e.stop.is_none()), "{}: entry {} has CMD with RUN or STOP", e.at, e.name);
    }
    entries
}

/// Values substituted for `$PID`, `$NPROC`, `$CGROUP` and `$PORT`.
#[derive(Clone, Debug)]
struct Vars {
    pid: u32,
    nproc: usize,
    cgroup: u64,
    port: u16,
}

impl Vars {
    fn apply(&self, s: &str) -> String {
        s.replace("$PID", &self.pid.to_string())
            .replace("$NPROC", &self.nproc.to_string())
            .replace("$CGROUP", &self.cgroup.to_string())
            .replace("$PORT", &self.port.to_string())
            .replace("$SHAPES", &crate::workload_bin().to_string_lossy())
    }
}

/// The number of possible CPUs (what `cpu` ranges below, and what per-CPU maps are sized by).
pub fn possible_cpus() -> usize {
    let text = std::fs::read_to_string("/sys/devices/system/cpu/possible").unwrap_or_default();
    // "0-3" or "0" or "0-3,5"
    text.trim()
        .split(',')
        .filter_map(|r| {
            let (a, b) = r.split_once('-').unwrap_or((r, r));
            Some(b.parse::<usize>().ok()? - a.parse::<usize>().ok()? + 1)
        })
        .sum::<usize>()
        .max(1)
}

/// The cgroup v2 id of process `pid`: the inode of its cgroup's directory in the cgroup2 mount
/// (0 when there is no cgroup2 mount).
pub fn cgroup_id(pid: u32) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    // mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS... - FSTYPE SOURCE SUPEROPTS
    let Some(mount) = mounts.lines().find_map(|l| {
        let (head, tail) = l.split_once(" - ")?;
        tail.starts_with("cgroup2 ").then(|| head.split(' ').nth(4).map(String::from))?
    }) else {
        return 0;
    };
    let cgroups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    let path = cgroups.lines().find_map(|l| l.strip_prefix("0::")).unwrap_or("/");
    std::fs::metadata(format!("{mount}{path}")).map(|m| m.ino()).unwrap_or(0)
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("no free port")
}

/// A `*`/`?` glob match.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match (pattern.first(), text.first()) {
        (None, None) => true,
        (Some(b'*'), _) => glob(&pattern[1..], text) || (!text.is_empty() && glob(pattern, &text[1..])),
        (Some(b'?'), Some(_)) => glob(&pattern[1..], &text[1..]),
        (Some(p), Some(t)) if p == t => glob(&pattern[1..], &text[1..]),
        _ => false,
    }
}

/// The tracepoints a script attaches, one entry per attachment, wildcards expanded against the
/// kernel's `available_events`: every `tracepoint:CAT:NAME` or `t:CAT:NAME` that starts a word.
pub fn attachments(script: &str) -> Vec<String> {
    let events = std::fs::read_to_string("/sys/kernel/tracing/available_events").unwrap_or_default();
    let mut out = Vec::new();
    let bytes = script.as_bytes();
    for (i, _) in script.match_indices(':') {
        let start = script[..i].rfind(|c: char| !c.is_ascii_alphanumeric()).map_or(0, |j| j + 1);
        let provider = &script[start..i];
        if start > 0 && !matches!(bytes[start - 1], b' ' | b'\n' | b'\t' | b',' | b'}' | b'>') {
            continue;
        }
        match provider {
            "uprobe" | "uretprobe" => out.push(crate::inventory::UPROBE.to_string()),
            "profile" | "software" | "watchpoint" => out.push(crate::inventory::PERF_EVENT.to_string()),
            "usdt" => {
                // A wildcard attaches to each probe it matches, one uprobe each: as many as `vt -l` lists.
                let spec: String = script[start..].chars().take_while(|c| !c.is_whitespace() && *c != '{' && *c != '/').collect();
                let n = match spec.contains(['*', '?']) {
                    true => vt_command(&["-l", &spec]).output().map_or(1, |o| o.stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count().max(1)),
                    false => 1,
                };
                out.extend(std::iter::repeat_n(crate::inventory::UPROBE.to_string(), n));
            }
            // A raw tracepoint's link is named by the tracepoint.
            "rawtracepoint" => {
                let spec: String = script[i + 1..].chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':')).collect();
                out.extend(spec.rsplit(':').next().filter(|n| !n.is_empty()).map(String::from));
            }
            _ => {}
        }
        if provider != "tracepoint" && provider != "t" {
            continue;
        }
        let spec: String =
            script[i + 1..].chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '*' | '?')).collect();
        let Some((cat, name)) = spec.split_once(':') else { continue };
        for ev in events.lines() {
            let Some((c, n)) = ev.split_once(':') else { continue };
            if glob(cat.as_bytes(), c.as_bytes()) && glob(name.as_bytes(), n.as_bytes()) {
                out.push(n.to_string());
            }
        }
    }
    out
}

/// What one tracer run printed.
struct Output {
    /// The substitutions the run used.
    vars: Vars,
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `entry` once under `tool` (the harness panics, with the tracer's output, if it hangs).
fn run_once(entry: &Entry, tool: Tool, port: u16) -> Output {
    let mut workload = entry.run.as_ref().map(|run| Workload::start(&run.replace("$PORT", &port.to_string())));
    let pid = workload.as_ref().map_or(0, Workload::pid);
    let vars = Vars { pid, nproc: possible_cpus(), cgroup: cgroup_id(if pid == 0 { std::process::id() } else { pid }), port };
    let script = vars.apply(&entry.prog);
    let params: Vec<String> = entry.params.iter().map(|p| vars.apply(p)).collect();
    let params: Vec<&str> = params.iter().map(String::as_str).collect();
    let command = entry.cmd.as_ref().map(|c| crate::workload_line(&vars.apply(c)));
    let mut flags: Vec<&str> = entry.flags.iter().map(String::as_str).collect();
    if let Some(c) = &command {
        flags.extend(["-c", c.as_str()]);
    }
    if entry.status != 0 {
        // A refusal comes at once; a script that runs after all must not hang the suite.
        let mut cmd = vt_command(&flags);
        cmd.args(["-e", &script]).args(&params);
        let out = crate::deadline::run_with_deadline(cmd, 60);
        return Output {
            vars,
            status: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
    }
    let stop = entry.stop.unwrap_or(if script.contains("exit()") || command.is_some() { Stop::ByItself } else { Stop::Int });
    let mut tracer = Tracer::start_with_params(tool, &script, &flags, &params);
    // A tracer with `-c` starts its command only once attached, and may be done before we look.
    if command.is_none() {
        tracer.wait_attached(&attachments(&script));
    }
    if let Some(w) = workload.as_mut() {
        w.release_and_wait();
        if tool == Tool::Bpftrace && stop != Stop::ByItself {
            settle(&tracer);
        }
    }
    let signal = match stop {
        Stop::Int => Some(libc::SIGINT),
        Stop::Term => Some(libc::SIGTERM),
        Stop::ByItself => None,
    };
    if let Some(sig) = signal {
        tracer.signal(sig);
        // bpftrace 0.17 sometimes misses a signal that arrives while it is not waiting in poll(2), and
        // then waits for an event that never comes: tell it again. vt must end at the first.
        while tool == Tool::Bpftrace && !tracer.stdout.wait_eof(std::time::Duration::from_secs(2)) {
            tracer.signal(sig);
        }
    }
    let run = tracer.finish();
    Output { vars, status: run.status.code(), stdout: run.stdout, stderr: run.stderr }
}

/// Waits until the tracer's stdout has not grown for 200 ms (at most 3 s). bpftrace 0.17 stops reading
/// its perf buffers at SIGINT, dropping printf lines of events that happened just before: it gets a
/// moment to catch up. (vt drains its ring buffer before it exits, so it never waits.)
fn settle(tracer: &Tracer) {
    let deadline = Instant::now() + std::time::Duration::from_secs(3);
    let (mut len, mut quiet) = (tracer.stdout.text().len(), 0);
    while quiet < 2 && Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let now = tracer.stdout.text().len();
        quiet = if now == len { quiet + 1 } else { 0 };
        len = now;
    }
}

/// Checks one entry; Err(description) on a mismatch.
fn check(entry: &Entry, with_bpftrace: bool) -> Result<(), String> {
    let port = free_port();
    let vt = run_once(entry, Tool::Vt, port);
    let vars = &vt.vars;
    let show = |o: &Output| format!("--- status {:?}\n--- stdout\n{}--- stderr\n{}---", o.status, o.stdout, o.stderr);
    let mut problems = Vec::new();
    if vt.status != Some(entry.status) {
        problems.push(format!("vt exited with {:?}, not {}", vt.status, entry.status));
    }
    if entry.status == 0 && !vt.stderr.starts_with("Attaching ") {
        problems.push("vt's stderr does not start with `Attaching`".to_string());
    }
    if let Some(want) = &entry.expect {
        let want = vars.apply(want);
        if vt.stdout != want {
            problems.push(format!("vt's stdout differs from EXPECT:\n--- expected\n{want}---"));
        }
    }
    if let Some(want) = &entry.stderr {
        let want = vars.apply(want);
        if vt.stderr != want {
            problems.push(format!("vt's stderr differs from STDERR:\n--- expected\n{want}---"));
        }
    }
    let mut bt_text = String::new();
    if entry.bpftrace && with_bpftrace {
        let mut bt = run_once(entry, Tool::Bpftrace, port);
        // The reference can be the flaky one under load (0.17 once missed a sched_switch that vt and
        // the EXPECT text have): when vt printed exactly what EXPECT says, bpftrace gets one more run.
        if problems.is_empty() && entry.expect.is_some() && vt.stdout != maps_part(&bt.stdout) {
            eprintln!("{}: bpftrace printed other maps than vt and EXPECT; running bpftrace once more", entry.name);
            bt = run_once(entry, Tool::Bpftrace, port);
        }
        bt_text = format!("\n=== bpftrace\n{}", show(&bt));
        if bt.status != Some(0) {
            problems.push(format!("bpftrace exited with {:?}", bt.status));
        }
        let attaching = bt.stdout.lines().next().unwrap_or_default();
        if vt.stderr.lines().next() != Some(attaching) {
            problems.push(format!("bpftrace printed {attaching:?}, vt {:?}", vt.stderr.lines().next()));
        }
        if vt.stdout != maps_part(&bt.stdout) {
            problems.push("vt and bpftrace printed different stdout".to_string());
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{} ({}): {}\n--- script\n{}\n=== vt\n{}{bt_text}",
        entry.name,
        entry.at,
        problems.join("; "),
        entry.prog.trim_end(),
        show(&vt)
    ))
}

/// Runs every entry of the table file `path` (relative to testkit/), `workers` at a time, and panics
/// listing every entry that failed. Skips loudly without BPF; entries marked BPFTRACE are compared
/// with bpftrace when it is on PATH (else a loud skip of that part).
pub fn run_table(test: &str, path: &str, workers: usize) {
    if !bpf_available() {
        skip(test, "BPF not available (need root and a kernel that lets us create BPF maps)");
        return;
    }
    let file = kit_dir().join(path);
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    let mut entries = parse(path, &text);
    if let Ok(only) = std::env::var("VT_TABLE_ONLY") {
        let names: Vec<&str> = only.split(',').collect();
        entries.retain(|e| names.contains(&e.name.as_str()));
    }
    let with_bpftrace = on_path("bpftrace").is_some();
    if !with_bpftrace && entries.iter().any(|e| e.bpftrace) {
        skip(test, "bpftrace is not on PATH: BPFTRACE entries are checked against vt's EXPECT only");
    }
    let started = Instant::now();
    let queue = std::sync::Mutex::new(entries.iter().collect::<Vec<_>>());
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..workers.max(1) {
            s.spawn(|| loop {
                let Some(entry) = queue.lock().unwrap().pop() else { return };
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(entry, with_bpftrace)));
                let failure = match result {
                    Ok(Ok(())) => continue,
                    Ok(Err(why)) => why,
                    Err(panic) => {
                        let msg = panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()));
                        format!("{} ({}): panicked: {}", entry.name, entry.at, msg.unwrap_or_default())
                    }
                };
                failures.lock().unwrap().push(failure);
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    let elapsed = started.elapsed();
    assert!(
        failures.is_empty(),
        "{} of {} entries of {path} failed (in {elapsed:?}):\n\n{}",
        failures.len(),
        entries.len(),
        failures.join("\n\n")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries() {
        let text = "# c\nNAME a\nPROG BEGIN { exit(); }\nBPFTRACE\nEXPECT\n| x\n|\n|  y\n\nNAME b\nPROG\n| BEGIN {\n|   exit(); }\nRUN getppid 1\nPARAMS 1 two\nSTOP term\nSTATUS 1\nSTDERR\n| e\nNAME c\nPROG BEGIN { }\nCMD getppid 2\n";
        let e = parse("t", text);
        assert_eq!(e.len(), 3);
        assert_eq!((e[2].cmd.as_deref(), e[1].cmd.as_deref()), (Some("getppid 2"), None));
        assert_eq!((e[0].name.as_str(), e[0].prog.as_str(), e[0].bpftrace), ("a", "BEGIN { exit(); }", true));
        assert_eq!(e[0].expect.as_deref(), Some("x\n\n y\n"));
        assert_eq!(e[1].prog, "BEGIN {\n  exit(); }\n");
        assert_eq!((e[1].run.as_deref(), e[1].params.clone(), e[1].stop, e[1].status), (Some("getppid 1"), vec!["1".to_string(), "two".into()], Some(Stop::Term), 1));
        assert_eq!(e[1].stderr.as_deref(), Some("e\n"));
        assert_eq!(e[1].at, "t:10");
    }

    #[test]
    fn globs() {
        assert!(glob(b"sys_enter_get*", b"sys_enter_getppid"));
        assert!(glob(b"sched*", b"sched_switch"));
        assert!(!glob(b"sys_enter_get*", b"sys_exit_getppid"));
        assert!(glob(b"a?c", b"abc"));
    }
}
