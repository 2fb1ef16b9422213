//! Scripts vt must refuse: exit code 1, a spanned message (`-e:LINE:COL: error: …`, the source line, a
//! `^^^` underline under exactly the offending text, a `hint:`), and never a panic. These run on the saved
//! tracepoint formats in testkit/fixtures/tracefs, so they need neither root nor a kernel.

use std::process::Output;

use vt_testkit::fixtures::TRACEFS;

fn vt(args: &[&str]) -> Output {
    vt_testkit::vt_command(args).output().expect("cannot run vt")
}

fn check_with_fixtures(script: &str) -> (i32, String, String) {
    let out = vt(&["--tracefs", TRACEFS, "-d", "-e", script]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!stderr.contains("panicked"), "vt panicked:\n{stderr}");
    (out.status.code().expect("vt was killed by a signal"), stdout, stderr)
}

/// Checks a diagnostic: the `-e:LINE:COL: error: MESSAGE` head, the source line quoted with its number,
/// the underline of `width` carets starting under column COL of that line, and a hint if `hint` is Some.
fn assert_diagnostic(script: &str, line: usize, col: usize, width: usize, message: &str, hint: Option<&str>) {
    let (code, stdout, stderr) = check_with_fixtures(script);
    assert_eq!(code, 1, "exit code\n{stderr}");
    assert_eq!(stdout, "", "nothing on stdout for a rejected script");
    let head = format!("-e:{line}:{col}: error: {message}");
    assert!(stderr.starts_with(&head), "expected stderr to start with {head:?}, got:\n{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    let source_line = script.lines().nth(line - 1).unwrap();
    let quoted = lines
        .iter()
        .position(|l| l.trim_start().starts_with(&format!("{line} | ")) && l.ends_with(source_line.trim_end()))
        .unwrap_or_else(|| panic!("the source line is not quoted:\n{stderr}"));
    let prefix = lines[quoted].find(" | ").unwrap() + 3;
    let underline = lines.get(quoted + 1).unwrap_or_else(|| panic!("no underline:\n{stderr}"));
    let carets_at = underline.find('^').unwrap_or_else(|| panic!("no ^ in the underline:\n{stderr}"));
    assert_eq!(carets_at, prefix + col - 1, "the underline starts under column {col}:\n{stderr}");
    let carets = underline[carets_at..].chars().take_while(|&c| c == '^').count();
    assert_eq!(carets, width, "the underline covers {width} characters:\n{stderr}");
    if let Some(h) = hint {
        let hint_line = lines.iter().find(|l| l.starts_with("hint: ")).unwrap_or_else(|| panic!("no hint:\n{stderr}"));
        assert!(hint_line.contains(h), "hint should mention {h:?}:\n{stderr}");
    }
}

#[test]
fn syntax_error_unclosed_block() {
    assert_diagnostic(
        "tracepoint:syscalls:sys_enter_getppid { @c = count();",
        1,
        54,
        1,
        "expected a statement or `}`, found end of input",
        Some("the `{` at 1:39 is never closed; add `}`"),
    );
}

#[test]
fn syntax_error_in_expression() {
    assert_diagnostic(
        "tracepoint:syscalls:sys_enter_getppid { @c = count(; }",
        1,
        52,
        1,
        "expected an expression or `)`, found `;`",
        None,
    );
}

#[test]
fn syntax_error_on_a_later_line() {
    assert_diagnostic(
        "tracepoint:syscalls:sys_enter_getppid {\n  @c = count();\n  @d = 1 + ;\n}",
        3,
        12,
        1,
        "expected an expression",
        None,
    );
}

#[test]
fn unknown_tracepoint() {
    assert_diagnostic(
        "tracepoint:syscalls:sys_enter_getppid { @c = count(); }\ntracepoint:syscalls:sys_enter_writ { @d = count(); }",
        2,
        21,
        "sys_enter_writ".len(),
        "unknown tracepoint `tracepoint:syscalls:sys_enter_writ`",
        Some("`sys_enter_write`"),
    );
}

#[test]
fn unknown_tracepoint_category() {
    assert_diagnostic(
        "tracepoint:sycalls:sys_enter_write { @c = count(); }",
        1,
        12,
        "sycalls".len(),
        "unknown tracepoint category `sycalls`",
        Some("`syscalls`"),
    );
}

#[test]
fn unknown_field() {
    assert_diagnostic(
        "tracepoint:syscalls:sys_enter_write { @c = hist(args->cont); }",
        1,
        55,
        "cont".len(),
        "tracepoint syscalls:sys_enter_write has no field `cont`",
        Some("`count`"),
    );
    assert_diagnostic(
        "tracepoint:syscalls:sys_enter_getppid { @c = sum(args.count); }",
        1,
        55,
        "count".len(),
        "tracepoint syscalls:sys_enter_getppid has no field `count`",
        Some("__syscall_nr"),
    );
}

#[test]
fn one_map_two_kinds() {
    assert_diagnostic(
        "tracepoint:syscalls:sys_enter_write { @c = count(); @c = sum(1); }",
        1,
        53,
        "@c = sum(1)".len(),
        "@c holds count() and cannot also hold sum()",
        Some("another map name"),
    );
}

/// The real kernel's tracefs, as vt finds it itself (root only: tracefs is root's).
#[test]
fn unknown_tracepoint_on_the_real_tracefs() {
    if vt_testkit::skip_without_bpf("unknown_tracepoint_on_the_real_tracefs") {
        return;
    }
    let out = vt(&["-e", "tracepoint:syscalls:sys_enter_getppidx { @c = count(); }"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("-e:1:21: error: unknown tracepoint `tracepoint:syscalls:sys_enter_getppidx`\n"), "{stderr}");
    assert!(stderr.contains("^^^^^^^^^^^^^^^^^^ no such tracepoint"), "{stderr}");
    assert!(stderr.contains("hint: did you mean") && stderr.contains("`sys_enter_getppid`"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

fn assert_one_line_failure(out: &Output, mentions: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "vt should fail: {stderr}");
    assert_eq!(out.stdout, b"", "nothing on stdout");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line of explanation, got:\n{stderr}");
    assert!(stderr.starts_with("vt: ") && stderr.contains(mentions), "{stderr}");
}

#[test]
fn missing_script_file() {
    let path = format!("{}/no-such-script-{}.vt", std::env::temp_dir().display(), std::process::id());
    let out = vt(&["--tracefs", TRACEFS, &path]);
    assert_one_line_failure(&out, &path);
    assert!(String::from_utf8_lossy(&out.stderr).contains("No such file"));
}

#[test]
fn unreadable_script_file() {
    // A directory cannot be read as a script, even by root (for whom permission bits do not matter).
    let dir = env!("CARGO_MANIFEST_DIR");
    let out = vt(&["--tracefs", TRACEFS, dir]);
    assert_one_line_failure(&out, dir);
}

#[test]
fn errors_in_script_files_name_the_file() {
    let path = std::env::temp_dir().join(format!("vt-tests-bad-{}.vt", std::process::id()));
    std::fs::write(&path, "// comment\ntracepoint:syscalls:sys_enter_write { @c = hist(args.cont); }\n").unwrap();
    let out = vt(&["--tracefs", TRACEFS, path.to_str().unwrap()]);
    let _ = std::fs::remove_file(&path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with(&format!("{}:2:54: error: ", path.display())), "{stderr}");
    assert!(stderr.contains("hint: did you mean `count`?"), "{stderr}");
}
