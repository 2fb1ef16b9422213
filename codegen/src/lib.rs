//! BPF code generation: from a checked program to instructions, map specifications and an ELF object that
//! aya loads. Knows nothing of aya or terminals.

pub mod asm;
pub mod btf;
pub mod elf;
pub mod emit;
pub mod layout;
pub mod registry;
pub mod wire;

use asm::Code;
use lang::diag::Diagnostic;
use lang::typed::{Attach, MapDef, PrintfFormat, Program, Target};
use registry::Emitters;
use std::fmt::Write as _;

/// Kernel map types (`enum bpf_map_type`).
pub const BPF_MAP_TYPE_HASH: u32 = 1;
pub const BPF_MAP_TYPE_ARRAY: u32 = 2;
pub const BPF_MAP_TYPE_PERCPU_HASH: u32 = 5;
pub const BPF_MAP_TYPE_PERCPU_ARRAY: u32 = 6;
pub const BPF_MAP_TYPE_RINGBUF: u32 = 27;
pub const BPF_MAP_TYPE_STACK_TRACE: u32 = 7;
/// Distinct stacks a stack map holds (per frame limit); a stack that finds its bucket taken by another
/// gets an error id instead, and prints no frames.
pub const STACK_ENTRIES: u32 = 16384;

/// A log2 histogram has one bucket for negative values, one for zero and one per power of two up to
/// `[2^62, 2^63)`: the largest signed 64-bit value lands in bucket 64.
pub const HIST_BUCKETS: u32 = 65;
/// Entries of a keyed map, as in bpftrace.
pub const MAP_ENTRIES: u32 = 4096;
/// Size of the ring buffer that carries events (exit, printf, print…) to the runtime.
pub const RINGBUF_BYTES: u32 = 1 << 20;

/// Event kinds: the first 8 bytes of every ring buffer record; the next 8 bytes hold the kind's
/// argument (a format or map index), then the payload.
pub mod event {
    pub const EXIT: u64 = 1;
    /// arg: format index; payload: the arguments, laid out by the format's types.
    pub const PRINTF: u64 = 2;
    /// arg: format index.
    pub const TIME: u64 = 3;
    /// arg: map index; payload: top (u64), div (u64), label (u64: 0 for none, else format index + 1).
    pub const PRINT: u64 = 4;
    /// arg: map index.
    pub const CLEAR: u64 = 5;
    /// arg: map index.
    pub const ZERO: u64 = 6;
    /// arg: format index (one argument: the value's type); payload: the value.
    pub const PRINT_VALUE: u64 = 7;
    /// arg: format index (the delimiter); payload: `JOIN_ARGS` NUL-padded strings of `JOIN_ARG_SIZE`
    /// bytes, the first empty one ending the list.
    pub const JOIN: u64 = 8;
    /// arg: program index (a deferred watchpoint); payload: the address to watch (u64).
    pub const WATCH: u64 = 9;
    /// arg: format index; payload as PRINTF's. The formatted text names a file to print.
    pub const CAT: u64 = 10;
    /// arg: format index; payload as PRINTF's. The formatted text is a command to run.
    pub const SYSTEM: u64 = 11;
    /// bpftrace's `join_argnum` and `join_argsize`.
    pub const JOIN_ARGS: u32 = 16;
    pub const JOIN_ARG_SIZE: u32 = 1024;
}

/// One kernel map, as the `maps` section of the ELF defines it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MapSpec {
    pub symbol: String,
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    /// A keyless aggregation kept inside another per-CPU array's single value (`Internal::scalars`),
    /// at this byte offset: entry `k` of this (virtual) array is `value_size` bytes at
    /// `offset + k * value_size`. Such maps are not in the ELF; a program looks the host value up once
    /// and updates every keyless aggregation through that one pointer.
    #[serde(default)]
    pub within: Option<u32>,
}

/// One BPF program: where it attaches, its ELF section and symbol, and its code.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ProgramCode {
    pub attach: Attach,
    pub section: String,
    pub symbol: String,
    pub code: Code,
    /// The probe's place in the script, for what the kernel refuses at load time (empty in objects
    /// built before it was recorded).
    #[serde(default)]
    pub span: lang::ast::Span,
}

/// The runtime's own maps, after the user maps in `Object::maps`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Internal {
    /// The event ring buffer.
    pub events: usize,
    /// Per-CPU counters: slot 0 counts events the ring buffer had no room for, slot `1 + m` the
    /// updates that user map `m` dropped because it was full.
    pub lost: usize,
    /// One u64: the session's start in `bpf_ktime_get_ns` time, written by the runtime (`elapsed`).
    pub start: usize,
    /// The per-CPU array whose one value holds every keyless aggregation (see `MapSpec::within`).
    #[serde(default)]
    pub scalars: Option<usize>,
    /// The run switch: a u32 that every attached program reads before it does anything, 0 while the
    /// session runs and 1 once the runtime has stopped it. One write stops every program at once,
    /// without the kernel's slow detaching. A global variable: the ELF section `RUN_SWITCH`, which aya
    /// makes a one-entry array whose value programs address directly.
    pub run: usize,
    /// The stack maps: `(frame limit, map)`, one per limit the script's stacks use (kernel and user
    /// stacks share it: an id is an id). bpf_get_stackid keeps as many frames as a value holds.
    #[serde(default)]
    pub stacks: Vec<(u32, usize)>,
}

impl Internal {
    /// The stack map of stacks of `limit` frames.
    pub fn stack_map(&self, limit: u32) -> Option<usize> {
        self.stacks.iter().find(|s| s.0 == limit).map(|s| s.1)
    }
}

/// The run switch's ELF section and kernel map name (aya names a data section's map after it).
pub const RUN_SWITCH: &str = ".bss.vt_run";

/// Everything the runtime needs: the maps (user maps first, in `Program::maps` order, then the internal
/// ones), the programs, and the formats events refer to.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Object {
    pub user_maps: Vec<MapDef>,
    pub maps: Vec<MapSpec>,
    pub internal: Internal,
    pub programs: Vec<ProgramCode>,
    pub formats: Vec<PrintfFormat>,
}

/// Compiles a checked program with the registry's emitters (`lib`): every map's layout, every
/// program's code.
pub fn compile(program: &Program, lib: &dyn Emitters) -> Result<Object, Diagnostic> {
    for def in &program.maps {
        if let lang::typed::MapKind::Agg(a) = &def.kind {
            if lib.aggregation(&a.name).is_none() {
                return Err(Diagnostic::new(def.span, format!("vt has no aggregation `{}`", a.name), "unknown aggregation"));
            }
        }
    }
    let mut maps: Vec<MapSpec> = program.maps.iter().enumerate().map(|(i, m)| layout::map_spec(i, m, lib)).collect();
    let scalars_size = layout::share_scalars(&mut maps, &program.maps);
    let mut internal = |symbol: &str, map_type, key_size, value_size, max_entries| {
        maps.push(MapSpec { symbol: symbol.into(), map_type, key_size, value_size, max_entries, within: None });
        maps.len() - 1
    };
    let internal = Internal {
        events: internal("vt_events", BPF_MAP_TYPE_RINGBUF, 0, 0, RINGBUF_BYTES),
        lost: internal("vt_lost", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1 + program.maps.len() as u32),
        start: internal("vt_start", BPF_MAP_TYPE_ARRAY, 4, 8, 1),
        scalars: (scalars_size > 0).then(|| internal("vt_scalars", BPF_MAP_TYPE_PERCPU_ARRAY, 4, scalars_size, 1)),
        run: internal(RUN_SWITCH, BPF_MAP_TYPE_ARRAY, 4, 4, 1),
        stacks: stack_limits(program)
            .into_iter()
            .map(|n| (n, internal(&format!("vt_stack_{n}"), BPF_MAP_TYPE_STACK_TRACE, 4, 8 * n, STACK_ENTRIES)))
            .collect(),
    };
    let mut programs = Vec::with_capacity(program.probes.len());
    for (i, p) in program.probes.iter().enumerate() {
        // Kernel program names hold at most 15 characters.
        let mut symbol = format!("vt{i}_{}", p.attach.tag);
        symbol.truncate(15);
        let section = match &p.attach.target {
            Target::Begin => "raw_tp/vt_begin".to_string(),
            Target::End => "raw_tp/vt_end".to_string(),
            Target::Tracepoint { category, name } => format!("tracepoint/{category}/{name}"),
            Target::PerfEvent(_) => "perf_event".to_string(),
            // aya reads the program type from the section's first word; where it attaches is data.
            Target::Uprobe(u) => format!("{}/{symbol}", if u.ret { "uretprobe" } else { "uprobe" }),
            Target::Kprobe(k) => format!("{}/{symbol}", if k.ret { "kretprobe" } else { "kprobe" }),
            // The runtime loads these itself (with the function's BTF id), not through aya.
            Target::Fentry(f) => format!("{}/{symbol}", if f.ret { "fexit" } else { "fentry" }),
            Target::Usdt(_) => format!("uprobe/{symbol}"),
            Target::RawTracepoint { name } => format!("raw_tp/{name}"),
        };
        let code = emit::program(p, &program.maps, &maps, &internal, lib)?;
        programs.push(ProgramCode { attach: p.attach.clone(), section, symbol, code, span: p.span });
    }
    Ok(Object { user_maps: program.maps.clone(), maps, internal, programs, formats: program.formats.clone() })
}

/// The frame limits of every stack the program stores or prints (map keys and values, printf and print
/// arguments, variables).
fn stack_limits(program: &Program) -> std::collections::BTreeSet<u32> {
    fn walk(ty: &lang::typed::Ty, out: &mut std::collections::BTreeSet<u32>) {
        use lang::typed::{Render, Ty};
        match ty {
            Ty::Text(Render::KStack(f) | Render::UStack(f)) => {
                out.insert(f.limit);
            }
            Ty::Tuple(parts) => parts.iter().for_each(|p| walk(p, out)),
            _ => {}
        }
    }
    let mut out = std::collections::BTreeSet::new();
    for m in &program.maps {
        m.key.iter().for_each(|t| walk(t, &mut out));
        if let lang::typed::MapKind::Value(t) = &m.kind {
            walk(t, &mut out);
        }
    }
    program.formats.iter().flat_map(|f| &f.args).for_each(|t| walk(t, &mut out));
    program.probes.iter().flat_map(|p| &p.vars).for_each(|t| walk(t, &mut out));
    out
}

impl Object {
    /// Gives every keyed map of the script `n` entries instead of [`MAP_ENTRIES`] (a run's choice:
    /// nothing in the code depends on it).
    pub fn set_map_keys(&mut self, n: u32) {
        for (spec, def) in self.maps.iter_mut().zip(&self.user_maps) {
            if !def.key.is_empty() && matches!(spec.map_type, BPF_MAP_TYPE_HASH | BPF_MAP_TYPE_PERCPU_HASH) {
                spec.max_entries = n;
            }
        }
    }

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
