//! Where a checked program attaches, as data: `Attach` and the kernel-side `Target` of each kind of
//! probe. A probe kind's registry entry chooses it; one runtime module per kernel program type carries
//! it out. (Re-exported from `typed`.)

use crate::tracefs::Format;
use crate::typed::IntTy;
use std::sync::Arc;

/// Where a program attaches, as data: the probe kind's entry decides it, one runtime module per
/// kernel program type carries it out.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Attach {
    /// The probe as bpftrace names it (`tracepoint:sched:sched_switch`, `BEGIN`, `interval:s:1`).
    pub probe: String,
    /// A short tag for the kernel program's name (which holds at most 15 characters).
    pub tag: String,
    pub target: Target,
    /// The record `args` reads, for probe kinds that have one.
    pub args: Option<Arc<Format>>,
}

/// The kernel side of an attach point: a kernel program type and its parameters.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Target {
    /// Run once by the runtime at the start (BEGIN) or the end (END) of a session.
    Begin,
    End,
    /// A tracepoint program on `category:name`.
    Tracepoint { category: String, name: String },
    /// A perf_event program on a perf event (`perf_event_attr`'s `type` and `config`), run every
    /// `period` events or `frequency` times a second, on one CPU or on each.
    PerfEvent(PerfEvent),
    /// A uprobe or uretprobe program on an instruction of a user-space file.
    Uprobe(Uprobe),
    /// A uprobe program on a USDT probe of a user-space file, its semaphore raised while attached.
    Usdt(Usdt),
    /// A raw tracepoint program on a kernel tracepoint: its context is the tracepoint's arguments, as
    /// an array of u64.
    RawTracepoint { name: String },
    /// A kprobe or kretprobe program on a kernel function.
    Kprobe(Kprobe),
    /// A tracing program (BPF_PROG_TYPE_TRACING) on a kernel function's entry or exit, through a BPF
    /// trampoline: its context is the function's arguments (and, on exit, its return value), u64 each.
    Fentry(Fentry),
}

/// The field of an fexit's `args` record that holds the return value (`retval`); no C name clashes.
pub const FENTRY_RETVAL: &str = "$retval";

/// A kernel function with BTF, by name (the runtime finds its BTF id, and its module's BTF object,
/// when it loads the program: nothing here depends on the kernel's build).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Fentry {
    pub func: String,
    /// The module whose BTF has the function (None: vmlinux's).
    pub module: Option<String>,
    /// On the function's exit (fexit).
    pub ret: bool,
}

/// A USDT probe (`.note.stapsdt`): an instruction of an ELF file, its optional semaphore and how to
/// read each of its arguments.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Usdt {
    pub path: String,
    /// The probe's instruction as a file offset.
    pub offset: u64,
    /// The semaphore's file offset (the kernel's `ref_ctr_offset`), if the probe has one.
    pub semaphore: Option<u64>,
    /// `-p PID`: only in that process.
    pub pid: Option<u32>,
    pub provider: String,
    pub name: String,
    pub args: Vec<UsdtArg>,
}

/// Where a USDT argument is (its note's `SIZE@LOCATION`), and its integer type.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UsdtArg {
    pub ty: IntTy,
    pub loc: UsdtLoc,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum UsdtLoc {
    /// `$N`
    Const(i64),
    /// `%REG`: the register's bytes at `offset` of `struct pt_regs` (`%ah` is one byte in).
    Reg { offset: u32 },
    /// `OFF(%REG)`: user memory at the register's value plus `disp`.
    Mem { offset: u32, disp: i64 },
    /// A spec vt does not read (`sym(%rip)`, base and index): the argument is refused where used.
    Unknown(String),
}

/// A kernel function, by name (the kernel finds its address: nothing here depends on the machine's
/// addresses), at an offset within it or on its return.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Kprobe {
    pub func: String,
    /// The module the function is in, when the probe named it (`kprobe:vhost_net:handle_rx`).
    pub module: Option<String>,
    /// Bytes from the function's first instruction (0 on a kretprobe).
    pub offset: u64,
    /// On the function's return (a kretprobe).
    pub ret: bool,
    /// A wildcard's kernel functions when one program serves them all through a kprobe_multi link
    /// (`func` then holds the pattern, and the program names each function from its address at run
    /// time); empty for a probe on one function.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub multi: Vec<String>,
}

impl Kprobe {
    /// The name the kernel looks up: `FUNC`, or `MODULE:FUNC`.
    pub fn symbol(&self) -> String {
        match &self.module {
            Some(m) => format!("{m}:{}", self.func),
            None => self.func.clone(),
        }
    }
}

/// An instruction of an ELF file (a program or a shared library), in every process that maps the file
/// or in one process.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Uprobe {
    pub path: String,
    /// The instruction's offset in the file (not its virtual address: the kernel wants file offsets).
    pub offset: u64,
    /// On the function's return (a uretprobe) rather than on the instruction.
    pub ret: bool,
    /// `-p PID`: only in that process.
    pub pid: Option<u32>,
    /// The function the instruction is in (the value of `func`).
    pub func: String,
    /// This uprobe only arms the watchpoint of the program after it (`watchpoint:FUNC+argN:...`).
    #[serde(default)]
    pub watch: Option<WatchSetup>,
}

/// `watchpoint:FUNC+argN:LEN:MODE`: on each call of FUNC, argument N is the address to watch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WatchSetup {
    pub arg: u8,
    /// `watchpoint` (not `asyncwatchpoint`): the process is stopped until the watchpoint is armed.
    pub stop: bool,
}

/// A perf event as the kernel names it; `interval`, `profile`, `software` and `hardware` probes are
/// all of this kind.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PerfEvent {
    /// `PERF_TYPE_*` (0 hardware, 1 software, ...).
    pub perf_type: u32,
    /// The event within its type (`PERF_COUNT_SW_CPU_CLOCK` is 0).
    pub config: u64,
    pub sample: Sample,
    /// One CPU, or None for every online CPU.
    pub cpu: Option<u32>,
    /// A hardware breakpoint (`PERF_TYPE_BREAKPOINT`'s address, length and access type).
    pub breakpoint: Option<Breakpoint>,
    /// One process (`-p PID`) rather than every task of the CPUs.
    pub pid: Option<u32>,
}

/// A hardware breakpoint on `len` bytes at `addr` of a process: `bp_type` is HW_BREAKPOINT_R (1),
/// W (2), RW (3) or X (4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Breakpoint {
    pub addr: u64,
    pub len: u64,
    pub bp_type: u32,
    /// Armed at run time, at each address the setup uprobe before it sends (`addr` is unused).
    #[serde(default)]
    pub deferred: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Sample {
    /// Every N events (nanoseconds for a clock).
    Period(u64),
    /// N times a second.
    Frequency(u64),
}

impl Target {
    /// Whether the program runs in the context of the task that caused the event, so that `-p PID`
    /// filters it by pid: tracepoints, and the perf events sampled on every CPU (profile, software,
    /// hardware), but not BEGIN, END or `interval` (one CPU's clock, whatever task it interrupts).
    pub fn runs_in_tasks(&self) -> bool {
        match self {
            Target::Tracepoint { .. } | Target::RawTracepoint { .. } | Target::Kprobe(_) | Target::Fentry(_) => true,
            Target::PerfEvent(e) => e.cpu.is_none() && e.pid.is_none(),
            // A uprobe is attached to the process itself.
            Target::Begin | Target::End | Target::Uprobe(_) | Target::Usdt(_) => false,
        }
    }
}

impl Attach {
    /// The probe as bpftrace names it.
    pub fn probe_name(&self) -> String {
        self.probe.clone()
    }
    /// BEGIN and END run on the runtime's request, not on a kernel event.
    pub fn is_special(&self) -> bool {
        matches!(self.target, Target::Begin | Target::End)
    }
}
