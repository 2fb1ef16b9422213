//! The object's internal maps: the session's start time, the run switch, and the lost counters.

use super::{Error, MapError, Session};
use crate::sys;

pub(super) fn ktime_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a valid timespec out-pointer; CLOCK_MONOTONIC is bpf_ktime_get_ns's clock.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

impl Session {
    /// Writes the one value of the internal one-entry array `map` (`Internal::start`, `Internal::run`).
    fn set_internal(&self, map: usize, value: &[u8]) -> Result<(), Error> {
        let fd = self.map_fd(map)?;
        Ok(sys::update(fd, &0u32.to_ne_bytes(), value).map_err(MapError::Io)?)
    }

    /// Records when the session started, in `bpf_ktime_get_ns` time: `elapsed` counts from there.
    pub(super) fn set_start(&self, ns: u64) -> Result<(), Error> {
        self.set_internal(self.object.internal.start, &ns.to_ne_bytes())
    }

    /// When the session started (see `set_start`).
    fn start(&self) -> Result<u64, Error> {
        let fd = self.map_fd(self.object.internal.start)?;
        let mut value = [0u8; 8];
        sys::lookup(fd, &0u32.to_ne_bytes(), &mut value).map_err(MapError::Io)?;
        Ok(u64::from_ne_bytes(value))
    }

    /// Takes `older`'s start as this session's, so that `elapsed` runs on across a REPL's swaps.
    pub fn continue_from(&self, older: &Session) -> Result<(), Error> {
        self.set_start(older.start()?)
    }

    /// Turns the run switch off: from here on every attached program returns at once, so the maps stop
    /// changing and nothing more is printed, while the probes stay attached (see `closer`).
    pub fn stop(&self) -> Result<(), Error> {
        self.set_internal(self.object.internal.run, &1u32.to_ne_bytes())
    }

    /// Events the ring buffer had no room for.
    pub fn lost_events(&self) -> u64 {
        self.lost_counter(0)
    }

    /// Slot `slot` of the per-CPU `lost` counters, summed over CPUs (0 when the slot does not exist).
    fn lost_counter(&self, slot: u32) -> u64 {
        let Ok(fd) = self.map_fd(self.object.internal.lost) else { return 0 };
        let mut buf = vec![0u8; 8 * self.ncpus];
        match sys::lookup(fd, &slot.to_ne_bytes(), &mut buf) {
            Ok(true) => buf.chunks(8).map(|c| c.try_into().map_or(0, u64::from_ne_bytes)).sum(),
            _ => 0,
        }
    }

    /// The user maps that dropped updates because they were full: name (without `@`), how many
    /// updates, and the map's capacity.
    /// Per user map, the updates dropped because it was full (0 for most).
    pub fn dropped_per_map(&self) -> Vec<(String, u64)> {
        (0..self.object.user_maps.len()).map(|i| (self.object.user_maps[i].name.clone(), self.lost_counter(1 + i as u32))).collect()
    }

    pub fn dropped_updates(&self) -> Vec<(String, u64, u32)> {
        (0..self.object.user_maps.len())
            .filter_map(|i| {
                let n = self.lost_counter(1 + i as u32);
                (n > 0).then(|| (self.object.user_maps[i].name.clone(), n, self.object.maps[i].max_entries))
            })
            .collect()
    }
}
