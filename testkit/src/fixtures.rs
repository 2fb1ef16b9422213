//! The one saved-tracefs fixture tree, `testkit/fixtures/tracefs/`: tracepoint formats copied from a
//! real kernel (`events/CAT/NAME/format`), for the tests that check or compile without a kernel
//! (`vt --tracefs DIR`, `Tracefs::new(DIR)`): golden listings, diagnostics, shipped scripts, the
//! property tests and the fuzz targets. Add a tracepoint by copying its format file from
//! `/sys/kernel/tracing/events/` into the same place here.

/// The saved tracefs tree (an absolute path).
pub const TRACEFS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tracefs");

#[cfg(test)]
mod tests {
    #[test]
    fn the_tree_has_the_formats_the_tests_name() {
        for tp in ["syscalls/sys_enter_getppid", "syscalls/sys_enter_write", "sched/sched_switch", "vhost_net/vhost_net_rx_end"] {
            let path = std::path::Path::new(super::TRACEFS).join("events").join(tp).join("format");
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(text.starts_with("name: "), "{}", path.display());
        }
    }
}
