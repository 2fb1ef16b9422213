//! `watchpoint:FUNC+argN:LEN:MODE` and `asyncwatchpoint:...` on a C program of known shape, built
//! here: the watched addresses come from the program's own calls. bpftrace 0.17 runs these too; it
//! arms a second watchpoint when an address comes again and then counts each write twice (18 for the
//! first program below), so the comparison with it is the count of a program whose addresses differ.

use std::path::PathBuf;
use std::process::Command;
use vt_testkit::{bpftrace_or_skip, run_vt, skip_without_bpf, text, vt_stdout};

/// watch_this(p, n) writes 1..=n to *p: called on a (5 writes), b (7), a again (3); then, after
/// a pause (long enough for an asynchronous watchpoint to be armed), a is written 4 more times.
const PROGRAM: &str = r#"
#include <stdlib.h>
#include <unistd.h>
__attribute__((noinline)) void watch_this(volatile unsigned long *p, int n) { for (int i = 1; i <= n; i++) *p = i; }
int main(int argc, char **argv) {
    volatile unsigned long *a = malloc(64), *b = malloc(64);
    if (argc == 2) {
        watch_this(a, 0);
        usleep(500000);
        for (int i = 0; i < 4; i++) *a = i;
        return 0;
    }
    watch_this(a, 5);
    watch_this(b, 7);
    if (argc == 1) watch_this(a, 3);
    return 0;
}
"#;

fn program() -> PathBuf {
    vt_testkit::program::build("watch_args.c", PROGRAM, "cc", &["-O0"])
}

#[test]
fn watchpoint_on_an_argument_counts_every_write_once() {
    if skip_without_bpf(module_path!()) {
        return;
    }
    let bin = program();
    let path = bin.to_str().unwrap();
    let run = run_vt(&["-e", "watchpoint:watch_this+arg0:8:w { @[probe] = count(); @n = count(); }", "-c", path], std::time::Duration::from_secs(60));
    let (out, err) = (text(&run.stdout), text(&run.stderr));
    assert!(run.status.success() && err.contains("Attaching 1 probe...\n"), "{err}");
    assert!(out.contains(&format!("@[watchpoint:{path}:watch_this:8:w]: 15\n")), "{out}");
    assert!(out.contains("@n: 15\n"), "{out}");
}

#[test]
fn asyncwatchpoint_counts_the_writes_after_it_is_armed() {
    if skip_without_bpf(module_path!()) {
        return;
    }
    let bin = program();
    let cmd = format!("{} later", bin.display());
    let out = vt_stdout(&["-e", "asyncwatchpoint:watch_this+arg0:8:w { @n = count(); }", "-c", &cmd]);
    assert!(out.contains("@n: 4\n"), "{out}");
}

#[test]
fn watchpoint_on_an_argument_counts_as_bpftrace_does() {
    if skip_without_bpf(module_path!()) {
        return;
    }
    let Some(bpftrace) = bpftrace_or_skip(module_path!()) else { return };
    let bin = program();
    // With an argument (any), main watches a and b once each: 12 writes.
    let cmd = format!("{} - -", bin.display());
    let script = "watchpoint:watch_this+arg0:8:w { @[probe] = count(); }";
    let vt = vt_stdout(&["-e", script, "-c", &cmd]);
    let bt = Command::new(bpftrace).args(["-e", script, "-c", &cmd]).output().unwrap();
    let bt = text(&bt.stdout);
    let maps = |s: &str| s.lines().filter(|l| l.starts_with('@')).map(str::to_string).collect::<Vec<_>>();
    assert_eq!(maps(&vt), maps(&bt), "vt:\n{vt}\nbpftrace:\n{bt}");
    assert_eq!(maps(&vt).len(), 1, "{vt}");
}

#[test]
fn watchpoint_argument_refusals() {
    let bin = program();
    let path = bin.to_str().unwrap();
    let cases = [
        ("watchpoint:nope+arg0:8:w { }", "has no function `nope`"),
        ("watchpoint:watch_this+arg6:8:w { }", "`arg6` is not an argument a watchpoint can take"),
    ];
    for (prog, want) in cases {
        let out = run_vt(&["-d", "-e", prog, "-c", path], std::time::Duration::from_secs(30));
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{prog}: {err}");
        assert!(err.starts_with("-e:1:12: error: ") && err.contains(want), "{prog}: {err}");
    }
}
