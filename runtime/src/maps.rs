//! Reading, clearing and zeroing the user maps through their fds, with byte keys and values laid out as
//! codegen laid them out (see `codegen::key_size` / `codegen::value_size`), into the formatters' model.

use crate::format::{Entry, KeyPart, MapDump, MapKind as Kind, Value};
use crate::sys;
use codegen::{buckets, MapSpec, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH};
use lang::typed::{Agg, MapDef, MapKind, Ty};
use std::collections::BTreeMap;
use std::io;
use std::os::fd::BorrowedFd;

/// One map as the kernel holds it. A map kept inside the shared per-CPU value (`spec.within`) is read
/// and written through its `host`, whose fd `fd` then is.
pub struct KernelMap<'a> {
    pub def: &'a MapDef,
    pub spec: &'a MapSpec,
    pub fd: BorrowedFd<'a>,
    pub ncpus: usize,
    pub host: Option<&'a MapSpec>,
    /// `zero()` has run on it since it was last cleared: a keyless avg, stats or histogram holding
    /// nothing then prints its zero (as in bpftrace) instead of nothing.
    pub zeroed: bool,
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_ne_bytes(b[at..at + 8].try_into().unwrap())
}

/// The bytes of a string up to its first NUL.
pub fn c_str(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

fn is_percpu(spec: &MapSpec) -> bool {
    matches!(spec.map_type, BPF_MAP_TYPE_PERCPU_ARRAY | BPF_MAP_TYPE_PERCPU_HASH)
}

fn is_array(spec: &MapSpec) -> bool {
    spec.map_type == BPF_MAP_TYPE_PERCPU_ARRAY
}

/// One entry: its key, and its value on each CPU (one value for maps that are not per-CPU).
type RawEntry = (Vec<u8>, Vec<Vec<u8>>);

impl KernelMap<'_> {
    /// The host's one value, per CPU, and its per-CPU stride.
    fn host_value(&self) -> io::Result<(Vec<u8>, usize)> {
        let host = self.host.expect("a shared map has a host");
        let stride = host.value_size.div_ceil(8) as usize * 8;
        let mut buf = vec![0u8; stride * self.ncpus];
        sys::lookup(self.fd, &0u32.to_ne_bytes(), &mut buf)?;
        Ok((buf, stride))
    }

    /// Changes this map's bytes inside the host value: `f(cpu, entry, bytes)` for every entry on every CPU.
    fn patch_shared(&self, offset: u32, mut f: impl FnMut(usize, usize, &mut [u8])) -> io::Result<()> {
        let (mut buf, stride) = self.host_value()?;
        let size = self.spec.value_size as usize;
        for (cpu, value) in buf.chunks_mut(stride).enumerate() {
            for k in 0..self.spec.max_entries as usize {
                let at = offset as usize + k * size;
                f(cpu, k, &mut value[at..at + size]);
            }
        }
        sys::update(self.fd, &0u32.to_ne_bytes(), &buf)
    }

    /// Every (key, value) pair; per-CPU values come as one slice per CPU.
    fn entries(&self) -> io::Result<Vec<RawEntry>> {
        if let Some(offset) = self.spec.within {
            let (buf, stride) = self.host_value()?;
            let size = self.spec.value_size as usize;
            return Ok((0..self.spec.max_entries as usize)
                .map(|k| {
                    let at = offset as usize + k * size;
                    let cpus = buf.chunks(stride).map(|cpu| cpu[at..at + size].to_vec()).collect();
                    ((k as u32).to_ne_bytes().to_vec(), cpus)
                })
                .collect());
        }
        let keys = if is_array(self.spec) {
            (0..self.spec.max_entries).map(|i| i.to_ne_bytes().to_vec()).collect()
        } else {
            sys::keys(self.fd, self.spec.key_size as usize)?
        };
        let stride = self.spec.value_size.div_ceil(8) as usize * 8;
        let cpus = if is_percpu(self.spec) { self.ncpus } else { 1 };
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let mut buf = vec![0u8; stride * cpus];
            if sys::lookup(self.fd, &key, &mut buf)? {
                out.push((key, buf.chunks(stride).map(|c| c[..self.spec.value_size as usize].to_vec()).collect()));
            }
        }
        Ok(out)
    }

    /// Every entry as raw bytes: the key, and the value as the kernel hands it out (one 8-byte-aligned
    /// slot per CPU for per-CPU maps), to copy into another map of the same layout (`write_raw`).
    pub fn raw_entries(&self) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let stride = self.spec.value_size.div_ceil(8) as usize * 8;
        let cpus = if is_percpu(self.spec) { self.ncpus } else { 1 };
        Ok(self.entries()?.into_iter().map(|(k, parts)| {
            let mut value = vec![0u8; stride * cpus];
            for (i, p) in parts.iter().enumerate() {
                value[i * stride..i * stride + p.len()].copy_from_slice(p);
            }
            (k, value)
        }).collect())
    }

    /// Writes entries read by `raw_entries` from a map of the same layout.
    pub fn write_raw(&self, entries: &[(Vec<u8>, Vec<u8>)]) -> io::Result<()> {
        if let Some(offset) = self.spec.within {
            // `raw_entries` lists a shared map's entries in order, one 8-byte-aligned slot per CPU.
            let stride = self.spec.value_size.div_ceil(8) as usize * 8;
            return self.patch_shared(offset, |cpu, k, bytes| {
                if let Some((_, value)) = entries.get(k) {
                    bytes.copy_from_slice(&value[cpu * stride..cpu * stride + bytes.len()]);
                }
            });
        }
        for (key, value) in entries {
            sys::update(self.fd, key, value)?;
        }
        Ok(())
    }

    /// The map's contents as the formatters want them, summed (or min'd, max'd) over CPUs.
    pub fn dump(&self) -> io::Result<MapDump> {
        let name = self.def.name.clone();
        let entries = self.entries()?;
        let mut dump = MapDump::empty(name, kind_of(&self.def.kind));
        match &self.def.kind {
            MapKind::Agg(agg @ (Agg::Hist | Agg::LHist { .. })) => {
                let n = buckets(*agg).unwrap() as usize;
                let parts_len = entries.first().map_or(0, |(k, _)| k.len().saturating_sub(8));
                let mut grouped: BTreeMap<Vec<u8>, Vec<u64>> = BTreeMap::new();
                for (key, cpus) in &entries {
                    let (parts, bucket) = if self.def.key.is_empty() {
                        (Vec::new(), u32::from_ne_bytes(key[..4].try_into().unwrap()) as usize)
                    } else {
                        (key[..parts_len].to_vec(), u64_at(key, parts_len) as usize)
                    };
                    let count: u64 = cpus.iter().map(|v| u64_at(v, 0)).sum();
                    if count > 0 && bucket < n {
                        grouped.entry(parts).or_insert_with(|| vec![0; n])[bucket] += count;
                    }
                }
                if grouped.is_empty() && self.def.key.is_empty() && self.zeroed {
                    grouped.insert(Vec::new(), vec![0; n]);
                }
                for (parts, counts) in grouped {
                    let value = match *agg {
                        Agg::LHist { min, max, step } => Value::LHist { min, max, step, buckets: counts },
                        _ => Value::Hist(counts),
                    };
                    dump.entries.push(Entry::new(decode_key(&self.def.key, &parts), value));
                }
            }
            kind => {
                for (key, cpus) in &entries {
                    let Some(value) = combine(kind, cpus) else { continue };
                    // A keyless avg or stats holding nothing (never updated, or cleared) prints
                    // nothing, as in bpftrace; after zero() it prints its zero. After delete() it
                    // keeps its total, and prints, as bpftrace's (which deletes only the count).
                    let empty = matches!(value, Value::Avg { count: 0, total: 0 } | Value::Stats { count: 0, total: 0 });
                    if self.def.key.is_empty() && empty && !self.zeroed {
                        continue;
                    }
                    let key = if self.def.key.is_empty() { Vec::new() } else { decode_key(&self.def.key, key) };
                    dump.entries.push(Entry::new(key, value));
                }
            }
        }
        Ok(dump)
    }

    /// `clear(@m)`: removes every entry (an array's entries are zeroed instead).
    pub fn clear(&self) -> io::Result<()> {
        if is_array(self.spec) {
            return self.zero_keeping(0);
        }
        for key in sys::keys(self.fd, self.spec.key_size as usize)? {
            sys::delete(self.fd, &key)?;
        }
        Ok(())
    }

    /// `zero(@m)`: keeps the keys, zeroes the values. A sum, min or max keeps its `seen` flags, so it
    /// prints 0 afterwards (as in bpftrace) rather than nothing, as after `clear`.
    pub fn zero(&self) -> io::Result<()> {
        let keep = if matches!(self.def.kind, MapKind::Agg(Agg::Sum { .. } | Agg::Min | Agg::Max)) { 8 } else { 0 };
        self.zero_keeping(keep)
    }

    /// Zeroes every value but its last `keep` bytes (per CPU).
    fn zero_keeping(&self, keep: usize) -> io::Result<()> {
        if let Some(offset) = self.spec.within {
            return self.patch_shared(offset, |_, _, bytes| {
                let n = bytes.len() - keep.min(bytes.len());
                bytes[..n].fill(0)
            });
        }
        let stride = self.spec.value_size.div_ceil(8) as usize * 8;
        for (key, parts) in self.entries()? {
            let mut value = vec![0u8; stride * parts.len()];
            for (i, p) in parts.iter().enumerate() {
                let at = i * stride + p.len().saturating_sub(keep);
                value[at..i * stride + p.len()].copy_from_slice(&p[p.len().saturating_sub(keep)..]);
            }
            sys::update(self.fd, &key, &value)?;
        }
        Ok(())
    }
}

fn kind_of(kind: &MapKind) -> Kind {
    match kind {
        MapKind::Agg(a) => match a {
            Agg::Count => Kind::Count,
            Agg::Sum { .. } => Kind::Sum,
            Agg::Min => Kind::Min,
            Agg::Max => Kind::Max,
            Agg::Avg => Kind::Avg,
            Agg::Stats => Kind::Stats,
            Agg::Hist => Kind::Hist,
            Agg::LHist { .. } => Kind::LHist,
        },
        MapKind::Value(Ty::Int(i)) if !i.signed => Kind::UInt,
        MapKind::Value(Ty::Int(_)) => Kind::Int,
        MapKind::Value(_) => Kind::Str,
    }
}

/// One entry's value from its per-CPU parts; `None` for a min/max no CPU has seen a value for.
fn combine(kind: &MapKind, cpus: &[Vec<u8>]) -> Option<Value> {
    let sum = |at| cpus.iter().map(|v| u64_at(v, at)).fold(0u64, u64::wrapping_add);
    let seen = || cpus.iter().filter(|v| u64_at(v, 8) != 0).map(|v| u64_at(v, 0) as i64);
    Some(match kind {
        MapKind::Agg(Agg::Count) => Value::Count(sum(0)),
        MapKind::Agg(Agg::Sum { signed }) => {
            cpus.iter().any(|v| u64_at(v, 8) != 0).then_some(())?;
            if *signed { Value::Sum(sum(0) as i64) } else { Value::UInt(sum(0)) }
        }
        MapKind::Agg(Agg::Min) => Value::Min(seen().min()?),
        MapKind::Agg(Agg::Max) => Value::Max(seen().max()?),
        MapKind::Agg(Agg::Avg) => Value::Avg { count: sum(0), total: sum(8) as i64 },
        MapKind::Agg(Agg::Stats) => Value::Stats { count: sum(0), total: sum(8) as i64 },
        MapKind::Agg(_) => unreachable!("histograms are grouped by the caller"),
        MapKind::Value(ty) => match ty {
            Ty::Int(i) if i.signed => Value::Int(u64_at(&cpus[0], 0) as i64),
            Ty::Int(_) => Value::UInt(u64_at(&cpus[0], 0)),
            Ty::Str(_) => Value::Str(value_text(ty, &cpus[0])),
            Ty::Tuple(_) => Value::Tuple { ty: ty.clone(), bytes: cpus[0].clone() },
        },
    })
}

/// A stored value of type `ty` as bpftrace prints it (strings unquoted, tuples as `(a, b)`).
pub fn value_text(ty: &Ty, b: &[u8]) -> String {
    match ty {
        Ty::Int(i) if i.signed => (u64_at(b, 0) as i64).to_string(),
        Ty::Int(_) => u64_at(b, 0).to_string(),
        Ty::Str(n) => c_str(&b[..(*n as usize).min(b.len())]),
        Ty::Tuple(parts) => {
            let mut at = 0;
            let items: Vec<String> = parts
                .iter()
                .map(|p| {
                    let s = value_text(p, &b[at..at + p.size() as usize]);
                    at += p.size() as usize;
                    s
                })
                .collect();
            format!("({})", items.join(", "))
        }
    }
}

/// A key's parts (tuples flattened, as bpftrace prints `@m[a, b]`).
fn decode_key(types: &[Ty], b: &[u8]) -> Vec<KeyPart> {
    let mut out = Vec::new();
    let mut at = 0;
    for ty in types {
        let size = ty.size() as usize;
        let part = &b[at..at + size];
        match ty {
            Ty::Int(_) => out.push(KeyPart::Int(u64_at(part, 0) as i64)),
            Ty::Str(_) => out.push(KeyPart::Str(c_str(part))),
            Ty::Tuple(inner) => out.extend(decode_key(inner, part)),
        }
        at += size;
    }
    out
}
