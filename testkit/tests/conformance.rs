//! The language, construct by construct, on real tracepoints: each table in testkit/conformance/ holds
//! scripts, the workload they run against and the exact output they must print (see
//! src/table.rs for the format); entries marked BPFTRACE are also run under bpftrace 0.17 and must print
//! the same. `VT_TABLE_ONLY=NAME` runs one entry.

use vt_testkit::table::run_table;

/// Entries of one table run this many at a time: a run mostly waits (attach, the workload, detach).
const WORKERS: usize = 3;

#[test]
fn builtins() {
    run_table("builtins", "conformance/builtins.test", WORKERS);
}

#[test]
fn fields() {
    run_table("fields", "conformance/fields.test", WORKERS);
}

#[test]
fn statements() {
    run_table("statements", "conformance/statements.test", WORKERS);
}

#[test]
fn maps() {
    run_table("maps", "conformance/maps.test", WORKERS);
}

#[test]
fn printf() {
    run_table("printf", "conformance/printf.test", WORKERS);
}

#[test]
fn probes() {
    run_table("probes", "conformance/probes.test", WORKERS);
}

#[test]
fn functions() {
    run_table("functions", "conformance/functions.test", WORKERS);
}

#[test]
fn syntax() {
    run_table("syntax", "conformance/syntax.test", WORKERS);
}

#[test]
fn kernel_types() {
    run_table("kernel_types", "conformance/kernel_types.test", WORKERS);
}

#[test]
fn errors() {
    run_table("errors", "conformance/errors.test", WORKERS);
}

// ---- what a table cannot say -----------------------------------------------------------------------

use vt_testkit::{skip_without_bpf, trace, Stop, Tool, Tracer, Workload};

/// printf goes through the ring buffer in order: 20000 lines, none lost, none out of place.
#[test]
fn printf_lines_keep_their_order() {
    if skip_without_bpf("printf_lines_keep_their_order") {
        return;
    }
    let n = 20_000;
    let script = "tracepoint:syscalls:sys_enter_getppid /pid == $PID/ { @i++; printf(\"line %d %s\\n\", @i, comm); }";
    let run = trace(Tool::Vt, script, Workload::start(&format!("getppid {n}")), Stop::Int);
    run.assert_success();
    let lines: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("line ")).collect();
    assert_eq!(lines.len(), n, "{}", run.stderr);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(*l, format!("line {} shapes", i + 1), "line {} is out of place", i + 1);
    }
    assert!(run.stdout.ends_with(&format!("\n\n\n@i: {n}\n")), "{}", &run.stdout[run.stdout.len() - 50..]);
    assert!(!run.stderr.contains("Lost"), "{}", run.stderr);
}

/// Events the ring buffer has no room for are counted and reported: vt is stopped (SIGSTOP) while the
/// workload makes 100000 events, so the buffer fills; what it printed plus what it lost is all of them,
/// and what it printed is the first events, in order.
#[test]
fn lost_events_are_counted_and_reported() {
    if skip_without_bpf("lost_events_are_counted_and_reported") {
        return;
    }
    let n: usize = 100_000;
    let mut workload = Workload::start(&format!("getppid {n}"));
    let script = format!(
        "tracepoint:syscalls:sys_enter_getppid /pid == {}/ {{ @i++; printf(\"%d\\n\", @i); }}",
        workload.pid()
    );
    let mut tracer = Tracer::start(Tool::Vt, &script, &[]);
    tracer.wait_attached(&["sys_enter_getppid".to_string()]);
    tracer.signal(libc::SIGSTOP);
    workload.release_and_wait();
    tracer.signal(libc::SIGCONT);
    tracer.signal(libc::SIGINT);
    let run = tracer.finish();
    run.assert_success();
    let printed: Vec<usize> = run.stdout.lines().filter_map(|l| l.parse().ok()).collect();
    assert_eq!(printed, (1..=printed.len()).collect::<Vec<_>>(), "the events printed are the first ones, in order");
    let lost: usize = run
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("Lost ")?.strip_suffix(" events")?.parse().ok())
        .unwrap_or_else(|| panic!("no `Lost N events` line:\n{}", run.stderr));
    assert!(lost > 0 && printed.len() > 1000, "printed {} lost {lost}", printed.len());
    assert_eq!(printed.len() + lost, n, "every event is printed or counted as lost");
    assert!(run.stdout.ends_with(&format!("\n@i: {n}\n")), "the map saw every event");
}

/// time(): the strftime format as given, with the clock's time (here: the year, and the time of day
/// within a minute of the clock's).
#[test]
fn time_prints_the_clock_with_its_format() {
    if skip_without_bpf("time_prints_the_clock_with_its_format") {
        return;
    }
    let date = |fmt: &str| {
        let out = std::process::Command::new("date").arg(fmt).output().expect("cannot run date");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let before = date("+%s");
    let out = vt_testkit::vt_command(&["-e", "BEGIN { time(\"%Y|\"); time(); time(\"[%H:%M:%S]\\n\"); time(\"%s\\n\"); exit(); }"])
        .output()
        .expect("cannot run vt");
    let after = date("+%s");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    // time() without a format prints %H:%M:%S and a newline, as bpftrace.
    let (year, hms) = lines[0].split_once('|').expect("`%Y|` then the default format");
    assert_eq!(year.len(), 4);
    assert!(year.chars().all(|c| c.is_ascii_digit()), "{stdout}");
    assert!(date("+%Y").parse::<i32>().unwrap().abs_diff(year.parse().unwrap()) <= 1, "{stdout}");
    let is_hms = |s: &str| s.len() == 8 && s.chars().enumerate().all(|(i, c)| if i == 2 || i == 5 { c == ':' } else { c.is_ascii_digit() });
    assert!(is_hms(hms), "{stdout}");
    assert!(lines[1].starts_with('[') && lines[1].ends_with(']') && is_hms(&lines[1][1..9]), "{stdout}");
    let secs: u64 = lines[2].parse().unwrap_or_else(|_| panic!("%s is seconds since the epoch: {stdout}"));
    assert!(before.parse::<u64>().unwrap() <= secs && secs <= after.parse::<u64>().unwrap(), "{stdout}");
    assert_eq!(&lines[3..], ["", ""], "{stdout}");
}

/// A wildcard attaches every tracepoint it matches, one each: the `Attaching` count is the number of
/// matching lines in available_events (plus the other probes), and the harness sees each attached.
#[test]
fn wildcards_attach_every_match() {
    if skip_without_bpf("wildcards_attach_every_match") {
        return;
    }
    let events = std::fs::read_to_string("/sys/kernel/tracing/available_events").unwrap_or_default();
    let getters = events.lines().filter(|l| l.starts_with("syscalls:sys_enter_get")).count();
    let sched = events.lines().filter(|l| l.starts_with("sched:sched")).count();
    assert!(getters > 10 && sched > 5, "{getters} {sched}");
    let mut workload = Workload::start("getppid 3");
    let script = format!(
        "tracepoint:syscalls:sys_enter_get* /pid == {}/ {{ @[probe] = count(); }} tracepoint:sched:sched* /pid == -1/ {{ @never = count(); }} BEGIN {{ }}",
        workload.pid()
    );
    let expanded = vt_testkit::table::attachments(&script);
    assert_eq!(expanded.len(), getters + sched);
    let mut tracer = Tracer::start(Tool::Vt, &script, &[]);
    tracer.wait_attached(&expanded);
    workload.release_and_wait();
    tracer.signal(libc::SIGINT);
    let run = tracer.finish();
    run.assert_success();
    assert_eq!(run.stderr.lines().next(), Some(format!("Attaching {} probes...", getters + sched + 1).as_str()));
    // A keyless count prints 0 when nothing counted, as in bpftrace.
    assert_eq!(run.stdout, "\n\n@[tracepoint:syscalls:sys_enter_getppid]: 3\n@never: 0\n");
}
