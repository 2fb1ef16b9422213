//! The user-space files uprobes attach to: finding a program or library by name as bpftrace does
//! (`bash` on `$PATH`, `libc` through `-p PID`'s mappings or the linker's cache), and reading an ELF
//! file's function symbols and the file offsets the kernel's uprobes take.

use object::{Object, ObjectSegment, ObjectSymbol, SymbolKind};
use std::path::{Path, PathBuf};

/// A function of an ELF file: its name, virtual address and size.
#[derive(Clone, Debug)]
pub struct Function {
    pub name: String,
    pub addr: u64,
    pub size: u64,
}

/// An ELF file's functions (symbol table and dynamic symbols, each name once) and its loadable
/// segments (to turn addresses into file offsets).
pub struct Binary {
    pub functions: Vec<Function>,
    /// `(vaddr, memsz, file offset)` of each PT_LOAD segment.
    segments: Vec<(u64, u64, u64)>,
}

impl Binary {
    pub fn read(path: &Path) -> Result<Binary, String> {
        let data = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let file = object::File::parse(&*data).map_err(|e| format!("{} is not an ELF file vt can read: {e}", path.display()))?;
        let mut functions: Vec<Function> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for sym in file.symbols().chain(file.dynamic_symbols()) {
            if sym.kind() != SymbolKind::Text || sym.is_undefined() || sym.address() == 0 {
                continue;
            }
            let Ok(name) = sym.name() else { continue };
            if name.is_empty() || !seen.insert(name.to_string()) {
                continue;
            }
            functions.push(Function { name: name.to_string(), addr: sym.address(), size: sym.size() });
        }
        functions.sort_by(|a, b| a.name.cmp(&b.name));
        let segments = file.segments().map(|s| (s.address(), s.size(), s.file_range().0)).collect();
        Ok(Binary { functions, segments })
    }

    /// The function of symbol `name`, or else the one whose demangled name (without its parameter
    /// list) is `name`, as bpftrace finds `uprobe:BIN:"ns::foo"`.
    pub fn function(&self, name: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.name == name).or_else(|| {
            self.functions.iter().find(|f| demangled(&f.name).is_some_and(|d| d == name || without_params(&d) == name))
        })
    }

    /// The functions whose symbol, or demangled name (with or without its parameter list), the
    /// wildcard pattern matches.
    pub fn matching<'a>(&'a self, pattern: &'a str, matches: impl Fn(&str, &str) -> bool + 'a) -> impl Iterator<Item = &'a Function> + 'a {
        self.functions.iter().filter(move |f| {
            matches(pattern, &f.name) || demangled(&f.name).is_some_and(|d| matches(pattern, &d) || matches(pattern, without_params(&d)))
        })
    }

    /// The function whose bytes hold `addr`.
    pub fn function_at(&self, addr: u64) -> Option<&Function> {
        self.functions.iter().find(|f| addr >= f.addr && addr < f.addr + f.size.max(1))
    }

    /// The file offset of virtual address `addr` (what a uprobe is given).
    pub fn file_offset(&self, addr: u64) -> Option<u64> {
        self.segments.iter().find(|(va, size, _)| addr >= *va && addr < va + size).map(|(va, _, off)| addr - va + off)
    }
}

/// A C++ or Rust symbol's demangled name (Rust's without its hash); None for other names.
pub fn demangled(name: &str) -> Option<String> {
    if let Ok(d) = rustc_demangle::try_demangle(name) {
        return Some(format!("{d:#}"));
    }
    if !name.starts_with("_Z") {
        return None;
    }
    cpp_demangle::Symbol::new(name).ok()?.demangle().ok()
}

/// A function's symbol as bpftrace 0.17 prints it (`func`, `usym`, `ustack`): a `_Z` name demangled as
/// the Itanium C++ ABI reads it, as its `__cxa_demangle` does (`ns::foo(int)`; a Rust legacy name keeps
/// its hash and its `$u7b$` escapes: `std::rt::lang_start::h4eb51778909a5eb7`), any other name as it is
/// (a Rust v0 `_R` name too: 0.17 leaves it mangled).
pub fn printed(name: &str) -> String {
    if !name.starts_with("_Z") {
        return name.to_string();
    }
    cpp_demangle::Symbol::new(name).ok().and_then(|s| s.demangle().ok()).unwrap_or_else(|| name.to_string())
}

/// `ns::foo(int)` without its parameter list: `ns::foo`.
fn without_params(d: &str) -> &str {
    d.split_once('(').map_or(d, |(head, _)| head)
}

/// The file a `-l` pattern of a kind named `names` lists (`uprobe:/bin/bash:*`): its name as the
/// pattern wrote it and its path. None where the pattern names no single file.
pub fn listed_file<'a>(names: &[&str], pattern: &'a str) -> Option<(&'a str, PathBuf)> {
    let rest = names.iter().find_map(|n| pattern.strip_prefix(n).and_then(|r| r.strip_prefix(':')))?;
    let (file, _) = rest.split_once(':')?;
    if lang::tracefs::has_wildcard(file) {
        return None;
    }
    Some((file, resolve(file, None).ok()?))
}

/// The file a uprobe's target names: a path as given; else, as bpftrace: a program on `$PATH`, then a
/// library (`libc`) among `pid`'s mappings or in the linker's cache.
pub fn resolve(target: &str, pid: Option<u32>) -> Result<PathBuf, String> {
    if target.contains('/') {
        let path = PathBuf::from(target);
        return match path.is_file() {
            true => Ok(path),
            false => Err(format!("uprobe target file `{target}` does not exist")),
        };
    }
    let on_path = std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into());
    for dir in on_path.split(':').filter(|d| !d.is_empty()) {
        let path = Path::new(dir).join(target);
        if is_executable(&path) {
            return Ok(path);
        }
    }
    if let Some(pid) = pid {
        if let Some(path) = mapped_library(target, pid) {
            return Ok(path);
        }
    }
    cached_library(target).ok_or_else(|| match pid {
        Some(pid) => format!("`{target}` is neither a program on $PATH nor a library of process {pid} or of the linker's cache"),
        None => format!("`{target}` is neither a program on $PATH nor a library of the linker's cache"),
    })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Whether a library file's name is the library `name` names: `libc` is `libc.so`, `libc.so.6`, ...
fn is_library(name: &str, file: &str) -> bool {
    file.strip_prefix(name).is_some_and(|rest| rest == ".so" || rest.starts_with(".so.") || rest.starts_with('-'))
        && name.starts_with("lib")
}

/// The library `name` as process `pid` maps it (seen through the process's root).
fn mapped_library(name: &str, pid: u32) -> Option<PathBuf> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).ok()?;
    let path = maps.lines().filter_map(|l| l.split_whitespace().nth(5)).find(|p| {
        let file = p.rsplit('/').next().unwrap_or(p);
        p.starts_with('/') && is_library(name, file)
    })?;
    let inside = PathBuf::from(format!("/proc/{pid}/root{path}"));
    Some(if Path::new(path).is_file() { PathBuf::from(path) } else { inside })
}

/// The library `name` in `/etc/ld.so.cache` (the format glibc writes, `glibc-ld.so.cache1.1`), else
/// in the usual directories.
fn cached_library(name: &str) -> Option<PathBuf> {
    let from_cache = std::fs::read("/etc/ld.so.cache").ok().and_then(|data| {
        ld_so_cache(&data).into_iter().find(|(soname, _)| is_library(name, soname)).map(|(_, path)| PathBuf::from(path))
    });
    from_cache.or_else(|| {
        let dirs = ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"];
        dirs.iter().find_map(|d| {
            let mut files: Vec<_> = std::fs::read_dir(d).ok()?.flatten().map(|e| e.path()).collect();
            files.sort();
            files.into_iter().find(|p| p.file_name().and_then(|f| f.to_str()).is_some_and(|f| is_library(name, f)))
        })
    })
}

/// `(soname, path)` of each entry of an ld.so.cache in the new format: a 48-byte header (magic,
/// entry count, string table size, ...), then 24-byte entries whose key and value are offsets of
/// NUL-terminated strings from the start of the file.
fn ld_so_cache(data: &[u8]) -> Vec<(String, String)> {
    const MAGIC: &[u8] = b"glibc-ld.so.cache1.1";
    // The new format may follow an old-format cache ("ld.so-1.7.0", 12-byte entries).
    let start = match data.windows(MAGIC.len()).position(|w| w == MAGIC) {
        Some(i) => i,
        None => return Vec::new(),
    };
    let u32_at = |i: usize| data.get(i..i + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let string = |off: u32| {
        let off = off as usize;
        let s = data.get(off..)?;
        let end = s.iter().position(|&b| b == 0)?;
        std::str::from_utf8(&s[..end]).ok().map(str::to_string)
    };
    let Some(count) = u32_at(start + MAGIC.len()) else { return Vec::new() };
    let mut out = Vec::new();
    for i in 0..count as usize {
        let entry = start + 48 + i * 24;
        let (Some(key), Some(value)) = (u32_at(entry + 4), u32_at(entry + 8)) else { break };
        if let (Some(k), Some(v)) = (string(key), string(value)) {
            out.push((k, v));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_names() {
        assert!(is_library("libc", "libc.so.6"));
        assert!(is_library("libc", "libc.so"));
        assert!(!is_library("libc", "libcrypt.so.1"));
        assert!(!is_library("c", "c.so"));
        assert!(is_library("libpthread", "libpthread-2.31.so"));
    }

    #[test]
    fn demangled_names() {
        assert_eq!(demangled("_ZN2ns3fooEi").as_deref(), Some("ns::foo(int)"));
        assert_eq!(without_params("ns::foo(int)"), "ns::foo");
        // Rust's legacy mangling, its hash left out; and v0.
        assert_eq!(demangled("_ZN4core3fmt5write17h0123456789abcdefE").as_deref(), Some("core::fmt::write"));
        assert_eq!(demangled("_RNvCs1234_7mycrate3foo").as_deref(), Some("mycrate::foo"));
        assert_eq!(demangled("readline"), None);
        assert_eq!(demangled("_Zgarbage"), None);
    }

    #[test]
    fn printed_names_as_bpftrace_017() {
        // What __cxa_demangle gives for each (bpftrace 0.17 prints that).
        assert_eq!(printed("_ZN2ns3fooEi"), "ns::foo(int)");
        assert_eq!(printed("_ZN2ns7Counter4bumpEv"), "ns::Counter::bump()");
        assert_eq!(printed("_ZN3std2rt10lang_start17h4eb51778909a5eb7E"), "std::rt::lang_start::h4eb51778909a5eb7");
        assert_eq!(
            printed("_ZN10vt_testkit7actions3num28_$u7b$$u7b$closure$u7d$$u7d$17h070518718693fe69E"),
            "vt_testkit::actions::num::_$u7b$$u7b$closure$u7d$$u7d$::h070518718693fe69"
        );
        assert_eq!(printed("_RNvCs1234_7mycrate3foo"), "_RNvCs1234_7mycrate3foo");
        assert_eq!(printed("_Zgarbage"), "_Zgarbage");
        assert_eq!(printed("main"), "main");
    }

    #[test]
    fn malformed_caches_give_nothing() {
        assert!(ld_so_cache(b"").is_empty());
        assert!(ld_so_cache(b"glibc-ld.so.cache1.1\xff\xff\xff\xff").is_empty());
    }
}
