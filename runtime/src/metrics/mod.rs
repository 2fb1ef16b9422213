//! `vt --metrics [ADDR:]PORT`: the maps served as Prometheus metrics while the script runs. The
//! listener's threads answer HTTP (`http`); the run loop, woken through an eventfd
//! (`run::Source::Metrics`), reads every map once for all the scrapes waiting and hands them the
//! snapshot, which each renders (`output::openmetrics`) on its own thread. What each map is as a
//! metric family comes from the script (`describe`).

pub mod describe;
pub mod http;

use crate::output::openmetrics::{self, Exposition, Health};
use crate::output::shape::{Kind, MapDump};
use crate::session::Session;
use describe::Family;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;

/// What one scrape reads: the maps (once for every scrape waiting), and vt's health.
pub struct Snapshot {
    families: Arc<Vec<Family>>,
    maps: Vec<MapDump>,
    tops: Vec<usize>,
    health: Health,
}

impl Snapshot {
    /// The exposition the Accept header asks for: its content type and text.
    pub fn render(&self, accept: Option<&str>) -> (&'static str, String) {
        let format = Exposition::from_accept(accept);
        (format.content_type(), openmetrics::render(format, &self.families, &self.maps, &self.tops, &self.health))
    }
}

/// `PORT` binds loopback; `ADDR:PORT` (`[v6]:PORT` for IPv6) binds that address.
pub fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    let bad = || format!("vt: --metrics takes PORT or ADDR:PORT, not `{s}`");
    if let Ok(port) = s.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    s.parse::<SocketAddr>().map_err(|_| bad())
}

/// Refuses a script two of whose maps (or a map and vt's health) would write the same metric name.
pub fn check_names(families: &[Family]) -> Result<(), String> {
    let mut seen: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    for h in openmetrics::HEALTH_FAMILIES {
        for n in [h.to_string(), format!("{h}_total")] {
            seen.insert(n, "vt's own metrics".into());
        }
    }
    for f in families {
        for n in openmetrics::sample_names(f) {
            if let Some(other) = seen.insert(n.clone(), format!("@{}", f.map)) {
                return Err(format!("vt: --metrics: map @{}'s metric {n} is also {other}'s: rename the map", f.map));
            }
        }
    }
    Ok(())
}

/// The listener, as the run loop sees it.
pub struct Server {
    families: Arc<Vec<Family>>,
    asks: Receiver<http::Ask<Snapshot>>,
    wake: Arc<OwnedFd>,
    listener: OwnedFd,
    /// Per map, the highest log2 bucket shown so far: a histogram's series keep their buckets.
    tops: Vec<usize>,
    /// Whether the kernel's BPF statistics are on (checked at start).
    stats: bool,
}

impl Server {
    /// Starts serving on `listener` (bound by the caller, so that a taken port fails before any
    /// loading). Call it with the signals blocked: its threads inherit the mask.
    pub fn start(listener: TcpListener, families: Vec<Family>) -> io::Result<Server> {
        // SAFETY: eventfd has no memory preconditions; the result is checked.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor that nothing else owns.
        let wake = Arc::new(unsafe { OwnedFd::from_raw_fd(fd) });
        let listening = listener.try_clone()?.into();
        let (tx, asks) = mpsc::channel();
        let waker = wake.clone();
        let wake_fn: Arc<dyn Fn() + Send + Sync> = Arc::new(move || {
            let one = 1u64.to_ne_bytes();
            // SAFETY: writes 8 bytes from a live buffer to an eventfd.
            unsafe { libc::write(waker.as_raw_fd(), one.as_ptr().cast(), 8) };
        });
        let render: Arc<dyn Fn(&Snapshot, Option<&str>) -> (&'static str, String) + Send + Sync> = Arc::new(|s: &Snapshot, a: Option<&str>| s.render(a));
        std::thread::Builder::new().name("vt-metrics-accept".into()).spawn(move || http::accept_loop(listener, tx, wake_fn, render))?;
        let stats = std::fs::read_to_string("/proc/sys/kernel/bpf_stats_enabled").is_ok_and(|s| s.trim() == "1");
        let tops = vec![2; families.len()];
        Ok(Server { families: Arc::new(families), asks, wake, listener: listening, tops, stats })
    }

    /// The fd the run loop polls.
    pub fn fd(&self) -> RawFd {
        self.wake.as_raw_fd()
    }

    /// Answers every scrape waiting: reads each map once.
    pub fn serve(&mut self, session: &Session) {
        let mut count = [0u8; 8];
        // SAFETY: reads 8 bytes into a live buffer from a non-blocking eventfd (resetting it).
        unsafe { libc::read(self.wake.as_raw_fd(), count.as_mut_ptr().cast(), 8) };
        let asks = http::drain(&self.asks);
        if asks.is_empty() {
            return;
        }
        // A map that cannot be read fails the scrape (503), not the run.
        let Ok(maps) = session.dump() else { return };
        for (i, m) in maps.iter().enumerate() {
            if m.kind == Kind::Hist {
                if let Some(t) = self.tops.get_mut(i) {
                    *t = (*t).max(openmetrics::hist_top(m));
                }
            }
        }
        let programs = self.stats.then(|| (0..session.object().programs.len()).filter_map(|i| session.run_stats(i)).collect());
        let health = Health { lost_events: session.lost_events(), dropped: session.dropped_per_map(), probes: session.probe_count(), programs };
        let snapshot = Arc::new(Snapshot { families: self.families.clone(), maps, tops: self.tops.clone(), health });
        for ask in asks {
            let _ = ask.reply.send(snapshot.clone());
        }
    }
}

impl Drop for Server {
    /// Stops accepting; scrapes still waiting get 503 (their replies are dropped with `asks`).
    fn drop(&mut self) {
        // SAFETY: shuts down a socket this struct owns; accept(2) on it then fails with EINVAL.
        unsafe { libc::shutdown(self.listener.as_raw_fd(), libc::SHUT_RDWR) };
    }
}
