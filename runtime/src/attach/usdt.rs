//! USDT programs: uprobe programs on a USDT probe's instruction whose semaphore the kernel raises
//! while they are attached. aya 0.14's uprobes cannot pass a semaphore (`ref_ctr_offset`), so the
//! perf event is opened here on the `uprobe` PMU (config1 the path, config2 the offset, the semaphore's
//! offset in the config bits the PMU's `format/ref_ctr_offset` names) and the program set on it. The
//! kernel then raises the semaphore in every process that maps the file, started before or after.

use super::{Error, Link};
use aya::programs::{Program, ProgramError, UProbe};
use lang::typed::Usdt;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};

fn program(prog: &mut Program) -> Result<&mut UProbe, Error> {
    prog.try_into().map_err(Error::Type)
}

pub fn load(prog: &mut Program) -> Result<(), Error> {
    program(prog)?.load().map_err(Error::Load)
}

pub fn unload(prog: &mut Program) {
    if let Ok(up) = program(prog) {
        let _ = up.unload();
    }
}

/// `struct perf_event_attr` up to `config2`, padded to the 128 bytes of PERF_ATTR_SIZE_VER7.
#[repr(C)]
#[derive(Default)]
struct PerfEventAttr {
    kind: u32,
    size: u32,
    config: u64,
    sample_period: u64,
    sample_type: u64,
    read_format: u64,
    flags: u64,
    wakeup_events: u32,
    bp_type: u32,
    config1: u64,
    config2: u64,
    rest: [u64; 7],
}

const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 8;
/// `_IOW('$', 8, u32)`
const PERF_EVENT_IOC_SET_BPF: libc::c_ulong = 0x4004_2408;
const PMU: &str = "/sys/bus/event_source/devices/uprobe";

fn io_err(e: io::Error) -> Error {
    Error::Attach(ProgramError::IOError(e))
}

/// The uprobe PMU's type number, and the first bit of `config` that holds `ref_ctr_offset`.
fn pmu() -> Result<(u32, u32), Error> {
    let read = |f: &str| std::fs::read_to_string(format!("{PMU}/{f}"));
    let kind = read("type").ok().and_then(|t| t.trim().parse().ok());
    // `config:32-63`
    let shift = read("format/ref_ctr_offset")
        .ok()
        .and_then(|f| f.trim().strip_prefix("config:").and_then(|r| r.split('-').next()).and_then(|b| b.parse().ok()));
    match (kind, shift) {
        (Some(k), Some(s)) => Ok((k, s)),
        (Some(k), None) => Ok((k, 0)),
        (None, _) => Err(Error::Unsupported(format!("this kernel has no uprobe PMU ({PMU}/type): USDT probes cannot be attached"))),
    }
}

pub fn attach(prog: &mut Program, target: &Usdt) -> Result<Link, Error> {
    let up = program(prog)?;
    let prog_fd = up.fd().map_err(Error::Attach)?.as_fd().as_raw_fd();
    let (kind, shift) = pmu()?;
    let mut config = 0u64;
    if let Some(sem) = target.semaphore {
        if shift == 0 {
            return Err(Error::Unsupported("this kernel's uprobes cannot raise a USDT semaphore (no ref_ctr_offset)".into()));
        }
        config |= sem << shift;
    }
    let path = CString::new(target.path.as_bytes()).map_err(|_| Error::Unsupported(format!("the path {:?} holds a NUL byte", target.path)))?;
    let attr = PerfEventAttr {
        kind,
        size: std::mem::size_of::<PerfEventAttr>() as u32,
        config,
        sample_period: 1,
        config1: path.as_ptr() as u64,
        config2: target.offset,
        ..Default::default()
    };
    let (pid, cpu) = match target.pid {
        Some(pid) => (pid as libc::c_int, -1),
        None => (-1, 0),
    };
    // SAFETY: a perf_event_attr of the size it says, and a path that outlives the call.
    let fd = unsafe { libc::syscall(libc::SYS_perf_event_open, &attr as *const PerfEventAttr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC) };
    if fd < 0 {
        let e = io::Error::last_os_error();
        return Err(match e.raw_os_error() {
            Some(libc::ESRCH) => Error::Unsupported(format!("no process {} to attach to", target.pid.unwrap_or(0))),
            _ => io_err(e),
        });
    }
    // SAFETY: a descriptor the kernel just gave us, owned by nothing else.
    let event = unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) };
    // SAFETY: an ioctl of a perf event descriptor we own, with an integer argument.
    if unsafe { libc::ioctl(event.as_raw_fd(), PERF_EVENT_IOC_SET_BPF, prog_fd) } < 0 {
        return Err(io_err(io::Error::last_os_error()));
    }
    // Closing the event detaches the program and lowers the semaphore.
    Ok(Link::new(event))
}
