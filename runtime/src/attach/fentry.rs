//! Fentry and fexit programs (BPF_PROG_TYPE_TRACING): loaded here with bpf(2) itself rather than
//! through aya, whose `FEntry::load` wants aya's own parse of all of vmlinux's BTF (the session's
//! loader reads none, see `session/load.rs`) and cannot name a module's BTF object. The function's BTF
//! id comes from vt's lazy reader (`lang::btf`, `lang::btf_module`); a module's function also needs
//! the kernel's BTF object of that module (`attach_btf_obj_fd`). The program's map references are
//! resolved against the maps aya created (`raw`). Attaching is BPF_RAW_TRACEPOINT_OPEN without a name:
//! the kernel links the program to its trampoline.

use super::raw::{self, bpf, owned, ProgLoad, ENOTSUPP};
use super::{Error, Link};
use codegen::asm::Code;
use lang::typed::Fentry as Target;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

const BPF_OBJ_GET_INFO_BY_FD: libc::c_long = 15;
const BPF_RAW_TRACEPOINT_OPEN: libc::c_long = 17;
const BPF_BTF_GET_FD_BY_ID: libc::c_long = 19;
const BPF_BTF_GET_NEXT_ID: libc::c_long = 23;
const BPF_PROG_TYPE_TRACING: u32 = 26;
const BPF_TRACE_FENTRY: u32 = 24;
const BPF_TRACE_FEXIT: u32 = 25;

/// The message for a kernel without the tracing program type (or its trampolines).
pub const NO_FENTRY: &str = "fentry/fexit need the tracing program type (BPF trampolines), which this kernel lacks; kprobe:FUNC works where kprobes exist";

/// How many parameters the target's function has (by its BTF).
fn param_count(t: &Target) -> Option<usize> {
    let btf = match &t.module {
        None => lang::btf::kernel().ok()?,
        Some(m) => lang::btf_module::module(m).ok()?,
    };
    let id = btf.find_own(lang::btf::FUNC, &t.func)?;
    Some(btf.params(btf.head(id)?.size_or_type).len())
}

/// What the kernel's "not supported" means for this target: x86's trampolines before 6.6 take at
/// most 6 arguments; otherwise the kernel has no trampolines at all.
fn not_supported(t: &Target) -> Error {
    match param_count(t) {
        Some(n) if n > 6 => Error::Unsupported(format!(
            "`{}` takes {n} arguments, more than this kernel's BPF trampolines pass (6); kprobe:{} reads the first six",
            t.func, t.func
        )),
        _ => Error::Unsupported(NO_FENTRY.into()),
    }
}

/// The function's BTF id, and for a module's function the module's BTF object.
fn btf_target(t: &Target) -> Result<(u32, Option<OwnedFd>), Error> {
    let btf = match &t.module {
        None => lang::btf::kernel(),
        Some(m) => lang::btf_module::module(m),
    }
    .map_err(Error::Unsupported)?;
    let id = btf.find_own(lang::btf::FUNC, &t.func).ok_or_else(|| {
        Error::Unsupported(format!("the kernel has no function `{}` in its BTF", t.func))
    })?;
    let obj = match &t.module {
        None => None,
        Some(m) => Some(module_btf_fd(m)?),
    };
    Ok((id, obj))
}

/// `struct bpf_btf_info`.
#[repr(C)]
#[derive(Default)]
struct BtfInfo {
    btf: u64,
    btf_size: u32,
    id: u32,
    name: u64,
    name_len: u32,
    kernel_btf: u32,
}

/// The kernel's BTF object of module `name`, found by walking the loaded BTF objects.
fn module_btf_fd(name: &str) -> Result<OwnedFd, Error> {
    let mut id = 0u32;
    loop {
        let mut next = [id, 0u32, 0, 0];
        if bpf(BPF_BTF_GET_NEXT_ID, &mut next).is_err() {
            return Err(Error::Unsupported(format!("the kernel has no BTF object of module {name}")));
        }
        id = next[1];
        let mut by_id = [id, 0u32, 0, 0];
        let Ok(fd) = bpf(BPF_BTF_GET_FD_BY_ID, &mut by_id) else { continue };
        let fd = owned(fd);
        let mut buf = [0u8; 64];
        let mut info = BtfInfo { name: buf.as_mut_ptr() as u64, name_len: buf.len() as u32, ..Default::default() };
        let mut attr = [fd.as_raw_fd() as u32, std::mem::size_of::<BtfInfo>() as u32, 0, 0];
        attr[2..4].copy_from_slice(&[(&mut info as *mut BtfInfo as u64) as u32, ((&mut info as *mut BtfInfo as u64) >> 32) as u32]);
        if bpf(BPF_OBJ_GET_INFO_BY_FD, &mut attr).is_ok() && info.kernel_btf != 0 {
            let len = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
            if &buf[..len] == name.as_bytes() {
                return Ok(fd);
            }
        }
    }
}

/// Loads the program through the verifier as a tracing program on the target's function.
pub fn load(code: &Code, name: &str, target: &Target, map_fd: &dyn Fn(usize) -> Option<(i32, bool)>) -> Result<OwnedFd, Error> {
    let (btf_id, obj) = btf_target(target)?;
    let words = raw::relocate(code, map_fd)?;
    let attr = ProgLoad {
        prog_type: BPF_PROG_TYPE_TRACING,
        expected_attach_type: if target.ret { BPF_TRACE_FEXIT } else { BPF_TRACE_FENTRY },
        attach_btf_id: btf_id,
        attach_btf_obj_fd: obj.as_ref().map_or(0, |fd| fd.as_raw_fd() as u32),
        ..Default::default()
    };
    raw::load(&words, name, attr).map_err(|r| if lacks_tracing(&r.first, &r.log) { not_supported(target) } else { r.verifier() })
}

/// Whether a failed load says the kernel has no tracing programs or trampolines at all (rather than
/// refusing this program): an unknown program type, no trampoline on this architecture or build, or
/// the type refused outright (EPERM, where the session's maps and other programs load: a kernel or
/// sandbox that forbids tracing programs; bpftool's feature probe finds the type unavailable there).
fn lacks_tracing(e: &io::Error, log: &str) -> bool {
    matches!(e.raw_os_error(), Some(ENOTSUPP) | Some(libc::EOPNOTSUPP) | Some(libc::EPERM))
        || (e.raw_os_error() == Some(libc::EINVAL) && log.is_empty())
}

/// Whether this kernel loads tracing programs at all: a program that only returns, on vfs_read's
/// entry (read once; `vt -l` lists fentry and fexit only where it does, as kprobes only where the
/// kernel has them).
pub fn available() -> bool {
    static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        let target = Target { func: "vfs_read".into(), module: None, ret: false };
        // r0 = 0; exit
        let code = Code { words: vec![0x0000_0000_0000_00b7, 0x0000_0000_0000_0095], ..Code::default() };
        load(&code, "vt_probe", &target, &|_| None).is_ok()
    })
}

/// Attaches the loaded program to its function's trampoline.
pub fn attach(prog: BorrowedFd<'_>, target: &Target) -> Result<Link, Error> {
    let mut attr = [0u64, prog.as_raw_fd() as u32 as u64];
    match bpf(BPF_RAW_TRACEPOINT_OPEN, &mut attr) {
        Ok(fd) => Ok(Link::new(owned(fd))),
        Err(e) if matches!(e.raw_os_error(), Some(ENOTSUPP) | Some(libc::EOPNOTSUPP)) => Err(not_supported(target)),
        Err(e) => Err(Error::Unsupported(format!("the kernel refuses a trampoline on `{}`: {e}", target.func))),
    }
}
