//! The event thread: prints what running probes send (printf, print, time) above the prompt, and ends
//! the REPL cleanly on SIGTERM. It is a front end of the shared run loop (`run`).

use super::Shared;
use crate::output::{text, Format, HistStyle};
use crate::run::{self, Flow, Source};
use crate::session::Session;
use crate::signals::Signals;
use std::io::Write;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// The event thread's state, as a front end of the run loop.
pub(super) struct Events {
    pub shared: Arc<Shared>,
    pub print: Box<dyn FnMut(String) + Send>,
    pub signals: Arc<Signals>,
    pub termios: Option<libc::termios>,
}

/// How often the thread looks at the session even without events: it may have been swapped, or a
/// probe may have called exit().
const TICK: Duration = Duration::from_millis(100);

impl Events {
    /// Runs until the REPL quits.
    pub fn run(mut self) {
        if let Err(e) = run::run(&mut self, Some(TICK)) {
            eprintln!("vt: {e}");
        }
    }

    /// Prints what the running session sent, and notices an exit().
    fn pump(&mut self) {
        let shared = &self.shared;
        let mut out = Vec::new();
        {
            let mut live = shared.live();
            let Some(l) = live.as_mut() else { return };
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
            return;
        }
        shared.last_output.store(shared.now_ms(), Ordering::SeqCst);
        if shared.muted.load(Ordering::SeqCst) {
            return;
        }
        if shared.watching.load(Ordering::SeqCst) {
            shared.held.lock().unwrap_or_else(|e| e.into_inner()).extend(out);
            return;
        }
        (self.print)(String::from_utf8_lossy(&out).into_owned());
    }
}

impl run::Front for Events {
    type Error = std::io::Error;

    fn sources(&self) -> Vec<(Source, RawFd)> {
        let events = self.shared.live().as_ref().map(|l| l.session.events_fd());
        // A watch reads the signals itself.
        let mut sources = Vec::new();
        if !self.shared.watching.load(Ordering::SeqCst) {
            sources.push((Source::Signals, self.signals.as_raw_fd()));
        }
        sources.push((Source::Events, events.unwrap_or(-1)));
        sources
    }

    fn ready(&mut self, source: Source) -> std::io::Result<Flow> {
        match source {
            Source::Signals => {
                if !self.shared.watching.load(Ordering::SeqCst) && self.signals.next() == Some(libc::SIGTERM as u32) {
                    let text = final_text(&self.shared);
                    if let Some(t) = self.termios {
                        // SAFETY: restores the terminal settings read at start.
                        unsafe { libc::tcsetattr(0, libc::TCSANOW, &t) };
                    }
                    print!("\n{text}");
                    let _ = std::io::stdout().flush();
                    std::process::exit(0);
                }
            }
            Source::Events => self.pump(),
            Source::Process | Source::Metrics => {}
        }
        Ok(Flow::Continue)
    }

    fn idle(&mut self) -> std::io::Result<Flow> {
        self.pump();
        Ok(Flow::Continue)
    }

    fn done(&self) -> bool {
        self.shared.quit.load(Ordering::SeqCst)
    }
}

pub(super) fn saved_termios() -> Option<libc::termios> {
    // SAFETY: tcgetattr fills a zeroed termios for a valid fd or fails.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        (libc::tcgetattr(0, &mut t) == 0).then_some(t)
    }
}

/// Detaches everything, runs END, and returns what is left to print: END's output and every map.
pub(super) fn final_text(shared: &Shared) -> String {
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
pub(super) fn drain(session: &mut Session, style: HistStyle, out: &mut Vec<u8>) -> Result<(), crate::session::Error> {
    for o in session.drain_outputs()? {
        out.extend(Format::Text(style).output(&o));
    }
    Ok(())
}

/// Stops every program of `session` (one map write); detaches them, the slow way, if that fails.
pub(super) fn stop_or_detach(session: &mut Session) {
    if let Err(e) = session.stop() {
        eprintln!("vt: {e}");
        session.detach();
    }
}
