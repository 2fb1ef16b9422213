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

mod complete;
mod input;

use crate::output::shape::MapDump;
use crate::output::{text, Format, HistStyle};
use crate::session::Session;
use crate::signals::Signals;
use complete::Helper;
use lang::provider::Tracefs;
use rustyline::config::{CompletionType, Config};
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{Editor, ExternalPrinter};
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

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
struct Live {
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
    signals: Signals,
}

/// Runs the REPL with tracepoint formats from `tracefs`.
pub fn run(tracefs: PathBuf) -> Result<(), String> {
    // Ctrl-C reaches the REPL as a key while a line is edited; SIGINT (a Ctrl-C during a watch, in cooked
    // mode) and SIGTERM are read from a signalfd.
    let signals = Signals::block().map_err(|e| format!("vt: cannot set up signal handling: {e}"))?;
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
    let termios = saved_termios();
    let thread = {
        let (shared, sigfd) = (shared.clone(), signals.as_raw_fd());
        std::thread::spawn(move || event_loop(shared, printer, sigfd, termios))
    };
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

fn saved_termios() -> Option<libc::termios> {
    // SAFETY: tcgetattr fills a zeroed termios for a valid fd or fails.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        (libc::tcgetattr(0, &mut t) == 0).then_some(t)
    }
}

/// Waits up to `timeout` for one of `fds` to be readable.
fn poll_fds(fds: &[RawFd], timeout: Duration) -> Vec<bool> {
    let mut pfds: Vec<libc::pollfd> =
        fds.iter().map(|&fd| libc::pollfd { fd, events: libc::POLLIN, revents: 0 }).collect();
    // SAFETY: pfds is a valid array of pollfd for the duration of the call.
    let rc = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, timeout.as_millis() as libc::c_int) };
    if rc <= 0 {
        return vec![false; fds.len()];
    }
    pfds.iter().map(|p| p.revents & libc::POLLIN != 0).collect()
}

/// The signal waiting on the signalfd, if any (consumes it).
fn take_signal(fd: RawFd) -> Option<u32> {
    let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::signalfd_siginfo>();
    // SAFETY: reading one siginfo record into a buffer of that size.
    let n = unsafe { libc::read(fd, (&mut info as *mut libc::signalfd_siginfo).cast(), size) };
    (n == size as isize).then_some(info.ssi_signo)
}

/// The event thread: prints what running probes send (printf, print, time) above the prompt, and ends
/// the REPL cleanly on SIGTERM.
fn event_loop(
    shared: Arc<Shared>,
    mut print: Box<dyn FnMut(String) + Send>,
    sigfd: RawFd,
    termios: Option<libc::termios>,
) {
    while !shared.quit.load(Ordering::SeqCst) {
        let events = shared.live().as_ref().map(|l| l.session.events_fd());
        let watching = shared.watching.load(Ordering::SeqCst);
        let mut fds = vec![events.unwrap_or(-1)];
        if !watching {
            fds.push(sigfd);
        }
        let ready = poll_fds(&fds, Duration::from_millis(100));
        if ready.get(1) == Some(&true)
            && !shared.watching.load(Ordering::SeqCst)
            && take_signal(sigfd) == Some(libc::SIGTERM as u32)
        {
            {
                let text = final_text(&shared);
                if let Some(t) = termios {
                    // SAFETY: restores the terminal settings read at start.
                    unsafe { libc::tcsetattr(0, libc::TCSANOW, &t) };
                }
                print!("\n{text}");
                let _ = std::io::stdout().flush();
                std::process::exit(0);
            }
        }
        let mut out = Vec::new();
        {
            let mut live = shared.live();
            let Some(l) = live.as_mut() else { continue };
            if let Err(e) = drain(&mut l.session, l.style, &mut out) {
                out.extend(format!("vt: {e}\n").bytes());
            }
            if l.session.exit_requested() && !l.exit_seen {
                l.exit_seen = true;
                l.counts_at_exit = (0..l.owners.len()).map(|i| l.session.run_count(i)).collect();
                l.session.detach();
                shared.exit_called.store(true, Ordering::SeqCst);
                out.extend(b"exit() called: every probe is detached (:print shows the maps)\n");
            }
        }
        if out.is_empty() {
            continue;
        }
        shared.last_output.store(shared.now_ms(), Ordering::SeqCst);
        if shared.muted.load(Ordering::SeqCst) {
            continue;
        }
        if shared.watching.load(Ordering::SeqCst) {
            shared.held.lock().unwrap_or_else(|e| e.into_inner()).extend(out);
            continue;
        }
        print(String::from_utf8_lossy(&out).into_owned());
    }
}

/// Detaches everything, runs END, and returns what is left to print: END's output and every map.
fn final_text(shared: &Shared) -> String {
    let mut live = shared.live();
    let Some(mut l) = live.take() else {
        return String::new();
    };
    let mut out = Vec::new();
    stop_or_detach(&mut l.session);
    let _ = drain(&mut l.session, l.style, &mut out);
    if let Err(e) = l.session.run_end() {
        out.extend(format!("vt: {e}\n").bytes());
    }
    let _ = drain(&mut l.session, l.style, &mut out);
    let mut text = String::from_utf8_lossy(&out).into_owned();
    match l.session.dump() {
        Ok(maps) => text += &(String::from(text::EXIT_PREAMBLE) + &Format::Text(l.style).maps(&maps)),
        Err(e) => text += &format!("vt: {e}\n"),
    }
    // The REPL is about to exit: the kernel's part of detaching can outlive it.
    crate::closer::outlive(l.session);
    text
}

/// Acts on the events waiting in `session`'s ring buffer; what they print goes to `out`, as text.
fn drain(session: &mut Session, style: HistStyle, out: &mut Vec<u8>) -> Result<(), crate::session::Error> {
    for o in session.drain_outputs()? {
        out.extend(Format::Text(style).output(&o));
    }
    Ok(())
}

/// Stops every program of `session` (one map write); detaches them, the slow way, if that fails.
fn stop_or_detach(session: &mut Session) {
    if let Err(e) = session.stop() {
        eprintln!("vt: {e}");
        session.detach();
    }
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

    /// Compiles the session's blocks with the new ones in `text`, loads the result, and swaps it in.
    fn submit(&mut self, text: &str, name: &str) {
        let script = match lang::parse(text) {
            Ok(s) => s,
            Err(d) => {
                eprint!("{}", lang::render(&d, name, text));
                return;
            }
        };
        if !script.probes.is_empty() {
            self.build(&script, text, name);
        }
    }

    /// Compiles the session's blocks, then the new ones of `script` (parsed from `text`), loads the
    /// result and swaps it in; the swap attaches the blocks that are marked attached.
    fn build(&mut self, script: &lang::ast::Script, text: &str, name: &str) -> bool {
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
        let render = |d: Vec<lang::Diagnostic>| {
            let (mine, theirs): (Vec<_>, Vec<_>) = d.into_iter().partition(|d| d.span.start >= base);
            let mine: Vec<_> = mine
                .into_iter()
                .map(|mut d| {
                    d.span = lang::ast::Span::new(d.span.start - base, d.span.end.saturating_sub(base));
                    d
                })
                .collect();
            lang::render(&mine, name, text) + &lang::render(&theirs, "<session>", &source)
        };
        let whole = match lang::parse(&source) {
            Ok(s) => s,
            Err(d) => {
                eprint!("{}", render(d));
                return false;
            }
        };
        let mut tracefs = Tracefs::new(&self.root);
        let program = match lang::check::check(&whole, &mut tracefs, &[]) {
            Ok(p) => p,
            Err(d) => {
                eprint!("{}", render(d));
                return false;
            }
        };
        let owners: Vec<usize> = program
            .probes
            .iter()
            .map(|p| ranges.iter().find(|(_, a, b)| (*a..*b.max(&(a + 1))).contains(&p.span.start)).map_or(0, |r| r.0))
            .collect();
        let object = match codegen::compile(&program) {
            Ok(o) => o,
            Err(d) => {
                eprint!("{}", render(vec![d]));
                return false;
            }
        };
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
    fn swap(&mut self, mut new: Session, owners: Vec<usize>, first_new: usize) {
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
    fn emit(&self, out: &[u8]) {
        if !out.is_empty() && !self.shared.muted.load(Ordering::SeqCst) {
            let mut stdout = std::io::stdout();
            let _ = stdout.write_all(out);
            let _ = stdout.flush();
        }
    }

    /// Adds the running programs' hits to their blocks (before the session goes away).
    fn count_hits(&mut self, live: &Live) {
        for (i, &owner) in live.owners.iter().enumerate() {
            self.blocks[owner].hits_before += live.hits(i).unwrap_or(0);
        }
    }

    /// Indices of the running session's programs that block `id` owns.
    fn programs_of(&self, id: usize) -> Vec<usize> {
        let Some(index) = self.blocks.iter().position(|b| b.id == id) else {
            return Vec::new();
        };
        match self.shared.live().as_ref() {
            Some(l) => l.owners.iter().enumerate().filter(|(_, &o)| o == index).map(|(i, _)| i).collect(),
            None => Vec::new(),
        }
    }

    fn probes(&self) {
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

    fn detach_block(&mut self, index: usize) {
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
    fn reattach(&mut self, arg: &str) {
        let Some(index) = arg.parse::<usize>().ok().and_then(|id| self.blocks.iter().position(|b| b.id == id)) else {
            return eprintln!("vt: :attach takes a probe id (see :probes)");
        };
        if self.blocks[index].state != State::Detached {
            return eprintln!("vt: probe {arg} is not detached");
        }
        self.blocks[index].state = State::Attached;
        let built = self.build(&lang::ast::Script { probes: Vec::new() }, "", "<session>");
        // The swap marks a block whose attach failed as detached again.
        if built && self.blocks[index].state == State::Attached {
            println!("[{arg}] attached");
        } else {
            self.blocks[index].state = State::Detached;
            eprintln!("vt: probe {arg} stays detached");
        }
    }

    fn detach(&mut self, arg: &str) {
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
    fn dumps(&self, arg: &str) -> Option<Vec<MapDump>> {
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

    fn print(&self, arg: &str) {
        if let Some(d) = self.dumps(arg) {
            print!("{}", Format::Text(self.style).maps(&d));
        }
    }

    fn clear(&self, arg: &str) {
        let Some(d) = self.dumps(arg) else { return };
        let mut live = self.shared.live();
        let Some(l) = live.as_mut() else { return };
        for m in &d {
            if let Err(e) = l.session.clear_map(&m.name) {
                eprintln!("vt: {e}");
            }
        }
    }

    fn maps(&self) {
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

    fn list(&self, arg: &str) {
        let tracefs = Tracefs::new(&self.root);
        let pattern = match arg {
            "" => "*".to_string(),
            p if p.starts_with("t:") => format!("tracepoint:{}", &p[2..]),
            p if !p.contains(':') && !p.contains('*') => format!("*{p}*"),
            p => p.to_string(),
        };
        let names = lang::provider::list(&tracefs, &pattern);
        let mut out = String::new();
        for n in &names {
            out += n;
            out.push('\n');
        }
        print!("{out}");
    }

    fn format(&self, arg: &str) {
        let spec = arg.strip_prefix("tracepoint:").or_else(|| arg.strip_prefix("t:")).unwrap_or(arg);
        let Some((cat, name)) = spec.split_once(':') else {
            return eprintln!("vt: :format takes CATEGORY:NAME");
        };
        let mut tracefs = Tracefs::new(&self.root);
        match tracefs.format(cat, name) {
            Ok(f) => {
                println!("tracepoint:{cat}:{name}");
                for field in &f.fields {
                    println!("    {}", field.declaration());
                }
            }
            Err(e) => eprintln!("vt: no tracepoint {cat}:{name}: {e}"),
        }
    }

    fn set_style(&mut self, style: HistStyle) {
        self.style = style;
        if let Some(l) = self.shared.live().as_mut() {
            l.style = style;
        }
    }

    /// Redraws a map in place every interval until Ctrl-C.
    fn watch(&self, arg: &str) {
        let mut parts = arg.split_whitespace();
        let Some(map) = parts.next() else {
            return eprintln!("vt: :watch takes a map, e.g. :watch @counts 1s");
        };
        let interval = match parts.next().map(parse_interval) {
            None => Duration::from_secs(1),
            Some(Some(d)) => d,
            Some(None) => return eprintln!("vt: an interval is like 1s, 500ms or 2"),
        };
        if self.dumps(map).is_none() {
            return;
        }
        let sigfd = self.signals.as_raw_fd();
        while take_signal(sigfd).is_some() {}
        self.shared.watching.store(true, Ordering::SeqCst);
        let mut lines = 0;
        let mut stdout = std::io::stdout();
        while let Some(d) = self.dumps(map) {
            let text =
                format!("Every {}: {map} (Ctrl-C stops)\n{}", humantime(interval), Format::Text(self.style).maps(&d));
            if lines > 0 {
                let _ = write!(stdout, "\x1b[{lines}F\x1b[J");
            }
            let _ = stdout.write_all(text.as_bytes());
            let _ = stdout.flush();
            lines = text.lines().count();
            if poll_fds(&[sigfd], interval)[0] {
                let sig = take_signal(sigfd);
                if sig == Some(libc::SIGTERM as u32) {
                    self.shared.watching.store(false, Ordering::SeqCst);
                    let text = final_text(&self.shared);
                    print!("\n{text}");
                    let _ = stdout.flush();
                    std::process::exit(0);
                }
                break;
            }
        }
        self.shared.watching.store(false, Ordering::SeqCst);
        println!();
        let held = std::mem::take(&mut *self.shared.held.lock().unwrap_or_else(|e| e.into_inner()));
        self.emit(&held);
    }

    /// Writes the session's probes as a script; detached ones as comments.
    fn save(&self, arg: &str) {
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
    fn quit(&mut self) {
        let text = final_text(&self.shared);
        if !text.trim().is_empty() {
            print!("{text}");
        }
        let _ = std::io::stdout().flush();
    }
}

/// `1s`, `500ms`, `2` (seconds), `100us`.
fn parse_interval(s: &str) -> Option<Duration> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let n: u64 = s[..split].parse().ok().filter(|&n| n > 0)?;
    match &s[split..] {
        "" | "s" => Some(Duration::from_secs(n)),
        "ms" => Some(Duration::from_millis(n)),
        "us" => Some(Duration::from_micros(n)),
        "m" => Some(Duration::from_secs(60 * n)),
        _ => None,
    }
}

fn humantime(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_interval("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_interval("0"), None);
        assert_eq!(parse_interval("1x"), None);
        assert_eq!(humantime(Duration::from_millis(500)), "500ms");
    }

    #[test]
    fn the_session_can_cross_threads() {
        fn send<T: Send>() {}
        send::<Session>();
    }
}
