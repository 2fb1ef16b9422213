//! The ELF writer: a relocatable BPF object with a `license` section, a legacy `maps` section (one
//! `struct bpf_map_def` symbol per map), one executable section per program with its `STT_FUNC` symbol,
//! the run switch as a `.bss` section of its own (`RUN_SWITCH`), and `R_BPF_64_64` relocations on the
//! `ld_imm64` of each map reference.

use crate::{Object, RUN_SWITCH};
use object::write::{Object as ElfObject, Relocation, Symbol, SymbolId, SymbolSection};
use object::{Architecture, BinaryFormat, Endianness, RelocationFlags, SectionKind, SymbolFlags, SymbolKind, SymbolScope};

const R_BPF_64_64: u32 = 1;

pub fn write(obj: &Object) -> Vec<u8> {
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

    for p in &obj.programs {
        let section = elf.add_section(Vec::new(), p.section.as_bytes().to_vec(), SectionKind::Text);
        let bytes: Vec<u8> = p.code.words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let (_, offset) = add_data(&mut elf, section, &p.symbol, &bytes, 8, SymbolKind::Text);
        for r in &p.code.relocs {
            elf.add_relocation(
                section,
                Relocation {
                    offset: offset + r.insn as u64 * 8,
                    symbol: map_symbols[r.map].expect("programs only reference kernel maps"),
                    addend: 0,
                    flags: RelocationFlags::Elf { r_type: R_BPF_64_64 },
                },
            )
            .expect("a BPF relocation on our own section");
        }
    }
    elf.write().expect("writing an in-memory ELF cannot fail")
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
