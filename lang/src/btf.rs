//! Kernel BTF, read lazily: the file is read once, one pass records where each type starts (a `u32`
//! per type), and names are resolved on demand by scanning for them, so a script pays only for the
//! types it names. Our own reader: BTF is a small format, and the crates that parse it build every
//! type of vmlinux (~150k) up front. A module's BTF is split BTF on top of vmlinux's: its ids and
//! string offsets continue vmlinux's (`parse_split`; `btf_module.rs` finds and keeps them).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

pub const INT: u32 = 1;
pub const PTR: u32 = 2;
pub const ARRAY: u32 = 3;
pub const STRUCT: u32 = 4;
pub const UNION: u32 = 5;
pub const ENUM: u32 = 6;
pub const FWD: u32 = 7;
pub const TYPEDEF: u32 = 8;
pub const VOLATILE: u32 = 9;
pub const CONST: u32 = 10;
pub const RESTRICT: u32 = 11;
pub const FUNC: u32 = 12;
pub const FUNC_PROTO: u32 = 13;
pub const VAR: u32 = 14;
pub const DATASEC: u32 = 15;
pub const FLOAT: u32 = 16;
pub const DECL_TAG: u32 = 17;
pub const TYPE_TAG: u32 = 18;
pub const ENUM64: u32 = 19;

/// One BTF blob (vmlinux's, or a module's on top of it), with the start of every type's record.
pub struct Btf {
    data: Vec<u8>,
    strings: usize,
    strings_len: usize,
    /// `starts[id - first]`: where type `id`'s record begins in `data`.
    starts: Vec<u32>,
    /// Split BTF: the blob this one continues (ids below `first`, string offsets below its length).
    base: Option<&'static Btf>,
    /// This blob's first type id (1 for vmlinux).
    first: u32,
    /// What a record handle of this blob's own types carries (`handle`): 0 for vmlinux.
    tag: u32,
    /// Names already looked up: (kind, name) → id (0: absent).
    cache: Mutex<HashMap<(u32, String), u32>>,
    /// Enumerators already looked up: name → value.
    enum_cache: Mutex<HashMap<(u32, String), Option<i64>>>,
}

/// A type's record header.
#[derive(Clone, Copy, Debug)]
pub struct TypeHead {
    pub name_off: u32,
    pub kind: u32,
    pub vlen: u32,
    pub kind_flag: bool,
    /// `size` for ints, structs, unions, enums; the referred type for pointers, typedefs, modifiers.
    pub size_or_type: u32,
}

/// A member of a struct or union.
#[derive(Clone, Debug)]
pub struct Member {
    pub name: String,
    pub type_id: u32,
    /// Offset from the start of the struct, in bits.
    pub bit_offset: u32,
    /// Width of a bitfield (0: not a bitfield).
    pub bitfield: u32,
}

fn u32_at(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

/// Where vmlinux's BTF is (`VT_BTF` overrides it, so that tests can take it away).
pub fn vmlinux_path() -> String {
    std::env::var("VT_BTF").unwrap_or_else(|_| "/sys/kernel/btf/vmlinux".into())
}

/// The running kernel's BTF, read on first use; an error says why it cannot be had.
pub fn kernel() -> Result<&'static Btf, String> {
    static KERNEL: OnceLock<Result<Btf, String>> = OnceLock::new();
    KERNEL
        .get_or_init(|| {
            let path = vmlinux_path();
            let data = std::fs::read(&path).map_err(|e| format!("this kernel has no BTF ({path}: {e})"))?;
            Btf::parse(data).map_err(|e| format!("{path}: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

impl Btf {
    pub fn parse(data: Vec<u8>) -> Result<Btf, String> {
        Btf::parse_split(data, None, 0)
    }

    /// A module's BTF on top of `base` (vmlinux's); its record handles carry `tag`.
    pub fn parse_split(data: Vec<u8>, base: Option<&'static Btf>, tag: u32) -> Result<Btf, String> {
        let bad = || "not a BTF file".to_string();
        if data.get(0..2) != Some(&[0x9f, 0xeb]) {
            return Err(bad());
        }
        let hdr_len = u32_at(&data, 4).ok_or_else(bad)? as usize;
        let field = |i: usize| u32_at(&data, 8 + 4 * i).map(|v| v as usize).ok_or_else(bad);
        let (type_off, type_len, str_off, str_len) = (field(0)?, field(1)?, field(2)?, field(3)?);
        let types = hdr_len + type_off;
        let strings = hdr_len + str_off;
        if types + type_len > data.len() || strings + str_len > data.len() {
            return Err(bad());
        }
        let mut starts = Vec::with_capacity(type_len / 16);
        let mut at = types;
        while at < types + type_len {
            starts.push(at as u32);
            let info = u32_at(&data, at + 4).ok_or_else(bad)?;
            let (kind, vlen) = ((info >> 24) & 0x1f, (info & 0xffff) as usize);
            at += 12 + match kind {
                INT | VAR | DECL_TAG => 4,
                ARRAY => 12,
                STRUCT | UNION | DATASEC | ENUM64 => 12 * vlen,
                ENUM | FUNC_PROTO => 8 * vlen,
                PTR | FWD | TYPEDEF | VOLATILE | CONST | RESTRICT | FUNC | FLOAT | TYPE_TAG => 0,
                k => return Err(format!("unknown BTF kind {k}")),
            };
        }
        let first = base.map_or(1, |b| b.len() as u32 + 1);
        let (cache, enum_cache) = (Mutex::new(HashMap::new()), Mutex::new(HashMap::new()));
        Ok(Btf { data, strings, strings_len: str_len, starts, base, first, tag, cache, enum_cache })
    }

    /// How many types there are, the base's included (ids run from 1).
    pub fn len(&self) -> usize {
        self.first as usize - 1 + self.starts.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// This blob's own ids (a module's: those after vmlinux's).
    pub fn own_ids(&self) -> std::ops::RangeInclusive<u32> {
        self.first..=self.len() as u32
    }

    /// The handle a `CType::Record` keeps for type `id`: vmlinux's ids as they are, a module's own
    /// with its tag (`btf_module::by_handle` finds the blob again).
    pub fn handle(&self, id: u32) -> u32 {
        if id >= self.first {
            id | self.tag
        } else {
            id
        }
    }

    pub fn str_at(&self, off: u32) -> &str {
        if let Some(base) = self.base {
            if (off as usize) < base.strings_len {
                return base.str_at(off);
            }
            return self.own_str(off - base.strings_len as u32);
        }
        self.own_str(off)
    }

    fn own_str(&self, off: u32) -> &str {
        let off = off as usize;
        if off >= self.strings_len {
            return "";
        }
        let s = &self.data[self.strings + off..self.strings + self.strings_len];
        let end = s.iter().position(|b| *b == 0).unwrap_or(s.len());
        std::str::from_utf8(&s[..end]).unwrap_or("")
    }

    /// The blob that holds type `id` and where its record starts there.
    fn start(&self, id: u32) -> Option<(&Btf, usize)> {
        if id < self.first {
            return self.base?.start(id);
        }
        self.starts.get((id - self.first) as usize).map(|s| (self, *s as usize))
    }

    pub fn head(&self, id: u32) -> Option<TypeHead> {
        let (b, at) = self.start(id)?;
        let info = u32_at(&b.data, at + 4)?;
        Some(TypeHead {
            name_off: u32_at(&b.data, at)?,
            kind: (info >> 24) & 0x1f,
            vlen: info & 0xffff,
            kind_flag: info >> 31 == 1,
            size_or_type: u32_at(&b.data, at + 8)?,
        })
    }

    pub fn name(&self, id: u32) -> &str {
        self.head(id).map_or("", |h| self.str_at(h.name_off))
    }

    /// The `u32` words after a type's 12-byte header.
    fn extra(&self, id: u32, word: usize) -> Option<u32> {
        let (b, at) = self.start(id)?;
        u32_at(&b.data, at + 12 + 4 * word)
    }

    /// An int's (size in bytes, signed).
    pub fn int(&self, id: u32) -> Option<(u32, bool)> {
        let h = self.head(id).filter(|h| h.kind == INT)?;
        Some((h.size_or_type, self.extra(id, 0)? >> 24 & 1 == 1))
    }

    /// An array's (element type, element count).
    pub fn array(&self, id: u32) -> Option<(u32, u32)> {
        self.head(id).filter(|h| h.kind == ARRAY)?;
        Some((self.extra(id, 0)?, self.extra(id, 2)?))
    }

    pub fn members(&self, id: u32) -> Vec<Member> {
        let Some(h) = self.head(id).filter(|h| matches!(h.kind, STRUCT | UNION)) else { return vec![] };
        (0..h.vlen as usize)
            .filter_map(|i| {
                let (name, ty, off) = (self.extra(id, 3 * i)?, self.extra(id, 3 * i + 1)?, self.extra(id, 3 * i + 2)?);
                let (bit_offset, bitfield) = if h.kind_flag { (off & 0xff_ffff, off >> 24) } else { (off, 0) };
                Some(Member { name: self.str_at(name).to_string(), type_id: ty, bit_offset, bitfield })
            })
            .collect()
    }

    /// An enum's (name, value) pairs.
    pub fn enumerators(&self, id: u32) -> Vec<(String, i64)> {
        let Some(h) = self.head(id) else { return vec![] };
        let n = h.vlen as usize;
        match h.kind {
            ENUM => (0..n)
                .filter_map(|i| Some((self.str_at(self.extra(id, 2 * i)?).to_string(), self.extra(id, 2 * i + 1)? as i32 as i64)))
                .collect(),
            ENUM64 => (0..n)
                .filter_map(|i| {
                    let v = u64::from(self.extra(id, 3 * i + 1)?) | u64::from(self.extra(id, 3 * i + 2)?) << 32;
                    Some((self.str_at(self.extra(id, 3 * i)?).to_string(), v as i64))
                })
                .collect(),
            _ => vec![],
        }
    }

    /// A function prototype's parameters: (name, type id).
    pub fn params(&self, proto: u32) -> Vec<(String, u32)> {
        let Some(h) = self.head(proto).filter(|h| h.kind == FUNC_PROTO) else { return vec![] };
        (0..h.vlen as usize)
            .filter_map(|i| Some((self.str_at(self.extra(proto, 2 * i)?).to_string(), self.extra(proto, 2 * i + 1)?)))
            .collect()
    }

    /// The parameters of the kernel function `name` (for kprobe/fentry arguments): (name, type id).
    pub fn func_params(&self, name: &str) -> Option<Vec<(String, u32)>> {
        let f = self.find(FUNC, name)?;
        Some(self.params(self.head(f)?.size_or_type))
    }

    /// The return type of a function prototype (0: void).
    pub fn returns(&self, proto: u32) -> Option<u32> {
        self.head(proto).filter(|h| h.kind == FUNC_PROTO).map(|h| h.size_or_type)
    }

    /// The type of kind `kind` called `name`, by a scan of the type records the first time: this
    /// blob's own first, then its base's.
    pub fn find(&self, kind: u32, name: &str) -> Option<u32> {
        let key = (kind, name.to_string());
        if let Some(id) = self.cache.lock().ok()?.get(&key) {
            return (*id != 0).then_some(*id);
        }
        let found = self.find_own(kind, name).or_else(|| self.base?.find(kind, name));
        self.cache.lock().ok()?.insert(key, found.unwrap_or(0));
        found
    }

    /// The type of kind `kind` called `name` among this blob's own (a module's, not vmlinux's).
    pub fn find_own(&self, kind: u32, name: &str) -> Option<u32> {
        self.own_ids().find(|id| self.head(*id).is_some_and(|h| h.kind == kind && self.str_at(h.name_off) == name))
    }

    /// The value of the enumerator `name` of any kernel enum (`PIDTYPE_SID`), by a scan of the enums
    /// the first time a name is asked for.
    pub fn enumerator(&self, name: &str) -> Option<i64> {
        let key = (u32::MAX, name.to_string());
        if let Some(v) = self.enum_cache.lock().ok()?.get(&key) {
            return *v;
        }
        let found = (1..=self.len() as u32)
            .filter(|id| self.head(*id).is_some_and(|h| h.kind == ENUM || h.kind == ENUM64))
            .find_map(|id| self.enumerators(id).into_iter().find(|(n, _)| n == name).map(|(_, v)| v));
        self.enum_cache.lock().ok()?.insert(key, found);
        found
    }

    /// Every name of kind `kind` among this blob's own types (for "did you mean": only on the error
    /// path, and for wildcards).
    pub fn names(&self, kind: u32) -> Vec<&str> {
        self.own_ids()
            .filter_map(|id| self.head(id).filter(|h| h.kind == kind && h.name_off != 0).map(|h| self.str_at(h.name_off)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-made blob: int (id 1), struct s { int a; int b:3; } (id 2), pointer to s (id 3).
    pub(super) fn blob() -> Vec<u8> {
        let strings = b"\0int\0s\0a\0b\0".to_vec();
        let mut t = Vec::new();
        let mut w = |v: u32| t.extend_from_slice(&v.to_le_bytes());
        w(1); w(INT << 24); w(4); w(1 << 24 | 32);
        w(5); w(STRUCT << 24 | 1 << 31 | 2); w(8);
        w(7); w(1); w(0);
        w(9); w(1); w(3 << 24 | 32);
        w(0); w(PTR << 24); w(2);
        wrap(t, strings)
    }

    /// A BTF blob of `types` and `strings`: the header, then both sections.
    pub(super) fn wrap(types: Vec<u8>, strings: Vec<u8>) -> Vec<u8> {
        let mut d = vec![0x9f, 0xeb, 1, 0];
        for v in [24u32, 0, types.len() as u32, types.len() as u32, strings.len() as u32] {
            d.extend_from_slice(&v.to_le_bytes());
        }
        d.extend(types);
        d.extend(strings);
        d
    }

    #[test]
    fn reads_types_members_and_bitfields() {
        let b = Btf::parse(blob()).unwrap();
        assert_eq!(b.len(), 3);
        assert_eq!(b.int(1), Some((4, true)));
        let s = b.find(STRUCT, "s").unwrap();
        assert_eq!(s, 2);
        let m = b.members(s);
        assert_eq!((m[0].name.as_str(), m[0].bit_offset, m[0].bitfield), ("a", 0, 0));
        assert_eq!((m[1].name.as_str(), m[1].bit_offset, m[1].bitfield), ("b", 32, 3));
        assert_eq!(b.head(3).unwrap().size_or_type, 2);
        assert_eq!(b.find(STRUCT, "t"), None);
    }

    #[test]
    fn refuses_what_is_not_btf() {
        assert!(Btf::parse(vec![0; 40]).is_err());
    }
}

#[cfg(test)]
fn tests_blob() -> Vec<u8> {
    tests::blob()
}

#[cfg(test)]
mod split_tests {
    use super::*;

    /// A module's blob on top of `tests::blob`'s base: struct m { int x; s *y; } (id 4: its member
    /// types are the base's int, and the module's own pointer, id 5, to the base's s).
    fn module_blob(base_strings: u32) -> Vec<u8> {
        let strings = b"\0m\0x\0y\0".to_vec();
        let mut t = Vec::new();
        let mut w = |v: u32| t.extend_from_slice(&v.to_le_bytes());
        w(base_strings + 1); w(STRUCT << 24 | 2); w(16);
        w(base_strings + 3); w(1); w(0);
        w(base_strings + 5); w(5); w(64);
        w(0); w(PTR << 24); w(2);
        super::tests::wrap(t, strings)
    }

    #[test]
    fn reads_a_module_on_top_of_its_base() {
        let base: &'static Btf = Box::leak(Box::new(Btf::parse(super::tests_blob()).unwrap()));
        let m = Btf::parse_split(module_blob(base.strings_len as u32), Some(base), 1 << 22).unwrap();
        assert_eq!((m.len(), m.own_ids()), (5, 4..=5));
        let id = m.find(STRUCT, "m").unwrap();
        assert_eq!(id, 4);
        let members = m.members(id);
        assert_eq!((members[0].name.as_str(), members[0].type_id), ("x", 1));
        assert_eq!((members[1].name.as_str(), members[1].bit_offset), ("y", 64));
        assert_eq!(m.head(members[1].type_id).unwrap().size_or_type, 2);
        assert_eq!(m.name(2), "s");
        assert_eq!(m.find(STRUCT, "s"), Some(2));
        assert_eq!(m.find_own(STRUCT, "s"), None);
        assert_eq!((m.handle(4), m.handle(2)), (4 | 1 << 22, 2));
        assert_eq!(m.names(STRUCT), vec!["m"]);
    }
}
