//! A split virtqueue as the driver ("guest") side sees it, laid out in memory
//! this process owns and has told vhost about with `VHOST_SET_MEM_TABLE`
//! (guest-physical addresses equal to our virtual addresses).
//!
//! Descriptor `i` always points at buffer slot `i`; a round hands out slots
//! `0..k` and waits for all of them to come back before the next round, so
//! no free list is needed.

use std::io;
use std::os::fd::RawFd;
use std::ptr;
use std::sync::atomic::{fence, Ordering};

use crate::sys;

/// Bytes of one buffer slot when frames are at most 1514 bytes: a 12-byte vnet header plus a full
/// Ethernet frame. Larger frames get slots that hold the largest whole ([`slot_size`]).
const SLOT: usize = 2048;
const PAGE: usize = 4096;

#[repr(C)]
struct Desc {
    addr: u64,
    len: u32,
    flags: u16,
    next: u16,
}

fn round_up(n: usize, to: usize) -> usize {
    n.div_ceil(to) * to
}

/// Bytes of a buffer slot that holds a vnet header of `hdr` bytes and a frame of `frame` bytes:
/// one descriptor per frame either way (an RX frame never spans merged buffers).
pub fn slot_size(hdr: usize, frame: usize) -> usize {
    round_up(hdr + frame, 64).max(SLOT)
}

/// Bytes a queue of `num` entries with slots of `slot` bytes needs in the shared region.
pub fn footprint(num: u16, slot: usize) -> usize {
    let n = num as usize;
    round_up(round_up(16 * n, PAGE) + round_up(6 + 2 * n, PAGE) + round_up(6 + 8 * n, PAGE) + n * slot, PAGE)
}

pub struct Vring {
    pub index: u32,
    pub num: u16,
    /// Bytes of each buffer slot.
    pub slot_len: usize,
    desc: *mut Desc,
    avail: *mut u16,
    used: *mut u8,
    bufs: *mut u8,
    pub kick: RawFd,
    pub call: RawFd,
    avail_idx: u16,
    last_used: u16,
}

impl Vring {
    /// Carve a queue out of `base` (which has `footprint(num, slot)` bytes, zeroed).
    ///
    /// # Safety
    /// `base` must be valid, page aligned and live as long as the queue.
    pub unsafe fn new(index: u32, num: u16, slot: usize, base: *mut u8) -> io::Result<Vring> {
        let n = num as usize;
        let desc = base as *mut Desc;
        let avail = base.add(round_up(16 * n, PAGE)) as *mut u16;
        let used = (avail as *mut u8).add(round_up(6 + 2 * n, PAGE));
        let bufs = used.add(round_up(6 + 8 * n, PAGE));
        for i in 0..n {
            let d = desc.add(i);
            (*d).addr = bufs.add(i * slot) as u64;
            (*d).len = 0;
            (*d).flags = 0;
            (*d).next = 0;
        }
        let kick = sys::cvt(libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC), "eventfd")?;
        let call = sys::cvt(libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC), "eventfd")?;
        Ok(Vring { index, num, slot_len: slot, desc, avail, used, bufs, kick, call, avail_idx: 0, last_used: 0 })
    }

    /// Tell vhost where this queue lives (`VHOST_SET_VRING_NUM/BASE/ADDR/KICK/CALL`).
    pub fn register(&self, vhost: RawFd) -> io::Result<()> {
        let mut st = sys::VringState { index: self.index, num: self.num as u32 };
        let mut addr = sys::VringAddr {
            index: self.index,
            flags: 0,
            desc_user_addr: self.desc as u64,
            used_user_addr: self.used as u64,
            avail_user_addr: self.avail as u64,
            log_guest_addr: 0,
        };
        let mut kick = sys::VringFile { index: self.index, fd: self.kick };
        let mut call = sys::VringFile { index: self.index, fd: self.call };
        // SAFETY: each argument is the struct the ioctl expects.
        unsafe {
            sys::ioctl(vhost, sys::VHOST_SET_VRING_NUM, &mut st, "VHOST_SET_VRING_NUM")?;
            st.num = 0;
            sys::ioctl(vhost, sys::VHOST_SET_VRING_BASE, &mut st, "VHOST_SET_VRING_BASE")?;
            sys::ioctl(vhost, sys::VHOST_SET_VRING_ADDR, &mut addr, "VHOST_SET_VRING_ADDR")?;
            sys::ioctl(vhost, sys::VHOST_SET_VRING_KICK, &mut kick, "VHOST_SET_VRING_KICK")?;
            sys::ioctl(vhost, sys::VHOST_SET_VRING_CALL, &mut call, "VHOST_SET_VRING_CALL")?;
        }
        Ok(())
    }

    /// The bytes of buffer slot `i`.
    pub fn slot(&mut self, i: usize) -> &mut [u8] {
        assert!(i < self.num as usize);
        // SAFETY: slot i lies inside the region, slot_len bytes long.
        unsafe { std::slice::from_raw_parts_mut(self.bufs.add(i * self.slot_len), self.slot_len) }
    }

    /// Make slots `0..lens.len()` available: device-readable (TX) or
    /// device-writable (RX) with the given lengths. Does not kick.
    pub fn publish(&mut self, lens: &[u32], writable: bool) {
        assert!(lens.len() <= self.num as usize);
        let n = self.num;
        for (i, &len) in lens.iter().enumerate() {
            // SAFETY: i < num; desc and avail are inside the region.
            unsafe {
                let d = self.desc.add(i);
                ptr::write_volatile(&mut (*d).len, len);
                ptr::write_volatile(&mut (*d).flags, if writable { sys::VRING_DESC_F_WRITE } else { 0 });
                let slot = self.avail.add(2 + (self.avail_idx.wrapping_add(i as u16) % n) as usize);
                ptr::write_volatile(slot, i as u16);
            }
        }
        fence(Ordering::SeqCst);
        self.avail_idx = self.avail_idx.wrapping_add(lens.len() as u16);
        // SAFETY: avail[1] is avail->idx.
        unsafe { ptr::write_volatile(self.avail.add(1), self.avail_idx) };
        fence(Ordering::SeqCst);
    }

    /// Make the given slots available again (stream mode recycles them in any order), each
    /// `len` bytes; `writable` as in [`Vring::publish`]. Does not kick.
    pub fn give(&mut self, ids: &[u16], len: u32, writable: bool) {
        let n = self.num;
        for (i, &id) in ids.iter().enumerate() {
            assert!(id < n);
            // SAFETY: id < num; desc and avail are inside the region.
            unsafe {
                let d = self.desc.add(id as usize);
                ptr::write_volatile(&mut (*d).len, len);
                ptr::write_volatile(&mut (*d).flags, if writable { sys::VRING_DESC_F_WRITE } else { 0 });
                let slot = self.avail.add(2 + (self.avail_idx.wrapping_add(i as u16) % n) as usize);
                ptr::write_volatile(slot, id);
            }
        }
        fence(Ordering::SeqCst);
        self.avail_idx = self.avail_idx.wrapping_add(ids.len() as u16);
        // SAFETY: avail[1] is avail->idx.
        unsafe { ptr::write_volatile(self.avail.add(1), self.avail_idx) };
        fence(Ordering::SeqCst);
    }

    /// Kick unless the worker said it will look anyway (`VRING_USED_F_NO_NOTIFY`: set while it
    /// runs the queue, and kept by RX while it has buffers); what a virtio driver does. The
    /// worker re-checks the ring after clearing the flag, so nothing published is missed.
    pub fn kick_if_needed(&self) -> io::Result<()> {
        if self.worker_busy() {
            return Ok(());
        }
        self.kick()
    }

    pub fn kick(&self) -> io::Result<()> {
        let v: u64 = 1;
        // SAFETY: writing 8 bytes to an eventfd.
        let r = unsafe { libc::write(self.kick, &v as *const u64 as *const libc::c_void, 8) };
        sys::cvt(r as libc::c_int, "kick eventfd write").map(|_| ())
    }

    fn used_idx(&self) -> u16 {
        // SAFETY: used+2 is used->idx.
        let v = unsafe { ptr::read_volatile(self.used.add(2) as *const u16) };
        fence(Ordering::SeqCst);
        v
    }

    /// `VRING_USED_F_NO_NOTIFY` is set by vhost while its worker runs a
    /// queue (vhost_disable_notify) and cleared when it is about to stop
    /// (vhost_enable_notify).
    pub fn worker_busy(&self) -> bool {
        // SAFETY: used+0 is used->flags.
        let f = unsafe { ptr::read_volatile(self.used as *const u16) };
        f & sys::VRING_USED_F_NO_NOTIFY != 0
    }

    /// Next used entry `(id, len)`, if vhost has returned one.
    pub fn pop_used(&mut self) -> Option<(u32, u32)> {
        if self.used_idx() == self.last_used {
            return None;
        }
        let i = (self.last_used % self.num) as usize;
        // SAFETY: used->ring[i] is inside the region.
        let (id, len) = unsafe {
            let e = self.used.add(4 + 8 * i);
            (ptr::read_volatile(e as *const u32), ptr::read_volatile(e.add(4) as *const u32))
        };
        self.last_used = self.last_used.wrapping_add(1);
        Some((id, len))
    }

    /// Wait up to `ms` for the call eventfd, then drain it.
    /// Whether it was signalled (false: the time ran out).
    pub fn wait_call(&self, ms: i32) -> bool {
        let mut p = libc::pollfd { fd: self.call, events: libc::POLLIN, revents: 0 };
        // SAFETY: one pollfd.
        unsafe {
            let r = libc::poll(&mut p, 1, ms);
            let mut v: u64 = 0;
            libc::read(self.call, &mut v as *mut u64 as *mut libc::c_void, 8);
            r > 0
        }
    }
}
