//! Values the program stores as raw bytes and the runtime shows as text (`lang::typed::Render`):
//! strftime's time, ntop's address, strerror's message, username's name, cgroup_path's path,
//! buf's bytes.

use lang::typed::Render;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The 8 bytes at `at` as a number; 0 where `b` is too short.
fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8).and_then(|s| s.try_into().ok()).map_or(0, u64::from_ne_bytes)
}

/// The text of a `Ty::Text` value from its bytes.
pub fn text(r: &Render, b: &[u8]) -> String {
    let v = u64_at(b, 0);
    match r {
        Render::Time(fmt) => {
            let wall = u128::from(v) + boot_offset_nanos();
            crate::printf::strftime_micros(fmt, wall)
        }
        Render::Inet => inet(v, b.get(8..24).unwrap_or(&[])),
        Render::Errno => errno_text(v as i32),
        Render::User => user_name(v as u32),
        // A value shows the bytes it was read with (a key shows them all: `key_text`).
        Render::Buf(_) => crate::printf::buffer(buf_bytes(b), lang::printf::BufStyle::Escaped),
        Render::CgroupPath(filter) => crate::cgroup::path(v, filter),
        // Named by a session (`symbols::Names`); without one, a stack has no frames, an address is hex.
        Render::Syscall => library::syscall_name(v).map_or_else(|| v.to_string(), str::to_string),
        // As bpftrace prints a byte array: `[192,168,1,1]`.
        Render::Bytes(n) => {
            let bytes = b.get(..*n as usize).unwrap_or(b);
            format!("[{}]", bytes.iter().map(u8::to_string).collect::<Vec<_>>().join(","))
        }
        Render::KStack(_) | Render::UStack(_) | Render::KSym | Render::USym => {
            crate::symbols::Names::none().text(r, b, false).unwrap_or_default()
        }
    }
}

/// The text of a `Ty::Text` map key part. bpftrace 0.17 prints a buffer in a key whole (its type's
/// size), whatever length it was read with, and in a value only the bytes read.
pub fn key_text(r: &Render, b: &[u8]) -> String {
    match r {
        Render::Buf(n) => crate::printf::buffer(b.get(8..8 + *n as usize).unwrap_or(&[]), lang::printf::BufStyle::Escaped),
        _ => text(r, b),
    }
}

/// A `buf()` value's bytes: its length (8 bytes), then that many bytes (at most what is there).
pub fn buf_bytes(b: &[u8]) -> &[u8] {
    let data = b.get(8..).unwrap_or(&[]);
    &data[..(u64_at(b, 0) as usize).min(data.len())]
}

/// Nanoseconds between the epoch and boot: what turns a probe's `nsecs` into wall-clock time (as
/// bpftrace does, from CLOCK_REALTIME minus CLOCK_BOOTTIME).
fn boot_offset_nanos() -> u128 {
    let now = |clock| {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `ts` is a live local the call writes.
        unsafe { libc::clock_gettime(clock, &mut ts) };
        ts.tv_sec as i128 * 1_000_000_000 + ts.tv_nsec as i128
    };
    (now(libc::CLOCK_REALTIME) - now(libc::CLOCK_BOOTTIME)).max(0) as u128
}

/// ntop's text: dotted IPv4 (family 2) or IPv6 (family 10), as inet_ntop writes them.
fn inet(family: u64, addr: &[u8]) -> String {
    match (family, addr.len()) {
        (2, n) if n >= 4 => Ipv4Addr::new(addr[0], addr[1], addr[2], addr[3]).to_string(),
        (10, 16) => {
            let bytes: [u8; 16] = addr.try_into().unwrap_or([0; 16]);
            Ipv6Addr::from(bytes).to_string()
        }
        _ => String::new(),
    }
}

/// strerror(3)'s message.
fn errno_text(n: i32) -> String {
    // SAFETY: strerror returns a pointer to a NUL-terminated string that stays valid until the next
    // call in this thread; it is copied at once.
    let p = unsafe { libc::strerror(n) };
    if p.is_null() {
        return format!("Unknown error {n}");
    }
    // SAFETY: non-null, NUL-terminated (above).
    unsafe { std::ffi::CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// The name /etc/passwd gives a uid (its number when it has none), as bpftrace's username prints.
fn user_name(uid: u32) -> String {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let id = f.nth(1)?.parse::<u32>().ok()?;
            (id == uid).then(|| name.to_string())
        })
        .next()
        .unwrap_or_else(|| uid.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_errors() {
        let mut b = 2u64.to_ne_bytes().to_vec();
        b.extend([127, 0, 0, 1]);
        b.resize(24, 0);
        assert_eq!(text(&Render::Inet, &b), "127.0.0.1");
        let mut b6 = 10u64.to_ne_bytes().to_vec();
        b6.extend([0u8; 15]);
        b6.push(1);
        assert_eq!(text(&Render::Inet, &b6), "::1");
        assert_eq!(text(&Render::Errno, &2u64.to_ne_bytes()), "No such file or directory");
        assert_eq!(text(&Render::User, &0u64.to_ne_bytes()), "root");
        assert_eq!(text(&Render::Inet, &[]), "");
    }
}
