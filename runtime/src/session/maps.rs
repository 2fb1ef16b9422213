//! The user maps: read, cleared and zeroed through their fds, with byte keys and values laid out as
//! codegen laid them out (see `codegen::key_size` / `codegen::value_size`), into value shapes.

use super::{Error, MapError, Session};
use crate::output::decode;
use crate::output::shape::{Entry, Kind, MapDump};
use crate::sys;
use aya::maps::{Map, MapData};
use codegen::{MapSpec, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH};
use lang::typed::{MapDef, MapKind, Ty};
use std::collections::BTreeMap;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};

/// One user map's raw contents (see `Session::export_maps`).
pub struct RawMap {
    pub def: MapDef,
    pub spec: MapSpec,
    pub entries: Vec<(Vec<u8>, Vec<u8>)>,
}

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
    /// Names the stacks and addresses its keys and values hold.
    pub names: crate::symbols::Names<'a>,
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8).and_then(|s| s.try_into().ok()).map_or(0, u64::from_ne_bytes)
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
        let host = self.host.ok_or_else(|| io::Error::other("a shared map has no host"))?;
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
        let stride = self.spec.value_size.div_ceil(8) as usize * 8;
        let cpus = if is_percpu(self.spec) { self.ncpus } else { 1 };
        let split = |buf: &[u8]| buf.chunks(stride).map(|c| c[..self.spec.value_size as usize].to_vec()).collect();
        if !is_array(self.spec) {
            // One call for the whole map where the kernel can (a lookup per key otherwise).
            let len = if is_percpu(self.spec) { stride * cpus } else { self.spec.value_size as usize };
            if let Some(all) = sys::entries_batch(self.fd, self.spec.key_size as usize, len, self.spec.max_entries as usize)? {
                return Ok(all.into_iter().map(|(k, v)| (k, split(&v))).collect());
            }
        }
        let keys = if is_array(self.spec) {
            (0..self.spec.max_entries).map(|i| i.to_ne_bytes().to_vec()).collect()
        } else {
            sys::keys(self.fd, self.spec.key_size as usize)?
        };
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let mut buf = vec![0u8; stride * cpus];
            if sys::lookup(self.fd, &key, &mut buf)? {
                out.push((key, split(&buf)));
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

    /// The map's contents as value shapes, reduced over CPUs.
    pub fn dump(&self) -> io::Result<MapDump> {
        let name = self.def.name.clone();
        let entries = self.entries()?;
        self.names.prefetch(&self.def.key, &entries.iter().map(|(k, _)| k.as_slice()).collect::<Vec<_>>());
        let mut dump = MapDump::empty(name, kind_of(&self.def.kind));
        let keyless = self.def.key.is_empty();
        let entry = match &self.def.kind {
            MapKind::Agg(agg) => library::LIBRARY.aggregation_entry(&agg.name).map(|e| (agg, e)),
            MapKind::Value(_) => None,
        };
        match (&self.def.kind, entry) {
            (_, Some((agg, e))) if e.buckets(agg).is_some() => {
                // A histogram's entries are its buckets: the key's parts, then the bucket's index.
                let n = e.buckets(agg).unwrap_or(0) as usize;
                let parts_len = entries.first().map_or(0, |(k, _)| k.len().saturating_sub(8));
                let mut grouped: BTreeMap<Vec<u8>, (Vec<u64>, Option<i128>)> = BTreeMap::new();
                for (key, cpus) in &entries {
                    let (parts, bucket) = if keyless {
                        (Vec::new(), key.get(..4).and_then(|b| b.try_into().ok()).map_or(0, u32::from_ne_bytes) as usize)
                    } else {
                        (key[..parts_len.min(key.len())].to_vec(), u64_at(key, parts_len) as usize)
                    };
                    let count = e.bucket_count(cpus);
                    if count > 0 && bucket < n {
                        let (counts, sum) = grouped.entry(parts).or_insert_with(|| (vec![0; n], e.bucket_sum(agg, &[]).map(|_| 0)));
                        counts[bucket] += count;
                        if let (Some(total), Some(s)) = (sum.as_mut(), e.bucket_sum(agg, cpus)) {
                            *total += i128::from(s);
                        }
                    }
                }
                if grouped.is_empty() && keyless && self.zeroed {
                    grouped.insert(Vec::new(), (vec![0; n], e.bucket_sum(agg, &[]).map(|_| 0)));
                }
                for (parts, (counts, sum)) in grouped {
                    let Some(value) = e.histogram(agg, counts) else { continue };
                    dump.entries.push(Entry::new(decode::key(&self.def.key, &parts, &self.names), value).with_sum(sum));
                }
            }
            (kind, entry) => {
                for (key, cpus) in &entries {
                    let value = match (kind, entry) {
                        (_, Some((agg, e))) => e.decode(agg, cpus),
                        (MapKind::Value(ty), None) => cpus.first().map(|v| decode::typed(ty, v, &self.names)),
                        (MapKind::Agg(_), None) => None,
                    };
                    let Some(value) = value else { continue };
                    // A keyless entry holding nothing prints nothing; after zero() it prints its zero.
                    let empty = entry.is_some_and(|(_, e)| e.is_empty(&value));
                    if keyless && empty && !self.zeroed {
                        continue;
                    }
                    let key = if keyless { Vec::new() } else { decode::key(&self.def.key, key, &self.names) };
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
        let keep = match &self.def.kind {
            MapKind::Agg(a) => library::LIBRARY.aggregation_entry(&a.name).map_or(0, |e| e.zero_keeps()),
            MapKind::Value(_) => 0,
        };
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

/// The shape of a map's values.
fn kind_of(kind: &MapKind) -> Kind {
    match kind {
        MapKind::Agg(a) => library::LIBRARY.aggregation_entry(&a.name).map_or(Kind::UInt, |e| e.kind(a)),
        MapKind::Value(Ty::Int(i)) if !i.signed => Kind::UInt,
        MapKind::Value(Ty::Int(_)) => Kind::Int,
        MapKind::Value(Ty::Str(_) | Ty::Text(_)) => Kind::Str,
        MapKind::Value(Ty::Tuple(_)) => Kind::Tuple,
    }
}

impl Session {
    pub(super) fn map_fd(&self, index: usize) -> Result<BorrowedFd<'_>, Error> {
        let symbol = &self.object.maps[index].symbol;
        let data: &MapData = match self.ebpf.map(symbol) {
            Some(Map::Array(d) | Map::HashMap(d) | Map::PerCpuArray(d) | Map::PerCpuHashMap(d)) => d,
            _ => return Err(MapError::Missing(symbol.clone()).into()),
        };
        Ok(data.fd().as_fd())
    }

    /// What names the stacks and addresses this session's maps and events hold.
    pub(super) fn names(&self) -> crate::symbols::Names<'_> {
        let stacks = self
            .object
            .internal
            .stacks
            .iter()
            .filter_map(|&(limit, m)| match self.ebpf.map(&self.object.maps[m].symbol) {
                Some(Map::StackTraceMap(d)) => Some((limit, d.fd().as_fd())),
                _ => None,
            })
            .collect();
        crate::symbols::Names::new(&self.symbols, stacks)
    }

    pub(super) fn kernel_map(&self, index: usize) -> Result<KernelMap<'_>, Error> {
        let spec = &self.object.maps[index];
        let host = spec.within.and(self.object.internal.scalars);
        Ok(KernelMap {
            def: &self.object.user_maps[index],
            spec,
            fd: self.map_fd(host.unwrap_or(index))?,
            ncpus: self.ncpus,
            host: host.map(|h| &self.object.maps[h]),
            zeroed: self.zeroed[index],
            names: self.names(),
        })
    }

    /// The contents of every user map.
    pub fn dump(&self) -> Result<Vec<MapDump>, Error> {
        (0..self.object.user_maps.len()).map(|i| Ok(self.kernel_map(i)?.dump().map_err(MapError::Io)?)).collect()
    }

    /// Every user map's raw contents, to carry into another session of a grown script (`import_map`).
    pub fn export_maps(&self) -> Result<Vec<RawMap>, Error> {
        (0..self.object.user_maps.len())
            .map(|i| {
                let map = self.kernel_map(i)?;
                let entries = map.raw_entries().map_err(MapError::Io)?;
                Ok(RawMap { def: map.def.clone(), spec: map.spec.clone(), entries })
            })
            .collect()
    }

    /// Copies `raw` into this session's user map of the same name when its layout is the same; returns
    /// whether it did.
    pub fn import_map(&self, raw: &RawMap) -> Result<bool, Error> {
        let Some(i) = self.object.user_maps.iter().position(|d| d.name == raw.def.name) else { return Ok(false) };
        let map = self.kernel_map(i)?;
        let same = map.def.kind == raw.def.kind
            && map.def.key == raw.def.key
            && MapSpec { symbol: String::new(), ..map.spec.clone() } == MapSpec { symbol: String::new(), ..raw.spec.clone() };
        if !same {
            return Ok(false);
        }
        map.write_raw(&raw.entries).map_err(MapError::Io)?;
        Ok(true)
    }

    /// `clear(@name)` from user space; `false` when there is no such map.
    pub fn clear_map(&mut self, name: &str) -> Result<bool, Error> {
        let Some(i) = self.object.user_maps.iter().position(|d| d.name == name) else { return Ok(false) };
        self.clear_or_zero(i, false)?;
        Ok(true)
    }

    /// `clear(@m)` or (with `zero`) `zero(@m)` of user map `i`, remembering which for `dump`.
    pub(super) fn clear_or_zero(&mut self, i: usize, zero: bool) -> Result<(), Error> {
        let map = self.kernel_map(i)?;
        if zero { map.zero() } else { map.clear() }.map_err(MapError::Io)?;
        self.zeroed[i] = zero;
        Ok(())
    }
}
