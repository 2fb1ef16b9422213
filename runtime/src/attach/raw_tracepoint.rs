//! Raw tracepoint programs (`rawtracepoint:NAME`): attached to the tracepoint by name, their context
//! the tracepoint's arguments.

use super::{Error, Link};
use aya::programs::{Program, RawTracePoint};

fn program(prog: &mut Program) -> Result<&mut RawTracePoint, Error> {
    prog.try_into().map_err(Error::Type)
}

pub fn load(prog: &mut Program) -> Result<(), Error> {
    program(prog)?.load().map_err(Error::Load)
}

pub fn attach(prog: &mut Program, name: &str) -> Result<Link, Error> {
    let rt = program(prog)?;
    let id = rt.attach(name).map_err(|e| match super::errno(&e) {
        // The program reads more arguments than the tracepoint has.
        Some(libc::EACCES | libc::EINVAL) => Error::Unsupported(format!("the kernel refused it: does the script read more arguments than {name} has? ({e})")),
        _ => Error::Attach(e),
    })?;
    rt.take_link(id).map(Link::new).map_err(Error::Attach)
}

pub fn unload(prog: &mut Program) {
    if let Ok(rt) = program(prog) {
        let _ = rt.unload();
    }
}
