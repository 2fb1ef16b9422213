//! BPF code generation: from a checked program to instructions, map specifications and an ELF object that
//! aya loads. Knows nothing of aya or terminals.

pub mod asm;
pub mod elf;
mod emit;

use asm::Code;
use lang::typed::{Agg, Attach, MapDef, Program};
use std::fmt::Write as _;

/// Kernel map types (`enum bpf_map_type`).
pub const BPF_MAP_TYPE_PERCPU_ARRAY: u32 = 6;
pub const BPF_MAP_TYPE_RINGBUF: u32 = 27;

/// A log2 histogram has one bucket for negative values, one for zero and one per power of two up to
/// `[2^62, 2^63)`: the largest signed 64-bit value lands in bucket 64.
pub const HIST_BUCKETS: u32 = 65;
/// Size of the ring buffer that carries events (exit, printf) to the runtime.
pub const RINGBUF_BYTES: u32 = 256 * 1024;

/// Event kinds: the first 8 bytes of every ring buffer record.
pub mod event {
    pub const EXIT: u64 = 1;
}

/// One kernel map, as the `maps` section of the ELF defines it.
#[derive(Clone, Debug, PartialEq)]
pub struct MapSpec {
    pub symbol: String,
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
}

/// One BPF program: where it attaches, its ELF section and symbol, and its code.
#[derive(Clone, Debug)]
pub struct ProgramCode {
    pub attach: Attach,
    pub section: String,
    pub symbol: String,
    pub code: Code,
}

/// Everything the runtime needs: the maps (user maps first, in `Program::maps` order, then the ring
/// buffer if any) and the programs.
#[derive(Clone, Debug)]
pub struct Object {
    pub user_maps: Vec<MapDef>,
    pub maps: Vec<MapSpec>,
    pub programs: Vec<ProgramCode>,
    /// Index in `maps` of the event ring buffer, when some program sends events.
    pub events: Option<usize>,
}

/// What the emitter needs to know about the maps.
pub(crate) struct Layout {
    pub aggs: Vec<Agg>,
    pub events: Option<usize>,
}

pub fn compile(program: &Program) -> Object {
    let mut maps: Vec<MapSpec> = program
        .maps
        .iter()
        .enumerate()
        .map(|(i, m)| MapSpec {
            symbol: format!("vt_m{i}"),
            map_type: BPF_MAP_TYPE_PERCPU_ARRAY,
            key_size: 4,
            value_size: 8,
            max_entries: if m.agg == Agg::Hist { HIST_BUCKETS } else { 1 },
        })
        .collect();
    let uses_events = program.probes.iter().any(|p| p.body.iter().any(|s| matches!(s, lang::typed::TStmt::Exit { .. })));
    let events = uses_events.then(|| {
        maps.push(MapSpec {
            symbol: "vt_events".into(),
            map_type: BPF_MAP_TYPE_RINGBUF,
            key_size: 0,
            value_size: 0,
            max_entries: RINGBUF_BYTES,
        });
        maps.len() - 1
    });
    let layout = Layout { aggs: program.maps.iter().map(|m| m.agg).collect(), events };
    let programs = program
        .probes
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (section, tag) = match &p.attach {
                Attach::Begin => ("raw_tp/vt_begin".to_string(), "begin".to_string()),
                Attach::End => ("raw_tp/vt_end".to_string(), "end".to_string()),
                Attach::Tracepoint { category, name, .. } => (format!("tracepoint/{category}/{name}"), name.clone()),
            };
            // Kernel program names hold at most 15 characters.
            let mut symbol = format!("vt{i}_{tag}");
            symbol.truncate(15);
            ProgramCode { attach: p.attach.clone(), section, symbol, code: emit::program(p, &layout) }
        })
        .collect();
    Object { user_maps: program.maps.clone(), maps, programs, events }
}

impl Object {
    /// Every program's BPF listing, headed by its probe, as `vt -d` prints it.
    pub fn listing(&self) -> String {
        let mut out = String::new();
        for p in &self.programs {
            let _ = writeln!(out, "{} ({}, {} insns):", p.attach.probe_name(), p.section, p.code.words.len());
            out += &asm::listing(&p.code, |m| self.map_label(m));
        }
        out
    }

    /// `@name` for user maps, the symbol for internal ones.
    fn map_label(&self, m: usize) -> String {
        match self.user_maps.get(m) {
            Some(def) => format!("@{}", def.name),
            None => self.maps[m].symbol.clone(),
        }
    }
}
