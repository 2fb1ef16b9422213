//! vhost-traffic: move an exact number of packets through `/dev/vhost-net`
//! from user space, in the manner of the kernel's tools/virtio/vhost_net_test.c,
//! and print what moved, counted the way the vhost_net tracepoints count it.
//!
//! The process plays the guest: it owns a tap device (the vhost backend),
//! a memory table covering its own rings and buffers, an RX (0) and a TX (1)
//! split virtqueue, and an AF_PACKET socket on the tap as the peer host.
//!
//! guest -> host: TX ring -> vhost handle_tx -> tap -> AF_PACKET recv
//! host -> guest: AF_PACKET send -> tap -> vhost handle_rx -> RX ring

mod sys;
mod vring;

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use vring::{Vring, SLOT};

/// IEEE 802 local experimental ethertype: nothing else on the tap uses it.
const ETHERTYPE: u16 = 0x88b5;
const MAGIC: &[u8; 4] = b"vtvh";
const ETH_HLEN: usize = 14;
/// Our frames carry the ethernet header, MAGIC and a u32 sequence number.
const MIN_FRAME: usize = ETH_HLEN + 8;
const MAX_FRAME: usize = 1514;
const SRC_MAC: [u8; 6] = [0x02, 0x76, 0x74, 0x00, 0x00, 0x01];

const USAGE: &str = "\
usage: vhost-traffic [--tx N] [--rx N] [--size SPEC] [--tx-size SPEC] [--rx-size SPEC]
                     [--tap NAME] [--ring N] [--legacy-hdr] [--settle-ms MS] [--timeout-ms MS] [-q]

Sends exactly N frames guest->host (TX ring -> tap -> AF_PACKET) and N frames
host->guest (AF_PACKET -> tap -> RX ring) through /dev/vhost-net, then prints
  traffic: tx_pkts=.. tx_bytes=.. rx_pkts=.. rx_bytes=.. ...
where *_pkts/*_bytes are what vhost moved as its tracepoints count it
(total_len includes the virtio-net header of hdr_len bytes).

SPEC is a frame size in bytes (Ethernet header included, 22..=1514), a comma
list cycled over the frames (64,128,1500), or a range A-B spread evenly from
A to B over the frames.
  --ring N        virtqueue size, a power of two (default 256); more frames
                  than N are sent in rounds of N
  --legacy-hdr    negotiate neither VERSION_1 nor MRG_RXBUF: 10-byte header
  --settle-ms MS  wait after the last packet so the last worker runs end (100)
";

#[derive(Clone, Debug)]
enum Sizes {
    List(Vec<usize>),
    Range(usize, usize),
}

impl Sizes {
    fn parse(s: &str) -> Result<Sizes, String> {
        let num = |t: &str| -> Result<usize, String> {
            let v: usize = t.trim().parse().map_err(|_| format!("bad size {t:?}"))?;
            if !(MIN_FRAME..=MAX_FRAME).contains(&v) {
                return Err(format!("size {v} outside {MIN_FRAME}..={MAX_FRAME}"));
            }
            Ok(v)
        };
        if let Some((a, b)) = s.split_once('-') {
            let (a, b) = (num(a)?, num(b)?);
            if a > b {
                return Err(format!("empty range {s}"));
            }
            Ok(Sizes::Range(a, b))
        } else {
            Ok(Sizes::List(s.split(',').map(num).collect::<Result<_, _>>()?))
        }
    }

    /// Frame size of packet `i` of `n`.
    fn at(&self, i: usize, n: usize) -> usize {
        match self {
            Sizes::List(v) => v[i % v.len()],
            Sizes::Range(a, b) if n > 1 => a + (b - a) * i / (n - 1),
            Sizes::Range(a, _) => *a,
        }
    }
}

struct Opts {
    tx: usize,
    rx: usize,
    tx_size: Sizes,
    rx_size: Sizes,
    tap: String,
    ring: u16,
    legacy_hdr: bool,
    settle_ms: u64,
    timeout_ms: u64,
    quiet: bool,
}

fn parse_args() -> Result<Opts, String> {
    let mut o = Opts {
        tx: 0,
        rx: 0,
        tx_size: Sizes::List(vec![256]),
        rx_size: Sizes::List(vec![256]),
        tap: "vttap0".into(),
        ring: 256,
        legacy_hdr: false,
        settle_ms: 100,
        timeout_ms: 10_000,
        quiet: false,
    };
    let mut size: Option<Sizes> = None;
    let (mut txs, mut rxs) = (None, None);
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let mut val = || inline.clone().or_else(|| it.next()).ok_or(format!("{flag} needs a value"));
        let int = |v: String| v.parse::<u64>().map_err(|_| format!("{flag}: bad number {v:?}"));
        match flag.as_str() {
            "--tx" => o.tx = int(val()?)? as usize,
            "--rx" => o.rx = int(val()?)? as usize,
            "--size" => size = Some(Sizes::parse(&val()?)?),
            "--tx-size" => txs = Some(Sizes::parse(&val()?)?),
            "--rx-size" => rxs = Some(Sizes::parse(&val()?)?),
            "--tap" => o.tap = val()?,
            "--ring" => {
                let n = int(val()?)?;
                if !(1..=32768).contains(&n) || !n.is_power_of_two() {
                    return Err("--ring must be a power of two in 1..=32768".into());
                }
                o.ring = n as u16;
            }
            "--legacy-hdr" => o.legacy_hdr = true,
            "--settle-ms" => o.settle_ms = int(val()?)?,
            "--timeout-ms" => o.timeout_ms = int(val()?)?,
            "-q" | "--quiet" => o.quiet = true,
            "-h" | "--help" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            _ => return Err(format!("unknown argument {a:?}\n{USAGE}")),
        }
    }
    if o.tap.len() > 15 {
        return Err("--tap: name longer than 15 bytes".into());
    }
    if let Some(s) = size {
        o.tx_size = s.clone();
        o.rx_size = s;
    }
    if let Some(s) = txs {
        o.tx_size = s;
    }
    if let Some(s) = rxs {
        o.rx_size = s;
    }
    Ok(o)
}

/// What moved, per direction.
#[derive(Default)]
struct Count {
    /// Packets vhost moved (what recv_pkts/sent_pkts sum to).
    pkts: u64,
    /// Bytes vhost moved, vnet header included (what total_len sums to).
    bytes: u64,
    /// Ethernet frame bytes of our own packets.
    frame_bytes: u64,
    /// Our packets seen at the far end (AF_PACKET for TX, RX ring for RX).
    seen: u64,
    /// RX only: packets on the RX ring that were not ours.
    foreign_pkts: u64,
    foreign_bytes: u64,
}

struct Driver {
    o: Opts,
    _vhost: File,
    _tap: File,
    sock: RawFd,
    ifindex: i32,
    tap_mac: [u8; 6],
    hdr_len: usize,
    rxq: Vring,
    txq: Vring,
    log: bool,
}

fn log(on: bool, msg: impl AsRef<str>) {
    if on {
        let _ = writeln!(io::stderr(), "vhost-traffic: {}", msg.as_ref());
    }
}

fn open_rw(path: &str) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| io::Error::new(e.kind(), format!("open {path}: {e}")))
}

impl Driver {
    fn setup(o: Opts) -> io::Result<Driver> {
        let log_on = !o.quiet;
        let vhost = open_rw("/dev/vhost-net")?;
        let vfd = vhost.as_raw_fd();
        sys::ioctl_none(vfd, sys::VHOST_SET_OWNER, "VHOST_SET_OWNER")?;
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
        let size = 2 * vring::footprint(num);
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

        // SAFETY: both halves of the region are footprint(num) bytes, page aligned.
        let rxq = unsafe { Vring::new(0, num, base)? };
        let txq = unsafe { Vring::new(1, num, base.add(vring::footprint(num)))? };
        rxq.register(vfd)?;
        txq.register(vfd)?;

        // The peer: an AF_PACKET socket for our ethertype, bound to the tap.
        // SAFETY: plain socket/ioctl/bind calls on our own fds and structs.
        let sock = unsafe {
            sys::cvt(
                libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, (ETHERTYPE.to_be()) as i32),
                "socket(AF_PACKET)",
            )?
        };
        // A whole round of TX frames waits in this socket before we read it.
        let rcvbuf: libc::c_int = 16 << 20;
        // SAFETY: an int option.
        unsafe {
            sys::cvt(
                libc::setsockopt(
                    sock,
                    libc::SOL_SOCKET,
                    libc::SO_RCVBUFFORCE,
                    &rcvbuf as *const libc::c_int as *const libc::c_void,
                    4,
                ),
                "SO_RCVBUFFORCE",
            )?
        };
        let mut ifr = sys::IfReq::new(&o.tap);
        unsafe { sys::ioctl(sock, sys::SIOCGIFINDEX, &mut ifr, "SIOCGIFINDEX")? };
        let ifindex = ifr.int();
        let mut ifr = sys::IfReq::new(&o.tap);
        unsafe { sys::ioctl(sock, sys::SIOCGIFHWADDR, &mut ifr, "SIOCGIFHWADDR")? };
        let mut tap_mac = [0u8; 6];
        tap_mac.copy_from_slice(&ifr.data[2..8]);
        // Up before bind: a packet socket bound to a down device gets ENETDOWN.
        let mut ifr = sys::IfReq::new(&o.tap);
        unsafe { sys::ioctl(sock, sys::SIOCGIFFLAGS, &mut ifr, "SIOCGIFFLAGS")? };
        ifr.set_short(ifr.short() | libc::IFF_UP as i16);
        unsafe { sys::ioctl(sock, sys::SIOCSIFFLAGS, &mut ifr, "SIOCSIFFLAGS")? };

        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = ETHERTYPE.to_be();
        sll.sll_ifindex = ifindex;
        unsafe {
            sys::cvt(
                libc::bind(
                    sock,
                    &sll as *const libc::sockaddr_ll as *const libc::sockaddr,
                    std::mem::size_of::<libc::sockaddr_ll>() as u32,
                ),
                "bind(AF_PACKET)",
            )?
        };
        // Backend last: from here on vhost polls the tap for both queues.
        for q in [0u32, 1] {
            let mut be = sys::VringFile { index: q, fd: tap.as_raw_fd() };
            // SAFETY: VHOST_NET_SET_BACKEND takes a vhost_vring_file.
            unsafe { sys::ioctl(vfd, sys::VHOST_NET_SET_BACKEND, &mut be, "VHOST_NET_SET_BACKEND")? };
        }
        log(
            log_on,
            format!(
                "tap {} ifindex {ifindex} mac {} up, vhost backend set, rings of {num}",
                o.tap,
                tap_mac.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
            ),
        );
        Ok(Driver { o, _vhost: vhost, _tap: tap, sock, ifindex, tap_mac, hdr_len, rxq, txq, log: log_on })
    }

    fn fill_frame(&self, buf: &mut [u8], len: usize, seq: u32) {
        buf[..6].copy_from_slice(&self.tap_mac);
        buf[6..12].copy_from_slice(&SRC_MAC);
        buf[12..14].copy_from_slice(&ETHERTYPE.to_be_bytes());
        buf[14..18].copy_from_slice(MAGIC);
        buf[18..22].copy_from_slice(&seq.to_le_bytes());
        for (i, b) in buf[22..len].iter_mut().enumerate() {
            *b = (i as u8).wrapping_add(seq as u8);
        }
    }

    fn deadline(&self) -> Instant {
        Instant::now() + Duration::from_millis(self.o.timeout_ms)
    }

    /// After a TX round, wait until vhost's worker has left the queue (it
    /// clears NO_NOTIFY in vhost_enable_notify just before it stops), plus a
    /// little, so the next round's buffers cannot race its final re-check
    /// (the kernel counts a `continue` there as one more loop iteration).
    /// Bounded: a worker that stopped for another reason leaves the flag set.
    fn wait_idle(q: &Vring) {
        let until = Instant::now() + Duration::from_millis(200);
        while q.worker_busy() && Instant::now() < until {
            std::thread::sleep(Duration::from_micros(200));
        }
        std::thread::sleep(Duration::from_millis(2));
    }

    fn run_tx(&mut self) -> io::Result<Count> {
        let mut c = Count::default();
        let n = self.o.tx;
        let mut seq = 0usize;
        let mut rbuf = vec![0u8; 65536];
        while seq < n {
            let k = (n - seq).min(self.txq.num as usize);
            let mut lens = Vec::with_capacity(k);
            for j in 0..k {
                let len = self.o.tx_size.at(seq + j, n);
                let hl = self.hdr_len;
                let mut frame = vec![0u8; len];
                self.fill_frame(&mut frame, len, (seq + j) as u32);
                let slot = self.txq.slot(j);
                slot[..hl].fill(0); // virtio_net_hdr: no csum, no GSO
                slot[hl..hl + len].copy_from_slice(&frame);
                lens.push((hl + len) as u32);
            }
            self.txq.publish(&lens, false);
            self.txq.kick()?;
            // Wait for the used entries.
            let until = self.deadline();
            let mut done = 0;
            while done < k {
                while let Some((id, _)) = self.txq.pop_used() {
                    if id as usize >= k {
                        return Err(io::Error::other(format!("tx: used id {id} out of range")));
                    }
                    done += 1;
                }
                if done < k {
                    if Instant::now() > until {
                        return Err(io::Error::other(format!("tx: timeout, {done}/{k} used in this round")));
                    }
                    self.txq.wait_call(20);
                }
            }
            for &l in &lens {
                c.pkts += 1;
                c.bytes += l as u64;
                c.frame_bytes += (l as usize - self.hdr_len) as u64;
            }
            // The peer must see each of them.
            let mut got = 0;
            while got < k {
                let mut p = libc::pollfd { fd: self.sock, events: libc::POLLIN, revents: 0 };
                let left = until.saturating_duration_since(Instant::now()).as_millis() as i32;
                // SAFETY: one pollfd; recv into our buffer.
                let r = unsafe { libc::poll(&mut p, 1, left.max(1)) };
                if r <= 0 {
                    return Err(io::Error::other(format!("tx: AF_PACKET saw {got}/{k} frames in this round")));
                }
                let m = unsafe { libc::recv(self.sock, rbuf.as_mut_ptr() as *mut libc::c_void, rbuf.len(), 0) };
                if m < 0 {
                    return Err(io::Error::last_os_error());
                }
                let m = m as usize;
                if m >= 22 && &rbuf[14..18] == MAGIC {
                    let s = u32::from_le_bytes(rbuf[18..22].try_into().unwrap()) as usize;
                    let want = self.o.tx_size.at(s, n);
                    if s < seq || s >= seq + k || m != want {
                        return Err(io::Error::other(format!("tx: frame seq {s} len {m}, expected len {want}")));
                    }
                    got += 1;
                    c.seen += 1;
                }
            }
            seq += k;
            if seq < n {
                Self::wait_idle(&self.txq);
            }
        }
        Ok(c)
    }

    fn run_rx(&mut self) -> io::Result<Count> {
        let mut c = Count::default();
        let n = self.o.rx;
        let mut seq = 0usize;
        let mut frame = vec![0u8; MAX_FRAME];
        while seq < n {
            let k = (n - seq).min(self.rxq.num as usize);
            self.rxq.publish(&vec![SLOT as u32; k], true);
            self.rxq.kick()?;
            for j in 0..k {
                let len = self.o.rx_size.at(seq + j, n);
                self.fill_frame(&mut frame, len, (seq + j) as u32);
                frame[..6].copy_from_slice(&[0x02, 0x76, 0x74, 0, 0, 2]);
                let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
                sll.sll_family = libc::AF_PACKET as u16;
                sll.sll_protocol = ETHERTYPE.to_be();
                sll.sll_ifindex = self.ifindex;
                sll.sll_halen = 6;
                // SAFETY: sending our buffer to our socket.
                let r = unsafe {
                    libc::sendto(
                        self.sock,
                        frame.as_ptr() as *const libc::c_void,
                        len,
                        0,
                        &sll as *const libc::sockaddr_ll as *const libc::sockaddr,
                        std::mem::size_of::<libc::sockaddr_ll>() as u32,
                    )
                };
                if r != len as isize {
                    return Err(io::Error::other(format!("rx: sendto returned {r}: {}", io::Error::last_os_error())));
                }
            }
            let until = self.deadline();
            let mut ours = 0;
            let mut used = 0;
            while ours < k {
                while let Some((id, len)) = self.rxq.pop_used() {
                    used += 1;
                    let hl = self.hdr_len;
                    let slot = self.rxq.slot(id as usize);
                    c.pkts += 1;
                    c.bytes += len as u64;
                    let flen = (len as usize).saturating_sub(hl);
                    if flen >= 22 && slot[hl + 12..hl + 14] == ETHERTYPE.to_be_bytes() && &slot[hl + 14..hl + 18] == MAGIC {
                        let s = u32::from_le_bytes(slot[hl + 18..hl + 22].try_into().unwrap()) as usize;
                        let want = self.o.rx_size.at(s, n);
                        if s < seq || s >= seq + k || flen != want {
                            return Err(io::Error::other(format!("rx: frame seq {s} len {flen}, expected {want}")));
                        }
                        ours += 1;
                        c.seen += 1;
                        c.frame_bytes += flen as u64;
                    } else {
                        c.foreign_pkts += 1;
                        c.foreign_bytes += len as u64;
                        log(self.log, format!("rx: foreign frame of {flen} bytes on the RX ring"));
                    }
                }
                if ours < k {
                    if used >= k {
                        return Err(io::Error::other("rx: foreign frames took the RX buffers we posted"));
                    }
                    if Instant::now() > until {
                        return Err(io::Error::other(format!("rx: timeout, {ours}/{k} frames on the RX ring")));
                    }
                    self.rxq.wait_call(20);
                }
            }
            // RX never runs out of buffers within a round (we post k and
            // send k), so the worker stops on an empty socket, not on the
            // re-check race: nothing to wait for.
            seq += k;
        }
        Ok(c)
    }
}

fn main() -> ExitCode {
    let o = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("vhost-traffic: {e}");
            return ExitCode::from(2);
        }
    };
    let settle = Duration::from_millis(o.settle_ms);
    let t0 = Instant::now();
    let run = || -> io::Result<(Driver, Count, Count)> {
        let mut d = Driver::setup(o)?;
        let tx = d.run_tx()?;
        let rx = d.run_rx()?;
        Ok((d, tx, rx))
    };
    match run() {
        Ok((d, tx, rx)) => {
            std::thread::sleep(settle);
            log(d.log, format!("done in {} ms", t0.elapsed().as_millis()));
            println!(
                "traffic: tx_pkts={} tx_bytes={} rx_pkts={} rx_bytes={} hdr_len={} tx_frame_bytes={} rx_frame_bytes={} tx_seen={} rx_seen={} rx_foreign_pkts={} rx_foreign_bytes={}",
                tx.pkts, tx.bytes, rx.pkts, rx.bytes, d.hdr_len, tx.frame_bytes, rx.frame_bytes, tx.seen, rx.seen, rx.foreign_pkts, rx.foreign_bytes
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("vhost-traffic: error: {e}");
            ExitCode::FAILURE
        }
    }
}
