//! The run loop, shared by the CLI and the REPL: wait on named event sources, act on the ready ones.
//! A front end says which sources it waits on (they may change between waits: the REPL swaps
//! sessions) and what each means to it. A new source is one more [`Source`] and one more arm in the
//! front ends that use it.

use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

/// Where a wake-up comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// SIGINT or SIGTERM arrived (the signalfd of `signals::Signals`).
    Signals,
    /// The session's ring buffer holds events.
    Events,
    /// The process vt follows (`-p`) or runs (`-c`) exited (its pidfd).
    Process,
    /// Scrapes of `/metrics` are waiting (the eventfd of `metrics::Server`).
    Metrics,
}

/// Whether the loop goes on after acting on a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Stop,
}

/// A front end the loop runs.
pub trait Front {
    type Error: From<io::Error>;

    /// The sources to wait on now, in the order to act on them when several are ready.
    fn sources(&self) -> Vec<(Source, RawFd)>;

    /// Acts on a source that is ready.
    fn ready(&mut self, source: Source) -> Result<Flow, Self::Error>;

    /// Acts on a wait that ended with nothing ready (only with a tick).
    fn idle(&mut self) -> Result<Flow, Self::Error> {
        Ok(Flow::Continue)
    }

    /// Whether to stop before waiting again.
    fn done(&self) -> bool {
        false
    }
}

/// Waits up to `timeout` (without one, until something happens) for sources to be ready; returns the
/// ready ones, in the order given. A negative fd is never ready.
pub fn wait(sources: &[(Source, RawFd)], timeout: Option<Duration>) -> io::Result<Vec<Source>> {
    let mut pfds: Vec<libc::pollfd> =
        sources.iter().map(|&(_, fd)| libc::pollfd { fd, events: libc::POLLIN, revents: 0 }).collect();
    let ms = timeout.map_or(-1, |t| t.as_millis().min(i32::MAX as u128) as libc::c_int);
    loop {
        // SAFETY: pfds is a valid array of pollfd for the duration of the call.
        let rc = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, ms) };
        if rc >= 0 {
            return Ok(sources.iter().zip(&pfds).filter(|(_, p)| p.revents & libc::POLLIN != 0).map(|(s, _)| s.0).collect());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Runs `front` until it is done or a source stops it. With `tick`, a wait ends after that long even
/// when nothing is ready (for a front end with state that changes outside its sources).
pub fn run<F: Front>(front: &mut F, tick: Option<Duration>) -> Result<(), F::Error> {
    while !front.done() {
        let ready = wait(&front.sources(), tick)?;
        if ready.is_empty() && front.idle()? == Flow::Stop {
            return Ok(());
        }
        for source in ready {
            if front.ready(source)? == Flow::Stop {
                return Ok(());
            }
        }
    }
    Ok(())
}
