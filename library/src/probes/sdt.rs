//! SystemTap SDT notes (`.note.stapsdt`), which USDT probes are: where each probe is, its semaphore,
//! and its arguments' `SIZE@LOCATION` specs (x86_64 AT&T operands), decoded into typed locations.
//!
//! A note's descriptor holds three addresses (the probe's pc, the link-time address of the
//! `.stapsdt.base` section, the semaphore's address or 0), then `provider\0name\0args\0`. If the file's
//! `.stapsdt.base` is no longer where the note says (prelink moved it), pc and semaphore move by the
//! same amount.

use super::binary::Binary;
use lang::typed::{IntTy, UsdtArg, UsdtLoc};
use object::{Object, ObjectSection};
use std::path::Path;

/// One probe site of a file.
#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    pub provider: String,
    pub name: String,
    /// File offsets of the instruction and of the semaphore (the kernel's `ref_ctr_offset`).
    pub offset: u64,
    pub semaphore: Option<u64>,
    /// The note's argument text, and what it decodes into.
    pub args_text: String,
    pub args: Vec<UsdtArg>,
}

/// A note as it is in the file: addresses not yet turned into file offsets.
#[derive(Debug, PartialEq)]
struct Note {
    pc: u64,
    base: u64,
    semaphore: u64,
    provider: String,
    name: String,
    args: String,
}

const NT_STAPSDT: u32 = 3;

/// Every probe site of the ELF file at `path`, in the notes' order.
pub fn probes(path: &Path) -> Result<Vec<Probe>, String> {
    let data = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let file = object::File::parse(&*data).map_err(|e| format!("{} is not an ELF file vt can read: {e}", path.display()))?;
    let Some(section) = file.section_by_name(".note.stapsdt") else { return Ok(Vec::new()) };
    let notes = section.data().map(notes).unwrap_or_default();
    let actual_base = file.section_by_name(".stapsdt.base").map(|s| s.address());
    let bin = Binary::read(path)?;
    let mut out = Vec::new();
    for n in notes {
        let shift = |addr: u64| match actual_base {
            Some(actual) if n.base != 0 => addr.wrapping_add(actual).wrapping_sub(n.base),
            _ => addr,
        };
        let Some(offset) = bin.file_offset(shift(n.pc)) else { continue };
        let semaphore = match n.semaphore {
            0 => None,
            s => Some(bin.file_offset(shift(s)).ok_or_else(|| {
                format!("the semaphore of {}:{} at {s:#x} is in no loadable segment of {}", n.provider, n.name, path.display())
            })?),
        };
        let args = n.args.split_whitespace().map(arg).collect();
        out.push(Probe { provider: n.provider, name: n.name, offset, semaphore, args_text: n.args, args });
    }
    Ok(out)
}

/// The stapsdt notes of a note section (64-bit ELF: three 8-byte addresses); others are skipped.
fn notes(data: &[u8]) -> Vec<Note> {
    let u32_at = |i: usize| data.get(i..i + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let pad = |n: usize| n.div_ceil(4) * 4;
    let mut out = Vec::new();
    let mut at = 0;
    while let (Some(namesz), Some(descsz), Some(kind)) = (u32_at(at), u32_at(at + 4), u32_at(at + 8)) {
        let (namesz, descsz) = (namesz as usize, descsz as usize);
        let name_at = at + 12;
        let desc_at = name_at + pad(namesz);
        let Some(desc) = data.get(desc_at..desc_at + descsz) else { break };
        if kind == NT_STAPSDT && data.get(name_at..name_at + namesz) == Some(b"stapsdt\0") {
            if let Some(n) = note(desc) {
                out.push(n);
            }
        }
        at = desc_at + pad(descsz);
    }
    out
}

fn note(desc: &[u8]) -> Option<Note> {
    let u64_at = |i: usize| desc.get(i..i + 8).map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])));
    let mut strings = desc.get(24..)?.split(|&b| b == 0).map(|s| String::from_utf8_lossy(s).into_owned());
    Some(Note {
        pc: u64_at(0)?,
        base: u64_at(8)?,
        semaphore: u64_at(16)?,
        provider: strings.next()?,
        name: strings.next()?,
        args: strings.next().unwrap_or_default(),
    })
}

/// `SIZE@LOCATION`: SIZE is the bytes, negative for a signed value (no size: 8, unsigned).
pub fn arg(spec: &str) -> UsdtArg {
    let (ty, loc) = match spec.split_once('@') {
        Some((size, loc)) => match size.parse::<i32>() {
            Ok(n @ (-8 | -4 | -2 | -1 | 1 | 2 | 4 | 8)) => (IntTy { bits: 8 * n.unsigned_abs() as u8, signed: n < 0 }, loc),
            _ => return UsdtArg { ty: IntTy::U64, loc: UsdtLoc::Unknown(spec.into()) },
        },
        None => (IntTy::U64, spec),
    };
    let unknown = || UsdtLoc::Unknown(spec.to_string());
    let loc = if let Some(v) = loc.strip_prefix('$') {
        number(v).map(UsdtLoc::Const).unwrap_or_else(unknown)
    } else if let Some(r) = loc.strip_prefix('%') {
        register(r).map(|offset| UsdtLoc::Reg { offset }).unwrap_or_else(unknown)
    } else if let Some((disp, rest)) = loc.split_once("(%") {
        // `DISP(%REG)`; base+index forms and symbols (`sym(%rip)`) are not read.
        let disp = if disp.is_empty() { Some(0) } else { number(disp) };
        match (disp, rest.strip_suffix(')').and_then(register)) {
            (Some(disp), Some(offset)) if !rest.contains(',') => UsdtLoc::Mem { offset, disp },
            _ => unknown(),
        }
    } else {
        unknown()
    };
    UsdtArg { ty, loc }
}

fn number(s: &str) -> Option<i64> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    let v = match digits.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok()? as i64,
        None => digits.parse::<u64>().ok()? as i64,
    };
    Some(if neg { v.wrapping_neg() } else { v })
}

/// The offset in x86_64's `struct pt_regs` of a register by any of its names (`rdi`, `edi`, `di`,
/// `dil`, `r8d`, ...): a narrower name reads the same register's low bytes, `%ah`-style one byte in.
fn register(name: &str) -> Option<u32> {
    const LEGACY: [(&str, [&str; 4], &str); 8] = [
        ("ax", ["rax", "eax", "ax", "al"], "ah"),
        ("bx", ["rbx", "ebx", "bx", "bl"], "bh"),
        ("cx", ["rcx", "ecx", "cx", "cl"], "ch"),
        ("dx", ["rdx", "edx", "dx", "dl"], "dh"),
        ("si", ["rsi", "esi", "si", "sil"], ""),
        ("di", ["rdi", "edi", "di", "dil"], ""),
        ("bp", ["rbp", "ebp", "bp", "bpl"], ""),
        ("sp", ["rsp", "esp", "sp", "spl"], ""),
    ];
    let at = crate::functions::reg::offset;
    for (reg, names, high) in LEGACY {
        if names.contains(&name) {
            return at(reg);
        }
        if !high.is_empty() && name == high {
            return at(reg).map(|o| o + 1);
        }
    }
    if name == "rip" {
        return at("ip");
    }
    // r8 … r15 and their r8d, r8w, r8b.
    let base = name.trim_end_matches(['d', 'w', 'b']);
    match base.strip_prefix('r').and_then(|n| n.parse::<u8>().ok()) {
        Some(8..=15) if name.len() - base.len() <= 1 => at(base),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::reg::offset;

    fn loc(spec: &str) -> (IntTy, UsdtLoc) {
        let a = arg(spec);
        (a.ty, a.loc)
    }

    #[test]
    fn argument_specs() {
        let i32 = IntTy { bits: 32, signed: true };
        assert_eq!(loc("-4@%edi"), (i32, UsdtLoc::Reg { offset: offset("di").unwrap() }));
        assert_eq!(loc("8@-16(%rbp)"), (IntTy::U64, UsdtLoc::Mem { offset: offset("bp").unwrap(), disp: -16 }));
        assert_eq!(loc("-4@$5"), (i32, UsdtLoc::Const(5)));
        assert_eq!(loc("8@%rax"), (IntTy::U64, UsdtLoc::Reg { offset: offset("ax").unwrap() }));
        assert_eq!(loc("1@%ah").1, UsdtLoc::Reg { offset: offset("ax").unwrap() + 1 });
        assert_eq!(loc("-2@%r9w"), (IntTy { bits: 16, signed: true }, UsdtLoc::Reg { offset: offset("r9").unwrap() }));
        assert_eq!(loc("8@(%rsp)").1, UsdtLoc::Mem { offset: offset("sp").unwrap(), disp: 0 });
        assert_eq!(loc("8@0x10(%r12)").1, UsdtLoc::Mem { offset: offset("r12").unwrap(), disp: 16 });
        assert_eq!(loc("-8@$-3").1, UsdtLoc::Const(-3));
        for bad in ["8@foo(%rip)", "8@(%rax,%rbx,8)", "3@%rax", "8@%xmm0", "8@%r16", "x"] {
            assert!(matches!(arg(bad).loc, UsdtLoc::Unknown(_)), "{bad}");
        }
    }

    fn note_bytes(pc: u64, base: u64, sem: u64, text: &[u8]) -> Vec<u8> {
        let mut desc = [pc.to_le_bytes(), base.to_le_bytes(), sem.to_le_bytes()].concat();
        desc.extend_from_slice(text);
        let mut out = [8u32.to_le_bytes(), (desc.len() as u32).to_le_bytes(), NT_STAPSDT.to_le_bytes()].concat();
        out.extend_from_slice(b"stapsdt\0");
        out.extend_from_slice(&desc);
        out.resize(out.len().div_ceil(4) * 4, 0);
        out
    }

    #[test]
    fn note_section() {
        let mut data = note_bytes(0x1130, 0x2004, 0, b"vt\0plain\0-4@%edi 8@%rsi\0");
        data.extend(note_bytes(0x1140, 0x2004, 0x4010, b"vt\0guarded\0\0"));
        let n = notes(&data);
        assert_eq!(n.len(), 2);
        assert_eq!((n[0].pc, n[0].name.as_str(), n[0].args.as_str()), (0x1130, "plain", "-4@%edi 8@%rsi"));
        assert_eq!((n[1].semaphore, n[1].provider.as_str(), n[1].args.as_str()), (0x4010, "vt", ""));
        // Truncated or foreign notes give nothing, without panicking.
        assert!(notes(&data[..20]).is_empty());
        assert!(notes(&[0xff; 16]).is_empty());
    }
}
