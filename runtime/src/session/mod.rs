//! A tracing session: the compiled object loaded into the kernel, its probes attached, its events read
//! and its maps dumped into value shapes. It owns kernel state and renders nothing: the CLI and the
//! REPL render what it reads (see `output`).

mod command;
mod events;
mod internal;
mod lifecycle;
mod load;
mod maps;
mod processes;
mod watch;

pub use crate::output::Output;
pub use maps::{KernelMap, RawMap};

use crate::attach;
use aya::maps::{MapData, RingBuf};
use aya::Ebpf;
use codegen::Object;
use std::os::fd::{AsRawFd, RawFd};

/// Why a session could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The ELF did not parse or a map could not be created.
    #[error("cannot load the BPF object: {0}")]
    Load(String),
    /// The kernel does not let this user use BPF (EPERM: not root, no CAP_BPF).
    #[error("BPF is not permitted to this user (run vt as root, or with CAP_BPF and CAP_PERFMON): {0}")]
    Permission(String),
    /// The verifier (or the kernel) refused a program: the probe's name and place in the script, the
    /// verifier's last words and its whole log.
    #[error("the kernel refused the program for {probe}: {reason}")]
    Verify { probe: String, span: lang::ast::Span, reason: String, log: String },
    #[error("cannot attach {probe}: {reason}")]
    Attach { probe: String, reason: String },
    #[error("cannot run {probe}: {reason}")]
    Run { probe: String, reason: String },
    #[error("cannot read a map: {0}")]
    Map(#[from] MapError),
}

/// Why a map could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum MapError {
    #[error("map {0} missing")]
    Missing(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

pub struct Session {
    ebpf: Ebpf,
    object: Object,
    events: RingBuf<MapData>,
    ncpus: usize,
    /// Set when a program called exit().
    exit_requested: bool,
    /// The status the first `exit(code)` asked for.
    exit_code: u8,
    /// Set once the END programs run: their events are shown even after exit().
    ending: bool,
    /// The attachment of each program, while attached.
    links: Vec<Option<attach::Link>>,
    /// The programs vt loaded itself rather than through aya (fentry, fexit), by program index.
    tracing: Vec<Option<std::os::fd::OwnedFd>>,
    /// Watchpoints armed at run time: (program, address, attachment).
    watches: Vec<(usize, u64, attach::Link)>,
    /// Per user map: `zero()` ran on it since it was last cleared (`KernelMap::zeroed`).
    zeroed: Vec<bool>,
    /// The symbols learnt so far (see `symbols`).
    symbols: std::cell::RefCell<crate::symbols::Symbols>,
}

/// The full error chain of an aya error, on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        // aya's wrappers repeat their source's text ("map error: failed to create map `m`: ...").
        let text = inner.to_string();
        if !s.ends_with(&text) {
            s += &format!(": {text}");
        }
        src = inner.source();
    }
    s
}

impl Session {
    /// The compiled object this session runs.
    pub fn object(&self) -> &Object {
        &self.object
    }

    /// The number of probes: every attach point plus BEGIN and END, as bpftrace counts them (a
    /// watchpoint's setup uprobe is part of its watchpoint).
    pub fn probe_count(&self) -> usize {
        let setup = |t: &lang::typed::Target| matches!(t, lang::typed::Target::Uprobe(u) if u.watch.is_some());
        // A kprobe_multi program counts its functions, as their kprobes would count where the
        // kernel has no such links.
        let count = |t: &lang::typed::Target| match t {
            lang::typed::Target::Kprobe(k) if !k.multi.is_empty() => k.multi.len(),
            _ => 1,
        };
        self.object.programs.iter().filter(|p| !setup(&p.attach.target)).map(|p| count(&p.attach.target)).sum()
    }

    /// The ring buffer's fd, to poll on.
    pub fn events_fd(&self) -> RawFd {
        self.events.as_raw_fd()
    }

    /// Whether a program called `exit()`.
    pub fn exit_requested(&self) -> bool {
        self.exit_requested
    }
    /// The status `exit(code)` asked vt to exit with (0 without one).
    pub fn exit_code(&self) -> u8 {
        self.exit_code
    }
}
