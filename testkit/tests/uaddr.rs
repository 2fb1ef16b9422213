//! `uaddr("symbol")` on a C program linked at fixed addresses (its globals' addresses are in the
//! file, and so depend on the compiler): the values read through them (`str(uaddr(..))`, `*uaddr(..)`), the address as `nm` gives it,
//! the same output as bpftrace 0.17, and the refusals (a position-independent file, a missing symbol,
//! a probe without a file).

use std::path::PathBuf;
use std::process::Command;
use vt_testkit::{bpftrace_or_skip, run_vt, skip_without_bpf, text, vt_stdout, workload_bin};

/// touch() stores 10, 20 and 30 in `g_val`; `g_name` always holds "hello".
const GLOBALS: &str = r#"
volatile unsigned long g_val = 7;
char g_name[16] = "hello";
__attribute__((noinline)) void touch(unsigned long n) { g_val = n; }
int main(void) {
    for (int i = 1; i <= 3; i++) touch(i * 10);
    return 0;
}
"#;

/// The program above, built without PIE once per test run.
fn globals_program() -> PathBuf {
    vt_testkit::program::build("globals.c", GLOBALS, "cc", &["-O0", "-no-pie"])
}

/// `g_val`'s address as nm(1) prints it.
fn nm_address(bin: &str, name: &str) -> u64 {
    let out = Command::new("nm").arg(bin).output().expect("nm (binutils) must be installed");
    let line = text(&out.stdout).lines().find(|l| l.ends_with(&format!(" {name}"))).map(str::to_string);
    let line = line.unwrap_or_else(|| panic!("nm shows no {name} in {bin}"));
    u64::from_str_radix(line.split_whitespace().next().unwrap(), 16).unwrap()
}

fn script(path: &str) -> String {
    format!("uretprobe:{path}:touch /pid == cpid/ {{ printf(\"%p %s\\n\", uaddr(\"g_val\"), str(uaddr(\"g_name\"))); @a = uaddr(\"g_val\"); @n = count(); @v = sum(*uaddr(\"g_val\")); }}")
}

/// What follows "Attaching ..." (bpftrace prints that line on stdout).
fn body(out: &str) -> String {
    out.lines().filter(|l| !l.starts_with("Attaching ")).collect::<Vec<_>>().join("\n")
}

#[test]
fn uaddr_gives_the_address_nm_shows_and_reads_through_it() {
    if skip_without_bpf(module_path!()) {
        return;
    }
    let bin = globals_program();
    let path = bin.to_str().unwrap();
    let addr = nm_address(path, "g_val");
    let out = vt_stdout(&["-e", &script(path), "-c", path]);
    let want = format!("{0} hello\n{0} hello\n{0} hello\n\n\n@a: {1}\n@n: 3\n@v: 60", format!("{addr:#x}"), addr);
    assert_eq!(body(&out).trim_end(), want, "{out}");
}

#[test]
fn uaddr_prints_as_bpftrace_does() {
    if skip_without_bpf(module_path!()) {
        return;
    }
    let Some(bpftrace) = bpftrace_or_skip(module_path!()) else { return };
    let bin = globals_program();
    let path = bin.to_str().unwrap();
    let vt = vt_stdout(&["-e", &script(path), "-c", path]);
    let bt = Command::new(bpftrace).args(["-e", &script(path), "-c", path]).output().unwrap();
    assert!(bt.status.success(), "bpftrace: {bt:?}");
    assert_eq!(body(&vt).trim_end(), body(&text(&bt.stdout)).trim_end());
}

#[test]
fn uaddr_refusals_name_the_reason() {
    let shapes = workload_bin();
    let pie = format!("uprobe:{}:shapes_watch {{ @a = uaddr(\"shapes_watched\"); }}", shapes.display());
    let missing = format!("uprobe:{}:touch {{ @a = uaddr(\"no_such_global\"); }}", globals_program().display());
    let cases = [
        (pie, "is position-independent"),
        (missing, "has no symbol `no_such_global`"),
        ("BEGIN { @a = uaddr(\"g_val\"); }".to_string(), "uaddr() names a symbol of the probed file"),
    ];
    for (prog, want) in cases {
        let out = run_vt(&["-d", "-e", &prog], std::time::Duration::from_secs(30));
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{prog}: {err}");
        assert!(err.starts_with("-e:1:") && err.contains(want), "{prog}: {err}");
        assert_eq!(err.matches("error:").count(), 1, "one error: {err}");
    }
}
