//! Kernel types against the kernel's own account of them: sizeof and offsetof as bpftool reads BTF,
//! and what a kernel without BTF gets (a clear error for scripts that name kernel types, nothing
//! different for the others).

use std::path::Path;
use std::time::Duration;
use vt_testkit::{bpftool_or_skip, run_vt, run_with_deadline, skip, skip_without_bpf, text, vt_command};

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

/// task_struct's size and the byte offset of its `pid`, from `bpftool btf dump` (raw format).
fn bpftool_task_struct(bpftool: &Path) -> (u64, u64) {
    let mut cmd = std::process::Command::new(bpftool);
    cmd.args(["btf", "dump", "file", VMLINUX, "format", "raw"]);
    let out = text(&run_with_deadline(cmd, 120).stdout);
    let mut lines = out.lines().skip_while(|l| !l.contains("STRUCT 'task_struct' size="));
    let head = lines.next().expect("bpftool lists struct task_struct");
    let size = head.split("size=").nth(1).and_then(|s| s.split_whitespace().next()).expect("a size").parse().expect("a number");
    let pid = lines
        .take_while(|l| !l.starts_with('['))
        .find(|l| l.trim_start().starts_with("'pid' "))
        .expect("task_struct has pid");
    let bits: u64 = pid.split("bits_offset=").nth(1).expect("an offset").trim().parse().expect("a number");
    (size, bits / 8)
}

#[test]
fn sizeof_and_offsetof_agree_with_bpftool() {
    if skip_without_bpf("sizeof_and_offsetof_agree_with_bpftool") {
        return;
    }
    if !Path::new(VMLINUX).exists() {
        return skip("sizeof_and_offsetof_agree_with_bpftool", "this kernel has no BTF");
    }
    let Some(bpftool) = bpftool_or_skip("sizeof_and_offsetof_agree_with_bpftool") else { return };
    let (size, pid) = bpftool_task_struct(&bpftool);
    assert!(size > 1000 && pid > 0, "bpftool's figures look wrong: {size} {pid}");
    let script = r#"BEGIN { printf("%d %d\n", sizeof(struct task_struct), offsetof(struct task_struct, pid)); exit(); }"#;
    let out = run_vt(&["-e", script], Duration::from_secs(60));
    assert_eq!(text(&out.stdout).lines().next(), Some(format!("{size} {pid}").as_str()), "stderr: {}", text(&out.stderr));
}

#[test]
fn without_btf_kernel_types_are_refused_and_the_rest_works() {
    let mut cmd = vt_command(&["-e", r#"BEGIN { printf("%d\n", curtask->parent->pid); exit(); }"#]);
    cmd.env("VT_BTF", "/nonexistent/vmlinux");
    let out = run_with_deadline(cmd, 60);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("`struct task_struct *` is a kernel type, and reading kernel types needs BTF"), "{err}");
    assert!(err.contains("this kernel has no BTF (/nonexistent/vmlinux"), "{err}");
    assert!(err.contains("^^^^^^^"), "the error is spanned: {err}");
    if skip_without_bpf("without_btf_kernel_types_are_refused_and_the_rest_works") {
        return;
    }
    let mut cmd = vt_command(&["-e", r#"BEGIN { printf("%d %d\n", sizeof(uint32), pid > 0); exit(); }"#]);
    cmd.env("VT_BTF", "/nonexistent/vmlinux");
    let out = run_with_deadline(cmd, 60);
    assert_eq!(text(&out.stdout).lines().next(), Some("4 1"), "stderr: {}", text(&out.stderr));
}
