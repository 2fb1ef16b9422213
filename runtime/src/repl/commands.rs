//! The REPL's commands (`:probes`, `:maps`, `:print`, ...): what they show and change.

use super::events::final_text;
use super::{Repl, State};
use crate::output::shape::MapDump;
use crate::output::{Format, HistStyle};
use lang::provider::Tracefs;
use std::io::Write;

impl Repl {
    pub(super) fn probes(&self) {
        let live = self.shared.live();
        println!("{:>4}  {:<9} {:>10}  PROBE", "ID", "STATE", "HITS");
        for (index, b) in self.blocks.iter().enumerate().filter(|(_, b)| b.state != State::Failed) {
            let mut hits = b.hits_before;
            let mut names = Vec::new();
            let mut counted = false;
            if let Some(l) = live.as_ref() {
                for (i, _) in l.owners.iter().enumerate().filter(|(_, &o)| o == index) {
                    let p = &l.session.object().programs[i];
                    names.push(p.attach.probe_name());
                    if b.state == State::Attached {
                        if let Some(n) = l.hits(i) {
                            hits += n;
                            counted = true;
                        }
                    }
                }
            }
            let special = names.iter().all(|n| n == "BEGIN" || n == "END");
            let hits = match (special, self.stats.is_some()) {
                (true, _) => "-".to_string(),
                (false, false) => "?".to_string(),
                _ if counted || b.state == State::Detached => hits.to_string(),
                _ => "-".to_string(),
            };
            let state = match b.state {
                State::Attached if special && names.iter().any(|n| n == "BEGIN") => "ran",
                State::Attached if special => "at exit",
                State::Attached => "attached",
                State::Detached => "detached",
                State::Failed => "failed",
            };
            let mut what = if names.len() > 3 {
                format!("{} (+{} more)", names[..3].join(","), names.len() - 3)
            } else {
                names.join(",")
            };
            let body = b.text.split_whitespace().collect::<Vec<_>>().join(" ");
            if let Some(at) = body.find(['/', '{', '<']) {
                let rest: String = body[at..].chars().take(60).collect();
                what = format!("{what} {rest}{}", if body[at..].chars().count() > 60 { "..." } else { "" });
            }
            println!("{:>4}  {:<9} {:>10}  {what}", b.id, state, hits);
        }
    }

    pub(super) fn detach_block(&mut self, index: usize) {
        if self.blocks[index].state != State::Attached {
            return;
        }
        let programs = self.programs_of(self.blocks[index].id);
        let mut live = self.shared.live();
        if let Some(l) = live.as_mut() {
            for i in programs {
                self.blocks[index].hits_before += l.hits(i).unwrap_or(0);
                l.session.detach_program(i);
            }
        }
        self.blocks[index].state = State::Detached;
    }

    /// `:attach ID`: a detached block attaches again, in a rebuilt session (its program was unloaded).
    pub(super) fn reattach(&mut self, arg: &str) {
        let Some(index) = arg.parse::<usize>().ok().and_then(|id| self.blocks.iter().position(|b| b.id == id)) else {
            return eprintln!("vt: :attach takes a probe id (see :probes)");
        };
        if self.blocks[index].state != State::Detached {
            return eprintln!("vt: probe {arg} is not detached");
        }
        self.blocks[index].state = State::Attached;
        let built = self.build(&lang::ast::Script::default(), "", "<session>");
        // The swap marks a block whose attach failed as detached again.
        if built && self.blocks[index].state == State::Attached {
            println!("[{arg}] attached");
        } else {
            self.blocks[index].state = State::Detached;
            eprintln!("vt: probe {arg} stays detached");
        }
    }

    pub(super) fn detach(&mut self, arg: &str) {
        if arg == "all" {
            for i in 0..self.blocks.len() {
                self.detach_block(i);
            }
            println!("every probe is detached");
            return;
        }
        let Some(index) = arg.parse::<usize>().ok().and_then(|id| self.blocks.iter().position(|b| b.id == id)) else {
            return eprintln!("vt: :detach takes a probe id (see :probes) or `all`");
        };
        if self.blocks[index].state != State::Attached {
            return eprintln!("vt: probe {arg} is not attached");
        }
        self.detach_block(index);
        println!("[{arg}] detached");
    }

    /// The maps named by `arg` (`@m`, or every map when empty).
    pub(super) fn dumps(&self, arg: &str) -> Option<Vec<MapDump>> {
        let live = self.shared.live();
        let Some(l) = live.as_ref() else {
            eprintln!("vt: no maps yet");
            return None;
        };
        let dumps = match l.session.dump() {
            Ok(d) => d,
            Err(e) => {
                eprintln!("vt: {e}");
                return None;
            }
        };
        if arg.is_empty() {
            return Some(dumps);
        }
        let name = arg.strip_prefix('@').unwrap_or(arg);
        let found: Vec<MapDump> = dumps.into_iter().filter(|d| d.name == name).collect();
        if found.is_empty() {
            let names: Vec<String> = l.session.object().user_maps.iter().map(|m| format!("@{}", m.name)).collect();
            let hint = lang::provider::did_you_mean(&lang::provider::closest(
                &format!("@{name}"),
                names.iter().map(String::as_str),
            ));
            eprintln!("vt: no map @{name}{}", hint.map_or(String::new(), |h| format!("; {h}")));
            return None;
        }
        Some(found)
    }

    pub(super) fn print(&self, arg: &str) {
        if let Some(d) = self.dumps(arg) {
            print!("{}", Format::Text(self.style).maps(&d));
        }
    }

    pub(super) fn clear(&self, arg: &str) {
        let Some(d) = self.dumps(arg) else { return };
        let mut live = self.shared.live();
        let Some(l) = live.as_mut() else { return };
        for m in &d {
            if let Err(e) = l.session.clear_map(&m.name) {
                eprintln!("vt: {e}");
            }
        }
    }

    pub(super) fn maps(&self) {
        let live = self.shared.live();
        let Some(l) = live.as_ref() else {
            return println!("no maps yet");
        };
        let dumps = l.session.dump().unwrap_or_default();
        for def in &l.session.object().user_maps {
            let kind = match &def.kind {
                lang::typed::MapKind::Agg(a) => format!("{a:?}").to_lowercase(),
                lang::typed::MapKind::Value(t) => format!("{t:?}").to_lowercase(),
            };
            let key = if def.key.is_empty() {
                String::new()
            } else {
                format!("[{}]", def.key.iter().map(|t| format!("{t:?}").to_lowercase()).collect::<Vec<_>>().join(", "))
            };
            let n = dumps.iter().find(|d| d.name == def.name).map_or(0, |d| d.entries.len());
            println!("@{}{key}  {kind}  {n} entr{}", def.name, if n == 1 { "y" } else { "ies" });
        }
    }

    /// `:list [GLOB]`: the probes, as `vt -l` lists them.
    pub(super) fn list(&self, arg: &str) {
        print!("{}", crate::list::probes(&mut Tracefs::new(&self.root), arg, false));
    }

    /// `:format CAT:NAME`: a tracepoint's fields, as `vt -lv` lists them.
    pub(super) fn format(&self, arg: &str) {
        let spec = arg.strip_prefix("tracepoint:").or_else(|| arg.strip_prefix("t:")).unwrap_or(arg);
        let Some((cat, name)) = spec.split_once(':') else {
            return eprintln!("vt: :format takes CATEGORY:NAME");
        };
        match crate::list::tracepoint_fields(&mut Tracefs::new(&self.root), cat, name) {
            Ok(fields) => print!("tracepoint:{cat}:{name}\n{fields}"),
            Err(e) => eprintln!("vt: no tracepoint {cat}:{name}: {e}"),
        }
    }

    pub(super) fn set_style(&mut self, style: HistStyle) {
        self.style = style;
        if let Some(l) = self.shared.live().as_mut() {
            l.style = style;
        }
    }

    /// Writes the session's probes as a script; detached ones as comments.
    pub(super) fn save(&self, arg: &str) {
        if arg.is_empty() {
            return eprintln!("vt: :save takes a file name");
        }
        let mut out = String::from("// Saved by vt repl; run it with `vt FILE`.\n");
        for b in self.blocks.iter().filter(|b| b.state != State::Failed) {
            out.push('\n');
            if b.state == State::Detached {
                out += "// detached:\n";
                for l in b.text.lines() {
                    out += &format!("// {l}\n");
                }
            } else {
                out += &b.text;
                out.push('\n');
            }
        }
        match std::fs::write(arg, out) {
            Ok(()) => {
                let n = self.blocks.iter().filter(|b| b.state == State::Attached).count();
                println!("saved {n} probe{} to {arg}", if n == 1 { "" } else { "s" });
            }
            Err(e) => eprintln!("vt: cannot write {arg}: {e}"),
        }
    }

    /// Detaches everything, runs END, prints the maps.
    pub(super) fn quit(&mut self) {
        let text = final_text(&self.shared);
        if !text.trim().is_empty() {
            print!("{text}");
        }
        let _ = std::io::stdout().flush();
    }
}
