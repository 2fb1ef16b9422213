//! Host -> guest: a round of buffers posted on the RX ring, the frames sent
//! by the peer, then read off the used ring.

use std::io;
use std::time::Instant;

use crate::driver::{Count, Driver};
use crate::frame::{self, ETHERTYPE, MAGIC, MAX_FRAME};
use crate::log;

impl Driver {
    pub fn run_rx(&mut self) -> io::Result<Count> {
        let mut c = Count::default();
        let n = self.o.rx;
        let mut seq = 0usize;
        let mut buf = vec![0u8; self.o.rx_size.max().min(MAX_FRAME)];
        while seq < n {
            let k = (n - seq).min(self.rxq.num as usize);
            let slot = self.rxq.slot_len as u32;
            self.rxq.publish(&vec![slot; k], true);
            self.rxq.kick()?;
            for j in 0..k {
                let len = self.o.rx_size.at(seq + j, n);
                // Addressed to the guest, not to the tap's own MAC; the tap passes any.
                frame::fill(&mut buf, &[0x02, 0x76, 0x74, 0, 0, 2], len, (seq + j) as u32);
                self.peer.send(&buf[..len]).map_err(|e| io::Error::other(format!("rx: {e}")))?;
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
