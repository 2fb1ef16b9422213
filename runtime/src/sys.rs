//! The few bpf(2) map commands the runtime needs with byte keys and byte values (aya's typed maps want
//! key and value types known at compile time; ours are known only at run time).

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

const BPF_MAP_LOOKUP_ELEM: libc::c_long = 1;

#[repr(C)]
struct MapElemAttr {
    map_fd: u32,
    _pad: u32,
    key: u64,
    value: u64,
    flags: u64,
}

/// Reads the value at `key` into `value`; `Ok(false)` when there is no such entry.
pub fn lookup(map: BorrowedFd<'_>, key: &[u8], value: &mut [u8]) -> io::Result<bool> {
    let attr = MapElemAttr {
        map_fd: map.as_raw_fd() as u32,
        _pad: 0,
        key: key.as_ptr() as u64,
        value: value.as_mut_ptr() as u64,
        flags: 0,
    };
    // SAFETY: attr points at buffers that live across the call and are as large as the map's key and
    // value sizes (the caller's contract).
    let rc = unsafe {
        libc::syscall(libc::SYS_bpf, BPF_MAP_LOOKUP_ELEM, &attr as *const MapElemAttr, std::mem::size_of::<MapElemAttr>())
    };
    if rc == 0 {
        return Ok(true);
    }
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::ENOENT) => Ok(false),
        _ => Err(err),
    }
}

/// Reads a per-CPU map's `u64` value at `key` on every possible CPU and returns their sum.
pub fn percpu_sum(map: BorrowedFd<'_>, key: &[u8], ncpus: usize) -> io::Result<u64> {
    let mut buf = vec![0u8; 8 * ncpus];
    if !lookup(map, key, &mut buf)? {
        return Ok(0);
    }
    Ok(buf.chunks_exact(8).map(|c| u64::from_ne_bytes(c.try_into().unwrap())).fold(0u64, u64::wrapping_add))
}
