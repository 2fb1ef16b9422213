//! Guest -> host: frames on the TX ring, one kick per round, then each is
//! checked as it arrives at the peer.

use std::io;
use std::time::{Duration, Instant};

use crate::driver::{Count, Driver};
use crate::frame::{self, MAGIC};
use crate::vring::Vring;

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

impl Driver {
    /// Waits until the device has used the `lens.len()` TX entries just published (ids 0..k), then
    /// counts their frames in `c`; `when` names the round or burst in a timeout's message.
    pub(crate) fn tx_settle(&mut self, lens: &[u32], c: &mut Count, when: &str) -> io::Result<()> {
        let k = lens.len();
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
                    return Err(io::Error::other(format!("tx: timeout, {done}/{k} used {when}")));
                }
                self.txq.wait_call(20);
            }
        }
        for &l in lens {
            c.pkts += 1;
            c.bytes += l as u64;
            c.frame_bytes += (l as usize - self.hdr_len) as u64;
        }
        Ok(())
    }

    pub fn run_tx(&mut self) -> io::Result<Count> {
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
                frame::fill(&mut frame, &self.peer.tap_mac, len, (seq + j) as u32);
                let slot = self.txq.slot(j);
                slot[..hl].fill(0); // virtio_net_hdr: no csum, no GSO
                slot[hl..hl + len].copy_from_slice(&frame);
                lens.push((hl + len) as u32);
            }
            self.txq.publish(&lens, false);
            self.txq.kick()?;
            self.tx_settle(&lens, &mut c, "in this round")?;
            let until = self.deadline();
            // The peer must see each of them.
            let mut got = 0;
            while got < k {
                let Some(m) = self.peer.recv(&mut rbuf, until)? else {
                    return Err(io::Error::other(format!("tx: AF_PACKET saw {got}/{k} frames in this round")));
                };
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
                wait_idle(&self.txq);
            }
        }
        Ok(c)
    }
}
