//! Every program either loads or vt refuses it: before loading when vt can know (too much stack, too
//! many instructions: a spanned error like any other), after loading otherwise (the verifier's one-line
//! reason with the probe's name, its whole log with `-v`). Either way nothing stays in the kernel.

use vt_testkit::*;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

/// vt's stderr lines without the "Attaching N probes..." line.
fn error_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| !l.starts_with("Attaching ")).collect()
}

fn refused_before_load(test: &str, program: &str, words: &str) {
    if !can_trace(test) {
        return;
    }
    let before = vt_objects(&kernel_objects());
    let out = run_vt(&["-e", program], LIMIT);
    let stderr = text(&out.stderr);
    assert_eq!(code(&out.status), 1, "{stderr}");
    assert!(stderr.starts_with("-e:1:1: error: ") && stderr.contains(words), "{stderr}");
    assert!(!stderr.contains("Attaching"), "nothing may be loaded: {stderr}");
    assert!(leaked_since(&before, Duration::from_secs(3)).is_empty());
}

#[test]
fn too_much_stack_is_refused_before_load() {
    let f = "str(args.filename)";
    let program = format!("tracepoint:sched:sched_process_exec {{ @m[{}] = count(); }}", [f; 9].join(", "));
    refused_before_load("too_much_stack_is_refused_before_load", &program, "bytes of BPF stack; the kernel allows 512");
}

#[test]
fn too_many_instructions_are_refused_before_load() {
    let program = "tracepoint:syscalls:sys_enter_read { unroll(100) { unroll(50) { @x[args.count] = count(); } } }";
    refused_before_load("too_many_instructions_are_refused_before_load", program, "too many for its jumps to reach");
}

#[test]
fn unroll_expanding_too_far_is_refused_before_load() {
    let program = "BEGIN { unroll(100) { unroll(100) { unroll(100) { @x = count(); } } } }";
    if !can_trace("unroll_expanding_too_far_is_refused_before_load") {
        return;
    }
    let out = run_vt(&["-e", program], LIMIT);
    let stderr = text(&out.stderr);
    assert_eq!(code(&out.status), 1, "{stderr}");
    assert!(stderr.starts_with("-e:1:") && stderr.contains("this unroll expands to"), "{stderr}");
}

/// A loop bounded by a field: the verifier walks it until it gives up.
const UNBOUNDED: &str = "tracepoint:syscalls:sys_enter_getppid { @a = count(); }
tracepoint:syscalls:sys_enter_read { for ($i : 0..args.count) { @x = count(); } }";

#[test]
fn verifier_refusal_is_one_line_with_the_probe_and_the_reason() {
    if !can_trace("verifier_refusal_is_one_line_with_the_probe_and_the_reason") {
        return;
    }
    let before = vt_objects(&kernel_objects());
    let out = run_vt(&["-e", UNBOUNDED], LIMIT);
    let stderr = text(&out.stderr);
    assert_eq!(code(&out.status), 4, "the kernel refused: {stderr}");
    let lines = error_lines(&stderr);
    assert_eq!(lines.len(), 1, "one line without -v: {stderr}");
    let prefix = "vt: -e:2:1: the kernel refused the program for tracepoint:syscalls:sys_enter_read: ";
    assert!(lines[0].starts_with(prefix), "{stderr}");
    let reason = &lines[0][prefix.len()..];
    // The verifier's own words, not its statistics ("processed N insns", "stack depth N").
    assert!(reason.contains("too complex") || reason.contains("too large"), "{reason}");
    assert!(!reason.starts_with("processed") && !reason.starts_with("stack depth"), "{reason}");
    assert!(stdout_is_empty(&out.stdout), "no maps print when nothing ran");
    assert!(leaked_since(&before, Duration::from_secs(3)).is_empty(), "the first probe's program must go too");
}

fn stdout_is_empty(b: &[u8]) -> bool {
    b.iter().all(|c| c.is_ascii_whitespace())
}

#[test]
fn verifier_log_with_v() {
    if !can_trace("verifier_log_with_v") {
        return;
    }
    let out = run_vt(&["-v", "-e", UNBOUNDED], LIMIT);
    let stderr = text(&out.stderr);
    assert_eq!(code(&out.status), 4);
    let first = error_lines(&stderr)[0];
    assert!(first.starts_with("vt: -e:2:1: the kernel refused the program for tracepoint:syscalls:sys_enter_read: "), "{first}");
    // The whole log follows: the instructions the verifier walked and its statistics.
    assert!(stderr.lines().count() > 20, "{stderr}");
    assert!(stderr.contains("processed ") && stderr.contains(" insns"), "{}", &stderr[stderr.len().saturating_sub(2000)..]);
}

/// The refusal names where the probe is, like every other error. `session::Error::Verify` carries the
/// probe's span; main.rs does not render it yet (see the reliability report).
#[test]
fn verifier_refusal_names_the_probe_location() {
    if !can_trace("verifier_refusal_names_the_probe_location") {
        return;
    }
    let out = run_vt(&["-e", UNBOUNDED], LIMIT);
    let stderr = text(&out.stderr);
    assert!(error_lines(&stderr)[0].contains("-e:2:1:"), "{stderr}");
}
