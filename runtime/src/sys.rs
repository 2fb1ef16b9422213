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

const BPF_MAP_UPDATE_ELEM: libc::c_long = 2;
const BPF_MAP_DELETE_ELEM: libc::c_long = 3;
const BPF_MAP_GET_NEXT_KEY: libc::c_long = 4;

fn map_cmd(cmd: libc::c_long, map: BorrowedFd<'_>, key: *const u8, value: u64, flags: u64) -> io::Result<()> {
    let attr = MapElemAttr { map_fd: map.as_raw_fd() as u32, _pad: 0, key: key as u64, value, flags };
    // SAFETY: the caller passes buffers as large as the map's key (and value, or next key) sizes.
    let rc = unsafe { libc::syscall(libc::SYS_bpf, cmd, &attr as *const MapElemAttr, std::mem::size_of::<MapElemAttr>()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Every key of a hash map (`key_size` bytes each).
pub fn keys(map: BorrowedFd<'_>, key_size: usize) -> io::Result<Vec<Vec<u8>>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut next = vec![0u8; key_size];
        let prev = out.last().map_or(std::ptr::null(), |k| k.as_ptr());
        match map_cmd(BPF_MAP_GET_NEXT_KEY, map, prev, next.as_mut_ptr() as u64, 0) {
            Ok(()) => out.push(next),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(out),
            Err(e) => return Err(e),
        }
    }
}

pub fn update(map: BorrowedFd<'_>, key: &[u8], value: &[u8]) -> io::Result<()> {
    map_cmd(BPF_MAP_UPDATE_ELEM, map, key.as_ptr(), value.as_ptr() as u64, 0)
}

pub fn delete(map: BorrowedFd<'_>, key: &[u8]) -> io::Result<()> {
    match map_cmd(BPF_MAP_DELETE_ELEM, map, key.as_ptr(), 0, 0) {
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(()),
        r => r,
    }
}

const BPF_MAP_LOOKUP_BATCH: libc::c_long = 24;

#[repr(C)]
struct BatchAttr {
    in_batch: u64,
    out_batch: u64,
    keys: u64,
    values: u64,
    count: u32,
    map_fd: u32,
    elem_flags: u64,
    flags: u64,
}

/// Every (key, value) of a hash map in a few calls (BPF_MAP_LOOKUP_BATCH, Linux 5.6), `value_len`
/// bytes per value as a lookup gives it; None where the kernel has no batch lookup for the map.
pub fn entries_batch(map: BorrowedFd<'_>, key_size: usize, value_len: usize, max_entries: usize) -> io::Result<Option<Vec<(Vec<u8>, Vec<u8>)>>> {
    // Room for every entry at once: a batch stops at a hash bucket's end and fails with ENOSPC only
    // when one bucket does not fit.
    let room = max_entries.max(1);
    let mut keys = vec![0u8; key_size * room];
    let mut values = vec![0u8; value_len * room];
    // The resume token (a bucket number for hash maps); room for a key, as libbpf gives it.
    let mut token_in = vec![0u8; key_size.max(8)];
    let mut token_out = vec![0u8; key_size.max(8)];
    let mut out = Vec::new();
    let mut first = true;
    loop {
        let mut attr = BatchAttr {
            in_batch: if first { 0 } else { token_in.as_ptr() as u64 },
            out_batch: token_out.as_mut_ptr() as u64,
            keys: keys.as_mut_ptr() as u64,
            values: values.as_mut_ptr() as u64,
            count: room as u32,
            map_fd: map.as_raw_fd() as u32,
            elem_flags: 0,
            flags: 0,
        };
        // SAFETY: keys and values hold `count` entries of the map's key and value sizes; the tokens
        // are at least as large as the kernel writes (4 bytes for hash maps).
        let rc = unsafe { libc::syscall(libc::SYS_bpf, BPF_MAP_LOOKUP_BATCH, &mut attr as *mut BatchAttr, std::mem::size_of::<BatchAttr>()) };
        let err = (rc != 0).then(io::Error::last_os_error);
        match err.as_ref().and_then(|e| e.raw_os_error()) {
            None | Some(libc::ENOENT) => {}
            Some(libc::EINVAL) | Some(libc::EOPNOTSUPP) | Some(524) if first => return Ok(None), // 524: ENOTSUPP
            _ => return Err(err.unwrap_or_else(|| io::Error::other("batch lookup"))),
        }
        let n = (attr.count as usize).min(room);
        out.extend((0..n).map(|i| {
            (keys[i * key_size..(i + 1) * key_size].to_vec(), values[i * value_len..(i + 1) * value_len].to_vec())
        }));
        if err.is_some() {
            return Ok(Some(out));
        }
        std::mem::swap(&mut token_in, &mut token_out);
        first = false;
    }
}
