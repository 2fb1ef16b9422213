//! Modules' BTF (`/sys/kernel/btf/MODULE`, split BTF on top of vmlinux's), read when a script first
//! names the module and kept for the run. A record of a module's own types is a handle with the
//! module's tag (`Btf::handle`), so `CType`s find their module again (`by_handle`).

use crate::btf::{self, Btf};
use std::sync::Mutex;

/// Bits of a record handle that name a module (1 + its place in `LOADED`); below them, the type id.
/// Bit 31 is the script's own records' (`ctype::SCRIPT`).
const TAG_SHIFT: u32 = 22;
const TAG_MASK: u32 = 0x1ff << TAG_SHIFT;

static LOADED: Mutex<Vec<(String, &'static Btf)>> = Mutex::new(Vec::new());

/// The directory of the kernel's BTF files (vmlinux's, and one per module built with BTF).
fn dir() -> std::path::PathBuf {
    let vmlinux = std::path::PathBuf::from(btf::vmlinux_path());
    vmlinux.parent().map(std::path::Path::to_path_buf).unwrap_or_default()
}

/// The modules that have BTF here (loaded modules built with it), sorted.
pub fn names() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir())
        .map(|d| d.filter_map(|e| e.ok()?.file_name().into_string().ok()).filter(|n| n != "vmlinux").collect())
        .unwrap_or_default();
    out.sort();
    out
}

/// Module `name`'s BTF, read on first use; an error says why it cannot be had.
pub fn module(name: &str) -> Result<&'static Btf, String> {
    let mut loaded = LOADED.lock().map_err(|_| "module BTF lock poisoned".to_string())?;
    if let Some((_, b)) = loaded.iter().find(|(n, _)| n == name) {
        return Ok(b);
    }
    if name.is_empty() || name == "vmlinux" || name.contains('/') {
        return Err(format!("`{name}` is not a module"));
    }
    let base = btf::kernel()?;
    let path = dir().join(name);
    let data = std::fs::read(&path).map_err(|e| format!("module {name} has no BTF here ({}: {e})", path.display()))?;
    let tag = (loaded.len() as u32 + 1) << TAG_SHIFT;
    if tag & !TAG_MASK != 0 {
        return Err("too many modules' BTF in one script".into());
    }
    let b: &'static Btf = Box::leak(Box::new(Btf::parse_split(data, Some(base), tag).map_err(|e| format!("{}: {e}", path.display()))?));
    loaded.push((name.to_string(), b));
    Ok(b)
}

/// The modules read so far.
pub fn loaded() -> Vec<&'static Btf> {
    LOADED.lock().map(|l| l.iter().map(|(_, b)| *b).collect()).unwrap_or_default()
}

/// The blob and type id a record handle names (vmlinux's, or a module's read before).
pub fn by_handle(handle: u32) -> Option<(&'static Btf, u32)> {
    let tag = (handle & TAG_MASK) >> TAG_SHIFT;
    if tag == 0 {
        return btf::kernel().ok().map(|b| (b, handle));
    }
    let loaded = LOADED.lock().ok()?;
    loaded.get(tag as usize - 1).map(|(_, b)| (*b, handle & !TAG_MASK))
}
