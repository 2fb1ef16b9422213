//! Attaching programs, one module per kernel program type (the aya model). A probe kind's attach
//! target is data ([`Target`]); [`target`] is the one table from the language's probe kinds to it.
//! A probe kind of a program type vt knows (profile, software: perf events) is one arm there; a new
//! program type is one module more, and its arms in the functions below.

pub mod error_injection;
pub mod fentry;
pub mod kprobe;
pub mod kprobe_multi;
pub mod perf_event;
pub mod raw;
pub mod raw_tracepoint;
pub mod test_run;
pub mod tracepoint;
pub mod uprobe;
pub mod usdt;

use aya::programs::{Program, ProgramError};
use lang::typed::Attach;

/// Why a program could not be loaded, attached or run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The object's program is not of the type its probe needs.
    #[error(transparent)]
    Type(ProgramError),
    /// The kernel (its verifier) refused the program.
    #[error(transparent)]
    Load(ProgramError),
    #[error(transparent)]
    Attach(ProgramError),
    #[error(transparent)]
    Run(ProgramError),
    /// The kernel has no such event here (a hardware counter on a machine without a PMU).
    #[error("{0}")]
    Unsupported(String),
    /// The verifier refused a program vt loaded itself (fentry, kprobe_multi): its reason and whole log.
    #[error("{reason}")]
    Verifier { reason: String, log: String },
}

/// The verifier's reason: its last line, skipping its statistics (`verification time`, `stack
/// depth`, `processed N insns`).
pub fn verifier_reason(log: &str) -> Option<String> {
    const STATS: [&str; 3] = ["processed ", "verification time", "stack depth"];
    log.lines().rev().map(str::trim).find(|l| !l.is_empty() && !STATS.iter().any(|s| l.starts_with(s))).map(str::to_string)
}

/// The OS error number behind a program error, if it came from a system call.
pub fn errno(e: &ProgramError) -> Option<i32> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return io.raw_os_error();
        }
        source = s.source();
    }
    None
}

/// Where a probe's program goes in the kernel: its program type and that type's parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Target<'a> {
    /// A tracepoint program on `category:name`.
    Tracepoint { category: &'a str, name: &'a str },
    /// A perf event program on a perf event.
    PerfEvent(&'a lang::typed::PerfEvent),
    /// A uprobe or uretprobe program on an instruction of a file.
    Uprobe(&'a lang::typed::Uprobe),
    /// A kprobe or kretprobe program on a kernel function, or on many through a kprobe_multi link
    /// (loaded and attached by the session through `kprobe_multi`, as fentry's).
    Kprobe(&'a lang::typed::Kprobe),
    /// A tracing program on a kernel function's entry or exit (loaded and attached by the session
    /// through `fentry`, which needs the object's maps).
    Fentry(&'a lang::typed::Fentry),
    /// A uprobe program on a USDT probe, its semaphore raised.
    Usdt(&'a lang::typed::Usdt),
    /// A raw tracepoint program on a tracepoint by name.
    RawTracepoint(&'a str),
    /// BEGIN and END: a raw tracepoint program attached nowhere, run once on demand.
    TestRun,
}

/// The attach target of each probe kind.
pub fn target(attach: &Attach) -> Target<'_> {
    match &attach.target {
        lang::typed::Target::Tracepoint { category, name } => Target::Tracepoint { category, name },
        lang::typed::Target::PerfEvent(e) => Target::PerfEvent(e),
        lang::typed::Target::Uprobe(u) => Target::Uprobe(u),
        lang::typed::Target::Kprobe(k) => Target::Kprobe(k),
        lang::typed::Target::Fentry(f) => Target::Fentry(f),
        lang::typed::Target::Usdt(u) => Target::Usdt(u),
        lang::typed::Target::RawTracepoint { name } => Target::RawTracepoint(name),
        lang::typed::Target::Begin | lang::typed::Target::End => Target::TestRun,
    }
}

/// An attachment; dropping it detaches the program.
pub struct Link {
    /// Held only to be dropped.
    _link: Box<dyn Send>,
}

impl Link {
    fn new(link: impl Send + 'static) -> Link {
        Link { _link: Box::new(link) }
    }
}

/// Loads `prog` (through the verifier) as its target's program type.
pub fn load(prog: &mut Program, target: &Target) -> Result<(), Error> {
    match target {
        Target::Tracepoint { .. } => tracepoint::load(prog),
        Target::PerfEvent(_) => perf_event::load(prog),
        Target::Uprobe(_) => uprobe::load(prog),
        Target::Kprobe(k) if !k.multi.is_empty() => Err(Error::Unsupported("a kprobe_multi program is loaded with its maps (attach::kprobe_multi::load)".into())),
        Target::Kprobe(_) => kprobe::load(prog),
        Target::Fentry(_) => Err(Error::Unsupported("an fentry program is loaded with its maps (attach::fentry::load)".into())),
        Target::Usdt(_) => usdt::load(prog),
        Target::RawTracepoint(_) => raw_tracepoint::load(prog),
        Target::TestRun => test_run::load(prog),
    }
}

/// Attaches the loaded `prog` to its target; `None` for a target that attaches nowhere.
pub fn attach(prog: &mut Program, target: &Target) -> Result<Option<Link>, Error> {
    match target {
        Target::Tracepoint { category, name } => tracepoint::attach(prog, category, name).map(Some),
        Target::PerfEvent(event) => perf_event::attach(prog, event).map(Some),
        Target::Uprobe(u) => uprobe::attach(prog, u).map(Some),
        Target::Kprobe(k) if !k.multi.is_empty() => Err(Error::Unsupported("a kprobe_multi program is attached by its descriptor (attach::kprobe_multi::attach)".into())),
        Target::Kprobe(k) => kprobe::attach(prog, k).map(Some),
        Target::Fentry(_) => Err(Error::Unsupported("an fentry program is attached by its descriptor (attach::fentry::attach)".into())),
        Target::Usdt(u) => usdt::attach(prog, u).map(Some),
        Target::RawTracepoint(name) => raw_tracepoint::attach(prog, name).map(Some),
        Target::TestRun => Ok(None),
    }
}

/// Unloads `prog` (its attachments must be dropped first).
pub fn unload(prog: &mut Program, target: &Target) {
    match target {
        Target::Tracepoint { .. } => tracepoint::unload(prog),
        Target::PerfEvent(_) => perf_event::unload(prog),
        Target::Uprobe(_) => uprobe::unload(prog),
        Target::Kprobe(_) => kprobe::unload(prog),
        // The session drops the program's descriptor.
        Target::Fentry(_) => {}
        Target::Usdt(_) => usdt::unload(prog),
        Target::RawTracepoint(_) => raw_tracepoint::unload(prog),
        Target::TestRun => {}
    }
}
