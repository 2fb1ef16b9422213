//! Perf event programs: one program on a perf event (`interval` today; profile, software and hardware
//! probes are other events of the same data), on one CPU or on each online CPU.

use super::{Error, Link};
use aya::programs::perf_event::{BreakpointConfig, PerfBreakpointLength, PerfBreakpointType, PerfEventConfig, PerfEventScope, SamplePolicy};
use aya::programs::{PerfEvent, Program, ProgramError};
use lang::typed::{Breakpoint, PerfEvent as Event, Sample};

fn program(prog: &mut Program) -> Result<&mut PerfEvent, Error> {
    prog.try_into().map_err(Error::Type)
}

pub fn load(prog: &mut Program) -> Result<(), Error> {
    program(prog)?.load().map_err(Error::Load)
}

/// The CPUs the event is opened on.
fn cpus(event: &Event) -> Result<Vec<u32>, Error> {
    match event.cpu {
        Some(cpu) => Ok(vec![cpu]),
        None => aya::util::online_cpus().map_err(|(_, e)| Error::Attach(ProgramError::IOError(e))),
    }
}

pub fn attach(prog: &mut Program, event: &Event) -> Result<Link, Error> {
    let pe = program(prog)?;
    let sample = match event.sample {
        Sample::Period(n) => SamplePolicy::Period(n),
        Sample::Frequency(n) => SamplePolicy::Frequency(n),
    };
    if let (Some(bp), Some(pid)) = (event.breakpoint, event.pid) {
        // A watchpoint: one event that follows the process from CPU to CPU.
        let scope = PerfEventScope::OneProcess { pid, cpu: None };
        let id = pe.attach(breakpoint(bp)?, scope, sample, false).map_err(|e| refused(event, e))?;
        return pe.take_link(id).map(Link::new).map_err(Error::Attach);
    }
    // Raw type and config: every kind of perf event is this one call.
    let config = PerfEventConfig::Pmu { pmu_type: event.perf_type, config: event.config };
    let mut links = Vec::new();
    for cpu in cpus(event)? {
        let id = pe.attach(config, PerfEventScope::AllProcessesOneCpu { cpu }, sample, false).map_err(|e| refused(event, e))?;
        links.push(pe.take_link(id).map_err(Error::Attach)?);
    }
    Ok(Link::new(links))
}

pub fn unload(prog: &mut Program) {
    if let Ok(pe) = program(prog) {
        let _ = pe.unload();
    }
}

/// aya's form of a hardware breakpoint.
fn breakpoint(bp: Breakpoint) -> Result<PerfEventConfig, Error> {
    let length = match bp.len {
        1 => PerfBreakpointLength::Len1,
        2 => PerfBreakpointLength::Len2,
        4 => PerfBreakpointLength::Len4,
        8 => PerfBreakpointLength::Len8,
        n => return Err(Error::Unsupported(format!("a watchpoint of {n} bytes"))),
    };
    let r#type = match bp.bp_type {
        1 => PerfBreakpointType::Read,
        2 => PerfBreakpointType::Write,
        3 => PerfBreakpointType::ReadWrite,
        4 => return Ok(PerfEventConfig::Breakpoint(BreakpointConfig::Instruction { address: bp.addr })),
        t => return Err(Error::Unsupported(format!("watchpoint type {t}"))),
    };
    Ok(PerfEventConfig::Breakpoint(BreakpointConfig::Data { r#type, address: bp.addr, length }))
}

/// The attach error, said plainly where the kernel has no such event: a hardware counter without a
/// hardware PMU (ENOENT, or EOPNOTSUPP for one the PMU lacks).
fn refused(event: &Event, e: ProgramError) -> Error {
    const PERF_TYPE_HARDWARE: u32 = 0;
    match super::errno(&e) {
        Some(libc::ENOENT | libc::EOPNOTSUPP) if event.perf_type == PERF_TYPE_HARDWARE => Error::Unsupported(
            "this machine has no hardware performance counter for it (no hardware PMU, as in most virtual machines); \
             `profile:hz:N` or `software:cpu-clock:N` sample by time instead"
                .into(),
        ),
        Some(libc::ESRCH) if event.pid.is_some() => Error::Unsupported(format!("no process {} to watch", event.pid.unwrap_or(0))),
        // x86 breakpoints watch writes, reads-or-writes and execution, never reads alone.
        Some(libc::EINVAL) if event.breakpoint.is_some_and(|b| b.bp_type == 1) => Error::Unsupported(
            "this CPU's breakpoints cannot watch reads alone (x86 watches writes, or reads and writes): use mode `rw`".into(),
        ),
        Some(libc::EINVAL | libc::ENOSPC | libc::ENOENT | libc::EOPNOTSUPP) if event.breakpoint.is_some() => {
            Error::Unsupported(format!("the kernel refused the hardware breakpoint (no breakpoint PMU here, or none free, or a misaligned address): {e}"))
        }
        _ => Error::Attach(e),
    }
}
