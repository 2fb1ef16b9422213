//! Perf event programs: one program on a perf event (`interval` today; profile, software and hardware
//! probes are other events of the same data), on one CPU or on each online CPU.

use super::{Error, Link};
use aya::programs::perf_event::{PerfEventConfig, PerfEventScope, SamplePolicy};
use aya::programs::{PerfEvent, Program, ProgramError};
use lang::typed::{PerfEvent as Event, Sample};

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
    // Raw type and config: every kind of perf event is this one call.
    let config = PerfEventConfig::Pmu { pmu_type: event.perf_type, config: event.config };
    let sample = match event.sample {
        Sample::Period(n) => SamplePolicy::Period(n),
        Sample::Frequency(n) => SamplePolicy::Frequency(n),
    };
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
        _ => Error::Attach(e),
    }
}
