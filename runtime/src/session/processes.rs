//! While the run goes on: the pids in maps keyed by user stacks or user addresses, whose mappings vt
//! reads the first time it sees them (so that a process that exits before the maps print keeps its
//! symbols; see `symbols`).

use super::Session;
use crate::sys;
use lang::typed::{MapKind, Ty};

/// Offsets of the pids inside a key laid out as `types`.
fn pid_offsets(types: &[Ty], base: usize, out: &mut Vec<usize>) {
    let mut parts = Vec::new();
    crate::symbols::user_parts(types, base, &mut parts);
    out.extend(parts.into_iter().map(|(at, _)| at + 8));
}

impl Session {
    /// Whether any map is keyed by a user stack or address (then `note_processes` has work to do).
    pub fn keys_user_symbols(&self) -> bool {
        self.object.user_maps.iter().any(|d| {
            let mut v = Vec::new();
            pid_offsets(&d.key, 0, &mut v);
            !v.is_empty()
        })
    }

    /// Reads the mappings of each process that user-stack keys name and vt has not seen yet.
    pub fn note_processes(&self) {
        for (i, def) in self.object.user_maps.iter().enumerate() {
            let mut offsets = Vec::new();
            pid_offsets(&def.key, 0, &mut offsets);
            let spec = &self.object.maps[i];
            if offsets.is_empty() || spec.within.is_some() || matches!(def.kind, MapKind::Value(_)) && def.key.is_empty() {
                continue;
            }
            let Ok(fd) = self.map_fd(i) else { continue };
            let Ok(keys) = sys::keys(fd, spec.key_size as usize) else { continue };
            let mut symbols = self.symbols.borrow_mut();
            for key in keys {
                for &at in &offsets {
                    if let Some(pid) = key.get(at..at + 4).and_then(|b| b.try_into().ok()).map(u32::from_ne_bytes) {
                        symbols.note_process(pid);
                    }
                }
            }
        }
    }
}
