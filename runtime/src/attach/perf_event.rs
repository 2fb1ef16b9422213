//! Perf event programs: `interval` today (a software clock on one CPU); profile, software and hardware
//! probes are other [`Event`]s.

use super::{Error, Link};
use aya::programs::perf_event::{PerfEventConfig, PerfEventScope, SamplePolicy, SoftwareEvent};
use aya::programs::{PerfEvent, Program};

/// The perf event a program runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The software event counted.
    pub software: Software,
    /// The CPU it counts on.
    pub cpu: u32,
    /// The program runs every `period` counts (nanoseconds for a clock).
    pub period: u64,
}

/// The software events vt uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Software {
    CpuClock,
}

impl Event {
    /// `interval:..`: every `period_ns` of CPU 0's clock.
    pub fn interval(period_ns: u64) -> Event {
        Event { software: Software::CpuClock, cpu: 0, period: period_ns }
    }
}

fn program(prog: &mut Program) -> Result<&mut PerfEvent, Error> {
    prog.try_into().map_err(Error::Type)
}

pub fn load(prog: &mut Program) -> Result<(), Error> {
    program(prog)?.load().map_err(Error::Load)
}

pub fn attach(prog: &mut Program, event: &Event) -> Result<Link, Error> {
    let pe = program(prog)?;
    let config = match event.software {
        Software::CpuClock => PerfEventConfig::Software(SoftwareEvent::CpuClock),
    };
    let id = pe
        .attach(config, PerfEventScope::AllProcessesOneCpu { cpu: event.cpu }, SamplePolicy::Period(event.period), false)
        .map_err(Error::Attach)?;
    pe.take_link(id).map(Link::new).map_err(Error::Attach)
}

pub fn unload(prog: &mut Program) {
    if let Ok(pe) = program(prog) {
        let _ = pe.unload();
    }
}
