//! Stacks and symbols whose text depends on the machine (the kernel's build, a compiler's offsets), so
//! that a table cannot give them: a C program of known call shape, built here with frame pointers,
//! and the kernel's syscall entry path. The first frames and the printing layout are also checked
//! against bpftrace 0.17 in differential.test.

use std::path::PathBuf;
use vt_testkit::{skip_without_bpf, vt_stdout};

/// main calls outer, outer middle, middle inner, inner getppid(2): three times, then the program waits
/// a moment (long enough for vt to read its mappings while it runs) and exits.
const CALLS: &str = r#"
#include <stdio.h>
#include <unistd.h>
__attribute__((noinline)) int inner(int x) { return getppid() + x; }
__attribute__((noinline)) int middle(int x) { return inner(x + 1) + 1; }
__attribute__((noinline)) int outer(int x) { return middle(x + 1) + 1; }
int main(void) {
    int s = 0;
    for (int i = 0; i < 3; i++) s += outer(i);
    usleep(400000);
    return s == 0;
}
"#;

/// The program above, built once per test run with frame pointers and symbols.
fn calls_program() -> PathBuf {
    vt_testkit::program::build("calls.c", CALLS, "cc", &["-O0", "-g", "-fno-omit-frame-pointer"])
}

/// The frames of each stack key of `@name` in bpftrace's layout, with their counts.
fn stacks(out: &str, name: &str) -> Vec<(Vec<String>, u64)> {
    let mut found = Vec::new();
    let mut lines = out.lines();
    while let Some(l) = lines.next() {
        if l != format!("@{name}[") {
            continue;
        }
        let mut frames = Vec::new();
        for f in lines.by_ref() {
            if let Some(count) = f.strip_prefix("]: ") {
                found.push((frames, count.parse().unwrap()));
                break;
            }
            frames.push(f.to_string());
        }
    }
    found
}

/// A frame's symbol without its `+offset`.
fn symbol(frame: &str) -> &str {
    frame.trim().split('+').next().unwrap()
}

#[test]
fn ustack_names_the_callers_in_order_after_the_process_exited() {
    if skip_without_bpf(module_path!()) {
        return;
    }
    let bin = calls_program();
    let path = bin.to_str().unwrap();
    let script = format!(
        "uprobe:{path}:inner {{ @[ustack] = count(); @p[ustack(perf, 2)] = count(); printf(\"%s\\n\", usym(reg(\"ip\"))); }}"
    );
    let out = vt_stdout(&["-e", &script, "-c", path]);
    assert_eq!(out.lines().filter(|l| *l == "inner").count(), 3, "{out}");
    let all = stacks(&out, "");
    assert_eq!(all.len(), 1, "one stack, seen 3 times:\n{out}");
    let (frames, count) = &all[0];
    assert_eq!(*count, 3, "{out}");
    assert!(frames.iter().all(|f| f.starts_with("    ") && !f.starts_with("     ")), "indented by 4:\n{out}");
    let names: Vec<&str> = frames.iter().map(|f| symbol(f)).collect();
    assert_eq!(names[..4], ["inner", "middle", "outer", "main"], "{out}");
    assert_eq!(frames[0], "    inner+0", "a uprobe stops at the function's first instruction:\n{out}");
    // perf's mode: a tab, the address in hex, the symbol, the file; two frames kept.
    let perf = stacks(&out, "p");
    assert_eq!(perf.len(), 1, "{out}");
    assert_eq!(perf[0].0.len(), 2, "{out}");
    for (frame, want) in perf[0].0.iter().zip(["inner+0", "middle+"]) {
        let (addr, rest) = frame.strip_prefix('\t').and_then(|f| f.split_once(' ')).unwrap_or_else(|| panic!("{out}"));
        assert!(u64::from_str_radix(addr, 16).is_ok(), "{out}");
        assert!(rest.starts_with(want) && rest.ends_with(&format!(" ({path})")), "{frame:?} in:\n{out}");
    }
}

#[test]
fn kstack_shows_the_syscall_entry_path() {
    if skip_without_bpf(module_path!()) {
        return;
    }
    let bin = calls_program();
    let script = "tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @[kstack] = count(); @three[kstack(3)] = count(); }";
    let out = vt_stdout(&["-e", script, "-c", bin.to_str().unwrap()]);
    let all = stacks(&out, "");
    // Below the tracepoint the path may take `__traceiter_sys_enter` when other tracers share it.
    assert_eq!(all.iter().map(|s| s.1).sum::<u64>(), 3, "{out}");
    for (frames, _) in &all {
        let names: Vec<&str> = frames.iter().map(|f| symbol(f)).collect();
        assert_eq!(names[0], "perf_syscall_enter", "{out}");
        let call = names.iter().position(|n| *n == "do_syscall_64").unwrap_or_else(|| panic!("{out}"));
        let entry = names.iter().position(|n| n.starts_with("entry_SYSCALL_64")).unwrap_or_else(|| panic!("{out}"));
        assert!(call < entry, "do_syscall_64 is called from the entry:\n{out}");
        assert!(frames.iter().all(|f| f.starts_with("    ") && f.contains('+')), "{out}");
    }
    assert!(stacks(&out, "three").iter().all(|(f, _)| f.len() == 3), "{out}");
}

#[test]
fn ksym_names_a_kernel_address_and_hex_where_none() {
    if skip_without_bpf(module_path!()) {
        return;
    }
    let script = r#"BEGIN { printf("%s|%s|%s|%s\n", ksym(kaddr("do_syscall_64")), ksym(kaddr("do_syscall_64") + 1), ksym(0), usym(0x10)); exit(); }"#;
    assert_eq!(vt_stdout(&["-e", script]), "do_syscall_64|do_syscall_64|0|0x10\n\n\n");
}

#[test]
fn raw_mode_prints_the_addresses_perf_mode_names() {
    if skip_without_bpf(module_path!()) {
        return;
    }
    let bin = calls_program();
    let path = bin.to_str().unwrap();
    let script = format!("uprobe:{path}:inner {{ printf(\"%s#%s#%s#%s@\", kstack(raw, 3), kstack(perf, 3), ustack(raw, 3), ustack(perf, 3)); }}");
    let out = vt_stdout(&["-e", &script, "-c", path]);
    let first = out.split('@').next().unwrap();
    let parts: Vec<&str> = first.split('#').collect();
    assert_eq!(parts.len(), 4, "{out}");
    for (raw, perf) in [(parts[0], parts[1]), (parts[2], parts[3])] {
        // raw: a newline, then each address in hex on a line of its own (bpftrace 0.20+).
        let raw: Vec<&str> = raw.strip_prefix('\n').unwrap_or_else(|| panic!("{out}")).lines().collect();
        let named: Vec<&str> = perf.lines().filter_map(|l| l.strip_prefix('\t')?.split(' ').next()).collect();
        assert_eq!(raw, named, "{out}");
        assert!(raw.iter().all(|a| u64::from_str_radix(a, 16).is_ok()), "{out}");
    }
    assert_eq!(parts[2].lines().count(), 4, "a uprobe's user stack has 3 frames here: {out}");
}
