//! Kprobe_multi programs (Linux 5.18+, CONFIG_FPROBE): one kprobe program on many kernel functions
//! through one BPF_LINK_CREATE, where a wildcard's per-function kprobes take a perf event each
//! (milliseconds apiece). aya 0.14 has no such link: the program is loaded with bpf(2) (`raw`,
//! expected attach type BPF_TRACE_KPROBE_MULTI) and linked here. The kernel finds the functions by
//! name. `func` in such a program is the function's address (`bpf_get_func_ip`), named when printed.

use super::raw::{self, bpf, owned, ProgLoad};
use super::{Error, Link};
use codegen::asm::Code;
use lang::typed::Kprobe as Target;
use std::ffi::CString;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

const BPF_LINK_CREATE: libc::c_long = 28;
const BPF_PROG_TYPE_KPROBE: u32 = 2;
const BPF_TRACE_KPROBE_MULTI: u32 = 42;
/// `kprobe_multi.flags`: on the functions' returns.
const BPF_F_KPROBE_MULTI_RETURN: u32 = 1;

/// `union bpf_attr` for BPF_LINK_CREATE with its `kprobe_multi` part.
#[repr(C)]
#[derive(Default)]
struct LinkCreate {
    prog_fd: u32,
    target_fd: u32,
    attach_type: u32,
    flags: u32,
    multi_flags: u32,
    cnt: u32,
    syms: u64,
    addrs: u64,
    cookies: u64,
}

/// Loads the program as a kprobe program for a kprobe_multi link.
pub fn load(code: &Code, name: &str, map_fd: &dyn Fn(usize) -> Option<(i32, bool)>) -> Result<OwnedFd, Error> {
    let words = raw::relocate(code, map_fd)?;
    let attr = ProgLoad { prog_type: BPF_PROG_TYPE_KPROBE, expected_attach_type: BPF_TRACE_KPROBE_MULTI, ..Default::default() };
    raw::load(&words, name, attr).map_err(raw::Refused::verifier)
}

/// Links the loaded program to every function of `names`, on entry or (`ret`) on return.
fn link(prog: BorrowedFd<'_>, names: &[String], ret: bool) -> std::io::Result<OwnedFd> {
    let names: Vec<CString> = names.iter().filter_map(|n| CString::new(n.as_str()).ok()).collect();
    let syms: Vec<u64> = names.iter().map(|n| n.as_ptr() as u64).collect();
    let mut attr = LinkCreate {
        prog_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_TRACE_KPROBE_MULTI,
        multi_flags: if ret { BPF_F_KPROBE_MULTI_RETURN } else { 0 },
        cnt: syms.len() as u32,
        syms: syms.as_ptr() as u64,
        ..Default::default()
    };
    bpf(BPF_LINK_CREATE, &mut attr).map(owned)
}

/// Attaches the loaded program to the target's functions.
pub fn attach(prog: BorrowedFd<'_>, target: &Target) -> Result<Link, Error> {
    link(prog, &target.multi, target.ret).map(Link::new).map_err(|e| {
        Error::Unsupported(format!("the kernel refuses a kprobe_multi link on the {} functions of `{}`: {e}", target.multi.len(), target.func))
    })
}

/// Whether this kernel has kprobe_multi links (read once): a program that only returns, linked to a
/// function no kernel has. A kernel with the links looks the name up and finds nothing (ESRCH or
/// ENOENT); one built without CONFIG_FPROBE says EOPNOTSUPP, one older than 5.18 EINVAL (no such
/// attach type). `VT_KPROBE_MULTI=0` in the environment says no, for one kprobe per function.
pub fn available() -> bool {
    static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        if std::env::var_os("VT_KPROBE_MULTI").is_some_and(|v| v == "0") {
            return false;
        }
        // r0 = 0; exit
        let code = Code { words: vec![0x0000_0000_0000_00b7, 0x0000_0000_0000_0095], ..Code::default() };
        let Ok(prog) = load(&code, "vt_probe", &|_| None) else { return false };
        use std::os::fd::AsFd;
        match link(prog.as_fd(), &["vt_no_such_kernel_function".into()], false) {
            // A kernel that found it after all: the link works.
            Ok(_) => true,
            Err(e) => matches!(e.raw_os_error(), Some(libc::ESRCH) | Some(libc::ENOENT)),
        }
    })
}
