//! User symbols: a process's file mappings (/proc/PID/maps), and the ELF symbol tables of the files
//! they map (blazesym; a file without symbols is followed to its .gnu_debuglink file).

use blazesym::symbolize::source::{Elf, Source};
use library::printed_symbol as printed;
use blazesym::symbolize::{Input, Reason, Symbolized, Symbolizer};
use std::sync::Arc;

/// One file mapped into a process: its addresses and where they start in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub start: u64,
    pub end: u64,
    pub offset: u64,
    pub path: Arc<str>,
}

/// The file mappings of a process, while it lives.
pub fn read_maps(pid: u32) -> Option<Vec<Mapping>> {
    // An exited process not yet reaped (a zombie) shows no mappings: none known, then.
    Some(parse_maps(&std::fs::read_to_string(format!("/proc/{pid}/maps")).ok()?)).filter(|m| !m.is_empty())
}

/// `START-END PERMS OFFSET DEV INODE PATH` lines; mappings of no file (heap, stack, vdso) are left out.
pub fn parse_maps(text: &str) -> Vec<Mapping> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (start, end) = f.next()?.split_once('-')?;
            let offset = f.nth(1)?;
            let path = f.nth(2)?;
            if !path.starts_with('/') {
                return None;
            }
            Some(Mapping {
                start: u64::from_str_radix(start, 16).ok()?,
                end: u64::from_str_radix(end, 16).ok()?,
                offset: u64::from_str_radix(offset, 16).ok()?,
                path: path.into(),
            })
        })
        .collect()
}

/// The mapping holding `addr`, and `addr` as an offset into its file.
pub fn locate(maps: &[Mapping], addr: u64) -> Option<(&Mapping, u64)> {
    maps.iter().find(|m| m.start <= addr && addr < m.end).map(|m| (m, addr - m.start + m.offset))
}

/// A symbolizer that names functions only (no source lines, no inlined functions), by their symbols:
/// [`symbols`] demangles them as bpftrace 0.17 prints them (blazesym's demangling leaves out a Rust
/// name's hash, which 0.17 keeps).
pub fn symbolizer() -> Symbolizer {
    Symbolizer::builder().enable_code_info(false).enable_inlined_fns(false).enable_demangling(false).build()
}

/// The symbols at `offsets` of the ELF file `path`, and the offsets into them: from the file's symbol
/// table (as bpftrace names frames); only a file stripped of it is read further, through its debug
/// information and .gnu_debuglink file (DWARF of large binaries costs much memory to read).
pub fn symbols(bz: &Symbolizer, path: &str, offsets: &[u64]) -> Vec<Option<(String, u64)>> {
    let run = |debug_syms| {
        let mut elf = Elf::new(path);
        elf.debug_syms = debug_syms;
        bz.symbolize(&Source::Elf(elf), Input::FileOffset(offsets)).unwrap_or_default()
    };
    let mut out: Vec<Option<(String, u64)>> = vec![None; offsets.len()];
    let mut stripped = Vec::new();
    for (i, found) in run(false).into_iter().enumerate().take(offsets.len()) {
        match found {
            Symbolized::Sym(s) => out[i] = Some((printed(&s.name), s.offset as u64)),
            Symbolized::Unknown(Reason::MissingSyms) => stripped.push(i),
            Symbolized::Unknown(_) => {}
        }
    }
    if !stripped.is_empty() {
        for (i, found) in run(true).into_iter().enumerate() {
            if let (true, Symbolized::Sym(s)) = (stripped.contains(&i), found) {
                out[i] = Some((printed(&s.name), s.offset as u64));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_and_offsets() {
        let maps = parse_maps(
            "55d0a000-55d0b000 r--p 00000000 fd:01 12 /tmp/st\n55d0b000-55d0c000 r-xp 00001000 fd:01 12 /tmp/st\n7ffd0000-7ffd1000 rw-p 00000000 00:00 0 [stack]\n",
        );
        assert_eq!(maps.len(), 2);
        let (m, off) = locate(&maps, 0x55d0b178).unwrap();
        assert_eq!((&*m.path, off), ("/tmp/st", 0x1178));
        assert!(locate(&maps, 0x7ffd0010).is_none());
    }
}
