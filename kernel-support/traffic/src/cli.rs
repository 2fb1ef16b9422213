//! The command line: options, their defaults, and frame-size specs.

use crate::frame::{MAX_FRAME, MIN_FRAME};

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

/// Frame sizes for one direction, looked up per packet.
#[derive(Clone, Debug)]
pub enum Sizes {
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
    pub fn at(&self, i: usize, n: usize) -> usize {
        match self {
            Sizes::List(v) => v[i % v.len()],
            Sizes::Range(a, b) if n > 1 => a + (b - a) * i / (n - 1),
            Sizes::Range(a, _) => *a,
        }
    }
}

pub struct Opts {
    pub tx: usize,
    pub rx: usize,
    pub tx_size: Sizes,
    pub rx_size: Sizes,
    pub tap: String,
    pub ring: u16,
    pub legacy_hdr: bool,
    pub settle_ms: u64,
    pub timeout_ms: u64,
    pub quiet: bool,
}

pub fn parse_args() -> Result<Opts, String> {
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
