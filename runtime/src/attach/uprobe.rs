//! Uprobe and uretprobe programs: one perf event on an instruction of a file (its file offset, as the
//! probe kind resolved it), for every process or for one.

use super::{Error, Link};
use aya::programs::uprobe::{UProbeAttachLocation, UProbeScope};
use aya::programs::{Program, UProbe};
use lang::typed::Uprobe as Target;
use std::num::NonZeroU32;

fn program(prog: &mut Program) -> Result<&mut UProbe, Error> {
    prog.try_into().map_err(Error::Type)
}

pub fn load(prog: &mut Program) -> Result<(), Error> {
    program(prog)?.load().map_err(Error::Load)
}

pub fn attach(prog: &mut Program, target: &Target) -> Result<Link, Error> {
    let up = program(prog)?;
    let scope = match target.pid.and_then(NonZeroU32::new) {
        Some(pid) => UProbeScope::OneProcess(pid),
        None => UProbeScope::AllProcesses,
    };
    let id = up
        .attach(UProbeAttachLocation::AbsoluteOffset(target.offset), &target.path, scope)
        .map_err(|e| match super::errno(&e) {
            Some(libc::ESRCH) => Error::Unsupported(format!("no process {} to attach to", target.pid.unwrap_or(0))),
            _ => Error::Attach(e),
        })?;
    up.take_link(id).map(Link::new).map_err(Error::Attach)
}

pub fn unload(prog: &mut Program) {
    if let Ok(up) = program(prog) {
        let _ = up.unload();
    }
}

