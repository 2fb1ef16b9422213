//! The far end of the tap: an AF_PACKET socket for our ethertype, playing the
//! host's network stack (it receives what the guest sends, and sends to it).

use std::io;
use std::os::fd::RawFd;
use std::time::Instant;

use crate::frame::ETHERTYPE;
use crate::sys;

pub struct Peer {
    /// Never closed: it lives as long as the process.
    sock: RawFd,
    pub ifindex: i32,
    /// The tap's address, the destination of the guest's frames.
    pub tap_mac: [u8; 6],
}

impl Peer {
    /// Opens the socket, sets the tap's MTU (when given), brings the tap up and binds to it.
    /// Done before the vhost backend is set, so nothing the guest sends is missed.
    pub fn open(tap: &str, mtu: Option<usize>) -> io::Result<Peer> {
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
        // And room to send 64K frames while the tap still holds earlier ones.
        // SAFETY: an int option.
        unsafe {
            sys::cvt(
                libc::setsockopt(
                    sock,
                    libc::SOL_SOCKET,
                    libc::SO_SNDBUFFORCE,
                    &rcvbuf as *const libc::c_int as *const libc::c_void,
                    4,
                ),
                "SO_SNDBUFFORCE",
            )?
        };
        let mut ifr = sys::IfReq::new(tap);
        unsafe { sys::ioctl(sock, sys::SIOCGIFINDEX, &mut ifr, "SIOCGIFINDEX")? };
        let ifindex = ifr.int();
        let mut ifr = sys::IfReq::new(tap);
        unsafe { sys::ioctl(sock, sys::SIOCGIFHWADDR, &mut ifr, "SIOCGIFHWADDR")? };
        let mut tap_mac = [0u8; 6];
        tap_mac.copy_from_slice(&ifr.data[2..8]);
        if let Some(m) = mtu {
            let mut ifr = sys::IfReq::new(tap);
            ifr.set_int(m as i32);
            unsafe { sys::ioctl(sock, sys::SIOCSIFMTU, &mut ifr, "SIOCSIFMTU")? };
        }
        // Up before bind: a packet socket bound to a down device gets ENETDOWN.
        let mut ifr = sys::IfReq::new(tap);
        unsafe { sys::ioctl(sock, sys::SIOCGIFFLAGS, &mut ifr, "SIOCGIFFLAGS")? };
        ifr.set_short(ifr.short() | libc::IFF_UP as i16);
        unsafe { sys::ioctl(sock, sys::SIOCSIFFLAGS, &mut ifr, "SIOCSIFFLAGS")? };

        let sll = Self::addr(ifindex);
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
        Ok(Peer { sock, ifindex, tap_mac })
    }

    /// Our ethertype on the tap.
    fn addr(ifindex: i32) -> libc::sockaddr_ll {
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = ETHERTYPE.to_be();
        sll.sll_ifindex = ifindex;
        sll
    }

    /// Sends one whole frame out of the tap, towards the guest's RX ring.
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        let mut sll = Self::addr(self.ifindex);
        sll.sll_halen = 6;
        // SAFETY: sending our buffer to our socket.
        let r = unsafe {
            libc::sendto(
                self.sock,
                frame.as_ptr() as *const libc::c_void,
                frame.len(),
                0,
                &sll as *const libc::sockaddr_ll as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_ll>() as u32,
            )
        };
        if r != frame.len() as isize {
            return Err(io::Error::other(format!("sendto returned {r}: {}", io::Error::last_os_error())));
        }
        Ok(())
    }

    /// Receives one frame into `buf` and returns its length; `None` when none
    /// came before `until` (or poll failed), which the caller reports.
    pub fn recv(&self, buf: &mut [u8], until: Instant) -> io::Result<Option<usize>> {
        let mut p = libc::pollfd { fd: self.sock, events: libc::POLLIN, revents: 0 };
        let left = until.saturating_duration_since(Instant::now()).as_millis() as i32;
        // SAFETY: one pollfd; recv into our buffer.
        let r = unsafe { libc::poll(&mut p, 1, left.max(1)) };
        if r <= 0 {
            return Ok(None);
        }
        let m = unsafe { libc::recv(self.sock, buf.as_mut_ptr() as *mut libc::c_void, buf.len(), 0) };
        if m < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Some(m as usize))
    }

    /// Receives one frame, copying only its first `head.len()` bytes (MSG_TRUNC: the kernel still
    /// returns the frame's whole length, so 64K frames cost no copy). `wait`: block until one
    /// comes or `until`; otherwise only what is already queued. `None` when none came.
    pub fn recv_head(&self, head: &mut [u8], wait: bool, until: Instant) -> io::Result<Option<usize>> {
        if wait {
            let mut p = libc::pollfd { fd: self.sock, events: libc::POLLIN, revents: 0 };
            let left = until.saturating_duration_since(Instant::now()).as_millis() as i32;
            // SAFETY: one pollfd.
            if unsafe { libc::poll(&mut p, 1, left.max(1)) } <= 0 {
                return Ok(None);
            }
        }
        // SAFETY: recv into our buffer of head.len() bytes.
        let m = unsafe {
            libc::recv(self.sock, head.as_mut_ptr() as *mut libc::c_void, head.len(), libc::MSG_TRUNC | libc::MSG_DONTWAIT)
        };
        if m < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::WouldBlock {
                return Ok(None);
            }
            return Err(e);
        }
        Ok(Some(m as usize))
    }
}
