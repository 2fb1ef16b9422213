//! Stream mode (`--burst SPEC`): many short bursts instead of a few full rounds, so that the vhost
//! worker runs tens of thousands of times, each run moving a burst's worth of frames, the way a
//! busy guest's traffic looks (the seed's histograms: mostly one packet per run, sizes to 64K).
//!
//! TX: a burst's frames go on the ring at once, one kick (unless the worker said it is looking),
//! then the driver waits for their used entries; the AF_PACKET peer is drained as it goes and
//! must see every frame once, with its length. RX: every buffer is posted up front and recycled
//! as soon as it comes back; the peer sends a burst's frames, then the driver waits until they
//! are all on the used ring. At most `--ring` frames are ever in flight, so the tap's queue
//! (500) never drops one and vhost always has a buffer for each waiting frame.

use std::io;
use std::time::Instant;

use crate::cli::Sizes;
use crate::driver::{Count, Driver};
use crate::frame::{self, MIN_FRAME};
use crate::log;

/// Each sequence number seen once: a second sighting or a wrong length is an error.
struct Seen {
    got: Vec<bool>,
}

impl Seen {
    fn new(n: usize) -> Seen {
        Seen { got: vec![false; n] }
    }
    fn mark(&mut self, dir: &str, s: usize, len: usize, sent: usize, want: impl Fn(usize) -> usize) -> io::Result<()> {
        if s >= sent || self.got[s] || len != want(s) {
            let w = if s < self.got.len() { want(s) } else { 0 };
            return Err(io::Error::other(format!(
                "{dir}: frame seq {s} len {len} (expected len {w}, {sent} sent, seen before: {})",
                self.got.get(s).copied().unwrap_or(false)
            )));
        }
        self.got[s] = true;
        Ok(())
    }
}

impl Driver {
    pub fn run_tx_stream(&mut self, burst: &Sizes) -> io::Result<Count> {
        let mut c = Count::default();
        let (n, hl) = (self.o.tx, self.hdr_len);
        let sizes = self.o.tx_size.clone();
        let mut seen = Seen::new(n);
        let mut head = [0u8; MIN_FRAME];
        let (mut seq, mut bursts) = (0usize, 0usize);
        let t0 = Instant::now();
        while seq < n {
            let k = burst.nth(bursts).min(n - seq);
            bursts += 1;
            let mut lens = Vec::with_capacity(k);
            for j in 0..k {
                let len = sizes.at(seq + j, n);
                let dst = self.peer.tap_mac;
                let slot = self.txq.slot(j);
                slot[..hl].fill(0); // virtio_net_hdr: no csum, no GSO
                frame::fill_head(&mut slot[hl..], &dst, (seq + j) as u32);
                lens.push((hl + len) as u32);
            }
            self.txq.publish(&lens, false);
            self.txq.kick_if_needed()?;
            self.tx_settle(&lens, &mut c, &format!("in burst {bursts}"))?;
            let until = self.deadline();
            seq += k;
            // What the peer has so far (its socket holds 16 MiB: drained every burst).
            while let Some(m) = self.peer.recv_head(&mut head, false, until)? {
                if let Some(s) = frame::our_seq(&head[..m.min(MIN_FRAME)]) {
                    seen.mark("tx", s, m, seq, |s| sizes.at(s, n))?;
                    c.seen += 1;
                }
            }
        }
        let until = self.deadline();
        while (c.seen as usize) < n {
            let Some(m) = self.peer.recv_head(&mut head, true, until)? else {
                return Err(io::Error::other(format!("tx: AF_PACKET saw {}/{n} frames", c.seen)));
            };
            if let Some(s) = frame::our_seq(&head[..m.min(MIN_FRAME)]) {
                seen.mark("tx", s, m, seq, |s| sizes.at(s, n))?;
                c.seen += 1;
            }
        }
        log(self.log, format!("tx: {n} frames in {bursts} bursts, {} ms", t0.elapsed().as_millis()));
        Ok(c)
    }

    /// Takes what is on the RX used ring, checks our frames, and gives the buffers straight back.
    fn rx_reap(&mut self, c: &mut Count, seen: &mut Seen, sent: usize, sizes: &Sizes) -> io::Result<usize> {
        let (hl, n) = (self.hdr_len, self.o.rx);
        let mut ids = Vec::new();
        let mut ours = 0;
        while let Some((id, len)) = self.rxq.pop_used() {
            if id >= self.rxq.num as u32 {
                return Err(io::Error::other(format!("rx: used id {id} out of range")));
            }
            c.pkts += 1;
            c.bytes += len as u64;
            let flen = (len as usize).saturating_sub(hl);
            let slot = self.rxq.slot(id as usize);
            match frame::our_seq(&slot[hl..hl + flen.min(MIN_FRAME)]) {
                Some(s) => {
                    seen.mark("rx", s, flen, sent, |s| sizes.at(s, n))?;
                    ours += 1;
                    c.seen += 1;
                    c.frame_bytes += flen as u64;
                }
                None => {
                    c.foreign_pkts += 1;
                    c.foreign_bytes += len as u64;
                    log(self.log, format!("rx: foreign frame of {flen} bytes on the RX ring"));
                }
            }
            ids.push(id as u16);
        }
        if !ids.is_empty() {
            let slot = self.rxq.slot_len as u32;
            self.rxq.give(&ids, slot, true);
            self.rxq.kick_if_needed()?;
        }
        Ok(ours)
    }

    pub fn run_rx_stream(&mut self, burst: &Sizes) -> io::Result<Count> {
        let mut c = Count::default();
        let n = self.o.rx;
        let sizes = self.o.rx_size.clone();
        let mut seen = Seen::new(n);
        let num = self.rxq.num as usize;
        // Every buffer up front.
        let slot = self.rxq.slot_len as u32;
        let ids: Vec<u16> = (0..num as u16).collect();
        self.rxq.give(&ids, slot, true);
        self.rxq.kick_if_needed()?;
        let mut buf = vec![0u8; sizes.max()];
        frame::fill(&mut buf, &[0x02, 0x76, 0x74, 0, 0, 2], sizes.max(), 0);
        let (mut seq, mut bursts, mut outstanding) = (0usize, 0usize, 0usize);
        let t0 = Instant::now();
        while seq < n {
            let k = burst.nth(bursts).min(n - seq);
            bursts += 1;
            let until = self.deadline();
            for _ in 0..k {
                while outstanding >= num {
                    outstanding -= self.rx_wait(&mut c, &mut seen, seq, &sizes, until)?;
                }
                let len = sizes.at(seq, n);
                // Addressed to the guest, not to the tap's own MAC; the tap passes any.
                frame::fill_head(&mut buf, &[0x02, 0x76, 0x74, 0, 0, 2], seq as u32);
                self.peer.send(&buf[..len]).map_err(|e| io::Error::other(format!("rx: {e}")))?;
                seq += 1;
                outstanding += 1;
            }
            while outstanding > 0 {
                outstanding -= self.rx_wait(&mut c, &mut seen, seq, &sizes, until)?;
            }
        }
        log(self.log, format!("rx: {n} frames in {bursts} bursts, {} ms, {} waits of 20 ms for the call eventfd ran out", t0.elapsed().as_millis(), self.rx_timeouts));
        Ok(c)
    }

    /// Reaps once, waiting for the call eventfd if nothing came; the number of our frames taken.
    fn rx_wait(&mut self, c: &mut Count, seen: &mut Seen, sent: usize, sizes: &Sizes, until: Instant) -> io::Result<usize> {
        let got = self.rx_reap(c, seen, sent, sizes)?;
        if got == 0 {
            if Instant::now() > until {
                return Err(io::Error::other(format!("rx: timeout, {}/{sent} frames on the RX ring", c.seen)));
            }
            if !self.rxq.wait_call(20) {
                self.rx_timeouts += 1;
            }
        }
        Ok(got)
    }
}
