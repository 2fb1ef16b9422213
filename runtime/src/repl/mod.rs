//! `vt repl`: an interactive tracing session. Every probe block typed at the prompt is compiled, attached
//! at once and keeps running; maps persist and accumulate across entries; commands (`:help`) inspect and
//! steer the session.
//!
//! How a new block joins the running ones: the REPL keeps every block entered so far and compiles them
//! all together with the new one (so map types agree across blocks), loads the result as a new
//! `Session` (the verifier runs before anything running is touched: if it refuses, the old session goes
//! on untouched), then detaches the old session, copies every map's raw contents into the new session's
//! maps of the same name, and attaches the new one. Between the old detach and the new attach there is a
//! short gap (one RCU grace period per attached tracepoint, ~80 ms each here, plus the copy) during
//! which events are not counted. BEGIN blocks run once, when entered.
//!
//! printf output: a thread polls the running session's ring buffer and prints what it reads through
//! rustyline's external printer, which redraws the line being typed below it. The session sits behind a
//! mutex shared by that thread and the prompt.


mod build;
mod commands;
mod complete;
mod events;
mod input;
mod watch;

use crate::output::HistStyle;
use crate::session::Session;
use crate::signals::Signals;
use complete::Helper;
use rustyline::config::{CompletionType, Config};
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{Editor, ExternalPrinter};
use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

const HELP: &str = "\
Type a probe block to attach it, e.g.
    tracepoint:syscalls:sys_enter_openat { @opens[comm] = count(); }
Blocks attach at once and keep running; maps accumulate across entries. Enter continues the entry
while a block is open. Tab completes probes, args fields, builtins, functions, maps and commands.

Commands:
  :help                 this text
  :probes               the session's probes: id, state, hit count
  :detach ID|all        stop a probe (or every probe); its maps stay
  :attach ID            start a detached probe again
  :maps                 the session's maps: kind, key, entries
  :print [@m]           print a map (every map without one)
  :clear [@m]           clear a map (every map without one)
  :list [GLOB]          list probes, e.g. :list tracepoint:sched:*
  :format CAT:NAME      a tracepoint's fields and types
  :style bpftrace|bcc   how histograms print
  :watch @m [INTERVAL]  redraw a map every INTERVAL (1s, 500ms; default 1s) until Ctrl-C
  :save FILE            the session's probes as a .vt script (run it with `vt FILE`)
  :load FILE            enter a script's probes
  :resume               show printf output again after Ctrl-C paused it
  :quit                 detach everything, print the maps and exit (also Ctrl-D)
Ctrl-C cancels the line being typed and pauses a printf stream; the session goes on.
";

#[derive(Clone, Copy, PartialEq, Debug)]
enum State {
    Attached,
    Detached,
    /// Entered but could not attach: left out of the script from then on.
    Failed,
}

struct Block {
    id: usize,
    text: String,
    state: State,
    /// Hits counted by sessions that have been replaced (or before a detach).
    hits_before: u64,
}

/// The running session and what the event thread needs to know.
pub(super) struct Live {
    session: Session,
    /// The owning block (an index into `Repl::blocks`) of each program of the session's object.
    owners: Vec<usize>,
    exit_seen: bool,
    /// Run counts read just before exit() detached every program (which forgets them).
    counts_at_exit: Vec<Option<u64>>,
    /// How histograms print.
    style: HistStyle,
}

impl Live {
    fn new(session: Session, owners: Vec<usize>, style: HistStyle) -> Live {
        Live { session, owners, exit_seen: false, counts_at_exit: Vec::new(), style }
    }

    /// How many times program `i` ran.
    fn hits(&self, i: usize) -> Option<u64> {
        self.session.run_count(i).or_else(|| self.counts_at_exit.get(i).copied().flatten())
    }
}

struct Shared {
    live: Mutex<Option<Live>>,
    /// printf output is dropped (after Ctrl-C) until `:resume` or the next block.
    muted: AtomicBool,
    /// A watch owns the screen: output is held until it ends.
    watching: AtomicBool,
    held: Mutex<Vec<u8>>,
    /// When event output last appeared, in ms since `epoch`.
    last_output: AtomicU64,
    epoch: Instant,
    /// A probe called exit(): every probe was detached.
    exit_called: AtomicBool,
    quit: AtomicBool,
}

impl Shared {
    fn live(&self) -> MutexGuard<'_, Option<Live>> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }
}

struct Repl {
    root: PathBuf,
    blocks: Vec<Block>,
    next_id: usize,
    shared: Arc<Shared>,
    style: HistStyle,
    /// BPF run-time statistics are on while this is open (hit counts).
    stats: Option<OwnedFd>,
    signals: Arc<Signals>,
}

/// Runs the REPL with tracepoint formats from `tracefs`.
pub fn run(tracefs: PathBuf) -> Result<(), String> {
    // Ctrl-C reaches the REPL as a key while a line is edited; SIGINT (a Ctrl-C during a watch, in cooked
    // mode) and SIGTERM are read from a signalfd.
    let signals = Arc::new(Signals::block().map_err(|e| format!("vt: cannot set up signal handling: {e}"))?);
    let config = Config::builder().completion_type(CompletionType::List).auto_add_history(false).build();
    let mut rl: Editor<Helper, FileHistory> =
        Editor::with_config(config).map_err(|e| format!("vt: cannot start the line editor: {e}"))?;
    rl.set_helper(Some(Helper::new(&tracefs)));
    let history = history_path();
    if let Some(h) = &history {
        if prepare_history(h).is_ok() {
            let _ = rl.load_history(h);
        }
    }
    let stats = aya::sys::enable_stats(aya::sys::Stats::RunTime).ok();
    let shared = Arc::new(Shared {
        live: Mutex::new(None),
        muted: AtomicBool::new(false),
        watching: AtomicBool::new(false),
        held: Mutex::new(Vec::new()),
        last_output: AtomicU64::new(0),
        epoch: Instant::now(),
        exit_called: AtomicBool::new(false),
        quit: AtomicBool::new(false),
    });
    let printer: Box<dyn FnMut(String) + Send> = match rl.create_external_printer() {
        Ok(mut p) => Box::new(move |s: String| {
            let _ = p.print(s);
        }),
        Err(_) => Box::new(|s: String| {
            print!("{s}");
            let _ = std::io::stdout().flush();
        }),
    };
    let events = events::Events { shared: shared.clone(), print: printer, signals: signals.clone(), termios: events::saved_termios() };
    let thread = std::thread::spawn(move || events.run());
    let mut repl =
        Repl { root: tracefs, blocks: Vec::new(), next_id: 1, shared, style: HistStyle::default(), stats, signals };
    if repl.stats.is_none() {
        eprintln!("vt: BPF run-time statistics are unavailable: :probes shows no hit counts");
    }
    println!("vt repl: type probe blocks to attach them, :help for commands, Ctrl-D to exit.");
    loop {
        repl.sync_helper(&mut rl);
        match rl.readline("vt> ") {
            Ok(line) => {
                if line.trim().is_empty() {
                    continue;
                }
                let _ = rl.add_history_entry(line.as_str());
                if let Some(h) = &history {
                    let _ = rl.append_history(h);
                }
                repl.note_exit();
                if !repl.entry(&line) {
                    break;
                }
            }
            Err(ReadlineError::Interrupted) => {
                let active = repl.shared.now_ms().saturating_sub(repl.shared.last_output.load(Ordering::SeqCst)) < 2000
                    && repl.shared.last_output.load(Ordering::SeqCst) > 0;
                if active && !repl.shared.muted.swap(true, Ordering::SeqCst) {
                    println!("printf output paused (the probes keep running); :resume shows it again");
                }
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("vt: {e}");
                break;
            }
        }
    }
    repl.quit();
    repl.shared.quit.store(true, Ordering::SeqCst);
    let _ = thread.join();
    Ok(())
}

/// `$XDG_STATE_HOME/vt/history`, else `~/.local/state/vt/history`.
fn history_path() -> Option<PathBuf> {
    let state = match std::env::var_os("XDG_STATE_HOME").filter(|s| !s.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".local/state"),
    };
    Some(state.join("vt").join("history"))
}

/// Creates the history file (and its directory) private to the user.
fn prepare_history(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    }
    let f = std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path)?;
    f.set_permissions(std::fs::Permissions::from_mode(0o600))
}


impl Repl {
    /// Gives the completer the session's maps and probe ids.
    fn sync_helper(&self, rl: &mut Editor<Helper, FileHistory>) {
        let maps = match self.shared.live().as_ref() {
            Some(l) => l.session.object().user_maps.iter().map(|m| m.name.clone()).collect(),
            None => Vec::new(),
        };
        let ids = self.blocks.iter().filter(|b| b.state == State::Attached).map(|b| b.id.to_string()).collect();
        if let Some(h) = rl.helper_mut() {
            h.maps = maps;
            h.ids = ids;
        }
    }

    /// After a probe called exit(), every block is detached.
    fn note_exit(&mut self) {
        if self.shared.exit_called.swap(false, Ordering::SeqCst) {
            for i in 0..self.blocks.len() {
                self.detach_block(i);
            }
        }
    }

    /// One entry: a command or probe blocks. `false` ends the REPL.
    fn entry(&mut self, line: &str) -> bool {
        let trimmed = line.trim();
        if let Some(cmd) = trimmed.strip_prefix(':') {
            let (name, arg) = cmd.split_once(char::is_whitespace).map_or((cmd, ""), |(n, a)| (n, a.trim()));
            return self.command(name, arg);
        }
        self.submit(line, "<repl>");
        true
    }

    fn command(&mut self, name: &str, arg: &str) -> bool {
        match name {
            "help" | "h" | "?" => print!("{HELP}"),
            "quit" | "q" | "exit" => return false,
            "probes" => self.probes(),
            "detach" => self.detach(arg),
            "attach" => self.reattach(arg),
            "maps" => self.maps(),
            "print" | "p" => self.print(arg),
            "clear" => self.clear(arg),
            "list" | "l" => self.list(arg),
            "format" => self.format(arg),
            "style" => match arg {
                "bpftrace" => self.set_style(HistStyle::Bpftrace),
                "bcc" => self.set_style(HistStyle::Bcc),
                "" => println!("{}", if self.style == HistStyle::Bcc { "bcc" } else { "bpftrace" }),
                _ => eprintln!("vt: :style takes bpftrace or bcc"),
            },
            "watch" | "w" => self.watch(arg),
            "save" => self.save(arg),
            "load" => match std::fs::read_to_string(arg) {
                Ok(text) => self.submit(&text, arg),
                Err(e) => eprintln!("vt: cannot read {arg}: {e}"),
            },
            "resume" => {
                self.shared.muted.store(false, Ordering::SeqCst);
            }
            _ => {
                let near = lang::provider::closest(&format!(":{name}"), complete::COMMANDS.iter().copied());
                let hint = lang::provider::did_you_mean(&near).map_or(String::new(), |h| format!("; {h}"));
                eprintln!("vt: unknown command `:{name}`{hint} (:help lists them)");
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_can_cross_threads() {
        fn send<T: Send>() {}
        send::<Session>();
    }
}
