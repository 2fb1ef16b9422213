//! Kprobe and kretprobe programs: one perf event on a kernel function (by name; the kernel finds its
//! address), at an offset within it or on its return.

use super::{Error, Link};
use aya::programs::{KProbe, Program};
use lang::typed::Kprobe as Target;
use std::path::Path;

fn program(prog: &mut Program) -> Result<&mut KProbe, Error> {
    prog.try_into().map_err(Error::Type)
}

pub fn load(prog: &mut Program) -> Result<(), Error> {
    program(prog)?.load().map_err(Error::Load)
}

/// Whether this kernel can place kprobes at all: the perf PMU (4.17+) or tracefs' kprobe_events.
fn kernel_has_kprobes() -> bool {
    Path::new("/sys/bus/event_source/devices/kprobe").exists()
        || ["/sys/kernel/tracing/kprobe_events", "/sys/kernel/debug/tracing/kprobe_events"].iter().any(|p| Path::new(p).exists())
}

pub fn attach(prog: &mut Program, target: &Target) -> Result<Link, Error> {
    if !kernel_has_kprobes() {
        return Err(Error::Unsupported("this kernel has no kprobes (built without CONFIG_KPROBES)".into()));
    }
    let kp = program(prog)?;
    let symbol = target.symbol();
    let id = kp.attach(&symbol, target.offset).map_err(|e| match super::errno(&e) {
        Some(libc::EILSEQ) => {
            Error::Unsupported(format!("offset {:#x} is not at an instruction boundary of `{symbol}`", target.offset))
        }
        Some(libc::ENOENT) => Error::Unsupported(format!("the kernel has no function `{symbol}`")),
        Some(libc::EADDRNOTAVAIL) => {
            Error::Unsupported(format!("`{symbol}` names several kernel functions; the kernel will not choose one"))
        }
        Some(libc::EINVAL) => Error::Unsupported(format!(
            "the kernel refuses a probe on `{symbol}` (it may be notrace, inlined, or on the kprobes blacklist)"
        )),
        _ => Error::Attach(e),
    })?;
    kp.take_link(id).map(Link::new).map_err(Error::Attach)
}

pub fn unload(prog: &mut Program) {
    if let Ok(kp) = program(prog) {
        let _ = kp.unload();
    }
}
