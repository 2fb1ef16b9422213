//! A tracing session: the compiled object loaded into the kernel, its probes attached, its events read
//! and its maps dumped. The CLI and the REPL are two front ends over this.

use crate::format::{self, MapDump};
use crate::maps::{self, KernelMap};
use crate::printf::{self, Arg};
use crate::sys;
use aya::maps::{Map, MapData, RingBuf};
use aya::programs::perf_event::{PerfEventConfig, PerfEventScope, SamplePolicy, SoftwareEvent};
use aya::programs::{PerfEvent, RawTracePoint, RawTracePointRunOptions, TestRun, TracePoint};
use aya::{Ebpf, EbpfLoader};
use codegen::{event, MapSpec, Object};
use lang::typed::{Attach, Ty};
use std::fmt;
use std::os::fd::{AsFd, AsRawFd, RawFd};

#[derive(Debug)]
pub enum Error {
    /// The ELF did not parse or a map could not be created.
    Load(String),
    /// The kernel does not let this user use BPF (EPERM: not root, no CAP_BPF).
    Permission(String),
    /// The verifier (or the kernel) refused a program: the probe's name and place in the script, the
    /// verifier's last words and its whole log.
    Verify { probe: String, span: lang::ast::Span, reason: String, log: String },
    Attach { probe: String, reason: String },
    Run { probe: String, reason: String },
    Map(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Load(e) => write!(f, "cannot load the BPF object: {e}"),
            Error::Permission(e) => {
                write!(f, "BPF is not permitted to this user (run vt as root, or with CAP_BPF and CAP_PERFMON): {e}")
            }
            Error::Verify { probe, reason, .. } => write!(f, "the kernel refused the program for {probe}: {reason}"),
            Error::Attach { probe, reason } => write!(f, "cannot attach {probe}: {reason}"),
            Error::Run { probe, reason } => write!(f, "cannot run {probe}: {reason}"),
            Error::Map(e) => write!(f, "cannot read a map: {e}"),
        }
    }
}

/// One user map's raw contents (see `Session::export_maps`).
pub struct RawMap {
    pub def: lang::typed::MapDef,
    pub spec: codegen::MapSpec,
    pub entries: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Something a program asked the runtime to print, in ring buffer order.
#[derive(Clone, Debug)]
pub enum Output {
    /// `printf(..)`: the rendered bytes.
    Printf(Vec<u8>),
    /// `time(fmt)`: the formatted time.
    Time(String),
    /// `print(value)`: the value's type and bytes.
    Value { ty: Ty, bytes: Vec<u8> },
    /// `print(@m, top, div)` (or `print(@hist, "label")`): the map as it was when the event was read.
    Map { map: MapDump, top: u32, div: u32, label: Option<String> },
}

/// What attaching a program gave back, to detach it by.
enum LinkId {
    Tracepoint(aya::programs::trace_point::TracePointLinkId),
    Interval(aya::programs::perf_event::PerfEventLinkId),
}

pub struct Session {
    ebpf: Ebpf,
    object: Object,
    events: RingBuf<MapData>,
    ncpus: usize,
    /// Set when a program called exit().
    exit_requested: bool,
    /// Set once the END programs run: their events are shown even after exit().
    ending: bool,
    /// How histograms print.
    pub hist_style: format::HistStyle,
    /// The attachment of each program, while attached.
    links: Vec<Option<LinkId>>,
    /// Per user map: `zero()` ran on it since it was last cleared (`KernelMap::zeroed`).
    zeroed: Vec<bool>,
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

/// Whether the kernel said EPERM somewhere in the error's chain (no root, no CAP_BPF).
fn not_permitted(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut src = Some(e);
    while let Some(inner) = src {
        if inner.downcast_ref::<std::io::Error>().and_then(|io| io.raw_os_error()) == Some(libc::EPERM) {
            return true;
        }
        src = inner.source();
    }
    false
}

fn ktime_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a valid timespec out-pointer; CLOCK_MONOTONIC is bpf_ktime_get_ns's clock.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// An aya loader that has not read the kernel's BTF. aya 0.14's `EbpfLoader::new()` always parses
/// /sys/kernel/btf/vmlinux (15–25 ms and some 19 MB of heap here), for relocations that vt's programs
/// never need: they carry no BTF. So the loader is made in a thread of its own whose root directory is
/// /sys/kernel/btf itself: from there the absolute path resolves to nothing, aya finds no BTF and goes
/// on without it. (Where the thread cannot change its root, the loader simply reads the BTF.)
fn loader_without_btf() -> EbpfLoader<'static> {
    std::thread::spawn(|| {
        let root = c"/sys/kernel/btf";
        // SAFETY: unshare(CLONE_FS) gives this thread its own root and working directory, so the
        // chroot changes them for this thread alone; the path is NUL-terminated.
        unsafe {
            if libc::unshare(libc::CLONE_FS) == 0 {
                libc::chroot(root.as_ptr());
            }
        }
        EbpfLoader::new()
    })
    .join()
    .unwrap_or_else(|_| EbpfLoader::new())
}

impl Session {
    /// Creates the maps and loads every program through the verifier; attaches nothing.
    pub fn load(object: Object) -> Result<Session, Error> {
        let bytes = codegen::elf::write(&object).map_err(|e| Error::Load(e.to_string()))?;
        // aya reads instructions in place: give it an 8-byte aligned copy.
        let mut aligned = vec![0u64; bytes.len().div_ceil(8)];
        // SAFETY: the u64 buffer is at least bytes.len() bytes long and u8 has no alignment needs.
        let view = unsafe { std::slice::from_raw_parts_mut(aligned.as_mut_ptr() as *mut u8, bytes.len()) };
        view.copy_from_slice(&bytes);
        let mut ebpf = loader_without_btf().load(view).map_err(|e| match not_permitted(&e) {
            true => Error::Permission(chain(&e)),
            false => Error::Load(chain(&e)),
        })?;
        for p in &object.programs {
            let probe = p.attach.probe_name();
            let prog = ebpf.program_mut(&p.symbol).ok_or_else(|| Error::Load(format!("program {} missing", p.symbol)))?;
            let result = match &p.attach {
                Attach::Tracepoint { .. } => <&mut TracePoint>::try_from(prog).map(|t| t.load()),
                Attach::Begin | Attach::End => <&mut RawTracePoint>::try_from(prog).map(|t| t.load()),
                Attach::Interval { .. } => <&mut PerfEvent>::try_from(prog).map(|t| t.load()),
            };
            match result {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(verify_error(probe, p.span, e)),
                Err(e) => return Err(Error::Load(chain(&e))),
            }
        }
        let ring = &object.maps[object.internal.events].symbol;
        let map = ebpf.take_map(ring).ok_or_else(|| Error::Load("ring buffer missing".into()))?;
        let events = RingBuf::try_from(map).map_err(|e| Error::Load(chain(&e)))?;
        let ncpus = aya::util::nr_cpus().map_err(|(what, e)| Error::Load(format!("{what}: {e}")))?;
        let links = object.programs.iter().map(|_| None).collect();
        let zeroed = vec![false; object.user_maps.len()];
        let session = Session {
            ebpf,
            object,
            events,
            ncpus,
            exit_requested: false,
            ending: false,
            hist_style: Default::default(),
            links,
            zeroed,
        };
        session.set_start(ktime_ns())?;
        Ok(session)
    }

    /// Writes the one value of the internal one-entry array `map` (`Internal::start`, `Internal::run`).
    fn set_internal(&self, map: usize, value: &[u8]) -> Result<(), Error> {
        let fd = self.map_fd(map)?;
        sys::update(fd, &0u32.to_ne_bytes(), value).map_err(|e| Error::Map(e.to_string()))
    }

    /// Records when the session started, in `bpf_ktime_get_ns` time: `elapsed` counts from there.
    fn set_start(&self, ns: u64) -> Result<(), Error> {
        self.set_internal(self.object.internal.start, &ns.to_ne_bytes())
    }

    /// When the session started (see `set_start`).
    fn start(&self) -> Result<u64, Error> {
        let fd = self.map_fd(self.object.internal.start)?;
        let mut value = [0u8; 8];
        sys::lookup(fd, &0u32.to_ne_bytes(), &mut value).map_err(|e| Error::Map(e.to_string()))?;
        Ok(u64::from_ne_bytes(value))
    }

    /// Takes `older`'s start as this session's, so that `elapsed` runs on across a REPL's swaps.
    pub fn continue_from(&self, older: &Session) -> Result<(), Error> {
        self.set_start(older.start()?)
    }

    fn map_fd(&self, index: usize) -> Result<std::os::fd::BorrowedFd<'_>, Error> {
        let symbol = &self.object.maps[index].symbol;
        let data: &MapData = match self.ebpf.map(symbol) {
            Some(
                Map::Array(d) | Map::HashMap(d) | Map::PerCpuArray(d) | Map::PerCpuHashMap(d),
            ) => d,
            _ => return Err(Error::Map(format!("map {symbol} missing"))),
        };
        Ok(data.fd().as_fd())
    }

    /// The number of probes: every attach point plus BEGIN and END, as bpftrace counts them.
    pub fn probe_count(&self) -> usize {
        self.object.programs.len()
    }

    /// Attaches every tracepoint (one perf event each) and interval program.
    pub fn attach(&mut self) -> Result<(), Error> {
        for i in 0..self.object.programs.len() {
            self.attach_program(i)?;
        }
        Ok(())
    }

    /// Attaches program `index` of the object alone (BEGIN and END attach nowhere).
    pub fn attach_program(&mut self, index: usize) -> Result<(), Error> {
        {
            let p = &self.object.programs[index];
            let prog = self.ebpf.program_mut(&p.symbol).unwrap();
            let probe = || p.attach.probe_name();
            match &p.attach {
                Attach::Tracepoint { category, name, .. } => {
                    let tp: &mut TracePoint = prog.try_into().unwrap();
                    let id = tp.attach(category, name).map_err(|e| Error::Attach { probe: probe(), reason: chain(&e) })?;
                    self.links[index] = Some(LinkId::Tracepoint(id));
                }
                Attach::Interval { period_ns, .. } => {
                    let pe: &mut PerfEvent = prog.try_into().unwrap();
                    let id = pe
                        .attach(
                            PerfEventConfig::Software(SoftwareEvent::CpuClock),
                            PerfEventScope::AllProcessesOneCpu { cpu: 0 },
                            SamplePolicy::Period(*period_ns),
                            false,
                        )
                        .map_err(|e| Error::Attach { probe: probe(), reason: chain(&e) })?;
                    self.links[index] = Some(LinkId::Interval(id));
                }
                Attach::Begin | Attach::End => {}
            }
        }
        Ok(())
    }

    /// Takes program `index`'s attachment out of aya, as something that detaches when dropped.
    fn take_link(&mut self, index: usize) -> Option<Box<dyn Send>> {
        let p = &self.object.programs[index];
        let prog = self.ebpf.program_mut(&p.symbol)?;
        match self.links[index].take()? {
            LinkId::Tracepoint(id) => {
                let tp: &mut TracePoint = prog.try_into().ok()?;
                tp.take_link(id).ok().map(|l| Box::new(l) as Box<dyn Send>)
            }
            LinkId::Interval(id) => {
                let pe: &mut PerfEvent = prog.try_into().ok()?;
                pe.take_link(id).ok().map(|l| Box::new(l) as Box<dyn Send>)
            }
        }
    }

    /// Turns the run switch off: from here on every attached program returns at once, so the maps stop
    /// changing and nothing more is printed, while the probes stay attached (see `closer`).
    pub fn stop(&self) -> Result<(), Error> {
        self.set_internal(self.object.internal.run, &1u32.to_ne_bytes())
    }

    /// Whether any probe is attached.
    pub fn attached(&self) -> bool {
        self.links.iter().any(Option::is_some)
    }

    /// Detaches every probe, so that the maps stop changing. Closing a tracepoint's perf event waits for
    /// an RCU grace period (tens of milliseconds), so the links are closed from several threads at once.
    pub fn detach(&mut self) {
        let links: Vec<Box<dyn Send>> = (0..self.links.len()).filter_map(|i| self.take_link(i)).collect();
        let threads = links.len().clamp(1, 16);
        let mut chunks: Vec<Vec<Box<dyn Send>>> = (0..threads).map(|_| Vec::new()).collect();
        for (i, link) in links.into_iter().enumerate() {
            chunks[i % threads].push(link);
        }
        std::thread::scope(|s| {
            for chunk in chunks {
                s.spawn(move || drop(chunk));
            }
        });
    }

    /// Detaches (and unloads) program `index` of the object alone.
    pub fn detach_program(&mut self, index: usize) {
        drop(self.take_link(index));
        let p = &self.object.programs[index];
        let Some(prog) = self.ebpf.program_mut(&p.symbol) else { return };
        let _ = match &p.attach {
            Attach::Tracepoint { .. } => <&mut TracePoint>::try_from(prog).map(|t| t.unload()),
            Attach::Interval { .. } => <&mut PerfEvent>::try_from(prog).map(|t| t.unload()),
            Attach::Begin | Attach::End => return,
        };
    }

    /// The compiled object this session runs.
    pub fn object(&self) -> &Object {
        &self.object
    }

    /// How many times program `index` has run; counted only while BPF run-time statistics are on
    /// (`aya::sys::enable_stats`). `None` once the program is unloaded.
    pub fn run_count(&self, index: usize) -> Option<u64> {
        let p = self.object.programs.get(index)?;
        self.ebpf.program(&p.symbol)?.info().ok().map(|i| i.run_count())
    }

    /// Runs the BEGIN programs whose index `which` selects.
    pub fn run_begin_where(&mut self, which: impl Fn(usize) -> bool) -> Result<(), Error> {
        self.run_special(|i, a| matches!(a, Attach::Begin) && which(i))
    }

    /// Every user map's raw contents, to carry into another session of a grown script (`import_map`).
    pub fn export_maps(&self) -> Result<Vec<RawMap>, Error> {
        (0..self.object.user_maps.len())
            .map(|i| {
                let map = self.kernel_map(i)?;
                let entries = map.raw_entries().map_err(|e| Error::Map(e.to_string()))?;
                Ok(RawMap { def: map.def.clone(), spec: map.spec.clone(), entries })
            })
            .collect()
    }

    /// `clear(@name)` from user space; `false` when there is no such map.
    pub fn clear_map(&mut self, name: &str) -> Result<bool, Error> {
        let Some(i) = self.object.user_maps.iter().position(|d| d.name == name) else { return Ok(false) };
        self.clear_or_zero(i, false)?;
        Ok(true)
    }

    /// `clear(@m)` or (with `zero`) `zero(@m)` of user map `i`, remembering which for `dump`.
    fn clear_or_zero(&mut self, i: usize, zero: bool) -> Result<(), Error> {
        let map = self.kernel_map(i)?;
        if zero { map.zero() } else { map.clear() }.map_err(|e| Error::Map(e.to_string()))?;
        self.zeroed[i] = zero;
        Ok(())
    }

    /// Copies `raw` into this session's user map of the same name when its layout is the same; returns
    /// whether it did.
    pub fn import_map(&self, raw: &RawMap) -> Result<bool, Error> {
        let Some(i) = self.object.user_maps.iter().position(|d| d.name == raw.def.name) else { return Ok(false) };
        let map = self.kernel_map(i)?;
        let same = map.def.kind == raw.def.kind
            && map.def.key == raw.def.key
            && MapSpec { symbol: String::new(), ..map.spec.clone() } == MapSpec { symbol: String::new(), ..raw.spec.clone() };
        if !same {
            return Ok(false);
        }
        map.write_raw(&raw.entries).map_err(|e| Error::Map(e.to_string()))?;
        Ok(true)
    }

    pub fn run_begin(&mut self) -> Result<(), Error> {
        self.run_special(|_, a| matches!(a, Attach::Begin))
    }

    pub fn run_end(&mut self) -> Result<(), Error> {
        // As in bpftrace, what probes did after exit() (until they were detached) is not shown.
        if self.exit_requested {
            while self.events.next().is_some() {}
        }
        self.ending = true;
        self.run_special(|_, a| matches!(a, Attach::End))
    }

    /// Runs the BEGIN or END programs `which` selects (by index and attach point) once, through
    /// BPF_PROG_TEST_RUN.
    fn run_special(&mut self, which: impl Fn(usize, &Attach) -> bool) -> Result<(), Error> {
        for (_, p) in self.object.programs.iter().enumerate().filter(|(i, p)| which(*i, &p.attach)) {
            let prog: &mut RawTracePoint = self.ebpf.program_mut(&p.symbol).unwrap().try_into().unwrap();
            prog.test_run(RawTracePointRunOptions::new())
                .map_err(|e| Error::Run { probe: p.attach.probe_name(), reason: chain(&e) })?;
        }
        Ok(())
    }

    /// The ring buffer's fd, to poll on.
    pub fn events_fd(&self) -> RawFd {
        self.events.as_raw_fd()
    }

    /// Whether a program called `exit()`.
    pub fn exit_requested(&self) -> bool {
        self.exit_requested
    }

    /// Acts on the events waiting in the ring buffer, in order: text (printf, time, print) goes to `out`.
    pub fn drain_events(&mut self, out: &mut dyn std::io::Write) -> Result<(), Error> {
        for o in self.drain_outputs()? {
            let _ = out.write_all(&self.output_text(&o));
        }
        let _ = out.flush();
        Ok(())
    }

    /// Acts on the events waiting in the ring buffer (exit, clear, zero) and returns, in order, what
    /// they ask to print, for the caller to render as text ([`Session::output_text`]) or otherwise.
    pub fn drain_outputs(&mut self) -> Result<Vec<Output>, Error> {
        let mut records = Vec::new();
        while let Some(item) = self.events.next() {
            records.push(item.to_vec());
        }
        let mut outputs = Vec::new();
        for r in records {
            // Events after an exit() (probes keep firing until they are detached) are dropped, as
            // bpftrace drops them: `{ printf(..); exit(); }` prints one line.
            if r.len() < 16 || (self.exit_requested && !self.ending) {
                continue;
            }
            let (kind, arg) = (u64::from_ne_bytes(r[..8].try_into().unwrap()), u64::from_ne_bytes(r[8..16].try_into().unwrap()) as usize);
            let payload = &r[16..];
            let output = match kind {
                event::EXIT => {
                    self.exit_requested = true;
                    continue;
                }
                event::PRINTF => {
                    let f = &self.object.formats[arg];
                    let pieces = lang::printf::parse(&f.text).unwrap_or_default();
                    Output::Printf(printf::render_bytes(&pieces, &decode_args(&f.args, payload)))
                }
                event::TIME => {
                    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
                    Output::Time(printf::strftime(&self.object.formats[arg].text, now.as_nanos()))
                }
                event::PRINT_VALUE => {
                    let ty = self.object.formats[arg].args[0].clone();
                    Output::Value { bytes: payload[..(ty.size() as usize).min(payload.len())].to_vec(), ty }
                }
                event::PRINT => {
                    let word = |i: usize| u64::from_ne_bytes(payload[8 * i..8 * i + 8].try_into().unwrap());
                    let (top, div, label) = (word(0) as u32, word(1) as u32, word(2) as usize);
                    let label = label.checked_sub(1).map(|l| self.object.formats[l].text.clone());
                    let map = self.kernel_map(arg)?.dump().map_err(|e| Error::Map(e.to_string()))?;
                    Output::Map { map, top, div, label }
                }
                event::CLEAR | event::ZERO => {
                    self.clear_or_zero(arg, kind == event::ZERO)?;
                    continue;
                }
                _ => continue,
            };
            outputs.push(output);
        }
        Ok(outputs)
    }

    /// An output as bpftrace's text format prints it, in the session's histogram style.
    pub fn output_text(&self, o: &Output) -> Vec<u8> {
        match o {
            Output::Printf(bytes) => bytes.clone(),
            Output::Time(text) => text.clone().into_bytes(),
            Output::Value { ty, bytes } => format!("{}\n", maps::value_text(ty, bytes)).into_bytes(),
            Output::Map { map, top, div, label } => {
                format::styled_map_text(map, *top, *div, self.hist_style, label.as_deref()).into_bytes()
            }
        }
    }

    fn kernel_map(&self, index: usize) -> Result<KernelMap<'_>, Error> {
        let spec = &self.object.maps[index];
        let host = spec.within.and(self.object.internal.scalars);
        Ok(KernelMap {
            def: &self.object.user_maps[index],
            spec,
            fd: self.map_fd(host.unwrap_or(index))?,
            ncpus: self.ncpus,
            host: host.map(|h| &self.object.maps[h]),
            zeroed: self.zeroed[index],
        })
    }

    /// Every map as printed at exit, in the session's histogram style.
    pub fn exit_text(&self) -> Result<String, Error> {
        Ok(format::exit_text_styled(&self.dump()?, self.hist_style))
    }

    /// The contents of every user map.
    pub fn dump(&self) -> Result<Vec<MapDump>, Error> {
        (0..self.object.user_maps.len())
            .map(|i| self.kernel_map(i)?.dump().map_err(|e| Error::Map(e.to_string())))
            .collect()
    }

    /// Events the ring buffer had no room for.
    pub fn lost_events(&self) -> u64 {
        self.lost_counter(0)
    }

    /// Slot `slot` of the per-CPU `lost` counters, summed over CPUs (0 when the slot does not exist).
    fn lost_counter(&self, slot: u32) -> u64 {
        let Ok(fd) = self.map_fd(self.object.internal.lost) else { return 0 };
        let mut buf = vec![0u8; 8 * self.ncpus];
        match sys::lookup(fd, &slot.to_ne_bytes(), &mut buf) {
            Ok(true) => buf.chunks(8).map(|c| u64::from_ne_bytes(c.try_into().unwrap())).sum(),
            _ => 0,
        }
    }

    /// The user maps that dropped updates because they were full: name (without `@`), how many
    /// updates, and the map's capacity.
    pub fn dropped_updates(&self) -> Vec<(String, u64, u32)> {
        (0..self.object.user_maps.len())
            .filter_map(|i| {
                let n = self.lost_counter(1 + i as u32);
                (n > 0).then(|| (self.object.user_maps[i].name.clone(), n, self.object.maps[i].max_entries))
            })
            .collect()
    }

    /// One warning line per full map, to print at exit:
    /// `Warning: 5904 updates to @m dropped: the map is full (4096 entries)`.
    pub fn dropped_warnings(&self) -> Vec<String> {
        self.dropped_updates()
            .into_iter()
            .map(|(name, n, max)| {
                let s = if n == 1 { "" } else { "s" };
                format!("Warning: {n} update{s} to @{name} dropped: the map is full ({max} entries)")
            })
            .collect()
    }
}

/// printf arguments from an event's payload, laid out by their types.
fn decode_args(types: &[Ty], payload: &[u8]) -> Vec<Arg> {
    let mut at = 0;
    types
        .iter()
        .map(|ty| {
            let size = ty.size() as usize;
            let bytes = payload.get(at..at + size).unwrap_or(&[]);
            at += size;
            match ty {
                Ty::Int(i) if bytes.len() == 8 => {
                    Arg::Int { value: u64::from_ne_bytes(bytes.try_into().unwrap()), signed: i.signed, bits: 64 }
                }
                _ => Arg::Str(maps::value_text(ty, bytes)),
            }
        })
        .collect()
}

/// The verifier's last line is its reason (skipping its statistics: `verification time`, `stack depth`,
/// `processed N insns`); the whole log goes with it for `-v`.
fn verify_error(probe: String, span: lang::ast::Span, e: aya::programs::ProgramError) -> Error {
    const STATS: [&str; 3] = ["processed ", "verification time", "stack depth"];
    match e {
        aya::programs::ProgramError::LoadError { io_error, verifier_log } => {
            let log = verifier_log.to_string();
            let reason = log
                .lines()
                .rev()
                .map(str::trim)
                .find(|l| !l.is_empty() && !STATS.iter().any(|s| l.starts_with(s)))
                .map(str::to_string)
                .unwrap_or_else(|| io_error.to_string());
            Error::Verify { probe, span, reason, log }
        }
        other => Error::Verify { probe, span, reason: chain(&other), log: String::new() },
    }
}
