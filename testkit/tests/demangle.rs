//! C++ functions named as their source names them: `uprobe:BIN:"ns::foo"` (quoted: `::` is not a
//! probe separator there), with its parameter list, and wildcards over demangled names, each the
//! same count and probe name as bpftrace 0.17 gives; and the names `func`, `usym` and `ustack` print,
//! demangled as 0.17 prints them (C++'s with their parameter list, Rust's with their hash).

use std::path::PathBuf;
use std::process::Command;
use vt_testkit::{bpftrace_or_skip, run_with_deadline, skip_without_bpf, text, vt_stdout, workload_bin, workload_line};

/// main calls ns::foo(int) three times and ns::Counter::bump() twice.
const PROGRAM: &str = r#"
namespace ns {
__attribute__((noinline)) int foo(int x) { return x + 1; }
struct Counter { int n = 0; __attribute__((noinline)) void bump() { n++; } };
}
int main() {
    int s = 0;
    for (int i = 0; i < 3; i++) s += ns::foo(i);
    ns::Counter c;
    c.bump();
    c.bump();
    return s + c.n == 0;
}
"#;

fn program() -> PathBuf {
    vt_testkit::program::build("demangle.cpp", PROGRAM, "g++", &["-O0"])
}

/// PROGRAM, then a wait of 300 ms before it exits: the tracers name user addresses from the process's
/// mappings, which must still be there (a file of its own: the other test's uprobes count every process).
fn waiting_program() -> PathBuf {
    let source = format!("#include <unistd.h>\n{}", PROGRAM.replace("    return s + c.n == 0;", "    usleep(300000);\n    return s + c.n == 0;"));
    vt_testkit::program::build("demangle_wait.cpp", &source, "g++", &["-O0"])
}

fn maps(out: &str) -> Vec<String> {
    let mut m: Vec<String> = out.lines().filter(|l| l.starts_with('@')).map(str::to_string).collect();
    m.sort();
    m
}

const SCRIPTS: &[(&str, &[&str])] = &[
    ("uprobe:BIN:\"ns::foo\" { @[probe] = count(); }", &["@[uprobe:BIN:_ZN2ns3fooEi]: 3"]),
    ("uprobe:BIN:\"ns::foo(int)\" { @[probe] = count(); }", &["@[uprobe:BIN:_ZN2ns3fooEi]: 3"]),
    ("uretprobe:BIN:\"ns::Counter::bump\" { @[probe] = count(); }", &["@[uretprobe:BIN:_ZN2ns7Counter4bumpEv]: 2"]),
    ("uprobe:BIN:ns*Counter* { @[probe] = count(); }", &["@[uprobe:BIN:_ZN2ns7Counter4bumpEv]: 2"]),
];

#[test]
fn cpp_names_attach_by_their_demangled_names() {
    if skip_without_bpf(module_path!()) {
        return;
    }
    let bin = program();
    let path = bin.to_str().unwrap();
    let bpftrace = bpftrace_or_skip(module_path!());
    for (script, want) in SCRIPTS {
        let script = script.replace("BIN", path);
        let want: Vec<String> = want.iter().map(|w| w.replace("BIN", path)).collect();
        let vt = vt_stdout(&["-e", &script, "-c", path]);
        assert_eq!(maps(&vt), want, "{script}:\n{vt}");
        if let Some(bt) = &bpftrace {
            let out = Command::new(bt).args(["-e", &script, "-c", path]).output().unwrap();
            assert_eq!(maps(&vt), maps(&text(&out.stdout)), "{script}: vt and bpftrace 0.17 differ");
        }
    }
}

/// The one symbol of shapes' `vt_testkit::actions::run` (a Rust legacy name: `_ZN…3run17h<hash>E`).
fn rust_run_symbol(bin: &str) -> String {
    let out = Command::new("nm").arg(bin).output().expect("nm (binutils) must be installed");
    let found: Vec<String> = text(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .filter(|s| s.starts_with("_ZN10vt_testkit7actions3run17h") && s.ends_with('E'))
        .map(String::from)
        .collect();
    assert_eq!(found.len(), 1, "one vt_testkit::actions::run in {bin}: {found:?}");
    found[0].clone()
}

#[test]
fn func_and_usym_name_a_rust_function_with_its_hash() {
    if skip_without_bpf(module_path!()) {
        return;
    }
    let bin = workload_bin();
    let path = bin.to_str().unwrap();
    let symbol = rust_run_symbol(path);
    // _ZN10vt_testkit7actions3run17h<16 hex>E: the hash is what __cxa_demangle (0.17) keeps.
    let hash = &symbol[symbol.len() - 18..symbol.len() - 1];
    let name = format!("vt_testkit::actions::run::{hash}");
    let script = format!("uprobe:{path}:{symbol} /pid == cpid/ {{ printf(\"%s|%s\\n\", func, usym(reg(\"ip\"))); }}");
    // run() does each action: two here; the process sleeps while the tracer names the addresses.
    let command = workload_line("getppid 1 + sleep 300");
    let vt = vt_stdout(&["-e", &script, "-c", &command]);
    assert_eq!(vt, format!("{name}|{name}\n{name}|{name}\n\n\n"), "{script}");
    if let Some(bt) = bpftrace_or_skip(module_path!()) {
        let mut cmd = Command::new(bt);
        cmd.args(["-e", &script, "-c", &command]);
        let out = run_with_deadline(cmd, 60);
        let theirs: String = text(&out.stdout).lines().filter(|l| !l.starts_with("Attaching ")).map(|l| format!("{l}\n")).collect();
        assert_eq!(vt, theirs, "vt and bpftrace 0.17 differ on {script}");
    }
}

#[test]
fn func_usym_and_ustack_name_cpp_functions_as_bpftrace_does() {
    if skip_without_bpf(module_path!()) {
        return;
    }
    let bin = waiting_program();
    let path = bin.to_str().unwrap();
    let script = format!("uprobe:{path}:\"ns::foo\", uprobe:{path}:ns*Counter* {{ printf(\"%s|%s|%s\\n\", func, usym(reg(\"ip\")), ustack(1)); }}");
    let vt = vt_stdout(&["-e", &script, "-c", path]);
    let foo = "ns::foo(int)|ns::foo(int)|\n        ns::foo(int)+0\n\n";
    let bump = "ns::Counter::bump()|ns::Counter::bump()|\n        ns::Counter::bump()+0\n\n";
    assert_eq!(vt, format!("{foo}{foo}{foo}{bump}{bump}\n\n"), "{script}");
    if let Some(bt) = bpftrace_or_skip(module_path!()) {
        let out = Command::new(bt).args(["-e", &script, "-c", path]).output().unwrap();
        let theirs: String = text(&out.stdout).lines().filter(|l| !l.starts_with("Attaching ")).map(|l| format!("{l}\n")).collect();
        assert_eq!(vt, theirs, "vt and bpftrace 0.17 differ on {script}");
    }
}
