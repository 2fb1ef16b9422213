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
pub const FORMAT_VERSION: u32 = 3;

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

/// Aggregations by their function's name.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(tag = "fn", rename_all = "lowercase")]
pub enum Agg {
    Count,
    Sum { signed: bool },
    Min,
    Max,
    Avg,
    Stats,
    Hist,
    Lhist { min: i64, max: i64, step: i64 },
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum Ty {
    Int { bits: u8, signed: bool },
    Str(u32),
    Tuple(Vec<Ty>),
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
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
pub struct Internal {
    pub events: u64,
    pub lost: u64,
    pub start: u64,
    pub scalars: Option<u64>,
    pub run: u64,
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
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Attach {
    Begin,
    End,
    /// With the record layout the program was compiled against.
    Tracepoint { category: String, name: String, fields: Vec<Field> },
    Interval { unit: String, value: u64, period_ns: u64 },
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
    }
}

fn agg_to(a: typed::Agg) -> Agg {
    match a {
        typed::Agg::Count => Agg::Count,
        typed::Agg::Sum { signed } => Agg::Sum { signed },
        typed::Agg::Min => Agg::Min,
        typed::Agg::Max => Agg::Max,
        typed::Agg::Avg => Agg::Avg,
        typed::Agg::Stats => Agg::Stats,
        typed::Agg::Hist => Agg::Hist,
        typed::Agg::LHist { min, max, step } => Agg::Lhist { min, max, step },
    }
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
    match a {
        typed::Attach::Begin => Attach::Begin,
        typed::Attach::End => Attach::End,
        typed::Attach::Tracepoint { category, name, format } => Attach::Tracepoint {
            category: category.clone(),
            name: name.clone(),
            fields: format.fields.iter().map(field_to).collect(),
        },
        typed::Attach::Interval { unit, value, period_ns } => {
            Attach::Interval { unit: unit.clone(), value: *value, period_ns: *period_ns }
        }
    }
}

impl From<&crate::Object> for Object {
    fn from(o: &crate::Object) -> Object {
        let user_maps = o
            .user_maps
            .iter()
            .map(|m| UserMap {
                name: m.name.clone(),
                kind: match &m.kind {
                    typed::MapKind::Agg(a) => MapKind::Agg(agg_to(*a)),
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
    }
}

fn agg_from(a: Agg) -> Result<typed::Agg, Error> {
    Ok(match a {
        Agg::Count => typed::Agg::Count,
        Agg::Sum { signed } => typed::Agg::Sum { signed },
        Agg::Min => typed::Agg::Min,
        Agg::Max => typed::Agg::Max,
        Agg::Avg => typed::Agg::Avg,
        Agg::Stats => typed::Agg::Stats,
        Agg::Hist => typed::Agg::Hist,
        Agg::Lhist { min, max, step } => {
            // The runtime divides by `step` and counts `(max - min) / step` buckets.
            if step <= 0 || max <= min || max.checked_sub(min).is_none_or(|d| d / step > 1000) {
                return Err(Error::BadLhist { min, max, step });
            }
            typed::Agg::LHist { min, max, step }
        }
    })
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
    match a {
        Attach::Begin => typed::Attach::Begin,
        Attach::End => typed::Attach::End,
        Attach::Tracepoint { category, name, fields } => typed::Attach::Tracepoint {
            category: category.clone(),
            name: name.clone(),
            format: Arc::new(tp::Format { fields: fields.iter().map(field_from).collect() }),
        },
        Attach::Interval { unit, value, period_ns } => {
            typed::Attach::Interval { unit: unit.clone(), value: *value, period_ns: *period_ns }
        }
    }
}

impl TryFrom<&Object> for crate::Object {
    type Error = Error;

    fn try_from(o: &Object) -> Result<crate::Object, Error> {
        let n = o.maps.len();
        if o.user_maps.len() > n {
            return Err(Error::TooManyUserMaps { user: o.user_maps.len(), maps: n });
        }
        let mut user_maps = Vec::with_capacity(o.user_maps.len());
        for m in &o.user_maps {
            let kind = match &m.kind {
                MapKind::Agg(a) => typed::MapKind::Agg(agg_from(*a)?),
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
        };
        check_layout(&user_maps, &maps, &internal)?;
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
                code: Code { words: p.words.clone(), relocs },
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
fn check_layout(defs: &[typed::MapDef], maps: &[crate::MapSpec], internal: &crate::Internal) -> Result<(), Error> {
    for (i, (def, spec)) in defs.iter().zip(maps).enumerate() {
        let want = crate::map_spec(i, def);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A saved tracefs with one tracepoint of integer, string, array and `__data_loc` fields.
    fn tracefs(name: &str) -> lang::provider::Tracefs {
        let root = std::env::temp_dir().join(format!("vt-wire-{name}-{}", std::process::id()));
        let dir = root.join("events/demo/demo_event");
        std::fs::create_dir_all(&dir).unwrap();
        let format = "name: demo_event\nID: 7\nformat:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\n\
            \tfield:int len;\toffset:8;\tsize:4;\tsigned:1;\n\tfield:char comm[16];\toffset:12;\tsize:16;\tsigned:0;\n\
            \tfield:__data_loc char[] path;\toffset:28;\tsize:4;\tsigned:0;\n\tfield:u64 bytes;\toffset:32;\tsize:8;\tsigned:0;\n\n\
            print fmt: \"\"\n";
        std::fs::write(dir.join("format"), format).unwrap();
        lang::provider::Tracefs::new(root)
    }

    const SCRIPT: &str = r#"BEGIN { @start = nsecs; printf("go %s %d\n", $1, 3); time("%H\n"); }
tracepoint:demo:demo_event /args.len > 0/ {
  @c = count(); @s = sum(args.len); @u[comm] = sum(args.bytes); @mn = min(args.len); @mx[pid, tid] = max(args.len);
  @a = avg(args.bytes); @st = stats(args.len); @h = hist(args.bytes); @l[str(args.path)] = lhist(args.len, 0, 100, 10);
  @last[args.comm] = (args.len, str(args.path)); print(@c); clear(@h); zero(@s); delete(@u[comm]);
}
interval:ms:100 { exit(); }
END { printf("%d %s\n", @start, "x"); }"#;

    fn compiled(name: &str) -> crate::Object {
        let script = lang::parse(SCRIPT).unwrap();
        let program = lang::check::check(&script, &mut tracefs(name), &["hello".into()]).unwrap();
        crate::compile(&program).unwrap()
    }

    #[test]
    fn round_trip_keeps_the_listing_and_the_elf() {
        let object = compiled("round");
        assert!(object.maps.iter().any(|m| m.within.is_some()) && object.programs.len() == 4);
        let wire = Object::from(&object);
        let back = crate::Object::try_from(&wire).unwrap();
        assert_eq!(back.listing(), object.listing());
        assert_eq!(crate::elf::write(&back), crate::elf::write(&object));
        assert_eq!(back.user_maps, object.user_maps);
        assert_eq!(back.maps, object.maps);
        assert_eq!(back.internal, object.internal);
        assert_eq!(back.formats, object.formats);
        assert_eq!(Object::from(&back), wire);
    }

    #[test]
    fn inconsistent_objects_are_refused() {
        let good = Object::from(&compiled("bad"));
        let refused = |change: &dyn Fn(&mut Object)| {
            let mut w = good.clone();
            change(&mut w);
            crate::Object::try_from(&w).unwrap_err().to_string()
        };
        let n = good.maps.len();
        assert_eq!(refused(&|w| w.internal.events = 99), format!("internal map 99 is out of range (it has {n})"));
        assert!(refused(&|w| w.programs[1].relocs[0][1] = u64::MAX).starts_with("map 18446744073709551615 is out of range"));
        assert!(refused(&|w| w.programs[1].relocs[0][0] = 1 << 40).starts_with("relocated instruction 1099511627776"));
        let within = good.maps.iter().position(|m| m.within.is_some()).unwrap() as u64;
        assert!(refused(&|w| w.programs[1].relocs[0][1] = within).contains("which is not a kernel map"));
        let lhist = good.user_maps.iter().position(|m| matches!(m.kind, MapKind::Agg(Agg::Lhist { .. }))).unwrap();
        let bad = Agg::Lhist { min: i64::MIN, max: i64::MAX, step: 1 };
        assert!(refused(&|w| w.user_maps[lhist].kind = MapKind::Agg(bad)).starts_with("lhist bounds"));
        let zero = Agg::Lhist { min: 0, max: 10, step: 0 };
        assert!(refused(&|w| w.user_maps[lhist].kind = MapKind::Agg(zero)).starts_with("lhist bounds"));
        assert_eq!(refused(&|w| w.user_maps[0].key = vec![Ty::Str(64)]), "map @start is not laid out as its type says");
        assert!(refused(&|w| w.maps[within as usize].within = Some(1 << 30)).contains("does not fit in the shared value"));
        assert!(refused(&|w| w.maps.truncate(2)).contains("user maps but has only 2 maps"));
    }
}
