//! A tracing session: the compiled object loaded into the kernel, its probes attached, its events read
//! and its maps dumped. The CLI and the REPL are two front ends over this.

use crate::format::{Entry, MapDump, MapKind, Value};
use crate::sys;
use aya::maps::{Map, MapData, RingBuf};
use aya::programs::{RawTracePoint, RawTracePointRunOptions, TestRun, TracePoint};
use aya::{Ebpf, EbpfLoader};
use codegen::{event, Object, HIST_BUCKETS};
use lang::typed::{Agg, Attach};
use std::fmt;
use std::os::fd::{AsFd, AsRawFd, RawFd};

#[derive(Debug)]
pub enum Error {
    /// The ELF did not parse or a map could not be created.
    Load(String),
    /// The verifier (or the kernel) refused a program.
    Verify { probe: String, reason: String, log: String },
    Attach { probe: String, reason: String },
    Run { probe: String, reason: String },
    Map(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Load(e) => write!(f, "cannot load the BPF object: {e}"),
            Error::Verify { probe, reason, .. } => write!(f, "the kernel refused the program for {probe}: {reason}"),
            Error::Attach { probe, reason } => write!(f, "cannot attach {probe}: {reason}"),
            Error::Run { probe, reason } => write!(f, "cannot run {probe}: {reason}"),
            Error::Map(e) => write!(f, "cannot read a map: {e}"),
        }
    }
}

/// What a program asked the runtime to do, through the ring buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    Exit,
}

pub struct Session {
    ebpf: Ebpf,
    object: Object,
    events: Option<RingBuf<MapData>>,
    ncpus: usize,
}

/// The full error chain of an aya error, on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s += &format!(": {inner}");
        src = inner.source();
    }
    s
}

impl Session {
    /// Creates the maps and loads every program through the verifier; attaches nothing.
    pub fn load(object: Object) -> Result<Session, Error> {
        let bytes = codegen::elf::write(&object);
        // aya reads instructions in place: give it an 8-byte aligned copy.
        let mut aligned = vec![0u64; bytes.len().div_ceil(8)];
        // SAFETY: the u64 buffer is at least bytes.len() bytes long and u8 has no alignment needs.
        let view = unsafe { std::slice::from_raw_parts_mut(aligned.as_mut_ptr() as *mut u8, bytes.len()) };
        view.copy_from_slice(&bytes);
        let mut ebpf = EbpfLoader::new()
            .load(view)
            .map_err(|e| Error::Load(chain(&e)))?;
        for p in &object.programs {
            let probe = p.attach.probe_name();
            let prog = ebpf.program_mut(&p.symbol).ok_or_else(|| Error::Load(format!("program {} missing", p.symbol)))?;
            let result = match &p.attach {
                Attach::Tracepoint { .. } => <&mut TracePoint>::try_from(prog).map(|t| t.load()),
                Attach::Begin | Attach::End => <&mut RawTracePoint>::try_from(prog).map(|t| t.load()),
            };
            match result {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(verify_error(probe, e)),
                Err(e) => return Err(Error::Load(chain(&e))),
            }
        }
        let events = match object.events {
            Some(i) => {
                let map = ebpf.take_map(&object.maps[i].symbol).ok_or_else(|| Error::Load("ring buffer missing".into()))?;
                Some(RingBuf::try_from(map).map_err(|e| Error::Load(chain(&e)))?)
            }
            None => None,
        };
        let ncpus = aya::util::nr_cpus().map_err(|(what, e)| Error::Load(format!("{what}: {e}")))?;
        Ok(Session { ebpf, object, events, ncpus })
    }

    /// The number of probes `attach` attaches plus BEGIN and END, as bpftrace counts them.
    pub fn probe_count(&self) -> usize {
        self.object.programs.len()
    }

    /// Attaches every tracepoint program (one perf event each).
    pub fn attach(&mut self) -> Result<(), Error> {
        for p in &self.object.programs {
            let Attach::Tracepoint { category, name, .. } = &p.attach else { continue };
            let tp: &mut TracePoint = self.ebpf.program_mut(&p.symbol).unwrap().try_into().unwrap();
            tp.attach(category, name)
                .map_err(|e| Error::Attach { probe: p.attach.probe_name(), reason: chain(&e) })?;
        }
        Ok(())
    }

    /// Detaches every tracepoint, so that the maps stop changing.
    pub fn detach(&mut self) {
        for p in &self.object.programs {
            if let Attach::Tracepoint { .. } = p.attach {
                if let Some(prog) = self.ebpf.program_mut(&p.symbol) {
                    let tp: &mut TracePoint = prog.try_into().unwrap();
                    let _ = tp.unload();
                }
            }
        }
    }

    pub fn run_begin(&mut self) -> Result<(), Error> {
        self.run_special(|a| matches!(a, Attach::Begin))
    }

    pub fn run_end(&mut self) -> Result<(), Error> {
        self.run_special(|a| matches!(a, Attach::End))
    }

    /// Runs the BEGIN or END programs once, on this CPU, through BPF_PROG_TEST_RUN.
    fn run_special(&mut self, which: impl Fn(&Attach) -> bool) -> Result<(), Error> {
        for p in self.object.programs.iter().filter(|p| which(&p.attach)) {
            let prog: &mut RawTracePoint = self.ebpf.program_mut(&p.symbol).unwrap().try_into().unwrap();
            prog.test_run(RawTracePointRunOptions::new())
                .map_err(|e| Error::Run { probe: p.attach.probe_name(), reason: chain(&e) })?;
        }
        Ok(())
    }

    /// The ring buffer's fd, to poll on, when the programs send events.
    pub fn events_fd(&self) -> Option<RawFd> {
        self.events.as_ref().map(|r| r.as_raw_fd())
    }

    /// Takes the events waiting in the ring buffer.
    pub fn drain_events(&mut self) -> Vec<Event> {
        let mut out = Vec::new();
        if let Some(rb) = &mut self.events {
            while let Some(item) = rb.next() {
                if item.len() >= 8 && u64::from_ne_bytes(item[..8].try_into().unwrap()) == event::EXIT {
                    out.push(Event::Exit);
                }
            }
        }
        out
    }

    /// The contents of every user map, summed over CPUs.
    pub fn dump(&self) -> Result<Vec<MapDump>, Error> {
        let mut dumps = Vec::new();
        for (def, spec) in self.object.user_maps.iter().zip(&self.object.maps) {
            let Some(Map::PerCpuArray(data)) = self.ebpf.map(&spec.symbol) else {
                return Err(Error::Map(format!("@{} is not a per-CPU array", def.name)));
            };
            let fd = data.fd().as_fd();
            let read = |k: u32| sys::percpu_sum(fd, &k.to_ne_bytes(), self.ncpus).map_err(|e| Error::Map(e.to_string()));
            let (kind, value) = match def.agg {
                Agg::Count => (MapKind::Count, Value::Count(read(0)?)),
                Agg::Sum => (MapKind::Sum, Value::Sum(read(0)? as i64)),
                Agg::Hist => {
                    let buckets: Vec<u64> = (0..HIST_BUCKETS).map(read).collect::<Result<_, _>>()?;
                    (MapKind::Hist, Value::Hist(buckets))
                }
            };
            // A histogram nothing was added to has no entry, as in bpftrace.
            let entries = match &value {
                Value::Hist(b) if b.iter().all(|&c| c == 0) => Vec::new(),
                _ => vec![Entry::keyless(value)],
            };
            dumps.push(MapDump { name: def.name.clone(), kind, entries });
        }
        Ok(dumps)
    }
}

/// The verifier's last line is its reason; the whole log goes with it for `-v`.
fn verify_error(probe: String, e: aya::programs::ProgramError) -> Error {
    match e {
        aya::programs::ProgramError::LoadError { io_error, verifier_log } => {
            let log = verifier_log.to_string();
            let reason = log
                .lines()
                .rev()
                .map(str::trim)
                .find(|l| !l.is_empty() && !l.starts_with("processed ") && !l.starts_with("verification time"))
                .map(|l| format!("{l} ({io_error})"))
                .unwrap_or_else(|| io_error.to_string());
            Error::Verify { probe, reason, log }
        }
        other => Error::Verify { probe, reason: chain(&other), log: String::new() },
    }
}
