//! The table against the headers installed on this machine (compiled with `cc`) and against the
//! running kernel's task-state letters.

use super::*;
use std::collections::HashMap;

#[test]
fn a_macro_is_defined_only_when_its_header_is_included() {
    define(["<linux/sched.h>", "\"sys/socket.h\"", "<no/such.h>"]);
    assert_eq!((value("TASK_RUNNING"), value("AF_INET6"), value("CLONE_THREAD")), (Some(0), Some(10), Some(0x10000)));
    assert_eq!(value("O_CREAT"), None);
    define(["<fcntl.h>"]);
    assert_eq!((value("O_CREAT"), value("AF_INET"), value("O_LARGEFILE")), (Some(0o100), None, None));
    define(["<linux/fcntl.h>"]);
    assert_eq!(value("O_LARGEFILE"), Some(0o100000));
    define([]);
    assert_eq!(headers_of("AF_INET"), ["sys/socket.h", "linux/socket.h", "net/sock.h", "linux/net.h"]);
    assert_eq!(headers_of("TASK_RUNNING"), ["linux/sched.h"]);
    assert!(headers_of("NOT_A_MACRO").is_empty());
}

/// `name value` for each of `names` as `header` defines it (`name -` where it does not), or None
/// when the header does not compile here (a kernel-internal header, or none installed).
fn compiled(header: &str, names: &[&str], dir: &std::path::Path) -> Option<HashMap<String, Option<i64>>> {
    let mut c = format!("#include <{header}>\n#include <stdio.h>\nint main(void) {{\n");
    for n in names {
        c += &format!("#ifdef {n}\n printf(\"{n} %lld\\n\", (long long)({n}));\n#else\n printf(\"{n} -\\n\");\n#endif\n");
    }
    c += " return 0;\n}\n";
    let stem = header.replace(['/', '.'], "_");
    let (src, exe) = (dir.join(format!("{stem}.c")), dir.join(stem));
    std::fs::write(&src, c).ok()?;
    let built = std::process::Command::new("cc").arg("-o").arg(&exe).arg(&src).output().ok()?;
    if !built.status.success() {
        return None;
    }
    let out = std::process::Command::new(&exe).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    Some(
        text.lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(n, v)| (n.to_string(), v.parse().ok()))
            .collect(),
    )
}

/// The running kernel's task states, from the letters sched_switch prints for `prev_state`.
fn task_states() -> Option<HashMap<&'static str, i64>> {
    let format = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]
        .iter()
        .find_map(|d| std::fs::read_to_string(format!("{d}/events/sched/sched_switch/format")).ok())?;
    let names = [("S", "TASK_INTERRUPTIBLE"), ("D", "TASK_UNINTERRUPTIBLE"), ("T", "__TASK_STOPPED"), ("t", "__TASK_TRACED"),
        ("X", "EXIT_DEAD"), ("Z", "EXIT_ZOMBIE"), ("P", "TASK_PARKED")];
    let mut states = HashMap::new();
    // `{ 0x00000001, "S" }`: a state's bit and its letter; `: "R"` is what is printed for 0.
    for pair in format.split("{ 0x").skip(1) {
        let Some((hex, rest)) = pair.split_once(',') else { continue };
        let letter = rest.trim().trim_start_matches('"').split('"').next().unwrap_or("");
        if let (Ok(v), Some((_, name))) = (i64::from_str_radix(hex.trim(), 16), names.iter().find(|(l, _)| *l == letter)) {
            states.insert(*name, v);
        }
    }
    if format.contains(": \"R\"") {
        states.insert("TASK_RUNNING", 0);
    }
    Some(states)
}

#[test]
fn every_value_is_the_installed_headers_or_the_running_kernels() {
    if std::process::Command::new("cc").arg("--version").output().is_err() {
        eprintln!("skipped: no C compiler to read the installed headers with");
        return;
    }
    let dir = std::env::temp_dir().join(format!("vt-headers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut verified: HashMap<&str, i64> = HashMap::new();
    let mut mismatches = Vec::new();
    for (header, groups) in HEADERS {
        let names: Vec<&str> = groups.iter().flat_map(|g| g.iter().map(|(n, _)| *n)).collect();
        let Some(found) = compiled(header, &names, &dir) else { continue };
        for (name, want) in groups.iter().flat_map(|g| g.iter()) {
            match found.get(*name).copied().flatten() {
                Some(v) if v == *want => {
                    verified.insert(name, v);
                }
                Some(v) => mismatches.push(format!("<{header}> {name}: the table has {want}, the header {v}")),
                // A UAPI header without the kernel-internal part (linux/socket.h, linux/sched.h).
                None => {}
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(mismatches.is_empty(), "{mismatches:#?}");
    let kernel = task_states();
    if let Some(states) = &kernel {
        for (name, v) in TASK_STATES.iter() {
            assert_eq!(states.get(name), Some(v), "{name}: the running kernel's sched_switch format disagrees");
            verified.insert(name, *v);
        }
    }
    let unverified: Vec<&str> =
        all().map(|(_, n, _)| n).filter(|n| !verified.contains_key(n) && (kernel.is_some() || !n.contains("TASK") && !n.starts_with("EXIT_"))).collect();
    assert!(unverified.is_empty(), "no installed header or kernel format confirms: {unverified:?}");
}
