//! The kernel's functions, as kprobes need them: /proc/kallsyms for whether a function exists, how
//! many functions share its name and how long it is (the distance to the next symbol, as the kernel
//! itself measures it), and tracefs' available_filter_functions for what a wildcard may expand to
//! (read only when a spec has a wildcard or `-l` lists: it is large).

use std::collections::HashSet;
use std::path::Path;

/// A function symbol of the kernel or of a module.
#[derive(Clone, Debug)]
pub struct KernelFunction {
    pub name: String,
    pub module: Option<String>,
    /// Bytes to the next symbol; None when /proc/kallsyms hides addresses.
    pub size: Option<u64>,
}

/// The text symbols of /proc/kallsyms (all of them: a wildcard-free spec needs one lookup, but the
/// size needs the next symbol's address).
pub fn kallsyms() -> std::io::Result<Vec<KernelFunction>> {
    parse_kallsyms(&std::fs::read_to_string("/proc/kallsyms")?)
}

fn parse_kallsyms(text: &str) -> std::io::Result<Vec<KernelFunction>> {
    // (address, index into funcs when a text symbol)
    let mut addrs: Vec<(u64, Option<usize>)> = Vec::new();
    let mut funcs = Vec::new();
    let mut hidden = false;
    for line in text.lines() {
        let mut it = line.split_whitespace();
        let (Some(addr), Some(ty), Some(name)) = (it.next(), it.next(), it.next()) else { continue };
        let Ok(addr) = u64::from_str_radix(addr, 16) else { continue };
        let text_sym = matches!(ty, "t" | "T");
        // Per-CPU data sits at 0 even when addresses are shown; hidden ones zero the text symbols too.
        hidden |= text_sym && addr == 0;
        let idx = text_sym.then(|| {
            let module = it.next().map(|m| m.trim_matches(['[', ']']).to_string());
            funcs.push(KernelFunction { name: name.to_string(), module, size: None });
            funcs.len() - 1
        });
        addrs.push((addr, idx));
    }
    if !hidden {
        addrs.sort_by_key(|a| a.0);
        for (i, (addr, idx)) in addrs.iter().enumerate() {
            let Some(idx) = idx else { continue };
            let next = addrs[i + 1..].iter().map(|a| a.0).find(|a| a > addr);
            funcs[*idx].size = next.map(|n| n - addr);
        }
    }
    Ok(funcs)
}

/// The functions kprobes may be placed on by a wildcard: tracefs' available_filter_functions (`NAME`
/// or `NAME [MODULE]`), or /proc/kallsyms' text symbols where tracefs has no such file. Without the
/// `.part.N` pieces of split functions, which cannot be probed by name (bpftrace skips them too). A
/// name the kernel has several functions of appears as often.
pub fn traceable(tracefs_root: &Path) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = match std::fs::read_to_string(tracefs_root.join("available_filter_functions")) {
        Ok(text) => text
            .lines()
            .filter_map(|l| {
                let mut it = l.split_whitespace();
                let name = it.next()?.to_string();
                Some((name, it.next().map(|m| m.trim_matches(['[', ']']).to_string())))
            })
            .collect(),
        // kallsyms also holds the cold halves of split functions and 6.x's padding before each function.
        Err(_) => kallsyms()
            .unwrap_or_default()
            .into_iter()
            .filter(|f| !f.name.ends_with(".cold") && !f.name.starts_with("__pfx_"))
            .map(|f| (f.name, f.module))
            .collect(),
    };
    out.retain(|(n, _)| !n.contains(".part."));
    out
}

/// The kernel's kprobes blacklist (debugfs, when mounted): functions it refuses kprobes on.
pub fn blacklist() -> HashSet<String> {
    let Ok(text) = std::fs::read_to_string("/sys/kernel/debug/kprobes/blacklist") else { return HashSet::new() };
    // `0xSTART-0xEND\tNAME [MODULE]`
    text.lines().filter_map(|l| l.split_whitespace().nth(1).map(str::to_string)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_distances_to_the_next_symbol() {
        let text = "ffffffff81000010 T b\nffffffff81000000 T a\nffffffff81000040 D data\nffffffffc0001000 t h\t[mod]\n";
        let f = parse_kallsyms(text).unwrap();
        let get = |n: &str| f.iter().find(|k| k.name == n).unwrap().clone();
        assert_eq!(get("a").size, Some(0x10));
        assert_eq!(get("b").size, Some(0x30));
        assert_eq!(get("h").module.as_deref(), Some("mod"));
        assert_eq!(get("h").size, None);
        assert!(f.iter().all(|k| k.name != "data"));
    }

    #[test]
    fn hidden_addresses_give_no_sizes() {
        let f = parse_kallsyms("0000000000000000 T a\n0000000000000000 T b\n").unwrap();
        assert!(f.iter().all(|k| k.size.is_none()));
    }

    #[test]
    fn per_cpu_symbols_at_zero_do_not_hide_sizes() {
        // 6.1's kallsyms starts with per-CPU data at 0 while showing every function's address.
        let f = parse_kallsyms("0000000000000000 A fixed_percpu_data\nffffffff81000000 T a\nffffffff81000020 T b\n").unwrap();
        assert_eq!(f.iter().find(|k| k.name == "a").unwrap().size, Some(0x20));
    }
}

/// A kernel-function probe's `FUNCTION` or `MODULE:FUNCTION` (kprobe, fentry and their return forms):
/// the module, if named, and the function; otherwise the error saying how it is written, with `what`
/// naming the probe (`a kprobe`) and `example` a module function (`vhost_net:handle_rx`).
pub fn module_and_function<'a>(
    spec: &'a lang::ast::ProbeSpec,
    kind: &str,
    what: &str,
    example: &str,
) -> Result<(Option<&'a lang::ast::Ident>, &'a lang::ast::Ident), lang::diag::Diagnostic> {
    match spec.parts.as_slice() {
        [func] => Ok((None, func)),
        [module, func] => Ok((Some(module), func)),
        _ => Err(lang::diag::Diagnostic::new(spec.span, format!("{what} is written `{kind}:FUNCTION` or `{kind}:MODULE:FUNCTION`"), "malformed probe")
            .with_help(format!("e.g. `{kind}:vfs_read` or `{kind}:{example}`"))),
    }
}
