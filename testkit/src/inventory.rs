//! The one BPF object inventory of the tests: what a process holds (from `/proc/PID/fd` and
//! `fdinfo`, and `BPF_TASK_FD_QUERY` for legacy perf event fds), what the kernel has (from
//! `bpftool -j`), which of those are vt's, and which of vt's nobody holds any more (leaks).

use crate::runner::on_path;
use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, Instant};

// ---- what a process holds ---------------------------------------------------------------------------

/// What `attached_tracepoints` reports for a perf link whose tracepoint the kernel does not name.
pub const UNNAMED: &str = "?";
/// What [`attached_tracepoints`] lists for an attached uprobe or uretprobe.
pub const UPROBE: &str = "uprobe";
/// What [`attached_tracepoints`] lists for an attached profile, software or hardware event.
pub const PERF_EVENT: &str = "perf_event";

/// The tracepoints process `pid` has attached a BPF program to, one entry per attachment: BPF perf links
/// (their `/proc/PID/fdinfo` shows `tp_name` on recent kernels, else [`UNNAMED`]) and legacy perf event fds with a program (`BPF_TASK_FD_QUERY`).
pub fn attached_tracepoints(pid: u32) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return out };
    for entry in dir.flatten() {
        let Some(fd) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let Ok(target) = std::fs::read_link(entry.path()) else { continue };
        let target = target.to_string_lossy().into_owned();
        if target.contains("bpf_link") {
            let info = std::fs::read_to_string(format!("/proc/{pid}/fdinfo/{fd}")).unwrap_or_default();
            match fdinfo_field(&info, "tp_name") {
                Some(name) => out.push(name.to_string()),
                // Uprobes and counted perf events (profile, software) are named by their kind.
                None if matches!(fdinfo_field(&info, "event_type"), Some("uprobe" | "uretprobe")) => out.push(UPROBE.into()),
                None if fdinfo_field(&info, "event_type") == Some("event") => out.push(PERF_EVENT.into()),
                // Kernels before 6.x show no tp_name for perf links: count it as some tracepoint.
                None if fdinfo_field(&info, "link_type").is_some_and(|t| t.starts_with("perf")) => out.push(UNNAMED.into()),
                None => {}
            }
        } else if target.contains("perf_event") {
            if let Some(name) = task_fd_query_tracepoint(pid, fd) {
                out.push(name);
            }
        }
    }
    out
}

/// The value of `key:\tvalue` in an fdinfo text.
pub fn fdinfo_field<'a>(info: &'a str, key: &str) -> Option<&'a str> {
    info.lines().find_map(|l| l.strip_prefix(key)?.strip_prefix(':').map(str::trim))
}

/// The tracepoint name behind fd `fd` of process `pid`, if it is a perf event with a BPF program attached.
fn task_fd_query_tracepoint(pid: u32, fd: u32) -> Option<String> {
    const BPF_TASK_FD_QUERY: libc::c_long = 20;
    const BPF_FD_TYPE_TRACEPOINT: u32 = 1;
    let mut name = [0u8; 256];
    // struct { u32 pid, fd, flags, buf_len; u64 buf; u32 prog_id, fd_type; u64 probe_offset, probe_addr; }
    let mut attr = [0u8; 48];
    attr[0..4].copy_from_slice(&pid.to_ne_bytes());
    attr[4..8].copy_from_slice(&fd.to_ne_bytes());
    attr[12..16].copy_from_slice(&(name.len() as u32).to_ne_bytes());
    attr[16..24].copy_from_slice(&(name.as_mut_ptr() as u64).to_ne_bytes());
    // SAFETY: attr is the documented layout; the kernel writes at most buf_len bytes to `name`, which lives
    // until after the call, and writes the outputs back into attr.
    let rc = unsafe { libc::syscall(libc::SYS_bpf, BPF_TASK_FD_QUERY, attr.as_mut_ptr(), attr.len() as libc::c_uint) };
    if rc != 0 {
        // The kernel does not describe perf_event programs, but says that one is attached.
        let attached = std::io::Error::last_os_error().raw_os_error() == Some(libc::EOPNOTSUPP);
        return attached.then(|| PERF_EVENT.to_string());
    }
    let fd_type = u32::from_ne_bytes(attr[28..32].try_into().unwrap());
    const BPF_FD_TYPE_UPROBE: u32 = 4;
    const BPF_FD_TYPE_URETPROBE: u32 = 5;
    if fd_type == BPF_FD_TYPE_UPROBE || fd_type == BPF_FD_TYPE_URETPROBE {
        return Some(UPROBE.into());
    }
    if fd_type != BPF_FD_TYPE_TRACEPOINT {
        return None;
    }
    let len = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    Some(String::from_utf8_lossy(&name[..len]).into_owned())
}

/// The ids of the BPF programs, maps and links process `pid` holds open (from `/proc/PID/fdinfo`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BpfObjects {
    pub progs: Vec<u32>,
    pub maps: Vec<u32>,
    pub links: Vec<u32>,
}

/// The pid of every process, from /proc.
pub fn all_pids() -> Vec<u32> {
    let entries = std::fs::read_dir("/proc").into_iter().flatten().flatten();
    entries.filter_map(|e| e.file_name().to_str()?.parse().ok()).collect()
}

pub fn bpf_objects(pid: u32) -> BpfObjects {
    let mut out = BpfObjects::default();
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return out };
    for entry in dir.flatten() {
        let Ok(target) = std::fs::read_link(entry.path()) else { continue };
        let target = target.to_string_lossy().into_owned();
        let info = std::fs::read_to_string(format!("/proc/{pid}/fdinfo/{}", entry.file_name().to_string_lossy())).unwrap_or_default();
        let id = |key| fdinfo_field(&info, key).and_then(|v| v.parse::<u32>().ok());
        if target.contains("bpf-prog") {
            out.progs.extend(id("prog_id"));
        } else if target.contains("bpf-map") {
            out.maps.extend(id("map_id"));
        } else if target.contains("bpf_link") {
            out.links.extend(id("link_id"));
            out.progs.extend(id("prog_id"));
        }
    }
    for v in [&mut out.progs, &mut out.maps, &mut out.links] {
        v.sort_unstable();
        v.dedup();
    }
    out
}

// ---- what the kernel has (bpftool) --------------------------------------------------------------------

/// A BPF object: `prog`, `map` or `link`, its id and name. Links have no name: `prog <ID>` of their
/// program stands in.
pub type Obj = (&'static str, u32, String);

/// `(id, name)` of every object of `kind` (`prog`, `map`, `link`) in bpftool's JSON list.
pub fn parse_bpftool(kind: &str, json: &str) -> Vec<(u32, String)> {
    let list: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    let mut out = Vec::new();
    for obj in list.as_array().into_iter().flatten() {
        let Some(id) = obj["id"].as_u64().and_then(|id| u32::try_from(id).ok()) else { continue };
        let name = match kind {
            "link" => format!("prog {}", obj["prog_id"].as_u64().unwrap_or(0)),
            _ => obj["name"].as_str().unwrap_or("").to_string(),
        };
        out.push((id, name));
    }
    out
}

/// `bpftool -j KIND list`: (id, name) of every object of that kind in the kernel.
pub fn bpftool_list(kind: &str) -> Vec<(u32, String)> {
    let out = Command::new(on_path("bpftool").expect("bpftool is not on PATH"))
        .args(["-j", kind, "list"])
        .output()
        .expect("cannot run bpftool");
    assert!(out.status.success(), "bpftool -j {kind} list failed: {}", String::from_utf8_lossy(&out.stderr));
    parse_bpftool(kind, &String::from_utf8_lossy(&out.stdout))
}

/// Every program, map and link in the kernel.
pub fn kernel_objects() -> BTreeSet<Obj> {
    let mut all = BTreeSet::new();
    for kind in ["prog", "map", "link"] {
        all.extend(bpftool_list(kind).into_iter().map(|(id, name)| (kind, id, name)));
    }
    all
}

/// Whether a name is one vt gives: programs `vt<N>_...`, maps `vt_...` (`vt_m<N>`, `vt_events`,
/// `vt_lost`, `vt_start`, `vt_scalars`), and its global variables' maps, which aya names after their
/// ELF section (the run switch, `codegen::RUN_SWITCH` = `.bss.vt_run`).
pub fn vt_named(name: &str) -> bool {
    let name = name.strip_prefix(".bss.").unwrap_or(name);
    name.starts_with("vt_") || (name.starts_with("vt") && name[2..].starts_with(|c: char| c.is_ascii_digit()))
}

/// vt's objects among `objects`: its programs and maps by name, and the links of its programs.
pub fn vt_objects(objects: &BTreeSet<Obj>) -> BTreeSet<Obj> {
    let progs: BTreeSet<String> =
        objects.iter().filter(|(k, _, n)| *k == "prog" && vt_named(n)).map(|(_, id, _)| format!("prog {id}")).collect();
    objects
        .iter()
        .filter(|(k, _, n)| if *k == "link" { progs.contains(n) } else { vt_named(n) })
        .cloned()
        .collect()
}

/// Ids of BPF objects some live process holds an fd of (a link's program counts as held), as (kind, id).
pub fn held_objects() -> BTreeSet<(&'static str, u32)> {
    let mut held = BTreeSet::new();
    for pid in all_pids() {
        let o = bpf_objects(pid);
        for (kind, ids) in [("prog", &o.progs), ("map", &o.maps), ("link", &o.links)] {
            held.extend(ids.iter().map(|&id| (kind, id)));
        }
    }
    held
}

/// vt objects created since `before` that no live process holds (those of another vt running on this
/// machine are held by it): after a grace period for the kernel's deferred frees, they are leaks.
pub fn leaked_since(before: &BTreeSet<Obj>, grace: Duration) -> Vec<Obj> {
    let start = Instant::now();
    loop {
        let now = vt_objects(&kernel_objects());
        let held = held_objects();
        let leaked: Vec<Obj> =
            now.difference(before).filter(|(k, id, _)| !held.contains(&(*k, *id))).cloned().collect();
        if leaked.is_empty() || start.elapsed() > grace {
            return leaked;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bpftool_json() {
        let j = r#"[{"id":12,"type":"tracepoint","name":"vt0_sys_enter_g","map_ids":[3],"btf_id":9,"pids":[{"pid":7,"comm":"vt"}]},{"id":13,"type":"kprobe"}]"#;
        assert_eq!(parse_bpftool("prog", j), [(12, "vt0_sys_enter_g".to_string()), (13, String::new())]);
        let links = r#"[{"id":5,"type":"perf_event","prog_id":12},{"id":6,"type":"perf_event","prog_id":14}]"#;
        assert_eq!(parse_bpftool("link", links), [(5, "prog 12".to_string()), (6, "prog 14".to_string())]);
        assert_eq!(parse_bpftool("map", "not json"), []);
    }

    #[test]
    fn reads_fdinfo_fields() {
        let info = "pos:\t0\nlink_type:\tperf\nlink_id:\t347\ntp_name:\tsys_enter_getppid\n";
        assert_eq!(fdinfo_field(info, "tp_name"), Some("sys_enter_getppid"));
        assert_eq!(fdinfo_field(info, "link_id"), Some("347"));
        assert_eq!(fdinfo_field(info, "prog_id"), None);
    }

    #[test]
    fn knows_vt_names() {
        for name in ["vt0_sys_enter_g", "vt12_BEGIN", "vt_m3", "vt_events", ".bss.vt_run"] {
            assert!(vt_named(name), "{name}");
        }
        for name in ["vtx", "bpftrace_map", ".bss", "v", "", ".data.other"] {
            assert!(!vt_named(name), "{name}");
        }
        let objs: BTreeSet<Obj> = [("prog", 1, "vt0_x".to_string()), ("prog", 2, "other".into()), ("link", 3, "prog 1".into()), ("link", 4, "prog 2".into())]
            .into_iter()
            .collect();
        let ids: BTreeSet<u32> = vt_objects(&objs).iter().map(|o| o.1).collect();
        assert_eq!(ids, [1, 3].into());
    }
}
