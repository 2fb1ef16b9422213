//! Running a compiled script from the command line: load, BEGIN, attach, the run loop until Ctrl-C,
//! SIGTERM, `exit()` or the end of the followed process, END, and the maps.

use super::Failure;
use crate::child::{Child, PidFd};
use crate::metrics::Server;
use crate::output::{json, text, Format, Output};
use crate::run::{self, Flow, Source};
use crate::session::{self, Session};
use crate::signals::Signals;
use std::io::Write;
use std::os::fd::{AsRawFd, RawFd};

/// Where the output goes, and as what.
pub struct Sink {
    pub out: Box<dyn Write>,
    pub format: Format,
    /// With -o, bpftrace still writes its exit preamble to stdout.
    pub to_file: bool,
}

impl Sink {
    fn write(&mut self, bytes: &[u8]) {
        let _ = self.out.write_all(bytes);
    }

    pub fn flush(&mut self) {
        let _ = self.out.flush();
    }

    fn outputs(&mut self, outputs: Vec<Output>) {
        for o in outputs {
            let bytes = self.format.output(&o);
            self.write(&bytes);
        }
        self.flush();
    }

    /// What bpftrace prints at exit: two newlines, then the maps.
    fn exit(&mut self, session: &Session) -> Result<(), Failure> {
        let maps = session.dump().map_err(|e| format!("vt: {e}"))?;
        if self.to_file {
            print!("{}", text::EXIT_PREAMBLE);
        } else {
            self.write(text::EXIT_PREAMBLE.as_bytes());
        }
        let text = self.format.maps(&maps);
        self.write(text.as_bytes());
        Ok(())
    }

    fn json(&self) -> bool {
        self.format == Format::Json
    }
}

/// `--metrics`: the bound listener and what each map is as a metric family.
pub type Metrics = (std::net::TcpListener, Vec<crate::metrics::describe::Family>);

pub struct TraceOptions {
    pub verbose: bool,
    pub quiet: bool,
    pub script: Option<(String, String)>,
    /// Print the maps at exit (all but `--no-exit-maps`).
    pub exit_maps: bool,
}

impl TraceOptions {
    /// `FILE:LINE:COL: ` of a place in the script, when there is a script.
    fn place(&self, span: lang::ast::Span) -> String {
        match &self.script {
            Some((name, text)) => {
                let (line, col) = lang::line_col(text, span.start);
                format!("{name}:{line}:{col}: ")
            }
            None => String::new(),
        }
    }

    fn fail(&self, e: session::Error) -> Failure {
        Failure::session(e, self.verbose, "")
    }
}

/// The command line's run: the session's events go to the sink until a signal, `exit()` or the end of
/// the followed process.
struct Trace<'a> {
    session: &'a mut Session,
    sink: &'a mut Sink,
    opts: &'a TraceOptions,
    signals: &'a Signals,
    child: Option<&'a mut Child>,
    watched: Option<&'a PidFd>,
    metrics: Option<Server>,
    /// When the maps keyed by user stacks were last looked through for new pids (None: no such map).
    looked: Option<std::time::Instant>,
}

/// How often the run looks for new pids in maps keyed by user stacks.
const LOOK_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

impl Trace<'_> {
    /// Reads the mappings of processes new in user-stack keys, at most every `LOOK_EVERY`.
    fn look(&mut self) {
        if self.looked.is_some_and(|l| l.elapsed() >= LOOK_EVERY) {
            self.session.note_processes();
            self.looked = Some(std::time::Instant::now());
        }
    }
}

impl run::Front for Trace<'_> {
    type Error = Failure;

    fn sources(&self) -> Vec<(Source, RawFd)> {
        // Events first, so that what arrived with a signal is still printed.
        let mut sources = vec![(Source::Events, self.session.events_fd()), (Source::Signals, self.signals.as_raw_fd())];
        sources.extend(self.child.as_deref().map(|c| (Source::Process, c.pidfd().as_raw_fd())));
        sources.extend(self.watched.map(|w| (Source::Process, w.as_raw_fd())));
        sources.extend(self.metrics.as_ref().map(|m| (Source::Metrics, m.fd())));
        sources
    }

    fn ready(&mut self, source: Source) -> Result<Flow, Failure> {
        Ok(match source {
            Source::Events => {
                self.look();
                let outputs = self.session.drain_outputs().map_err(|e| self.opts.fail(e))?;
                self.sink.outputs(outputs);
                Flow::Continue
            }
            Source::Signals if self.signals.take() => Flow::Stop,
            Source::Signals => Flow::Continue,
            Source::Process => {
                if let Some(c) = self.child.as_deref_mut() {
                    c.try_wait();
                }
                Flow::Stop
            }
            Source::Metrics => {
                if let Some(m) = self.metrics.as_mut() {
                    m.serve(self.session);
                }
                Flow::Continue
            }
        })
    }

    fn idle(&mut self) -> Result<Flow, Failure> {
        self.look();
        Ok(Flow::Continue)
    }

    fn done(&self) -> bool {
        self.session.exit_requested()
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Failure {
        Failure::from(format!("vt: {e}"))
    }
}

/// Loads, attaches, releases the -c child, runs until the end, then prints the maps.
pub fn trace(
    object: codegen::Object,
    opts: &TraceOptions,
    metrics: Option<Metrics>,
    sink: &mut Sink,
    mut child: Option<&mut Child>,
    watched: Option<&PidFd>,
) -> Result<(), Failure> {
    // Block the signals before anything is attached: a Ctrl-C during attach ends the run cleanly.
    let signals = Signals::block().map_err(|e| format!("vt: cannot set up signal handling: {e}"))?;
    let mut session = Session::load(object).map_err(|e| {
        let at = match &e {
            session::Error::Verify { span, .. } => opts.place(*span),
            _ => String::new(),
        };
        Failure::session(e, opts.verbose, &at)
    })?;
    let n = session.probe_count();
    if !opts.quiet {
        if sink.json() {
            sink.write(json::attached(n).as_bytes());
        } else {
            // On stderr, so that stdout holds only what the script prints (bpftrace puts it on stdout).
            eprintln!("Attaching {n} probe{}...", if n == 1 { "" } else { "s" });
        }
    }
    let fail = |e| opts.fail(e);
    // BEGIN runs before the other probes are attached, as in bpftrace: no event sees the maps as they
    // were before it, and after a BEGIN that calls exit() nothing else fires at all. What it prints
    // shows once they are attached (so a BEGIN printf tells a watcher the probes are live).
    session.run_begin().map_err(fail)?;
    let outputs = session.drain_outputs().map_err(fail)?;
    if !session.exit_requested() {
        session.attach().map_err(fail)?;
    }
    sink.outputs(outputs);
    if let Some(c) = child.as_deref_mut() {
        c.release();
    }
    // Started with the signals blocked (its threads inherit the mask) and the probes attached.
    let metrics = match metrics {
        Some((listener, families)) => Some(Server::start(listener, families).map_err(|e| format!("vt: --metrics: {e}"))?),
        None => None,
    };
    // The first look comes at the first event or tick.
    let now = std::time::Instant::now();
    let looked = session.keys_user_symbols().then(|| now.checked_sub(LOOK_EVERY).unwrap_or(now));
    let tick = looked.map(|_| LOOK_EVERY);
    let mut front = Trace { session: &mut session, sink, opts, signals: &signals, child, watched, metrics, looked };
    run::run(&mut front, tick)?;
    // Scrapes from now on get 503: the maps are about to be final and printed.
    drop(front.metrics.take());
    // One write stops every program; the detaching, for which the kernel makes close(2) wait, is left
    // to a child process that outlives vt (see `closer`).
    session.stop().map_err(fail)?;
    session.run_end().map_err(fail)?;
    let outputs = session.drain_outputs().map_err(fail)?;
    sink.outputs(outputs);
    if opts.exit_maps {
        sink.exit(&session)?;
    }
    let lost = session.lost_events();
    if lost > 0 {
        if sink.json() {
            sink.write(json::lost_events(lost).as_bytes());
        } else {
            eprintln!("Lost {lost} events");
        }
    }
    for (name, n, max) in session.dropped_updates() {
        eprintln!("{}", text::dropped_warning(&name, n, max));
    }
    sink.flush();
    let code = session.exit_code();
    crate::closer::outlive(session);
    if code != 0 {
        // exit(code): the status alone, no message.
        return Err(Failure::new(code, ""));
    }
    Ok(())
}
