//! The whole compile path, shared by the `check` and `compile` targets and by the normal test suite
//! (`library/tests/fuzz_regressions.rs` includes this file): parse, check against the saved formats in
//! `testkit/fixtures/tracefs`, compile, write the ELF, then read the ELF back with aya-obj and relocate
//! its maps as aya 0.14 does when it loads it.
//!
//! A layer may refuse the text with diagnostics, which must name a line and a column. Anything else
//! going wrong (a panic, an ELF the writer refuses or aya would not load) panics here: a finding.

// Each includer uses part of it.
#![allow(dead_code)]

use lang::provider::Tracefs;
use std::collections::{BTreeMap, BTreeSet, HashSet};

pub const TRACEFS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testkit/fixtures/tracefs");
pub const PARAMS: &[&str] = &["7", "str"];

/// The layer that refused a text, and its rendered diagnostics.
#[derive(Debug)]
pub struct Refused {
    pub stage: &'static str,
    pub rendered: String,
}

fn refused(stage: &'static str, diags: &[lang::Diagnostic], source: &str) -> Refused {
    assert!(!diags.is_empty(), "{stage}: a failure reports something");
    let rendered = lang::render(diags, "f", source);
    for line in rendered.lines().filter(|l| l.starts_with("f:")) {
        let mut parts = line.splitn(4, ':');
        parts.next();
        let (l, c) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        assert!(l.parse::<usize>().is_ok() && c.parse::<usize>().is_ok(), "{stage}: no LINE:COL in {line:?}");
    }
    assert!(rendered.starts_with("f:"), "{stage}: no position in {rendered:?}");
    Refused { stage, rendered }
}

/// Parse and check: the checked program, or the layer that refused it.
pub fn checked(data: &[u8]) -> Result<(lang::typed::Program, String), Refused> {
    let source = String::from_utf8_lossy(data).into_owned();
    let script = lang::parse(&source).map_err(|d| refused("parse", &d, &source))?;
    let mut tracefs = Tracefs::new(TRACEFS);
    let params: Vec<String> = PARAMS.iter().map(|s| s.to_string()).collect();
    let opts = lang::check::CheckOptions { params, ..Default::default() };
    match library::check(&script, &mut tracefs, &opts) {
        Ok(p) => Ok((p, source)),
        Err(d) => Err(refused("check", &d, &source)),
    }
}

/// The whole path: the compiled object, whose ELF aya-obj parsed and relocated, or the refusal.
pub fn whole_path(data: &[u8]) -> Result<codegen::Object, Refused> {
    let (program, source) = checked(data)?;
    let object = library::compile(&program).map_err(|d| refused("compile", &[d], &source))?;
    let _ = object.listing();
    let elf = match codegen::elf::write(&object) {
        Ok(elf) => elf,
        Err(e) => panic!("the ELF writer refused a compiled object: {e}"),
    };
    load_as_aya(&object, &elf);
    Ok(object)
}

/// What aya 0.14 does with the bytes before it creates anything in the kernel: parse, relocate the
/// map references (fake fds here: `FD_BASE + map index`), link calls. The programs and maps it finds
/// must be the object's, and each program's instructions the emitted ones with each map's fd in place.
fn load_as_aya(object: &codegen::Object, elf: &[u8]) {
    const FD_BASE: i32 = 1000;
    let mut obj = match aya_obj::Object::parse(elf) {
        Ok(obj) => obj,
        Err(e) => panic!("aya-obj cannot parse the ELF: {e}"),
    };
    assert_eq!(obj.license.to_str(), Ok("GPL"));

    // Maps: every map but those kept inside another's value, by symbol (the run switch by section).
    let kernel: BTreeMap<&str, usize> = object
        .maps
        .iter()
        .enumerate()
        .filter(|(_, m)| m.within.is_none())
        .map(|(i, m)| (m.symbol.as_str(), i))
        .collect();
    let found: BTreeSet<&str> = obj.maps.keys().map(String::as_str).collect();
    assert_eq!(found, kernel.keys().copied().collect::<BTreeSet<_>>(), "the ELF's maps");
    for (name, map) in &obj.maps {
        let spec = &object.maps[kernel[name.as_str()]];
        let got = (map.map_type(), map.key_size(), map.value_size(), map.max_entries());
        assert_eq!(got, (spec.map_type, spec.key_size, spec.value_size, spec.max_entries), "map {name}");
    }

    // Programs, by symbol, each of the kind its probe attaches as.
    let found: BTreeSet<&str> = obj.programs.keys().map(String::as_str).collect();
    let expected: BTreeSet<&str> = object.programs.iter().map(|p| p.symbol.as_str()).collect();
    assert_eq!(found, expected, "the ELF's programs");
    for p in &object.programs {
        use aya_obj::ProgramSection as S;
        use lang::typed::Target as T;
        let section = &obj.programs[&p.symbol].section;
        let fits = match &p.attach.target {
            T::Begin | T::End | T::RawTracepoint { .. } => matches!(section, S::RawTracePoint),
            T::Tracepoint { .. } => matches!(section, S::TracePoint),
            T::PerfEvent(_) => matches!(section, S::PerfEvent),
            T::Uprobe(u) if u.ret => matches!(section, S::URetProbe { sleepable: false }),
            T::Uprobe(_) | T::Usdt(_) => matches!(section, S::UProbe { sleepable: false }),
            T::Kprobe(k) if k.ret => matches!(section, S::KRetProbe),
            T::Kprobe(_) => matches!(section, S::KProbe),
            T::Fentry(f) if f.ret => matches!(section, S::FExit { sleepable: false }),
            T::Fentry(_) => matches!(section, S::FEntry { sleepable: false }),
        };
        assert!(fits, "{}: section {section:?} for {:?}", p.symbol, p.attach);
    }

    let text: HashSet<usize> = obj.functions.keys().map(|(section, _)| *section).collect();
    let fds: Vec<(String, i32, aya_obj::Map)> = obj
        .maps
        .iter()
        .map(|(name, map)| (name.clone(), FD_BASE + kernel[name.as_str()] as i32, map.clone()))
        .collect();
    let maps = fds.iter().map(|(name, fd, map)| (name.as_str(), *fd, map));
    if let Err(e) = obj.relocate_maps(maps, &text) {
        panic!("aya cannot relocate the maps: {e} ({:?})", std::error::Error::source(&e));
    }
    if let Err(e) = obj.relocate_calls(&text) {
        panic!("aya cannot link the programs: {e}");
    }

    for p in &object.programs {
        let key = obj.programs[&p.symbol].function_key();
        let insns = &obj.functions[&key].instructions;
        assert_eq!(insns.len(), p.code.words.len(), "{}: instruction count", p.symbol);
        let fd_at: BTreeMap<usize, i32> = p.code.relocs.iter().map(|r| (r.insn, FD_BASE + r.map as i32)).collect();
        for (i, (insn, &word)) in insns.iter().zip(&p.code.words).enumerate() {
            let imm = fd_at.get(&i).copied().unwrap_or((word >> 32) as i32);
            let got = (insn.code, insn.dst_reg(), insn.src_reg(), insn.off, insn.imm);
            let want = (word as u8, (word >> 8) as u8 & 0xf, (word >> 12) as u8 & 0xf, (word >> 16) as i16, imm);
            assert_eq!(got, want, "{}: instruction {i} after aya's relocation", p.symbol);
        }
    }
}
