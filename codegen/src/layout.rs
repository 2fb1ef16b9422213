//! Every byte-level decision in one place: value sizes, map key and value layouts, which keyless
//! aggregations share one per-CPU value, where variables live, and the stack budget.

use crate::registry::Emitters;
use crate::{MapSpec, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH, MAP_ENTRIES};
use lang::typed::{MapDef, MapKind, Ty};

/// A BPF program's stack.
pub const STACK_LIMIT: i32 = 512;
/// Of that stack, what variables may take; the rest is kept for keys, strings and events.
pub const MAX_VARS_BYTES: u32 = 256;
/// The most bytes of keyless aggregations kept in the shared per-CPU value; the rest get maps of their
/// own (the kernel caps per-CPU values at 32 KiB).
pub const SCALARS_BYTES: u32 = 16 * 1024;

/// Bytes a value takes in a map key, a map value, a variable or an event (8-byte aligned parts).
pub fn size(ty: &Ty) -> u32 {
    match ty {
        Ty::Int(_) => 8,
        Ty::Str(n) => n.div_ceil(8) * 8,
        Ty::Tuple(parts) => parts.iter().map(size).sum(),
        Ty::Text(r) => r.size(),
    }
}

/// `ty.size()` for callers that read layouts (the runtime decoding maps and events).
pub trait TySize {
    fn size(&self) -> u32;
}

impl TySize for Ty {
    fn size(&self) -> u32 {
        size(self)
    }
}

/// Number of buckets of a histogram aggregation map (None for other maps).
pub fn buckets(def: &MapDef, lib: &dyn Emitters) -> Option<u32> {
    match &def.kind {
        MapKind::Agg(a) => lib.aggregation(&a.name)?.buckets(a),
        MapKind::Value(_) => None,
    }
}

/// Bytes of a map's key: the key parts, plus the bucket index for keyed histograms.
pub fn key_size(def: &MapDef, lib: &dyn Emitters) -> u32 {
    let parts: u32 = def.key.iter().map(size).sum();
    let hist = buckets(def, lib).is_some();
    match (&def.kind, parts) {
        (MapKind::Agg(_), 0) => 4,
        (MapKind::Agg(_), n) if hist => n + 8,
        (_, 0) => 8,
        (_, n) => n,
    }
}

/// Bytes of one (per-CPU) value: the aggregation's own layout, or the plain value's size.
pub fn value_size(def: &MapDef, lib: &dyn Emitters) -> u32 {
    match &def.kind {
        MapKind::Agg(a) => lib.aggregation(&a.name).map_or(8, |e| e.value_size(a)),
        MapKind::Value(t) => size(t),
    }
}

pub fn map_spec(i: usize, def: &MapDef, lib: &dyn Emitters) -> MapSpec {
    let keyless = def.key.is_empty();
    let (map_type, max_entries) = match &def.kind {
        MapKind::Agg(_) if keyless => (BPF_MAP_TYPE_PERCPU_ARRAY, buckets(def, lib).unwrap_or(1)),
        MapKind::Agg(_) => (BPF_MAP_TYPE_PERCPU_HASH, MAP_ENTRIES),
        MapKind::Value(_) => (BPF_MAP_TYPE_HASH, if keyless { 1 } else { MAP_ENTRIES }),
    };
    MapSpec {
        symbol: format!("vt_m{i}"),
        map_type,
        key_size: key_size(def, lib),
        value_size: value_size(def, lib),
        max_entries,
        within: None,
    }
}

/// Places keyless aggregations inside one shared per-CPU value, while it has room; returns its size.
pub fn share_scalars(maps: &mut [MapSpec], defs: &[MapDef]) -> u32 {
    let mut total = 0;
    for (spec, def) in maps.iter_mut().zip(defs) {
        let bytes = spec.value_size * spec.max_entries;
        if def.key.is_empty() && matches!(def.kind, MapKind::Agg(_)) && total + bytes <= SCALARS_BYTES {
            spec.within = Some(total);
            total += bytes;
        }
    }
    total
}

/// Where a variable lives: `size` bytes at `offset` into the variable area at the top of the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    pub offset: u32,
    pub size: u32,
}

/// The slots of a program's variables, one after the other, and the bytes they take.
pub fn var_slots(vars: &[Ty]) -> (Vec<Slot>, u32) {
    let mut offset = 0;
    let slots = vars
        .iter()
        .map(|t| {
            let slot = Slot { offset, size: size(t) };
            offset += slot.size;
            slot
        })
        .collect();
    (slots, offset)
}
