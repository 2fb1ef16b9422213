//! `.vto` files: a compiled script that runs without compiling (`vt build FILE.vt -o FILE.vto`, then
//! `vt FILE.vto` on this or another host).
//!
//! Layout (integers little-endian):
//! ```text
//! magic  "\x7fVTO"          4 bytes
//! version                   u32 (VERSION)
//! header length, header     u64, JSON: vt version, script name, the kernel it was built on, and the
//!                           compiled object (maps, programs with their code and attach points, the
//!                           printf formats, and each tracepoint's record layout it was compiled against)
//! ELF length, ELF           u64, the BPF object as loaded (checked against the header's programs)
//! ```
//! Before running, [`check_layouts`] compares each tracepoint's layout with this host's `format` file:
//! a program compiled for other offsets would read the wrong bytes.

use codegen::Object;
use lang::provider::{Field, Format, Tracefs};
use lang::typed::Attach;
use serde::{Deserialize, Serialize};

pub const MAGIC: &[u8; 4] = b"\x7fVTO";
pub const VERSION: u32 = 2;

#[derive(Serialize, Deserialize, Debug)]
pub struct Header {
    /// The vt that built it.
    pub vt_version: String,
    /// The script's file name (for messages).
    pub script: String,
    /// `uname -r` where it was built.
    pub built_on: String,
    pub object: Object,
}

/// The bytes of a `.vto` for `object`.
pub fn write(object: &Object, script: &str) -> Result<Vec<u8>, codegen::elf::ElfError> {
    let header = Header {
        vt_version: env!("CARGO_PKG_VERSION").to_string(),
        script: script.to_string(),
        built_on: kernel_release(),
        object: object.clone(),
    };
    let json = serde_json::to_vec(&header).expect("the object serializes");
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
    let u32_at = |at: usize| bytes.get(at..at + 4).map(|b| u32::from_le_bytes(b.try_into().unwrap()));
    let u64_at = |at: usize| bytes.get(at..at + 8).map(|b| u64::from_le_bytes(b.try_into().unwrap()) as usize);
    let truncated = || "the file is truncated".to_string();
    let version = u32_at(4).ok_or_else(truncated)?;
    if version != VERSION {
        return Err(format!("it is a version {version} vt object; this vt reads version {VERSION}: rebuild it with `vt build`"));
    }
    let json_len = u64_at(8).ok_or_else(truncated)?;
    let json = bytes.get(16..16usize.checked_add(json_len).ok_or_else(truncated)?).ok_or_else(truncated)?;
    let header: Header = serde_json::from_slice(json).map_err(|e| format!("its header does not parse: {e}"))?;
    let at = 16 + json_len;
    let elf_len = u64_at(at).ok_or_else(truncated)?;
    let elf = bytes.get(at + 8..(at + 8).checked_add(elf_len).ok_or_else(truncated)?).ok_or_else(truncated)?;
    if bytes.len() != at + 8 + elf_len {
        return Err("it has trailing bytes".into());
    }
    if codegen::elf::write(&header.object).ok().as_deref() != Some(elf) {
        return Err("its BPF object does not match its header (the file is damaged)".into());
    }
    Ok(header)
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
        let Attach::Tracepoint { category, name, format } = &p.attach else { continue };
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
