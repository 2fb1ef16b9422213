//! Naming what `kstack`, `ustack`, `ksym` and `usym` stored: stack ids become frames (read from the
//! stack maps when the value is printed), addresses become symbols. Each distinct address is named once
//! per session and only when printed; the kernel's table is read on first use.
//!
//! A user address is named through the mappings its process had: vt reads /proc/PID/maps the first
//! time it sees the pid (while the run goes on, `Session::note_processes` looks for new pids in the
//! maps that hold user stacks and symbols; at the latest, when they print) and keeps them, so a
//! process that exits after vt has seen it keeps its names. One that came and went between two looks
//! prints its addresses in hex, as bpftrace prints all of them once the process is gone.

pub mod kernel;
pub mod user;

use codegen::layout::TySize as _;
use lang::typed::{Render, StackFmt, StackMode, Ty};
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::os::fd::BorrowedFd;
use std::sync::Arc;
use user::Mapping;

/// What a session has learnt about symbols so far.
#[derive(Default)]
pub struct Symbols {
    kernel: Option<Option<kernel::Kallsyms>>,
    /// Each pid seen, with its file mappings (None once it had exited when first seen).
    procs: HashMap<u32, Option<Arc<Vec<Mapping>>>>,
    /// Each (file, offset) named: its symbol and the offset into it.
    user: HashMap<(Arc<str>, u64), Option<(String, u64)>>,
}

impl Symbols {
    /// Reads the mappings of `pid` unless vt has them.
    pub fn note_process(&mut self, pid: u32) {
        self.procs.entry(pid).or_insert_with(|| user::read_maps(pid).map(Arc::new));
    }

    fn kernel(&mut self) -> Option<&kernel::Kallsyms> {
        self.kernel.get_or_insert_with(kernel::Kallsyms::load).as_ref()
    }
}

/// One frame of a user stack, or a user address, named.
struct UserName {
    symbol: Option<(String, u64)>,
    module: Option<Arc<str>>,
}

/// Names values while a session decodes them: the symbols learnt so far and the stack maps' fds.
pub struct Names<'a> {
    symbols: Option<&'a RefCell<Symbols>>,
    /// `(frame limit, fd)` of each stack map.
    stacks: Vec<(u32, BorrowedFd<'a>)>,
    /// Stacks read so far: `(limit, id)` → frames.
    frames: RefCell<HashMap<(u32, i64), Vec<u64>>>,
}

/// The offset and render of each user stack or user address in a key laid out as `types`.
pub fn user_parts(types: &[Ty], base: usize, out: &mut Vec<(usize, Render)>) {
    let mut at = base;
    for ty in types {
        match ty {
            Ty::Text(r @ (Render::UStack(_) | Render::USym)) => out.push((at, r.clone())),
            Ty::Tuple(inner) => user_parts(inner, at, out),
            _ => {}
        }
        at += ty.size() as usize;
    }
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8).and_then(|s| s.try_into().ok()).map_or(0, u64::from_ne_bytes)
}

/// An address no symbol holds, as bpftrace prints it (C++'s `void*`: hex, but a bare 0).
fn hex(addr: u64) -> String {
    if addr == 0 { "0".into() } else { format!("{addr:#x}") }
}

impl<'a> Names<'a> {
    pub fn new(symbols: &'a RefCell<Symbols>, stacks: Vec<(u32, BorrowedFd<'a>)>) -> Names<'a> {
        Names { symbols: Some(symbols), stacks, frames: RefCell::default() }
    }

    /// Names nothing: stacks print no frames, addresses print in hex (decoding outside a session).
    pub fn none() -> Names<'static> {
        Names { symbols: None, stacks: Vec::new(), frames: RefCell::default() }
    }

    /// The text of a stack or symbol value (None for other renders). Stacks print as bpftrace 0.17
    /// prints them: a newline, then one line per frame, indented by 4 in a map key and 8 elsewhere
    /// (perf's mode: a tab, the address in hex, the symbol).
    pub fn text(&self, r: &Render, b: &[u8], key: bool) -> Option<String> {
        let (a, pid) = (u64_at(b, 0), u64_at(b, 8) as u32);
        let indent = if key { 4 } else { 8 };
        Some(match r {
            Render::KStack(f) => self.stack(f, a as i64, None, indent),
            Render::UStack(f) => self.stack(f, a as i64, Some(pid), indent),
            Render::KSym => self.kernel(a).map_or_else(|| hex(a), |(name, _)| name),
            Render::USym => self.user(pid, a).symbol.map_or_else(|| hex(a), |(name, _)| name),
            _ => return None,
        })
    }

    fn stack(&self, f: &StackFmt, id: i64, pid: Option<u32>, indent: usize) -> String {
        let mut out = String::from("\n");
        for addr in self.frames(f.limit, id) {
            let perf = match f.mode {
                StackMode::Raw => {
                    let _ = writeln!(out, "{addr:x}");
                    continue;
                }
                m => m == StackMode::Perf,
            };
            let line = match pid {
                None => {
                    let name = self.kernel(addr).map(|(n, off)| format!("{n}+{off}"));
                    match (perf, name) {
                        (false, name) => format!("{:indent$}{}", "", name.unwrap_or_else(|| hex(addr))),
                        (true, name) => format!("\t{addr:x} {}", name.unwrap_or_else(|| "[unknown]".into())),
                    }
                }
                Some(pid) => {
                    let u = self.user(pid, addr);
                    let name = u.symbol.map(|(n, off)| format!("{n}+{off}"));
                    match (perf, name) {
                        (false, name) => format!("{:indent$}{}", "", name.unwrap_or_else(|| hex(addr))),
                        (true, name) => {
                            let module = u.module.as_deref().unwrap_or("[unknown]").to_string();
                            format!("\t{addr:x} {} ({module})", name.unwrap_or_else(|| hex(addr)))
                        }
                    }
                }
            };
            let _ = writeln!(out, "{line}");
        }
        out
    }

    /// The frames of stack `id` in the map of `limit` frames (none for an id the kernel gave as an
    /// error, or one no longer there).
    fn frames(&self, limit: u32, id: i64) -> Vec<u64> {
        self.frames.borrow_mut().entry((limit, id)).or_insert_with(|| self.read_frames(limit, id)).clone()
    }

    fn read_frames(&self, limit: u32, id: i64) -> Vec<u64> {
        let Some(&(_, fd)) = self.stacks.iter().find(|s| s.0 == limit) else { return Vec::new() };
        let Ok(key) = u32::try_from(id) else { return Vec::new() };
        let mut buf = vec![0u8; limit as usize * 8];
        if !matches!(crate::sys::lookup(fd, &key.to_ne_bytes(), &mut buf), Ok(true)) {
            return Vec::new();
        }
        buf.chunks(8).map(|c| u64_at(c, 0)).take_while(|&a| a != 0).collect()
    }

    /// Names ahead of decoding every user address that keys laid out as `types` hold, one file at a
    /// time with a symbolizer of its own, dropped before the next file: the memory it takes is one
    /// file's tables, not every file's at once.
    pub fn prefetch(&self, types: &[Ty], keys: &[&[u8]]) {
        let Some(cell) = self.symbols else { return };
        let mut parts = Vec::new();
        user_parts(types, 0, &mut parts);
        if parts.is_empty() {
            return;
        }
        let mut wanted: std::collections::BTreeMap<Arc<str>, std::collections::BTreeSet<u64>> = Default::default();
        for key in keys {
            for (at, r) in &parts {
                let (a, pid) = (u64_at(key, *at), u64_at(key, at + 8) as u32);
                let addrs = match r {
                    Render::UStack(f) => self.frames(f.limit, a as i64),
                    _ => vec![a],
                };
                let mut s = cell.borrow_mut();
                s.note_process(pid);
                let Some(Some(maps)) = s.procs.get(&pid).cloned() else { continue };
                for addr in addrs {
                    if let Some((m, offset)) = user::locate(&maps, addr) {
                        if !s.user.contains_key(&(m.path.clone(), offset)) {
                            wanted.entry(m.path.clone()).or_default().insert(offset);
                        }
                    }
                }
            }
        }
        for (path, offsets) in wanted {
            let offsets: Vec<u64> = offsets.into_iter().collect();
            let found = user::symbols(&user::symbolizer(), &path, &offsets);
            let mut s = cell.borrow_mut();
            for (offset, name) in offsets.into_iter().zip(found) {
                s.user.insert((path.clone(), offset), name);
            }
        }
    }

    fn kernel(&self, addr: u64) -> Option<(String, u64)> {
        let mut s = self.symbols?.borrow_mut();
        s.kernel()?.find(addr).map(|(n, off)| (n.to_string(), off))
    }

    fn user(&self, pid: u32, addr: u64) -> UserName {
        let none = UserName { symbol: None, module: None };
        let Some(cell) = self.symbols else { return none };
        let mut s = cell.borrow_mut();
        s.note_process(pid);
        let Some(Some(maps)) = s.procs.get(&pid).cloned() else { return none };
        let Some((m, offset)) = user::locate(&maps, addr) else { return none };
        let path = m.path.clone();
        let key = (path.clone(), offset);
        if let Some(found) = s.user.get(&key) {
            return UserName { symbol: found.clone(), module: Some(path) };
        }
        let found = user::symbols(&user::symbolizer(), &path, &[offset]).pop().flatten();
        s.user.insert(key, found.clone());
        UserName { symbol: found, module: Some(path) }
    }
}
