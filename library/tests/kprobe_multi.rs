//! Kprobe wildcards where the kernel has kprobe_multi links (`CheckOptions::kprobe_multi`): one
//! program for the kernel's own matches, whose `func` is the address `bpf_get_func_ip` gives (named
//! when printed); a module's matches, and any block that reads `probe`, stay one program per function.
//! The runtime half (the link, the counts either way) is checked in the guest: kernel-support/vm/kprobe-test.sh.

use lang::check::CheckOptions;
use lang::tracefs::Tracefs;
use lang::typed::{Render, Target, Ty};

/// A tracefs holding only the traceable functions' list (one per call: the tests run at once).
fn tracefs() -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("vt-kmulti-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("available_filter_functions"), "vfs_read\nvfs_write\nvfs_writev\nvfs_open\nvfsm_helper [vt_mod]\n").unwrap();
    dir
}

fn check(script: &str, multi: bool) -> lang::typed::Program {
    let ast = lang::parse(script).unwrap();
    let opts = CheckOptions { kprobe_multi: multi, ..Default::default() };
    let dir = tracefs();
    let checked = library::check(&ast, &mut Tracefs::new(&dir), &opts);
    let _ = std::fs::remove_dir_all(&dir);
    checked.unwrap_or_else(|d| panic!("{}", lang::render(&d, "t.vt", script)))
}

fn kprobes(p: &lang::typed::Program) -> Vec<(String, Vec<String>)> {
    p.probes
        .iter()
        .filter_map(|p| match &p.attach.target {
            Target::Kprobe(k) => Some((p.attach.probe.clone(), k.multi.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_wildcard_is_one_program_on_the_kernels_functions() {
    let p = check("kprobe:vfs_* { @[func] = count(); }", true);
    let want = vec![("kprobe:vfs_*".to_string(), vec!["vfs_read".to_string(), "vfs_write".into(), "vfs_writev".into(), "vfs_open".into()])];
    assert_eq!(kprobes(&p), want);
    // `func` there is the function's address, printed as its symbol.
    let object = library::compile(&p).unwrap();
    assert!(object.programs[0].code.calls(codegen::asm::helper::GET_FUNC_IP));
    assert_eq!(p.maps[0].key.first(), Some(&Ty::Text(Render::KSym)));
}

/// A module's function among the matches: one program per function (the kernel before 6.3 cannot
/// name a module's function to a kprobe_multi link, and the block's programs must agree on `func`).
#[test]
fn a_wildcard_that_matches_a_modules_function_is_not_shared() {
    let p = check("kprobe:vfs* { @[func] = count(); }", true);
    assert_eq!(kprobes(&p).len(), 5);
    assert!(kprobes(&p).iter().all(|(_, m)| m.is_empty()));
}

/// A map that a shared wildcard and a one-function kprobe both fill: checked again without sharing,
/// so that it runs as on a kernel without kprobe_multi rather than failing here alone.
#[test]
fn a_map_filled_with_both_kinds_of_func_falls_back() {
    let p = check("kprobe:vfs_write* { @[func] = count(); } kprobe:vfs_read { @[func] = count(); }", true);
    let names: Vec<String> = kprobes(&p).into_iter().map(|(n, m)| { assert!(m.is_empty()); n }).collect();
    assert_eq!(names, ["kprobe:vfs_write", "kprobe:vfs_writev", "kprobe:vfs_read"]);
    assert!(matches!(p.maps[0].key.first(), Some(Ty::Str(_))));
}

#[test]
fn kretprobe_wildcards_share_too() {
    let p = check("kretprobe:vfs_writ* { @[func] = sum(retval); }", true);
    assert_eq!(kprobes(&p), vec![("kretprobe:vfs_writ*".to_string(), vec!["vfs_write".to_string(), "vfs_writev".into()])]);
}

#[test]
fn probe_args_and_override_keep_a_program_per_function() {
    for script in ["kprobe:vfs_write* { @[probe] = count(); }", "kprobe:vfs_write* { printf(\"%s\\n\", probe); }"] {
        let p = check(script, true);
        let names: Vec<String> = kprobes(&p).into_iter().map(|(n, m)| { assert!(m.is_empty()); n }).collect();
        assert_eq!(names, ["kprobe:vfs_write", "kprobe:vfs_writev"], "{script}");
    }
}

#[test]
fn without_kprobe_multi_or_with_one_match_nothing_changes() {
    let names = |p: &lang::typed::Program| kprobes(p).into_iter().map(|(n, m)| { assert!(m.is_empty()); n }).collect::<Vec<_>>();
    assert_eq!(names(&check("kprobe:vfs_write* { @[func] = count(); }", false)), ["kprobe:vfs_write", "kprobe:vfs_writev"]);
    assert_eq!(names(&check("kprobe:vfs_rea? { @[func] = count(); }", true)), ["kprobe:vfs_read"]);
    // A constant `func` where the program is the function's own.
    let p = check("kprobe:vfs_rea? { @[func] = count(); }", true);
    assert!(matches!(p.maps[0].key.first(), Some(Ty::Str(_))));
}

/// A comparison of `func` with a string: one program per function, where `func` is a string.
#[test]
fn func_compared_with_a_string_falls_back() {
    let p = check("kprobe:vfs_write* /func == \"vfs_write\"/ { @ = count(); }", true);
    assert_eq!(kprobes(&p).len(), 2);
    assert!(kprobes(&p).iter().all(|(_, m)| m.is_empty()));
}

/// printf's `%s` of the shared program's `func` (an address named when printed) stays shared.
#[test]
fn func_printed_with_percent_s_is_shared() {
    let p = check("kprobe:vfs_write* { printf(\"%s\\n\", func); }", true);
    assert_eq!(kprobes(&p), vec![("kprobe:vfs_write*".to_string(), vec!["vfs_write".to_string(), "vfs_writev".into()])]);
}
