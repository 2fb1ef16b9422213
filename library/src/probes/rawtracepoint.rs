//! `rawtracepoint:[MODULE:]NAME` (`rt:`): a raw tracepoint program on a kernel tracepoint, whose
//! `arg0…` are the tracepoint's own arguments (the context is an array of u64), before any trace
//! event formats them. The names are those the kernel's BTF declares as `btf_trace_NAME` (vmlinux's,
//! or a module's); wildcards `*` `?` match several.

use lang::ast::ProbeSpec;
use lang::diag::Diagnostic;
use lang::registry::{ProbeKind, Resolve};
use lang::tracefs::{closest, did_you_mean, glob_match, has_wildcard, Tracefs};
use lang::typed::{Attach, Target};
use std::path::Path;

pub struct RawTracepoint;

const BTF_DIR: &str = "/sys/kernel/btf";

/// The raw tracepoints a BTF file declares: its strings `btf_trace_NAME`, sorted.
fn declared(path: &Path) -> Vec<String> {
    let Ok(data) = std::fs::read(path) else { return Vec::new() };
    let u32_at = |i: usize| data.get(i..i + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
    // The header: magic 0xeb9f, version, flags, hdr_len, type_off, type_len, str_off, str_len.
    let (Some(hdr), Some(str_off), Some(str_len)) = (u32_at(4), u32_at(16), u32_at(20)) else { return Vec::new() };
    if data.get(0..2) != Some(&[0x9f, 0xeb]) {
        return Vec::new();
    }
    let Some(strings) = data.get(hdr + str_off..hdr + str_off + str_len) else { return Vec::new() };
    let mut names: Vec<String> = strings
        .split(|&b| b == 0)
        .filter_map(|s| s.strip_prefix(b"btf_trace_"))
        .filter_map(|s| std::str::from_utf8(s).ok().map(str::to_string))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// `(module, names)` of vmlinux then of each module matching `module` (vmlinux alone when None).
fn tracepoints(module: Option<&str>) -> Vec<(String, Vec<String>)> {
    let mut mods: Vec<String> = match module {
        None => vec!["vmlinux".into()],
        Some(m) if !has_wildcard(m) => vec![m.to_string()],
        Some(m) => std::fs::read_dir(BTF_DIR)
            .map(|d| d.flatten().filter_map(|e| e.file_name().into_string().ok()).filter(|n| glob_match(m, n)).collect())
            .unwrap_or_default(),
    };
    mods.sort();
    mods.into_iter().map(|m| (m.clone(), declared(&Path::new(BTF_DIR).join(&m)))).filter(|(_, n)| !n.is_empty()).collect()
}

impl ProbeKind for RawTracepoint {
    fn names(&self) -> &'static [&'static str] {
        &["rawtracepoint", "rt"]
    }

    fn resolve(&self, spec: &ProbeSpec, _: &mut Resolve) -> Result<Vec<Attach>, Diagnostic> {
        let (module, name) = match spec.parts.as_slice() {
            [n] => (None, n),
            [m, n] => (Some(m), n),
            _ => {
                return Err(Diagnostic::new(spec.span, "a raw tracepoint is written `rawtracepoint:NAME`", "malformed probe")
                    .with_help("e.g. `rawtracepoint:sched_switch` or `rawtracepoint:vmlinux:sys_enter`"))
            }
        };
        let known = tracepoints(module.map(|m| m.name.as_str()));
        if known.is_empty() {
            let (span, what) = match module {
                Some(m) => (m.span, format!("no module `{}` with BTF in {BTF_DIR}", m.name)),
                None => (spec.span, format!("cannot read the kernel's raw tracepoints from {BTF_DIR}/vmlinux (no BTF)")),
            };
            return Err(Diagnostic::new(span, what, "cannot resolve this probe"));
        }
        let mut attaches = Vec::new();
        for (m, names) in &known {
            for n in names.iter().filter(|n| glob_match(&name.name, n)) {
                let probe = match module {
                    Some(_) => format!("rawtracepoint:{m}:{n}"),
                    None => format!("rawtracepoint:{n}"),
                };
                attaches.push(Attach { probe, tag: n.clone(), target: Target::RawTracepoint { name: n.clone() }, args: None });
            }
        }
        if attaches.is_empty() {
            let all = known.iter().flat_map(|(_, n)| n.iter().map(String::as_str));
            let help = did_you_mean(&closest(&name.name, all)).unwrap_or_else(|| "`vt -l 'rawtracepoint:*'` lists them".into());
            return Err(Diagnostic::new(name.span, format!("unknown raw tracepoint `{}`", name.name), "no such raw tracepoint")
                .with_help(help));
        }
        Ok(attaches)
    }

    fn list(&self, _: &Tracefs, _: &str) -> Vec<String> {
        tracepoints(None).into_iter().flat_map(|(_, names)| names).map(|n| format!("rawtracepoint:{n}")).collect()
    }
}
