//! C++ functions named as their source names them: `uprobe:BIN:"ns::foo"` (quoted: `::` is not a
//! probe separator there), with its parameter list, and wildcards over demangled names, each the
//! same count and probe name as bpftrace 0.17 gives.

use std::path::PathBuf;
use std::process::Command;
use vt_testkit::{bpftrace_or_skip, skip_without_bpf, text, vt_stdout};

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
