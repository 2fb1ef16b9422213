//! `.vto` files: a compiled script that runs without compiling (`vt build FILE.vt -o FILE.vto`, then
//! `vt FILE.vto` on this or another host).
//!
//! Layout (integers little-endian):
//! ```text
//! magic  "\x7fVTO"          4 bytes
//! version                   u32 (VERSION: the wire format's version, `codegen::wire::FORMAT_VERSION`)
//! header length, header     u64, JSON: vt version, script name, the kernel it was built on, and the
//!                           compiled object in its wire form (maps, programs with their code and attach
//!                           points, the printf formats, and each tracepoint's record layout it was
//!                           compiled against)
//! ELF length, ELF           u64, the BPF object as loaded (checked against the header's programs)
//! ```
//! Before running, [`check_layouts`] compares each tracepoint's layout with this host's `format` file:
//! a program compiled for other offsets would read the wrong bytes.

use codegen::{wire, Object};
use lang::provider::{Field, Format, Tracefs};
use lang::typed::Target;
use serde::{Deserialize, Serialize};

pub const MAGIC: &[u8; 4] = b"\x7fVTO";
/// Files carry the version of the wire format their header is written in.
pub const VERSION: u32 = wire::FORMAT_VERSION;

/// A `.vto`'s header, read back.
#[derive(Debug)]
pub struct Header {
    /// The vt that built it.
    pub vt_version: String,
    /// The script's file name (for messages).
    pub script: String,
    /// `uname -r` where it was built.
    pub built_on: String,
    pub object: Object,
}

/// The header as stored.
#[derive(Serialize, Deserialize)]
struct Stored {
    vt_version: String,
    script: String,
    built_on: String,
    object: wire::Object,
}

/// The bytes of a `.vto` for `object`.
pub fn write(object: &Object, script: &str) -> Result<Vec<u8>, codegen::elf::ElfError> {
    let header = Stored {
        vt_version: env!("CARGO_PKG_VERSION").to_string(),
        script: script.to_string(),
        built_on: kernel_release(),
        object: wire::Object::from(object),
    };
    // Plain structs, strings and numbers only: serde_json does not fail on them.
    let json = serde_json::to_vec(&header).expect("the wire object serializes");
    let elf = codegen::elf::write(object)?;
    let mut out = Vec::with_capacity(24 + json.len() + elf.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&json);
    out.extend_from_slice(&(elf.len() as u64).to_le_bytes());
    out.extend_from_slice(&elf);
    Ok(out)
}

/// Whether `bytes` start like a `.vto`.
pub fn is_vto(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// Reads a `.vto`, checking its magic, version and that its ELF is the one its object describes.
pub fn read(bytes: &[u8]) -> Result<Header, String> {
    if !is_vto(bytes) {
        return Err("not a vt object (no .vto magic)".into());
    }
    let truncated = || "the file is truncated".to_string();
    let field = |at: usize, n: usize| bytes.get(at..at.checked_add(n)?);
    let u32_at = |at: usize| field(at, 4).and_then(|b| Some(u32::from_le_bytes(b.try_into().ok()?)));
    let len_at = |at: usize| {
        field(at, 8).and_then(|b| usize::try_from(u64::from_le_bytes(b.try_into().ok()?)).ok()).ok_or_else(truncated)
    };
    let version = u32_at(4).ok_or_else(truncated)?;
    if version != VERSION {
        return Err(format!("it is a version {version} vt object; this vt reads version {VERSION}: rebuild it with `vt build`"));
    }
    let json_len = len_at(8)?;
    let json = field(16, json_len).ok_or_else(truncated)?;
    let stored: Stored = serde_json::from_slice(json).map_err(|e| format!("its header does not parse: {e}"))?;
    let object = stored.object.to_object(&library::LIBRARY).map_err(|e| format!("its header is not a valid object: {e}"))?;
    let at = 16 + json_len;
    let elf_len = len_at(at)?;
    let elf = field(at + 8, elf_len).ok_or_else(truncated)?;
    if bytes.len() != at + 8 + elf_len {
        return Err("it has trailing bytes".into());
    }
    if codegen::elf::write(&object).ok().as_deref() != Some(elf) {
        return Err("its BPF object does not match its header (the file is damaged)".into());
    }
    Ok(Header { vt_version: stored.vt_version, script: stored.script, built_on: stored.built_on, object })
}

fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease").map(|s| s.trim().to_string()).unwrap_or_default()
}

fn describe(f: &Field) -> String {
    format!("`{}` (offset {}, size {}{})", f.declaration(), f.offset, f.size, if f.signed { ", signed" } else { "" })
}

/// How `built` (the layout a program was compiled against) differs from `host`; `None` if equal.
pub fn layout_difference(built: &Format, host: &Format) -> Option<String> {
    if built == host {
        return None;
    }
    for b in &built.fields {
        match host.field(&b.name) {
            None => return Some(format!("field {} is not there", describe(b))),
            Some(h) if h != b => return Some(format!("field {} is {} here", describe(b), describe(h))),
            Some(_) => {}
        }
    }
    let extra: Vec<String> = host.fields.iter().filter(|h| built.field(&h.name).is_none()).map(describe).collect();
    Some(format!("this host has more fields: {}", extra.join(", ")))
}

/// Checks every tracepoint the object attaches to against this host's layout.
pub fn check_layouts(object: &Object, tracefs: &mut Tracefs, file: &str) -> Result<(), String> {
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for p in &object.programs {
        let (Target::Tracepoint { category, name }, Some(format)) = (&p.attach.target, &p.attach.args) else { continue };
        if !seen.insert((category.clone(), name.clone())) {
            continue;
        }
        match tracefs.format(category, name) {
            Err(e) => problems.push(format!("tracepoint:{category}:{name} does not exist on this host ({e})")),
            Ok(host) => {
                if let Some(d) = layout_difference(format, &host) {
                    problems.push(format!("tracepoint:{category}:{name} has another layout on this host: {d}"));
                }
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let mut msg = format!("vt: {file} was compiled against tracepoint layouts this host does not have:\n");
    for p in problems {
        msg += &format!("  {p}\n");
    }
    msg += "rebuild it on this host with `vt build`";
    Err(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object() -> Object {
        let src = "BEGIN { @c = count(); @h[1] = hist(5); @s = sum(-2); printf(\"%d %s\\n\", 1, \"a\"); }\n\
                   interval:ms:10 { @v[2, \"x\"] = 3; exit(); } END { print(@c); }";
        let script = lang::parse(src).unwrap();
        let program = library::check(&script, &mut Tracefs::new("/nonexistent"), &Default::default()).unwrap();
        library::compile(&program).unwrap()
    }

    #[test]
    fn a_written_object_reads_back_the_same() {
        let object = object();
        let bytes = write(&object, "t.vt").unwrap();
        assert_eq!(&bytes[..8], [b"\x7fVTO".as_slice(), &VERSION.to_le_bytes()].concat());
        let header = read(&bytes).unwrap();
        assert_eq!(header.script, "t.vt");
        assert_eq!(header.object.listing(), object.listing());
        assert_eq!(codegen::elf::write(&header.object).unwrap(), codegen::elf::write(&object).unwrap());
    }

    #[test]
    fn another_version_is_refused_by_number() {
        let mut bytes = write(&object(), "t.vt").unwrap();
        let old = VERSION - 1;
        bytes[4..8].copy_from_slice(&old.to_le_bytes());
        assert_eq!(
            read(&bytes).unwrap_err(),
            format!("it is a version {old} vt object; this vt reads version {VERSION}: rebuild it with `vt build`")
        );
    }

    #[test]
    fn truncated_or_garbage_files_are_refused_without_panicking() {
        let bytes = write(&object(), "t.vt").unwrap();
        for n in 0..bytes.len() {
            assert!(read(&bytes[..n]).is_err(), "{n} bytes");
        }
        assert_eq!(read(&bytes[..bytes.len() - 1]).unwrap_err(), "the file is truncated");
        let with = |len: u64, rest: &[u8]| [MAGIC.as_slice(), &VERSION.to_le_bytes(), &len.to_le_bytes(), rest].concat();
        assert_eq!(read(&with(u64::MAX, b"{}")).unwrap_err(), "the file is truncated");
        assert!(read(&with(2, b"{}")).unwrap_err().starts_with("its header does not parse"));
        assert!(read(&with(4, b"\xff\xfe[]")).unwrap_err().starts_with("its header does not parse"));
        // Well-formed JSON whose object refers to a map it does not have.
        let json_len = u64::from_le_bytes(bytes[8..16].try_into().unwrap()) as usize;
        let mut stored: serde_json::Value = serde_json::from_slice(&bytes[16..16 + json_len]).unwrap();
        stored["object"]["internal"]["run"] = 1000.into();
        let json = serde_json::to_vec(&stored).unwrap();
        let err = read(&with(json.len() as u64, &json)).unwrap_err();
        assert!(err.starts_with("its header is not a valid object: internal map 1000 is out of range"), "{err}");
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(read(&trailing).unwrap_err(), "it has trailing bytes");
    }
}
