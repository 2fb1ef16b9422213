//! The wire format of a compiled object (what a `.vto` file stores): plain structs of its own, so that
//! reshaping the in-memory types (`Object`, `lang::typed`) cannot silently change the files. This is the
//! only place that knows both sides: change the structs below only together with `FORMAT_VERSION`.
//!
//! Reading is checked: every index a program or the runtime will follow (map relocations, internal maps)
//! must point inside the object, so that a damaged or hand-made file is refused, not a panic later.

use std::fmt;
use std::sync::Arc;

use lang::provider as tp;
use lang::typed;
use serde::{Deserialize, Serialize};

use crate::asm::{Code, MapReloc};

/// The version of the structs below; a `.vto` carries it and is refused by a vt that reads another.
pub const FORMAT_VERSION: u32 = 5;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Object {
    pub user_maps: Vec<UserMap>,
    pub maps: Vec<KernelMap>,
    pub internal: Internal,
    pub programs: Vec<Program>,
    pub formats: Vec<Format>,
}

/// A map as the script declared it: `@name`, what it holds, its key's types, where it was written.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct UserMap {
    pub name: String,
    pub kind: MapKind,
    pub key: Vec<Ty>,
    pub span: [u64; 2],
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum MapKind {
    Agg(Agg),
    Value(Ty),
}

/// An aggregation by its registry name, with the constants that shape its map and the signedness of
/// what it was fed.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Agg {
    #[serde(rename = "fn")]
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<i64>,
    #[serde(default)]
    pub signed: bool,
    /// Histogram buckets are `[count, sum]` (built for `--metrics`), not `count` alone.
    #[serde(default)]
    pub sums: bool,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum Ty {
    Int { bits: u8, signed: bool },
    Str(u32),
    Tuple(Vec<Ty>),
    Text(typed::Render),
}

/// One kernel map (`crate::MapSpec`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct KernelMap {
    pub symbol: String,
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub within: Option<u32>,
}

/// Indices into `Object::maps` of the runtime's own maps.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Internal {
    pub events: u64,
    pub lost: u64,
    pub start: u64,
    pub scalars: Option<u64>,
    pub run: u64,
    /// `[frame limit, map]` of each stack map.
    #[serde(default)]
    pub stacks: Vec<[u64; 2]>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Program {
    pub attach: Attach,
    pub section: String,
    pub symbol: String,
    pub words: Vec<u64>,
    /// `[instruction slot, map index]` of each `ld_imm64` of a map.
    pub relocs: Vec<[u64; 2]>,
    pub span: [u64; 2],
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Attach {
    pub probe: String,
    pub tag: String,
    pub target: Target,
    /// The record layout `args` was compiled against, for probe kinds that have one.
    pub fields: Option<Vec<Field>>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Target {
    Begin,
    End,
    Tracepoint { category: String, name: String },
    #[serde(rename = "perf_event")]
    PerfEvent {
        perf_type: u32,
        config: u64,
        period: Option<u64>,
        frequency: Option<u64>,
        cpu: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        breakpoint: Option<typed::Breakpoint>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pid: Option<u32>,
    },
    Uprobe {
        path: String,
        offset: u64,
        ret: bool,
        pid: Option<u32>,
        func: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        watch: Option<typed::WatchSetup>,
    },
    Usdt(typed::Usdt),
    #[serde(rename = "raw_tracepoint")]
    RawTracepoint { name: String },
    Kprobe {
        func: String,
        module: Option<String>,
        offset: u64,
        ret: bool,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        multi: Vec<String>,
    },
    Fentry(typed::Fentry),
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub c_type: String,
    pub offset: u32,
    pub size: u32,
    pub signed: bool,
    pub kind: FieldKind,
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum FieldKind {
    Int,
    Array,
    DataLoc,
}

/// A printf or time format and its arguments' types.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Format {
    pub text: String,
    pub args: Vec<Ty>,
}

/// Why a wire object cannot be an in-memory one.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// An index that is not below the number of things it indexes.
    OutOfRange { what: &'static str, index: u64, len: usize },
    /// A program relocates against a map that lives inside another map's value.
    NotAKernelMap { program: String, map: u64 },
    /// Linear histogram bounds the checker never produces (they would divide by zero or overflow).
    BadLhist { min: i64, max: i64, step: i64 },
    /// More user maps than maps.
    TooManyUserMaps { user: usize, maps: usize },
    /// A user map's kernel map is not laid out as its kind and key say (the runtime would misread it).
    MapLayout { map: String },
    /// A map kept inside the shared per-CPU value does not fit in it.
    Within { map: String },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::OutOfRange { what, index, len } => write!(f, "{what} {index} is out of range (it has {len})"),
            Error::NotAKernelMap { program, map } => write!(f, "program {program} refers to map {map}, which is not a kernel map"),
            Error::BadLhist { min, max, step } => write!(f, "lhist bounds min {min}, max {max}, step {step} are not valid"),
            Error::TooManyUserMaps { user, maps } => write!(f, "it declares {user} user maps but has only {maps} maps"),
            Error::MapLayout { map } => write!(f, "map {map} is not laid out as its type says"),
            Error::Within { map } => write!(f, "map {map} does not fit in the shared value it is placed in"),
        }
    }
}

impl std::error::Error for Error {}

// ---- in memory -> wire --------------------------------------------------------------------------------

fn span_to(s: lang::ast::Span) -> [u64; 2] {
    [s.start as u64, s.end as u64]
}

fn ty_to(t: &typed::Ty) -> Ty {
    match t {
        typed::Ty::Int(i) => Ty::Int { bits: i.bits, signed: i.signed },
        typed::Ty::Str(n) => Ty::Str(*n),
        typed::Ty::Tuple(parts) => Ty::Tuple(parts.iter().map(ty_to).collect()),
        typed::Ty::Text(r) => Ty::Text(r.clone()),
    }
}

fn agg_to(a: &typed::Agg) -> Agg {
    Agg { name: a.name.clone(), params: a.params.clone(), signed: a.signed, sums: a.sums }
}

fn field_to(f: &tp::Field) -> Field {
    let kind = match f.kind {
        tp::FieldKind::Int => FieldKind::Int,
        tp::FieldKind::Array => FieldKind::Array,
        tp::FieldKind::DataLoc => FieldKind::DataLoc,
    };
    Field { name: f.name.clone(), c_type: f.c_type.clone(), offset: f.offset, size: f.size, signed: f.signed, kind }
}

fn attach_to(a: &typed::Attach) -> Attach {
    let target = match &a.target {
        typed::Target::Begin => Target::Begin,
        typed::Target::End => Target::End,
        typed::Target::Tracepoint { category, name } => Target::Tracepoint { category: category.clone(), name: name.clone() },
        typed::Target::PerfEvent(e) => {
            let (period, frequency) = match e.sample {
                typed::Sample::Period(p) => (Some(p), None),
                typed::Sample::Frequency(f) => (None, Some(f)),
            };
            Target::PerfEvent { perf_type: e.perf_type, config: e.config, period, frequency, cpu: e.cpu, breakpoint: e.breakpoint, pid: e.pid }
        }
        typed::Target::Kprobe(k) => Target::Kprobe { func: k.func.clone(), module: k.module.clone(), offset: k.offset, ret: k.ret, multi: k.multi.clone() },
        typed::Target::Uprobe(u) => {
            Target::Uprobe { path: u.path.clone(), offset: u.offset, ret: u.ret, pid: u.pid, func: u.func.clone(), watch: u.watch }
        }
        typed::Target::Usdt(u) => Target::Usdt(u.clone()),
        typed::Target::RawTracepoint { name } => Target::RawTracepoint { name: name.clone() },
        typed::Target::Fentry(f) => Target::Fentry(f.clone()),
    };
    let fields = a.args.as_ref().map(|f| f.fields.iter().map(field_to).collect());
    Attach { probe: a.probe.clone(), tag: a.tag.clone(), target, fields }
}

impl From<&crate::Object> for Object {
    fn from(o: &crate::Object) -> Object {
        let user_maps = o
            .user_maps
            .iter()
            .map(|m| UserMap {
                name: m.name.clone(),
                kind: match &m.kind {
                    typed::MapKind::Agg(a) => MapKind::Agg(agg_to(a)),
                    typed::MapKind::Value(t) => MapKind::Value(ty_to(t)),
                },
                key: m.key.iter().map(ty_to).collect(),
                span: span_to(m.span),
            })
            .collect();
        let maps = o
            .maps
            .iter()
            .map(|m| KernelMap {
                symbol: m.symbol.clone(),
                map_type: m.map_type,
                key_size: m.key_size,
                value_size: m.value_size,
                max_entries: m.max_entries,
                within: m.within,
            })
            .collect();
        let i = &o.internal;
        let internal = Internal {
            events: i.events as u64,
            lost: i.lost as u64,
            start: i.start as u64,
            scalars: i.scalars.map(|s| s as u64),
            run: i.run as u64,
            stacks: i.stacks.iter().map(|&(n, m)| [u64::from(n), m as u64]).collect(),
        };
        let programs = o
            .programs
            .iter()
            .map(|p| Program {
                attach: attach_to(&p.attach),
                section: p.section.clone(),
                symbol: p.symbol.clone(),
                words: p.code.words.clone(),
                relocs: p.code.relocs.iter().map(|r| [r.insn as u64, r.map as u64]).collect(),
                span: span_to(p.span),
            })
            .collect();
        let formats =
            o.formats.iter().map(|f| Format { text: f.text.clone(), args: f.args.iter().map(ty_to).collect() }).collect();
        Object { user_maps, maps, internal, programs, formats }
    }
}

// ---- wire -> in memory --------------------------------------------------------------------------------

/// `index` as a `usize` below `len`.
fn index(what: &'static str, index: u64, len: usize) -> Result<usize, Error> {
    usize::try_from(index).ok().filter(|&i| i < len).ok_or(Error::OutOfRange { what, index, len })
}

/// A span's offsets only point into the script for messages; ones that do not fit become empty.
fn span_from(s: [u64; 2]) -> lang::ast::Span {
    let at = |v: u64| usize::try_from(v).unwrap_or(0);
    lang::ast::Span::new(at(s[0]), at(s[1]))
}

fn ty_from(t: &Ty) -> typed::Ty {
    match t {
        Ty::Int { bits, signed } => typed::Ty::Int(typed::IntTy { bits: *bits, signed: *signed }),
        Ty::Str(n) => typed::Ty::Str(*n),
        Ty::Tuple(parts) => typed::Ty::Tuple(parts.iter().map(ty_from).collect()),
        Ty::Text(r) => typed::Ty::Text(r.clone()),
    }
}

fn agg_from(a: &Agg) -> typed::Agg {
    typed::Agg { name: a.name.clone(), params: a.params.clone(), signed: a.signed, sums: a.sums }
}

fn field_from(f: &Field) -> tp::Field {
    let kind = match f.kind {
        FieldKind::Int => tp::FieldKind::Int,
        FieldKind::Array => tp::FieldKind::Array,
        FieldKind::DataLoc => tp::FieldKind::DataLoc,
    };
    tp::Field { name: f.name.clone(), c_type: f.c_type.clone(), offset: f.offset, size: f.size, signed: f.signed, kind }
}

fn attach_from(a: &Attach) -> typed::Attach {
    let target = match &a.target {
        Target::Begin => typed::Target::Begin,
        Target::End => typed::Target::End,
        Target::Tracepoint { category, name } => typed::Target::Tracepoint { category: category.clone(), name: name.clone() },
        Target::PerfEvent { perf_type, config, period, frequency, cpu, breakpoint, pid } => {
            let sample = match (period, frequency) {
                (_, Some(f)) => typed::Sample::Frequency(*f),
                (p, None) => typed::Sample::Period(p.unwrap_or(1)),
            };
            typed::Target::PerfEvent(typed::PerfEvent {
                perf_type: *perf_type,
                config: *config,
                sample,
                cpu: *cpu,
                breakpoint: *breakpoint,
                pid: *pid,
            })
        }
        Target::Uprobe { path, offset, ret, pid, func, watch } => {
            let (path, func) = (path.clone(), func.clone());
            typed::Target::Uprobe(typed::Uprobe { path, offset: *offset, ret: *ret, pid: *pid, func, watch: *watch })
        }
        Target::Kprobe { func, module, offset, ret, multi } => {
            typed::Target::Kprobe(typed::Kprobe { func: func.clone(), module: module.clone(), offset: *offset, ret: *ret, multi: multi.clone() })
        }
        Target::Usdt(u) => typed::Target::Usdt(u.clone()),
        Target::RawTracepoint { name } => typed::Target::RawTracepoint { name: name.clone() },
        Target::Fentry(f) => typed::Target::Fentry(f.clone()),
    };
    let args = a.fields.as_ref().map(|f| Arc::new(tp::Format { fields: f.iter().map(field_from).collect() }));
    typed::Attach { probe: a.probe.clone(), tag: a.tag.clone(), target, args }
}

impl Object {
    /// The in-memory object, checked against the layouts this vt's registry (`lib`) gives its maps.
    pub fn to_object(&self, lib: &dyn crate::registry::Emitters) -> Result<crate::Object, Error> {
        let o = self;
        let n = o.maps.len();
        if o.user_maps.len() > n {
            return Err(Error::TooManyUserMaps { user: o.user_maps.len(), maps: n });
        }
        let mut user_maps = Vec::with_capacity(o.user_maps.len());
        for m in &o.user_maps {
            let kind = match &m.kind {
                MapKind::Agg(a) => typed::MapKind::Agg(agg_from(a)),
                MapKind::Value(t) => typed::MapKind::Value(ty_from(t)),
            };
            let key = m.key.iter().map(ty_from).collect();
            user_maps.push(typed::MapDef { name: m.name.clone(), kind, key, span: span_from(m.span) });
        }
        let maps: Vec<crate::MapSpec> = o
            .maps
            .iter()
            .map(|m| crate::MapSpec {
                symbol: m.symbol.clone(),
                map_type: m.map_type,
                key_size: m.key_size,
                value_size: m.value_size,
                max_entries: m.max_entries,
                within: m.within,
            })
            .collect();
        let i = &o.internal;
        let internal = crate::Internal {
            events: index("internal map", i.events, n)?,
            lost: index("internal map", i.lost, n)?,
            start: index("internal map", i.start, n)?,
            scalars: i.scalars.map(|s| index("internal map", s, n)).transpose()?,
            run: index("internal map", i.run, n)?,
            stacks: i
                .stacks
                .iter()
                .map(|&[limit, m]| Ok((limit.min(u64::from(lang::typed::MAX_STACK)) as u32, index("internal map", m, n)?)))
                .collect::<Result<_, Error>>()?,
        };
        check_layout(&user_maps, &maps, &internal, lib)?;
        let mut programs = Vec::with_capacity(o.programs.len());
        for p in &o.programs {
            let mut relocs = Vec::with_capacity(p.relocs.len());
            for &[insn, map] in &p.relocs {
                let insn = index("relocated instruction", insn, p.words.len())?;
                let map = index("map", map, n)?;
                if o.maps[map].within.is_some() {
                    return Err(Error::NotAKernelMap { program: p.symbol.clone(), map: map as u64 });
                }
                relocs.push(MapReloc { insn, map });
            }
            programs.push(crate::ProgramCode {
                attach: attach_from(&p.attach),
                section: p.section.clone(),
                symbol: p.symbol.clone(),
                code: Code { words: p.words.clone(), relocs, funcs: Vec::new(), callbacks: Vec::new() },
                span: span_from(p.span),
            });
        }
        let formats = o
            .formats
            .iter()
            .map(|f| typed::PrintfFormat { text: f.text.clone(), args: f.args.iter().map(ty_from).collect() })
            .collect();
        Ok(crate::Object { user_maps, maps, internal, programs, formats })
    }
}

/// The runtime reads user maps by the layout codegen gives their kind and key, and keyless aggregations
/// at their offset in the shared value: both must hold in what was read.
fn check_layout(defs: &[typed::MapDef], maps: &[crate::MapSpec], internal: &crate::Internal, lib: &dyn crate::registry::Emitters) -> Result<(), Error> {
    for (i, (def, spec)) in defs.iter().zip(maps).enumerate() {
        if let typed::MapKind::Agg(a) = &def.kind {
            if lib.aggregation(&a.name).is_none() {
                return Err(Error::MapLayout { map: format!("@{}", def.name) });
            }
        }
        let want = crate::layout::map_spec(i, def, lib);
        let same = (&want.symbol, want.map_type, want.key_size, want.value_size, want.max_entries)
            == (&spec.symbol, spec.map_type, spec.key_size, spec.value_size, spec.max_entries);
        if !same {
            return Err(Error::MapLayout { map: format!("@{}", def.name) });
        }
    }
    let host = internal.scalars.map_or(0, |s| maps[s].value_size as u64);
    for m in maps {
        if let Some(at) = m.within {
            let end = at as u64 + m.value_size as u64 * m.max_entries as u64;
            if internal.scalars.is_none() || end > host {
                return Err(Error::Within { map: m.symbol.clone() });
            }
        }
    }
    Ok(())
}
