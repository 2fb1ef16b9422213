//! Tracepoint programs (`tracepoint:category:name`): one perf event per tracepoint.

use super::{Error, Link};
use aya::programs::{Program, TracePoint};

fn program(prog: &mut Program) -> Result<&mut TracePoint, Error> {
    prog.try_into().map_err(Error::Type)
}

pub fn load(prog: &mut Program) -> Result<(), Error> {
    program(prog)?.load().map_err(Error::Load)
}

pub fn attach(prog: &mut Program, category: &str, name: &str) -> Result<Link, Error> {
    let tp = program(prog)?;
    let id = tp.attach(category, name).map_err(Error::Attach)?;
    tp.take_link(id).map(Link::new).map_err(Error::Attach)
}

pub fn unload(prog: &mut Program) {
    if let Ok(tp) = program(prog) {
        let _ = tp.unload();
    }
}
