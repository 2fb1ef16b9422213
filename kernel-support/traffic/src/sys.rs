//! The kernel ABI this driver speaks: vhost ioctls and structs
//! (`<linux/vhost.h>`, `<linux/vhost_types.h>`), tun/tap ioctls
//! (`<linux/if_tun.h>`), interface ioctls, and virtio feature bits.

use std::io;
use std::os::fd::RawFd;

const fn ioc(dir: u64, ty: u64, nr: u64, size: u64) -> u64 {
    (dir << 30) | (size << 16) | (ty << 8) | nr
}
const fn io(ty: u64, nr: u64) -> u64 {
    ioc(0, ty, nr, 0)
}
const fn iow(ty: u64, nr: u64, size: usize) -> u64 {
    ioc(1, ty, nr, size as u64)
}
const fn ior(ty: u64, nr: u64, size: usize) -> u64 {
    ioc(2, ty, nr, size as u64)
}

const VHOST: u64 = 0xAF;

#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct VringState {
    pub index: u32,
    pub num: u32,
}

#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct VringFile {
    pub index: u32,
    pub fd: i32,
}

#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct VringAddr {
    pub index: u32,
    pub flags: u32,
    pub desc_user_addr: u64,
    pub used_user_addr: u64,
    pub avail_user_addr: u64,
    pub log_guest_addr: u64,
}

/// `struct vhost_memory` with exactly one region.
#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct Memory1 {
    pub nregions: u32,
    pub padding: u32,
    pub guest_phys_addr: u64,
    pub memory_size: u64,
    pub userspace_addr: u64,
    pub flags_padding: u64,
}

pub const VHOST_GET_FEATURES: u64 = ior(VHOST, 0x00, 8);
pub const VHOST_SET_FEATURES: u64 = iow(VHOST, 0x00, 8);
pub const VHOST_SET_OWNER: u64 = io(VHOST, 0x01);
/// Sized by the header only: `struct vhost_memory` ends in a flexible array.
pub const VHOST_SET_MEM_TABLE: u64 = iow(VHOST, 0x03, 8);
pub const VHOST_SET_VRING_NUM: u64 = iow(VHOST, 0x10, 8);
pub const VHOST_SET_VRING_ADDR: u64 = iow(VHOST, 0x11, 40);
pub const VHOST_SET_VRING_BASE: u64 = iow(VHOST, 0x12, 8);
pub const VHOST_SET_VRING_KICK: u64 = iow(VHOST, 0x20, 8);
pub const VHOST_SET_VRING_CALL: u64 = iow(VHOST, 0x21, 8);
pub const VHOST_NET_SET_BACKEND: u64 = iow(VHOST, 0x30, 8);

pub const TUNSETIFF: u64 = iow(b'T' as u64, 202, 4);
pub const TUNSETVNETHDRSZ: u64 = iow(b'T' as u64, 216, 4);
pub const IFF_TAP: i16 = 0x0002;
pub const IFF_NO_PI: i16 = 0x1000;
pub const IFF_VNET_HDR: i16 = 0x4000;

pub const SIOCGIFFLAGS: u64 = 0x8913;
pub const SIOCSIFFLAGS: u64 = 0x8914;
pub const SIOCGIFHWADDR: u64 = 0x8927;
pub const SIOCSIFMTU: u64 = 0x8922;
pub const SIOCGIFINDEX: u64 = 0x8933;

pub const VIRTIO_NET_F_MRG_RXBUF: u32 = 15;
pub const VIRTIO_RING_F_INDIRECT_DESC: u32 = 28;
pub const VIRTIO_RING_F_EVENT_IDX: u32 = 29;
pub const VHOST_NET_F_VIRTIO_NET_HDR: u32 = 27;
pub const VIRTIO_F_VERSION_1: u32 = 32;

pub const VRING_DESC_F_WRITE: u16 = 2;
pub const VRING_USED_F_NO_NOTIFY: u16 = 1;

/// `struct ifreq`: a name and a 24-byte union.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct IfReq {
    pub name: [u8; 16],
    pub data: [u8; 24],
}

impl IfReq {
    pub fn new(name: &str) -> IfReq {
        let mut r = IfReq { name: [0; 16], data: [0; 24] };
        let b = name.as_bytes();
        r.name[..b.len().min(15)].copy_from_slice(&b[..b.len().min(15)]);
        r
    }
    pub fn short(&self) -> i16 {
        i16::from_ne_bytes([self.data[0], self.data[1]])
    }
    pub fn set_short(&mut self, v: i16) {
        self.data[..2].copy_from_slice(&v.to_ne_bytes());
    }
    pub fn set_int(&mut self, v: i32) {
        self.data[..4].copy_from_slice(&v.to_ne_bytes());
    }
    pub fn int(&self) -> i32 {
        i32::from_ne_bytes(self.data[..4].try_into().unwrap())
    }
}

pub fn cvt(r: libc::c_int, what: &str) -> io::Result<libc::c_int> {
    if r < 0 {
        let e = io::Error::last_os_error();
        Err(io::Error::new(e.kind(), format!("{what}: {e}")))
    } else {
        Ok(r)
    }
}

/// # Safety
/// `arg` must point to what the ioctl `req` reads or writes.
pub unsafe fn ioctl<T>(fd: RawFd, req: u64, arg: *mut T, what: &str) -> io::Result<libc::c_int> {
    cvt(libc::ioctl(fd, req as _, arg), what)
}

pub fn ioctl_none(fd: RawFd, req: u64, what: &str) -> io::Result<libc::c_int> {
    // SAFETY: the request takes no argument.
    cvt(unsafe { libc::ioctl(fd, req as _, 0usize) }, what)
}

/// Pins this process and its vhost worker thread to `cpu`. On 6.1 the worker is a kernel thread
/// named `vhost-<owner pid>`, created by `VHOST_SET_OWNER`; it does not inherit the owner's
/// affinity, but it may be given one (it is no per-CPU kthread). (From 6.4 it is a thread of the
/// owner, under /proc/self/task, and is looked for there first.) Returns the worker's pid.
pub fn pin_with_worker(cpu: usize) -> io::Result<i32> {
    let me = std::process::id();
    let want = format!("vhost-{me}");
    let mut worker = None;
    'dirs: for dir in ["/proc/self/task", "/proc"] {
        for e in std::fs::read_dir(dir)?.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else { continue };
            if std::fs::read_to_string(format!("{dir}/{pid}/comm")).is_ok_and(|c| c.trim_end() == want) {
                worker = Some(pid);
                break 'dirs;
            }
        }
    }
    let worker = worker.ok_or_else(|| io::Error::other(format!("--cpu: no thread named {want}")))?;
    // SAFETY: a zeroed cpu_set_t with one bit set, for two pids we may change.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        for (pid, what) in [(0, "sched_setaffinity(self)"), (worker, "sched_setaffinity(vhost worker)")] {
            cvt(libc::sched_setaffinity(pid, std::mem::size_of::<libc::cpu_set_t>(), &set), what)?;
        }
    }
    Ok(worker)
}
