//! Loading a program with bpf(2) itself, for the program types aya 0.14 cannot load as vt needs
//! (fentry/fexit on vt's own BTF lookup, kprobe_multi): the `bpf_attr` of BPF_PROG_LOAD, the
//! program's map references resolved against the maps aya created, and the verifier's log on a
//! refusal.

use super::Error;
use codegen::asm::Code;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

pub const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PSEUDO_MAP_FD: u64 = 1;
const BPF_PSEUDO_MAP_VALUE: u64 = 2;
/// The kernel's ENOTSUPP (not in libc): what it says for a program type or attach it cannot do.
pub const ENOTSUPP: i32 = 524;

/// `union bpf_attr` for BPF_PROG_LOAD, up to `attach_btf_obj_fd`, zero-padded.
#[repr(C)]
#[derive(Default)]
pub struct ProgLoad {
    pub prog_type: u32,
    pub insn_cnt: u32,
    pub insns: u64,
    pub license: u64,
    pub log_level: u32,
    pub log_size: u32,
    pub log_buf: u64,
    pub kern_version: u32,
    pub prog_flags: u32,
    pub prog_name: [u8; 16],
    pub prog_ifindex: u32,
    pub expected_attach_type: u32,
    pub prog_btf_fd: u32,
    pub func_info_rec_size: u32,
    pub func_info: u64,
    pub func_info_cnt: u32,
    pub line_info_rec_size: u32,
    pub line_info: u64,
    pub line_info_cnt: u32,
    pub attach_btf_id: u32,
    pub attach_btf_obj_fd: u32,
    pub _pad: [u32; 5],
}

/// bpf(2) with `attr` as the command's `union bpf_attr`.
pub fn bpf<T>(cmd: libc::c_long, attr: &mut T) -> io::Result<i64> {
    // SAFETY: attr is a bpf_attr variant for `cmd`, all its pointers valid for the call.
    let rc = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr as *mut T, std::mem::size_of::<T>()) };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// A descriptor the kernel just returned.
pub fn owned(fd: i64) -> OwnedFd {
    // SAFETY: the kernel just returned this descriptor to us, and nothing else holds it.
    unsafe { OwnedFd::from_raw_fd(fd as i32) }
}

/// The program's instructions with each map reference made the kernel's: `map_fd(m)` is map m's
/// descriptor and whether it is a global (a data section's map, addressed by value).
pub fn relocate(code: &Code, map_fd: &dyn Fn(usize) -> Option<(i32, bool)>) -> Result<Vec<u64>, Error> {
    if !code.callbacks.is_empty() || !code.funcs.is_empty() {
        // A callback (`for` over a map) needs BTF function info in the load, which this loader does
        // not pass yet: fentry/fexit and kprobe_multi programs refuse it here.
        return Err(Error::Unsupported("`for` over a map is not supported in fentry/fexit or wildcard kprobe programs yet".into()));
    }
    let mut words = code.words.clone();
    for r in &code.relocs {
        let (fd, global) = map_fd(r.map).ok_or_else(|| Error::Unsupported(format!("map {} of the program is missing", r.map)))?;
        if r.insn + 1 >= words.len() {
            return Err(Error::Unsupported(format!("map reference outside the program at {}", r.insn)));
        }
        let src = if global { BPF_PSEUDO_MAP_VALUE } else { BPF_PSEUDO_MAP_FD };
        let w = words[r.insn];
        words[r.insn] = (w & 0xffff_ffff & !0xf000) | src << 12 | (fd as u32 as u64) << 32;
        // The second half's immediate: the offset into a global's value (vt's globals are alone in
        // their section, at 0).
        words[r.insn + 1] &= 0xffff_ffff;
    }
    Ok(words)
}

/// Why a load failed: the first attempt's error, and the verifier's log of a second one.
pub struct Refused {
    pub first: io::Error,
    pub again: io::Error,
    pub log: String,
}

impl Refused {
    /// The verifier's reason, and its whole log.
    pub fn verifier(self) -> Error {
        Error::Verifier { reason: super::verifier_reason(&self.log).unwrap_or_else(|| self.again.to_string()), log: self.log }
    }
}

/// Loads `words` (relocated) through the verifier with `attr`'s type and attach fields, named
/// `name`; on a refusal, loads again with the verifier's log for its reason.
pub fn load(words: &[u64], name: &str, mut attr: ProgLoad) -> Result<OwnedFd, Refused> {
    let license = c"GPL";
    attr.insn_cnt = words.len() as u32;
    attr.insns = words.as_ptr() as u64;
    attr.license = license.as_ptr() as u64;
    for (d, s) in attr.prog_name.iter_mut().zip(name.bytes().take(15)) {
        *d = s;
    }
    let first = match bpf(BPF_PROG_LOAD, &mut attr) {
        Ok(fd) => return Ok(owned(fd)),
        Err(e) => e,
    };
    let mut log = vec![0u8; 1 << 20];
    attr.log_level = 1;
    attr.log_size = log.len() as u32;
    attr.log_buf = log.as_mut_ptr() as u64;
    let again = bpf(BPF_PROG_LOAD, &mut attr);
    let len = log.iter().position(|b| *b == 0).unwrap_or(0);
    let log = String::from_utf8_lossy(&log[..len]).into_owned();
    match again {
        // A load that failed once (for want of memory, say) may pass.
        Ok(fd) => Ok(owned(fd)),
        Err(again) => Err(Refused { first, again, log }),
    }
}
