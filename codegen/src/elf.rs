//! The ELF writer: a relocatable BPF object with a `license` section, a legacy `maps` section (one
//! `struct bpf_map_def` symbol per map), one executable section per program with its `STT_FUNC` symbol,
//! the run switch as a `.bss` section of its own (`RUN_SWITCH`), and `R_BPF_64_64` relocations on the
//! `ld_imm64` of each map reference. Programs that pass callbacks to helpers (`for` over a map) put
//! them in `.text`, one `STT_FUNC` each, with an `R_BPF_64_64` relocation on the `ld_imm64` of each
//! callback's address; such an object also carries `.BTF` and `.BTF.ext` (`btf.rs`), since the kernel
//! takes callbacks only from programs loaded with BTF function info.

use crate::{Object, RUN_SWITCH};
use object::write::{Object as ElfObject, Relocation, Symbol, SymbolId, SymbolSection};
use object::{Architecture, BinaryFormat, Endianness, RelocationFlags, SectionKind, SymbolFlags, SymbolKind, SymbolScope};
use std::fmt;

const R_BPF_64_64: u32 = 1;

/// Why an `Object` has no ELF form. `compile` never builds such an object; a damaged `.vto` header may
/// hold one.
#[derive(Debug)]
pub enum ElfError {
    /// A program's map reference names no map of the object.
    UnknownMap { program: String, map: usize },
    /// A program's map reference names a map kept inside another map's value, which has no ELF symbol.
    MapWithin { program: String, map: usize },
    /// A map reference at an instruction whose `ld_imm64` does not fit inside the program.
    RelocOutside { program: String, insn: usize },
    /// A program's callback reference names no callback of the program.
    UnknownCallback { program: String, func: usize },
    /// The `object` crate refused a relocation or the file.
    Write(object::write::Error),
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElfError::UnknownMap { program, map } => write!(f, "program {program} references map {map}, which does not exist"),
            ElfError::MapWithin { program, map } => {
                write!(f, "program {program} references map {map}, which lives inside another map's value")
            }
            ElfError::RelocOutside { program, insn } => {
                write!(f, "program {program} has a map reference at instruction {insn}, past its end")
            }
            ElfError::UnknownCallback { program, func } => write!(f, "program {program} references callback {func}, which does not exist"),
            ElfError::Write(e) => write!(f, "cannot write the ELF object: {e}"),
        }
    }
}

impl std::error::Error for ElfError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ElfError::Write(e) => Some(e),
            _ => None,
        }
    }
}

pub fn write(obj: &Object) -> Result<Vec<u8>, ElfError> {
    let mut elf = ElfObject::new(BinaryFormat::Elf, Architecture::Bpf, Endianness::Little);

    let license = elf.add_section(Vec::new(), b"license".to_vec(), SectionKind::Data);
    elf.append_section_data(license, b"GPL\0", 1);

    let maps_section = elf.add_section(Vec::new(), b"maps".to_vec(), SectionKind::Data);
    // Maps kept inside another map's value (`MapSpec::within`) are not kernel maps.
    let map_symbols: Vec<Option<SymbolId>> = obj
        .maps
        .iter()
        .enumerate()
        .map(|(i, m)| {
            if m.within.is_some() {
                return None;
            }
            if i == obj.internal.run {
                let bss = elf.add_section(Vec::new(), RUN_SWITCH.as_bytes().to_vec(), SectionKind::UninitializedData);
                let offset = elf.append_section_bss(bss, m.value_size as u64, 4);
                return Some(add_symbol(&mut elf, bss, RUN_SWITCH, offset, m.value_size as u64, SymbolKind::Data));
            }
            let mut def = Vec::with_capacity(20);
            for field in [m.map_type, m.key_size, m.value_size, m.max_entries, 0] {
                def.extend_from_slice(&field.to_le_bytes());
            }
            Some(add_data(&mut elf, maps_section, &m.symbol, &def, 4, SymbolKind::Data).0)
        })
        .collect();

    let with_callbacks = obj.programs.iter().any(|p| !p.code.callbacks.is_empty());
    let text = with_callbacks.then(|| elf.add_section(Vec::new(), b".text".to_vec(), SectionKind::Text));
    // For the BTF: (section, name, byte offset, callback) of each function.
    let mut funcs: Vec<(String, String, u32, bool)> = Vec::new();
    for p in &obj.programs {
        let section = elf.add_section(Vec::new(), p.section.as_bytes().to_vec(), SectionKind::Text);
        let bytes: Vec<u8> = p.code.words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let (_, offset) = add_data(&mut elf, section, &p.symbol, &bytes, 8, SymbolKind::Text);
        // One function record per section name: aya hands a section's records to every program in a
        // section of that name (the same tracepoint probed twice), each needs exactly one at its start.
        if !funcs.iter().any(|f| f.0 == p.section) {
            funcs.push((p.section.clone(), p.symbol.clone(), 0, false));
        }
        let mut callback_symbols = Vec::new();
        for (j, cb) in p.code.callbacks.iter().enumerate() {
            let Some(text) = text else { break };
            let name = format!("{}_cb{j}", p.symbol);
            let bytes: Vec<u8> = cb.words.iter().flat_map(|w| w.to_le_bytes()).collect();
            let (symbol, at) = add_data(&mut elf, text, &name, &bytes, 8, SymbolKind::Text);
            map_relocations(&mut elf, text, at, &cb.relocs, cb.words.len(), &map_symbols, &name)?;
            funcs.push((".text".into(), name, at as u32, true));
            callback_symbols.push(symbol);
        }
        for f in &p.code.funcs {
            let Some(&symbol) = callback_symbols.get(f.func) else {
                return Err(ElfError::UnknownCallback { program: p.symbol.clone(), func: f.func });
            };
            if f.insn + 1 >= p.code.words.len() {
                return Err(ElfError::RelocOutside { program: p.symbol.clone(), insn: f.insn });
            }
            let flags = RelocationFlags::Elf { r_type: R_BPF_64_64 };
            let reloc = Relocation { offset: offset + f.insn as u64 * 8, symbol, addend: 0, flags };
            elf.add_relocation(section, reloc).map_err(ElfError::Write)?;
        }
        map_relocations(&mut elf, section, offset, &p.code.relocs, p.code.words.len(), &map_symbols, &p.symbol)?;
    }
    if with_callbacks {
        let list: Vec<crate::btf::Func> = funcs
            .iter()
            .map(|(section, name, offset, callback)| crate::btf::Func { section, name, offset: *offset, callback: *callback })
            .collect();
        let (btf, ext) = crate::btf::sections(&list);
        let s = elf.add_section(Vec::new(), b".BTF".to_vec(), SectionKind::Metadata);
        elf.append_section_data(s, &btf, 4);
        let s = elf.add_section(Vec::new(), b".BTF.ext".to_vec(), SectionKind::Metadata);
        elf.append_section_data(s, &ext, 4);
    }
    elf.write().map_err(ElfError::Write)
}

/// `R_BPF_64_64` relocations for the map references of code at `offset` of `section`.
fn map_relocations(
    elf: &mut ElfObject<'_>,
    section: object::write::SectionId,
    offset: u64,
    relocs: &[crate::asm::MapReloc],
    len: usize,
    map_symbols: &[Option<SymbolId>],
    program: &str,
) -> Result<(), ElfError> {
    for r in relocs {
        let symbol = match map_symbols.get(r.map) {
            Some(Some(symbol)) => *symbol,
            Some(None) => return Err(ElfError::MapWithin { program: program.to_string(), map: r.map }),
            None => return Err(ElfError::UnknownMap { program: program.to_string(), map: r.map }),
        };
        if r.insn + 1 >= len {
            return Err(ElfError::RelocOutside { program: program.to_string(), insn: r.insn });
        }
        let flags = RelocationFlags::Elf { r_type: R_BPF_64_64 };
        let reloc = Relocation { offset: offset + r.insn as u64 * 8, symbol, addend: 0, flags };
        elf.add_relocation(section, reloc).map_err(ElfError::Write)?;
    }
    Ok(())
}

/// Appends `data` to `section` under a global symbol `name`; returns the symbol and its offset.
fn add_data(
    elf: &mut ElfObject<'_>,
    section: object::write::SectionId,
    name: &str,
    data: &[u8],
    align: u64,
    kind: SymbolKind,
) -> (SymbolId, u64) {
    let offset = elf.append_section_data(section, data, align);
    (add_symbol(elf, section, name, offset, data.len() as u64, kind), offset)
}

/// A global symbol `name` for `size` bytes at `offset` of `section`.
fn add_symbol(
    elf: &mut ElfObject<'_>,
    section: object::write::SectionId,
    name: &str,
    offset: u64,
    size: u64,
    kind: SymbolKind,
) -> SymbolId {
    elf.add_symbol(Symbol {
        name: name.as_bytes().to_vec(),
        value: offset,
        size,
        kind,
        scope: SymbolScope::Dynamic,
        weak: false,
        section: SymbolSection::Section(section),
        flags: SymbolFlags::None,
    })
}
