//! The command line: options, their defaults, and frame-size specs.

use crate::frame::{MAX_FRAME, MIN_FRAME};

/// Largest burst: a burst's frames are on the ring at once.
pub const MAX_BURST: usize = 256;

const USAGE: &str = "\
usage: vhost-traffic [--tx N] [--rx N] [--size SPEC] [--tx-size SPEC] [--rx-size SPEC]
                     [--burst SPEC] [--cpu N|none] [--tap NAME] [--ring N] [--legacy-hdr] [--settle-ms MS] [--timeout-ms MS] [-q]

Sends exactly N frames guest->host (TX ring -> tap -> AF_PACKET) and N frames
host->guest (AF_PACKET -> tap -> RX ring) through /dev/vhost-net, then prints
  traffic: tx_pkts=.. tx_bytes=.. rx_pkts=.. rx_bytes=.. ...
where *_pkts/*_bytes are what vhost moved as its tracepoints count it
(total_len includes the virtio-net header of hdr_len bytes).

SPEC is a frame size in bytes (Ethernet header included, 22..=65535), a comma
list cycled over the frames (64,128,1500), a range A-B spread evenly from
A to B over the frames, or random:W@A-B,W@A-B,... where each frame takes a
term with probability W/sum(W) and a size log-uniformly in A..B (a fixed
pseudo-random function of the frame's number: the same every run). Frames
above 1514 bytes raise the tap's MTU so the peer may send them.
  --burst SPEC    stream mode: frames go in bursts of SPEC frames (1..=256,
                  same forms as sizes; a range A-B cycles
                  A, A+1, .., B), each burst on the ring (TX) or sent
                  by the peer (RX) at once and waited for before the next,
                  so the vhost worker runs about once per burst; RX buffers
                  are recycled as they come back. Without it, rounds of
                  --ring frames.
  --cpu N|none    run this process and vhost's worker thread (vhost-PID) on
                  CPU N; default 0 with --burst, else none. Under QEMU TCG a
                  wakeup sent to another, halted vCPU can take milliseconds:
                  on one CPU each burst costs a context switch instead
  --ring N        virtqueue size, a power of two (default 256); more frames
                  than N are sent in rounds of N
  --legacy-hdr    negotiate neither VERSION_1 nor MRG_RXBUF: 10-byte header
  --settle-ms MS  wait after the last packet so the last worker runs end (100)
";

/// Frame sizes for one direction (or burst lengths), looked up per packet (per burst).
#[derive(Clone, Debug)]
pub enum Sizes {
    List(Vec<usize>),
    Range(usize, usize),
    /// `random:W@A-B,...`: each index picks a term with probability W/sum(W), then a value
    /// log-uniformly in A..=B; a pure function of the index (and the spec), so a receiver can
    /// recompute what each sequence number's frame must be.
    Random(Vec<(u64, usize, usize)>),
}

/// splitmix64: the index's pseudo-random bits (fixed seed: the same run twice sends the same).
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Sizes {
    /// Parses SPEC with every value in `lo..=hi`.
    pub fn parse(s: &str, lo: usize, hi: usize) -> Result<Sizes, String> {
        let num = |t: &str| -> Result<usize, String> {
            let v: usize = t.trim().parse().map_err(|_| format!("bad number {t:?}"))?;
            if !(lo..=hi).contains(&v) {
                return Err(format!("{v} outside {lo}..={hi}"));
            }
            Ok(v)
        };
        let range = |t: &str| -> Result<(usize, usize), String> {
            match t.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (num(a)?, num(b)?);
                    if a > b {
                        return Err(format!("empty range {t}"));
                    }
                    Ok((a, b))
                }
                None => num(t).map(|v| (v, v)),
            }
        };
        if let Some(terms) = s.strip_prefix("random:") {
            let mut v = Vec::new();
            for t in terms.split(',') {
                let (w, r) = t.split_once('@').ok_or(format!("random term {t:?} is not W@A-B"))?;
                let w: u64 = w.trim().parse().map_err(|_| format!("bad weight {w:?}"))?;
                if w == 0 {
                    return Err(format!("weight 0 in {t:?}"));
                }
                let (a, b) = range(r)?;
                v.push((w, a, b));
            }
            Ok(Sizes::Random(v))
        } else if s.contains('-') {
            let (a, b) = range(s)?;
            Ok(Sizes::Range(a, b))
        } else {
            Ok(Sizes::List(s.split(',').map(num).collect::<Result<_, _>>()?))
        }
    }

    /// Value `i` of `n`.
    pub fn at(&self, i: usize, n: usize) -> usize {
        match self {
            Sizes::List(v) => v[i % v.len()],
            Sizes::Range(a, b) if n > 1 => a + (b - a) * i / (n - 1),
            Sizes::Range(a, _) => *a,
            Sizes::Random(terms) => {
                let h = mix(i as u64);
                let total: u64 = terms.iter().map(|t| t.0).sum();
                let mut pick = (h >> 32) % total;
                let &(_, a, b) = terms
                    .iter()
                    .find(|t| {
                        let hit = pick < t.0;
                        pick = pick.saturating_sub(t.0);
                        hit
                    })
                    .unwrap_or(&terms[0]);
                // Log-uniform in a..=b: a * (b/a)^u, u in [0, 1), from the other 32 bits.
                let u = (h & 0xffff_ffff) as f64 / 4_294_967_296.0;
                let (fa, fb) = (a as f64, b as f64 + 1.0);
                ((fa * (fb / fa).powf(u)) as usize).clamp(a, b)
            }
        }
    }

    /// Burst `i` (the number of bursts is not known in advance): as [`Sizes::at`], except that a
    /// range A-B cycles through A, A+1, .., B.
    pub fn nth(&self, i: usize) -> usize {
        match self {
            Sizes::Range(a, b) => a + i % (b - a + 1),
            _ => self.at(i, 0),
        }
    }

    /// The largest value the spec can give.
    pub fn max(&self) -> usize {
        match self {
            Sizes::List(v) => v.iter().copied().max().unwrap_or(0),
            Sizes::Range(_, b) => *b,
            Sizes::Random(t) => t.iter().map(|t| t.2).max().unwrap_or(0),
        }
    }
}

pub struct Opts {
    pub tx: usize,
    pub rx: usize,
    pub tx_size: Sizes,
    pub rx_size: Sizes,
    pub burst: Option<Sizes>,
    /// CPU for the driver and the vhost worker (stream mode: 0 unless `--cpu none`).
    pub cpu: Option<usize>,
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
        burst: None,
        cpu: None,
        tap: "vttap0".into(),
        ring: 256,
        legacy_hdr: false,
        settle_ms: 100,
        timeout_ms: 10_000,
        quiet: false,
    };
    let mut size: Option<Sizes> = None;
    let (mut txs, mut rxs) = (None, None);
    let mut cpu: Option<String> = None;
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
            "--size" => size = Some(Sizes::parse(&val()?, MIN_FRAME, MAX_FRAME).map_err(|e| format!("--size: {e}"))?),
            "--tx-size" => txs = Some(Sizes::parse(&val()?, MIN_FRAME, MAX_FRAME).map_err(|e| format!("--tx-size: {e}"))?),
            "--rx-size" => rxs = Some(Sizes::parse(&val()?, MIN_FRAME, MAX_FRAME).map_err(|e| format!("--rx-size: {e}"))?),
            "--burst" => o.burst = Some(Sizes::parse(&val()?, 1, MAX_BURST).map_err(|e| format!("--burst: {e}"))?),
            "--cpu" => cpu = Some(val()?),
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
    if o.burst.as_ref().is_some_and(|b| b.max() > o.ring as usize) {
        return Err(format!("--burst: bursts longer than --ring {}", o.ring));
    }
    o.cpu = match cpu.as_deref() {
        None if o.burst.is_some() => Some(0),
        None | Some("none") => None,
        Some(c) => Some(c.parse().map_err(|_| format!("--cpu: bad CPU {c:?}"))?),
    };
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

#[cfg(test)]
mod tests {
    use super::Sizes;

    #[test]
    fn random_sizes_are_fixed_in_range_and_weighted() {
        let s = Sizes::parse("random:9@100-199,1@60000-65535", 22, 65535).unwrap();
        assert_eq!(s.max(), 65535);
        let v: Vec<usize> = (0..10_000).map(|i| s.at(i, 10_000)).collect();
        // A pure function of the index: what the receiver recomputes to check a frame's length.
        assert_eq!(v, (0..10_000).map(|i| s.at(i, 0)).collect::<Vec<_>>());
        assert!(v.iter().all(|&x| (100..=199).contains(&x) || (60000..=65535).contains(&x)));
        let big = v.iter().filter(|&&x| x >= 60000).count();
        assert!((800..1200).contains(&big), "{big} of 10000 in the 1-in-10 term");
        // Log-uniform over a wide range: each power of two gets a share.
        let w = Sizes::parse("random:1@64-65535", 22, 65535).unwrap();
        for k in 6..16 {
            let n = (0..10_000).map(|i| w.at(i, 0)).filter(|&x| x >> k == 1).count();
            assert!((700..1300).contains(&n), "[2^{k}, 2^{}) holds {n} of 10000", k + 1);
        }
    }

    #[test]
    fn specs_and_their_errors() {
        assert_eq!(Sizes::parse("64,128", 22, 65535).unwrap().at(3, 10), 128);
        assert_eq!(Sizes::parse("60-1514", 22, 65535).unwrap().at(9, 10), 1514);
        assert_eq!((0..5).map(|i| Sizes::parse("1-3", 1, 256).unwrap().nth(i)).collect::<Vec<_>>(), [1, 2, 3, 1, 2]);
        assert_eq!(Sizes::parse("random:1@7", 1, 256).unwrap().nth(5), 7);
        for bad in ["random:1@10-5", "random:0@5", "random:5", "65536", "10-5", "x"] {
            assert!(Sizes::parse(bad, 22, 65535).is_err(), "{bad} accepted");
        }
        assert!(Sizes::parse("257", 1, 256).is_err());
    }
}
