//! Entering probe blocks: the session's blocks and the new ones compile together into a new session,
//! which replaces the running one (carrying its maps over) and attaches.

use super::events::{drain, stop_or_detach};
use super::{Block, Live, Repl, State};
use crate::compile;
use crate::session::Session;
use lang::provider::Tracefs;
use std::io::Write;
use std::sync::atomic::Ordering;
use std::time::Instant;

impl Repl {
    /// Compiles the session's blocks with the new ones in `text`, loads the result, and swaps it in.
    pub(super) fn submit(&mut self, text: &str, name: &str) {
        let script = match compile::parse(text) {
            Ok(s) => s,
            Err(e) => {
                eprint!("{}", e.render(name, text));
                return;
            }
        };
        if !script.probes.is_empty() {
            self.build(&script, text, name);
        }
    }

    /// Compiles the session's blocks, then the new ones of `script` (parsed from `text`), loads the
    /// result and swaps it in; the swap attaches the blocks that are marked attached.
    pub(super) fn build(&mut self, script: &lang::ast::Script, text: &str, name: &str) -> bool {
        // The whole script: every live block, then the new entry, so that spans in the entry map back.
        let mut source = String::new();
        let mut ranges = Vec::new(); // (block index, start, end) in `source`
        for (i, b) in self.blocks.iter().enumerate().filter(|(_, b)| b.state != State::Failed) {
            ranges.push((i, source.len(), source.len() + b.text.len()));
            source += &b.text;
            source.push('\n');
        }
        let base = source.len();
        source += text;
        let first_new = self.blocks.len();
        for (k, p) in script.probes.iter().enumerate() {
            ranges.push((first_new + k, base + p.span.start, base + p.span.end));
        }
        // Diagnostics in the entry point into it; those in earlier blocks into the whole session.
        let render = |e: compile::Error| match e {
            compile::Error::Script(d) => {
                let (mine, theirs): (Vec<_>, Vec<_>) = d.into_iter().partition(|d| d.span.start >= base);
                let mine: Vec<_> = mine
                    .into_iter()
                    .map(|mut d| {
                        d.span = lang::ast::Span::new(d.span.start - base, d.span.end.saturating_sub(base));
                        d
                    })
                    .collect();
                lang::render(&mine, name, text) + &lang::render(&theirs, "<session>", &source)
            }
            e => e.render(name, text),
        };
        let compiled = compile::parse(&source)
            .and_then(|whole| compile::build(&whole, &mut Tracefs::new(&self.root), &Default::default()));
        let compiled = match compiled {
            Ok(c) => c,
            Err(e) => {
                eprint!("{}", render(e));
                return false;
            }
        };
        let owners: Vec<usize> = compiled
            .probe_spans
            .iter()
            .map(|span| ranges.iter().find(|(_, a, b)| (*a..*b.max(&(a + 1))).contains(&span.start)).map_or(0, |r| r.0))
            .collect();
        let object = compiled.object;
        let session = match Session::load(object) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("vt: {e}");
                return false;
            }
        };
        for (k, p) in script.probes.iter().enumerate() {
            let id = self.next_id + k;
            self.blocks.push(Block {
                id,
                text: text[p.span.start..p.span.end].to_string(),
                state: State::Attached,
                hits_before: 0,
            });
        }
        self.next_id += script.probes.len();
        self.shared.muted.store(false, Ordering::SeqCst);
        self.swap(session, owners, first_new);
        true
    }

    /// Replaces the running session with `new`, carrying the maps over; blocks from `first_new` on are
    /// the ones just entered.
    pub(super) fn swap(&mut self, mut new: Session, owners: Vec<usize>, first_new: usize) {
        let shared = self.shared.clone();
        let mut live = shared.live();
        let mut out = Vec::new();
        let started = Instant::now();
        if let Some(mut old) = live.take() {
            self.count_hits(&old);
            // Stopping is one map write; detaching, for which the kernel makes close(2) wait, happens
            // in a thread of its own once the maps are carried over.
            stop_or_detach(&mut old.session);
            if let Err(e) = new.continue_from(&old.session) {
                eprintln!("vt: {e}");
            }
            let _ = drain(&mut old.session, old.style, &mut out);
            match old.session.export_maps() {
                Ok(maps) => {
                    for m in &maps {
                        if let Err(e) = new.import_map(m) {
                            eprintln!("vt: cannot carry @{} over: {e}", m.def.name);
                        }
                    }
                }
                Err(e) => eprintln!("vt: cannot read the maps to carry them over: {e}"),
            }
            std::thread::spawn(move || drop(old));
        }
        let mut failed = Vec::new();
        for (i, &owner) in owners.iter().enumerate() {
            if self.blocks[owner].state != State::Attached || failed.contains(&owner) {
                continue;
            }
            if let Err(e) = new.attach_program(i) {
                eprintln!("vt: {e}");
                failed.push(owner);
            }
        }
        for (i, owner) in owners.iter().enumerate() {
            if failed.contains(owner) {
                new.detach_program(i);
            }
        }
        for &f in &failed {
            self.blocks[f].state = if f >= first_new { State::Failed } else { State::Detached };
        }
        let gap = started.elapsed();
        if let Err(e) = new.run_begin_where(|i| owners[i] >= first_new && !failed.contains(&owners[i])) {
            eprintln!("vt: {e}");
        }
        let _ = drain(&mut new, self.style, &mut out);
        *live = Some(Live::new(new, owners, self.style));
        drop(live);
        self.emit(&out);
        for b in &self.blocks[first_new..] {
            if b.state == State::Attached {
                let programs = self.programs_of(b.id);
                let names: Vec<String> = match self.shared.live().as_ref() {
                    Some(l) => programs.iter().map(|&i| l.session.object().programs[i].attach.probe_name()).collect(),
                    None => Vec::new(),
                };
                let n = names.iter().filter(|n| *n != "BEGIN" && *n != "END").count();
                if n == 0 {
                    let when = if names.iter().any(|n| n == "BEGIN") { "BEGIN ran" } else { "END runs at exit" };
                    println!("[{}] added ({when})", b.id);
                    continue;
                }
                let ms = if first_new > 0 { format!(", {} ms without probes", gap.as_millis()) } else { String::new() };
                println!("[{}] attached {} probe{}{ms}", b.id, n, if n == 1 { "" } else { "s" });
            }
        }
    }

    /// Text that event processing produced on the prompt's thread.
    pub(super) fn emit(&self, out: &[u8]) {
        if !out.is_empty() && !self.shared.muted.load(Ordering::SeqCst) {
            let mut stdout = std::io::stdout();
            let _ = stdout.write_all(out);
            let _ = stdout.flush();
        }
    }

    /// Adds the running programs' hits to their blocks (before the session goes away).
    pub(super) fn count_hits(&mut self, live: &Live) {
        for (i, &owner) in live.owners.iter().enumerate() {
            self.blocks[owner].hits_before += live.hits(i).unwrap_or(0);
        }
    }

    /// Indices of the running session's programs that block `id` owns.
    pub(super) fn programs_of(&self, id: usize) -> Vec<usize> {
        let Some(index) = self.blocks.iter().position(|b| b.id == id) else {
            return Vec::new();
        };
        match self.shared.live().as_ref() {
            Some(l) => l.owners.iter().enumerate().filter(|(_, &o)| o == index).map(|(i, _)| i).collect(),
            None => Vec::new(),
        }
    }
}
