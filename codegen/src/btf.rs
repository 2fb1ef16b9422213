//! The `.BTF` and `.BTF.ext` sections of an object whose programs pass callbacks to helpers. The
//! kernel verifies a callback (`BPF_PSEUDO_FUNC`) only in a program loaded with BTF `func_info`, one
//! record per subprogram, and only if the callback's `FUNC` is static. So each program gets a global
//! `FUNC` `long NAME(void *ctx)` at its first instruction and each callback a static `FUNC`
//! `long NAME(void *map, void *key, void *value, void *ctx)` at its place in `.text`. No line info,
//! no CO-RE relocations. (Layouts: the kernel's Documentation/bpf/btf.rst.)

const MAGIC: u16 = 0xeb9f;
const KIND_INT: u32 = 1;
const KIND_PTR: u32 = 2;
const KIND_FUNC: u32 = 12;
const KIND_FUNC_PROTO: u32 = 13;
const LINKAGE_STATIC: u32 = 0;
const LINKAGE_GLOBAL: u32 = 1;
const INT_SIGNED: u32 = 1 << 24;

/// Type ids of the fixed types.
const LONG: u32 = 1;
const VOID_PTR: u32 = 2;
const PROG_PROTO: u32 = 3;
const CALLBACK_PROTO: u32 = 4;

/// A function of the object: the ELF section it is in, its symbol, its byte offset in that section,
/// and whether it is a callback (static) or a program (global).
pub struct Func<'a> {
    pub section: &'a str,
    pub name: &'a str,
    pub offset: u32,
    pub callback: bool,
}

#[derive(Default)]
struct Strings(Vec<u8>);

impl Strings {
    fn add(&mut self, s: &str) -> u32 {
        if self.0.is_empty() {
            self.0.push(0);
        }
        let at = self.0.len() as u32;
        self.0.extend_from_slice(s.as_bytes());
        self.0.push(0);
        at
    }
}

fn words(out: &mut Vec<u8>, ws: &[u32]) {
    for w in ws {
        out.extend_from_slice(&w.to_le_bytes());
    }
}

/// The `.BTF` and `.BTF.ext` section contents for `funcs`.
pub fn sections(funcs: &[Func]) -> (Vec<u8>, Vec<u8>) {
    let mut strings = Strings::default();
    let mut types = Vec::new();
    let long = strings.add("long");
    words(&mut types, &[long, KIND_INT << 24, 8, INT_SIGNED | 64]);
    words(&mut types, &[0, KIND_PTR << 24, 0]);
    let ctx = strings.add("ctx");
    words(&mut types, &[0, KIND_FUNC_PROTO << 24 | 1, LONG, ctx, VOID_PTR]);
    words(&mut types, &[0, KIND_FUNC_PROTO << 24 | 4, LONG]);
    for param in ["map", "key", "value", "ctx"] {
        let name = strings.add(param);
        words(&mut types, &[name, VOID_PTR]);
    }
    // The FUNC of funcs[i] is type 5 + i.
    for f in funcs {
        let (linkage, proto) = if f.callback { (LINKAGE_STATIC, CALLBACK_PROTO) } else { (LINKAGE_GLOBAL, PROG_PROTO) };
        let name = strings.add(f.name);
        words(&mut types, &[name, KIND_FUNC << 24 | linkage, proto]);
    }
    // func_info, by section in the order sections first appear.
    let mut sections: Vec<&str> = Vec::new();
    for f in funcs {
        if !sections.contains(&f.section) {
            sections.push(f.section);
        }
    }
    let mut func_info = Vec::new();
    words(&mut func_info, &[8]);
    for s in sections {
        let name = strings.add(s);
        let records: Vec<(usize, &Func)> = funcs.iter().enumerate().filter(|(_, f)| f.section == s).collect();
        words(&mut func_info, &[name, records.len() as u32]);
        for (i, f) in records {
            words(&mut func_info, &[f.offset, 5 + i as u32]);
        }
    }
    let mut btf = Vec::new();
    btf.extend_from_slice(&MAGIC.to_le_bytes());
    btf.extend_from_slice(&[1, 0]);
    words(&mut btf, &[24, 0, types.len() as u32, types.len() as u32, strings.0.len() as u32]);
    btf.extend_from_slice(&types);
    btf.extend_from_slice(&strings.0);

    let mut ext = Vec::new();
    ext.extend_from_slice(&MAGIC.to_le_bytes());
    ext.extend_from_slice(&[1, 0]);
    // hdr_len, func_info off/len, line_info off/len, core_relo off/len (offsets after the header).
    let fl = func_info.len() as u32;
    words(&mut ext, &[32, 0, fl, fl, 0, fl, 0]);
    ext.extend_from_slice(&func_info);
    (btf, ext)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let funcs = [
            Func { section: "raw_tp/vt_begin", name: "vt0_BEGIN", offset: 0, callback: false },
            Func { section: ".text", name: "vt0_cb0", offset: 0, callback: true },
            Func { section: ".text", name: "vt0_cb1", offset: 64, callback: true },
        ];
        let (btf, ext) = sections(&funcs);
        assert_eq!(&btf[..4], &[0x9f, 0xeb, 1, 0]);
        let type_len = u32::from_le_bytes(btf[16..20].try_into().unwrap()) as usize;
        // INT (16) + PTR (12) + two protos (20 + 44) + three FUNCs (12 each).
        assert_eq!(type_len, 16 + 12 + 20 + 44 + 36);
        let strings = &btf[24 + type_len..];
        assert!(strings.starts_with(b"\0long\0ctx\0"));
        // func_info: rec_size, then the program's section (1 record) and .text (2 records).
        let fi = &ext[32..];
        let w = |i: usize| u32::from_le_bytes(fi[i * 4..i * 4 + 4].try_into().unwrap());
        assert_eq!((w(0), w(2)), (8, 1));
        assert_eq!((w(3), w(4)), (0, 5));
        assert_eq!((w(6), w(7), w(8), w(9), w(10)), (2, 0, 6, 64, 7));
    }
}
