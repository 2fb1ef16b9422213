//! After vt exits (SIGINT, SIGTERM, or exit() in the script), none of the BPF programs, maps and links it
//! created may remain in the kernel. The ids are taken from vt's own fds while it runs, so programs of other
//! tracers running on the same machine cannot confuse the check.

use std::time::{Duration, Instant};
use vt_testkit::{bpf_objects, bpftool_list, bpftool_or_skip, skip_without_bpf, Stop, Tool, Tracer, Workload};

fn run_and_check_cleanup(test: &str, stop: Stop) {
    if skip_without_bpf(test) || bpftool_or_skip(test).is_none() {
        return;
    }
    let mut workload = Workload::start("getppid 5");
    let exit = if stop == Stop::ByItself { " exit();" } else { "" };
    let script = format!(
        "BEGIN {{ @b = count(); }}
tracepoint:syscalls:sys_enter_getppid /pid == {pid}/ {{ @c = count();{exit} }}
tracepoint:syscalls:sys_enter_write /pid == {pid}/ {{ @h = hist(args.count); }}
END {{ @e = count(); }}",
        pid = workload.pid()
    );
    let mut tracer = Tracer::start(Tool::Vt, &script, &[]);
    tracer.wait_attached(&vt_testkit::script_tracepoints(&script));
    let objects = bpf_objects(tracer.pid());

    // While it runs: vt's programs are in the kernel, named vt<N>_<tracepoint>, at most 15 characters.
    assert!(objects.progs.len() >= 2, "vt should hold at least its two tracepoint programs: {objects:?}");
    assert!(objects.links.len() >= 2, "vt should hold one link per tracepoint: {objects:?}");
    let progs = bpftool_list("prog");
    let mut names = Vec::new();
    for id in &objects.progs {
        let (_, name) = progs.iter().find(|(i, _)| i == id).unwrap_or_else(|| panic!("bpftool does not list vt's program {id}"));
        assert!(name.starts_with("vt") && name.len() <= 15, "vt's program {id} is named {name:?}");
        names.push(name.clone());
    }
    let (maps, links) = (bpftool_list("map"), bpftool_list("link"));
    for id in &objects.maps {
        assert!(maps.iter().any(|(i, _)| i == id), "bpftool does not list vt's map {id}");
    }
    for id in &objects.links {
        assert!(links.iter().any(|(i, _)| i == id), "bpftool does not list vt's link {id}");
    }
    assert!(names.iter().any(|n| n.ends_with("_sys_enter_g")), "a program named vtN_sys_enter_g…: {names:?}");

    workload.release_and_wait();
    match stop {
        Stop::Int => tracer.signal(libc::SIGINT),
        Stop::Term => tracer.signal(libc::SIGTERM),
        Stop::ByItself => {}
    }
    let run = tracer.finish();
    run.assert_success();
    assert!(run.stdout.contains("@c: "), "{}", run.describe());

    // The kernel frees objects once their last reference goes, which can lag the process's exit by an RCU
    // grace period or a work item: wait (with a generous bound) until they are gone.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let listed = |kind: &str, ids: &[u32]| -> Vec<u32> {
            let now = bpftool_list(kind);
            ids.iter().copied().filter(|id| now.iter().any(|(i, _)| i == id)).collect()
        };
        let left = [("prog", listed("prog", &objects.progs)), ("map", listed("map", &objects.maps)), ("link", listed("link", &objects.links))];
        if left.iter().all(|(_, ids)| ids.is_empty()) {
            break;
        }
        assert!(Instant::now() < deadline, "vt left BPF objects behind after exiting: {left:?}\n{}", run.describe());
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn no_leaks_after_sigint() {
    run_and_check_cleanup("no_leaks_after_sigint", Stop::Int);
}

#[test]
fn no_leaks_after_sigterm() {
    run_and_check_cleanup("no_leaks_after_sigterm", Stop::Term);
}

#[test]
fn no_leaks_after_exit_builtin() {
    run_and_check_cleanup("no_leaks_after_exit_builtin", Stop::ByItself);
}
