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

mod cli;
mod driver;
mod frame;
mod peer;
mod rx;
mod stream;
mod sys;
mod tx;
mod vring;

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use driver::{Count, Driver};

/// Progress goes to stderr: stdout carries only the one `traffic:` line the
/// harness parses.
pub fn log(on: bool, msg: impl AsRef<str>) {
    if on {
        let _ = writeln!(io::stderr(), "vhost-traffic: {}", msg.as_ref());
    }
}

fn main() -> ExitCode {
    let o = match cli::parse_args() {
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
        let (tx, rx) = match d.o.burst.clone() {
            Some(b) => (d.run_tx_stream(&b)?, d.run_rx_stream(&b)?),
            None => (d.run_tx()?, d.run_rx()?),
        };
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
