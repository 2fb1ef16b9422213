//! `kprobe:FUNC` (`k:`) and `kretprobe:FUNC` (`kr:`): a program on a kernel function, on its first
//! instruction (or `FUNC+OFFSET` within it) or on its return. `kprobe:MODULE:FUNC` names a module's
//! function (`vmlinux` the kernel's own); `*` and `?` in FUNC (or MODULE) match several, one program each,
//! or (where the kernel has kprobe_multi links and the block reads nothing particular to one function,
//! see `Resolve::shared`) one program for all the kernel's own functions matched. Refused: functions the
//! kernel lacks, names several functions share, offsets outside the function, the kernel's kprobes
//! blacklist, and (kretprobe) the spin-lock functions bpftrace refuses because a return probe on them
//! can lock the machine up.

use super::ksyms::{self, KernelFunction};
use lang::ast::ProbeSpec;
use lang::diag::Diagnostic;
use lang::registry::{ProbeKind, Resolve};
use lang::tracefs::{closest, did_you_mean, glob_match, has_wildcard, Tracefs};
use lang::typed::{Attach, Kprobe as Place, Target};

pub struct Kprobe {
    ret: bool,
}

pub static KPROBE: Kprobe = Kprobe { ret: false };
pub static KRETPROBE: Kprobe = Kprobe { ret: true };

/// Functions a kretprobe may not be placed on: its return trampoline takes locks these functions
/// hold or take (bpftrace's list).
const NO_KRETPROBE: &[&str] = &["_raw_spin_lock", "_raw_spin_lock_irqsave", "_raw_spin_unlock_irqrestore", "queued_spin_lock_slowpath"];

/// `0x…` or decimal.
fn number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

impl Kprobe {
    fn kind(&self) -> &'static str {
        if self.ret {
            "kretprobe"
        } else {
            "kprobe"
        }
    }

    fn attach(&self, func: &str, module: Option<&str>, offset: u64) -> Attach {
        let kind = self.kind();
        let place = Place { func: func.into(), module: module.map(Into::into), offset, ret: self.ret, multi: Vec::new() };
        let off = if offset > 0 { format!("+{offset}") } else { String::new() };
        Attach {
            probe: format!("{kind}:{}{off}", place.symbol()),
            tag: func.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').collect(),
            target: Target::Kprobe(place),
            args: None,
        }
    }

    /// Refusals that hold for any function, wildcard or not: the banned list and the blacklist.
    fn refused(&self, name: &str, blacklist: &std::collections::HashSet<String>) -> Option<String> {
        if self.ret && NO_KRETPROBE.contains(&name) {
            return Some(format!("kretprobe:{name} can't be used: it might lock up the system"));
        }
        blacklist.contains(name).then(|| format!("the kernel refuses kprobes on `{name}` (it is on its kprobes blacklist)"))
    }
}

impl ProbeKind for Kprobe {
    fn names(&self) -> &'static [&'static str] {
        if self.ret {
            &["kretprobe", "kr"]
        } else {
            &["kprobe", "k"]
        }
    }

    fn resolve(&self, spec: &ProbeSpec, cx: &mut Resolve) -> Result<Vec<Attach>, Diagnostic> {
        let kind = self.kind();
        let (module, func) = super::ksyms::module_and_function(spec, kind, &format!("a {kind}"), "vhost_net:handle_rx")?;
        let (name, offset) = match func.name.split_once('+') {
            None => (func.name.as_str(), None),
            Some((name, off)) => {
                let Some(offset) = number(off).filter(|_| !off.contains('+')) else {
                    return Err(Diagnostic::new(func.span, format!("`{off}` is not an offset"), "malformed offset")
                        .with_help(format!("e.g. `kprobe:{name}+0x10`")));
                };
                if self.ret {
                    return Err(Diagnostic::new(func.span, "a kretprobe takes no offset", "offset on a return probe")
                        .with_help(format!("a kretprobe fires where the function returns; `kprobe:{func}` places one inside it", func = func.name)));
                }
                if has_wildcard(name) {
                    return Err(Diagnostic::new(func.span, "an offset needs one function, not a wildcard", "wildcard with an offset"));
                }
                (name, Some(offset))
            }
        };
        let module_name = module.map(|m| m.name.as_str());
        let blacklist = ksyms::blacklist();
        if has_wildcard(name) || module_name.is_some_and(has_wildcard) {
            return self.expand(spec, module_name, name, cx, &blacklist);
        }
        // bpftrace refuses these by name, whether or not this kernel has them (6.1 has only its pv_ and
        // native_ variants of queued_spin_lock_slowpath).
        if self.ret && NO_KRETPROBE.contains(&name) {
            return Err(Diagnostic::new(func.span, format!("kretprobe:{name} can't be used: it might lock up the system"), "refused"));
        }
        let all = ksyms::kallsyms().map_err(|e| Diagnostic::new(func.span, format!("cannot read /proc/kallsyms: {e}"), "cannot look it up"))?;
        // `vmlinux` names the kernel itself, whose functions kallsyms lists without a module.
        let in_module = |f: &KernelFunction| match module_name {
            None => true,
            Some("vmlinux") => f.module.is_none(),
            Some(m) => f.module.as_deref() == Some(m),
        };
        let found: Vec<&KernelFunction> = all.iter().filter(|f| f.name == name && in_module(f)).collect();
        let shown = match module_name {
            Some(m) => format!("{m}:{name}"),
            None => name.to_string(),
        };
        let Some(first) = found.first() else {
            let mut candidates: Vec<&str> = all.iter().filter(|f| in_module(f)).map(|f| f.name.as_str()).collect();
            candidates.sort_unstable();
            candidates.dedup();
            let hint = did_you_mean(&closest(name, candidates)).unwrap_or_else(|| format!("`vt -l '{kind}:*'` lists the kernel's functions"));
            let what = match module_name {
                Some(m) if m != "vmlinux" && !all.iter().any(|f| f.module.as_deref() == Some(m)) => format!("no module `{m}` is loaded"),
                Some(m) => format!("module {m} has no function `{name}`"),
                None => format!("the kernel has no function `{name}`"),
            };
            let (at, label) = match module {
                Some(m) if m.name != "vmlinux" && !all.iter().any(|f| f.module.as_deref() == Some(m.name.as_str())) => (m.span, "no such module"),
                _ => (func.span, "no such function"),
            };
            return Err(Diagnostic::new(at, what, label).with_help(hint));
        };
        if found.len() > 1 {
            let where_: Vec<String> = found.iter().map(|f| f.module.clone().unwrap_or_else(|| "vmlinux".into())).collect();
            return Err(Diagnostic::new(func.span, format!("{} kernel functions are named `{shown}` ({})", found.len(), where_.join(", ")), "ambiguous")
                .with_help("the kernel cannot tell which one to probe"));
        }
        if let Some(msg) = self.refused(name, &blacklist) {
            return Err(Diagnostic::new(func.span, msg, "refused"));
        }
        let offset = offset.unwrap_or(0);
        if offset > 0 {
            match first.size {
                Some(size) if offset >= size => {
                    return Err(Diagnostic::new(
                        func.span,
                        format!("offset {offset:#x} is outside `{shown}`, which is {size} bytes long"),
                        "outside the function",
                    ))
                }
                Some(_) => {}
                None => {
                    return Err(Diagnostic::new(func.span, "cannot check the offset: /proc/kallsyms hides the kernel's addresses", "unchecked offset")
                        .with_help("run as root (kernel.kptr_restrict allows root to see them)"))
                }
            }
        }
        Ok(vec![self.attach(name, module_name.filter(|m| *m != "vmlinux"), offset)])
    }

    fn list(&self, tracefs: &Tracefs, pattern: &str) -> Vec<String> {
        // Only patterns that can name this kind read the (large) function list.
        let head = pattern.split(':').next().unwrap_or("");
        if !self.names().iter().any(|n| glob_match(head, n)) {
            return Vec::new();
        }
        // A kernel without kprobes (no perf PMU, no kprobe_events) has none to list, as bpftrace lists none.
        if !std::path::Path::new("/sys/bus/event_source/devices/kprobe").exists() && !tracefs.root().join("kprobe_events").exists() {
            return Vec::new();
        }
        let kind = self.kind();
        let mut seen = std::collections::HashSet::new();
        ksyms::traceable(tracefs.root())
            .into_iter()
            .filter(|f| seen.insert(f.clone()))
            .map(|(f, m)| match m {
                Some(m) => format!("{kind}:{m}:{f}"),
                None => format!("{kind}:{f}"),
            })
            .collect()
    }
}

impl Kprobe {
    /// A wildcard: every traceable function matching it, but for the refused ones and names several
    /// functions share (the kernel cannot attach those by name), as bpftrace skips what it can't place.
    fn expand(&self, spec: &ProbeSpec, module: Option<&str>, name: &str, cx: &mut Resolve, blacklist: &std::collections::HashSet<String>) -> Result<Vec<Attach>, Diagnostic> {
        let funcs = ksyms::traceable(cx.tracefs.root());
        let mut count = std::collections::HashMap::<&str, usize>::new();
        for (f, _) in &funcs {
            *count.entry(f.as_str()).or_default() += 1;
        }
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        // Whether each match is a module's function.
        let mut in_module = Vec::new();
        for (f, m) in &funcs {
            let module_ok = match module {
                None => true,
                Some(p) => glob_match(p, m.as_deref().unwrap_or("vmlinux")),
            };
            if !module_ok || !glob_match(name, f) || count[f.as_str()] > 1 || self.refused(f, blacklist).is_some() || !seen.insert(f) {
                continue;
            }
            out.push(self.attach(f, module.and(m.as_deref()), 0));
            in_module.push(m.is_some());
        }
        if cx.shared {
            out = self.share(spec, out, &in_module);
        }
        if out.is_empty() {
            return Err(Diagnostic::new(spec.span, format!("no kernel function matches `{}`", spec.text()), "no match")
                .with_help(format!("`vt -l '{}:*'` lists the kernel's functions", self.kind())));
        }
        Ok(out)
    }
}

impl Kprobe {
    /// A wildcard's matches as one program on a kprobe_multi link, named after the wildcard
    /// (`kprobe:vfs_*`), when all are the kernel's own functions: the kernel before 6.3 finds only
    /// those by name for such a link, and a block's programs must agree on what `func` is (an
    /// address in the shared one, a name in one function's). Fewer than two: nothing to share.
    fn share(&self, spec: &ProbeSpec, own: Vec<Attach>, in_module: &[bool]) -> Vec<Attach> {
        if own.len() < 2 || in_module.iter().any(|m| *m) {
            return own;
        }
        let multi: Vec<String> = own.iter().filter_map(|a| match &a.target {
            Target::Kprobe(k) => Some(k.func.clone()),
            _ => None,
        }).collect();
        let pattern = spec.parts.last().map_or(String::new(), |p| p.name.clone());
        let place = Place { func: pattern.clone(), module: None, offset: 0, ret: self.ret, multi };
        let shared = Attach {
            probe: format!("{}:{}", self.kind(), spec.parts.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(":")),
            tag: pattern.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').collect(),
            target: Target::Kprobe(place),
            args: None,
        };
        vec![shared]
    }
}
