//! The guest's side of /dev/vhost-net: features, the tap backend, the memory
//! table, both virtqueues and the peer, set up in the order vhost needs.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use crate::cli::Opts;
use crate::frame::{ETH_FRAME, MAX_FRAME};
use crate::log;
use crate::peer::Peer;
use crate::sys;
use crate::vring::{self, Vring};

/// What moved, per direction.
#[derive(Default)]
pub struct Count {
    /// Packets vhost moved (what recv_pkts/sent_pkts sum to).
    pub pkts: u64,
    /// Bytes vhost moved, vnet header included (what total_len sums to).
    pub bytes: u64,
    /// Ethernet frame bytes of our own packets.
    pub frame_bytes: u64,
    /// Our packets seen at the far end (AF_PACKET for TX, RX ring for RX).
    pub seen: u64,
    /// RX only: packets on the RX ring that were not ours.
    pub foreign_pkts: u64,
    pub foreign_bytes: u64,
}

pub struct Driver {
    pub o: Opts,
    _vhost: File,
    _tap: File,
    pub peer: Peer,
    pub hdr_len: usize,
    pub rxq: Vring,
    pub txq: Vring,
    pub log: bool,
    /// Stream mode: RX waits for the call eventfd that ran out (diagnostics).
    pub rx_timeouts: u64,
}

fn open_rw(path: &str) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| io::Error::new(e.kind(), format!("open {path}: {e}")))
}

impl Driver {
    pub fn setup(o: Opts) -> io::Result<Driver> {
        let log_on = !o.quiet;
        let vhost = open_rw("/dev/vhost-net")?;
        let vfd = vhost.as_raw_fd();
        sys::ioctl_none(vfd, sys::VHOST_SET_OWNER, "VHOST_SET_OWNER")?;
        if let Some(cpu) = o.cpu {
            let worker = sys::pin_with_worker(cpu)?;
            log(log_on, format!("pinned this process and vhost's worker (pid {worker}) to CPU {cpu}"));
        }
        let mut offered: u64 = 0;
        // SAFETY: VHOST_GET_FEATURES writes a u64.
        unsafe { sys::ioctl(vfd, sys::VHOST_GET_FEATURES, &mut offered, "VHOST_GET_FEATURES")? };
        let want = if o.legacy_hdr {
            0
        } else {
            (1u64 << sys::VIRTIO_F_VERSION_1) | (1u64 << sys::VIRTIO_NET_F_MRG_RXBUF)
        };
        // No EVENT_IDX, no INDIRECT_DESC, no VHOST_NET_F_VIRTIO_NET_HDR: the
        // tap supplies and consumes the vnet header (vhost's sock_hlen).
        let mut features = offered & want;
        // vhost_net_set_features: a 12-byte virtio_net_hdr_mrg_rxbuf with
        // MRG_RXBUF or VERSION_1, else the 10-byte virtio_net_hdr.
        let hdr_len = if features & ((1 << sys::VIRTIO_F_VERSION_1) | (1 << sys::VIRTIO_NET_F_MRG_RXBUF)) != 0 {
            12
        } else {
            10
        };
        log(
            log_on,
            format!(
                "features offered={offered:#x} negotiated={features:#x} (version_1={} mrg_rxbuf={} event_idx=0 indirect=0) vnet hdr_len={hdr_len}",
                features >> sys::VIRTIO_F_VERSION_1 & 1,
                features >> sys::VIRTIO_NET_F_MRG_RXBUF & 1
            ),
        );
        let _ = (sys::VIRTIO_RING_F_EVENT_IDX, sys::VIRTIO_RING_F_INDIRECT_DESC, sys::VHOST_NET_F_VIRTIO_NET_HDR);

        // The tap: IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, header size to match.
        let tap = open_rw("/dev/net/tun")?;
        let mut ifr = sys::IfReq::new(&o.tap);
        ifr.set_short(sys::IFF_TAP | sys::IFF_NO_PI | sys::IFF_VNET_HDR);
        // SAFETY: TUNSETIFF takes a struct ifreq.
        unsafe { sys::ioctl(tap.as_raw_fd(), sys::TUNSETIFF, &mut ifr, "TUNSETIFF")? };
        let mut hl: libc::c_int = hdr_len as libc::c_int;
        // SAFETY: TUNSETVNETHDRSZ takes an int.
        unsafe { sys::ioctl(tap.as_raw_fd(), sys::TUNSETVNETHDRSZ, &mut hl, "TUNSETVNETHDRSZ")? };

        // No IPv6 on the tap, so no autoconfiguration packets join our counts.
        let v6 = format!("/proc/sys/net/ipv6/conf/{}/disable_ipv6", o.tap);
        match std::fs::write(&v6, "1") {
            Ok(()) => log(log_on, format!("disabled IPv6 on {}", o.tap)),
            Err(e) => log(log_on, format!("cannot write {v6}: {e} (foreign packets are counted apart)")),
        }

        // The shared region: RX queue, TX queue, and their buffers.
        let num = o.ring;
        let slot = vring::slot_size(hdr_len, o.tx_size.max().max(o.rx_size.max()));
        let size = 2 * vring::footprint(num, slot);
        // SAFETY: a fresh anonymous mapping; it lives for the whole process.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_POPULATE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let base = base as *mut u8;
        let mut mem = sys::Memory1 {
            nregions: 1,
            padding: 0,
            guest_phys_addr: base as u64,
            memory_size: size as u64,
            userspace_addr: base as u64,
            flags_padding: 0,
        };
        // SAFETY: a vhost_memory header followed by one region.
        unsafe { sys::ioctl(vfd, sys::VHOST_SET_MEM_TABLE, &mut mem, "VHOST_SET_MEM_TABLE")? };
        // SAFETY: VHOST_SET_FEATURES reads a u64.
        unsafe { sys::ioctl(vfd, sys::VHOST_SET_FEATURES, &mut features, "VHOST_SET_FEATURES")? };

        // SAFETY: both halves of the region are footprint(num, slot) bytes, page aligned.
        let rxq = unsafe { Vring::new(0, num, slot, base)? };
        let txq = unsafe { Vring::new(1, num, slot, base.add(vring::footprint(num, slot)))? };
        rxq.register(vfd)?;
        txq.register(vfd)?;

        // The peer: an AF_PACKET socket for our ethertype, bound to the tap.
        // Frames above 1514 bytes: the tap's MTU as high as it goes (65535 less the Ethernet
        // header), or AF_PACKET refuses to send them (EMSGSIZE); vhost's TX side has no such limit.
        let largest = o.tx_size.max().max(o.rx_size.max());
        let mtu = (largest > ETH_FRAME).then_some(MAX_FRAME - 14);
        let peer = Peer::open(&o.tap, mtu)?;
        // Backend last: from here on vhost polls the tap for both queues.
        for q in [0u32, 1] {
            let mut be = sys::VringFile { index: q, fd: tap.as_raw_fd() };
            // SAFETY: VHOST_NET_SET_BACKEND takes a vhost_vring_file.
            unsafe { sys::ioctl(vfd, sys::VHOST_NET_SET_BACKEND, &mut be, "VHOST_NET_SET_BACKEND")? };
        }
        log(
            log_on,
            format!(
                "tap {} ifindex {} mac {} up{}, vhost backend set, rings of {num}, slots of {slot} bytes",
                o.tap,
                peer.ifindex,
                peer.tap_mac.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":"),
                mtu.map(|m| format!(" mtu {m}")).unwrap_or_default()
            ),
        );
        Ok(Driver { o, _vhost: vhost, _tap: tap, peer, hdr_len, rxq, txq, log: log_on, rx_timeouts: 0 })
    }

    pub fn deadline(&self) -> Instant {
        Instant::now() + Duration::from_millis(self.o.timeout_ms)
    }
}
