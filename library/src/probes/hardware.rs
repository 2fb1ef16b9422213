//! `hardware:EVENT:COUNT` (`h:`): the CPU's counters (cycles, instructions, cache misses, ...), on
//! every CPU, run every COUNT events; bpftrace's names, aliases and default counts. A machine without a
//! hardware PMU (most VMs) refuses them when they attach.

use super::counter::{Counters, Event};
use lang::ast::ProbeSpec;
use lang::diag::Diagnostic;
use lang::registry::{ProbeKind, Resolve};
use lang::tracefs::Tracefs;
use lang::typed::Attach;

pub struct Hardware;

/// `PERF_TYPE_HARDWARE`'s events (`PERF_COUNT_HW_*`).
static HARDWARE: Counters = Counters {
    kind: "hardware",
    perf_type: 0,
    events: &[
        Event { name: "backend-stalls", alias: "", default: 1_000_000, config: 8 },
        Event { name: "branch-instructions", alias: "branches", default: 100_000, config: 4 },
        Event { name: "branch-misses", alias: "", default: 100_000, config: 5 },
        Event { name: "bus-cycles", alias: "", default: 100_000, config: 6 },
        Event { name: "cache-misses", alias: "", default: 1_000_000, config: 3 },
        Event { name: "cache-references", alias: "", default: 1_000_000, config: 2 },
        Event { name: "cpu-cycles", alias: "cycles", default: 1_000_000, config: 0 },
        Event { name: "frontend-stalls", alias: "", default: 1_000_000, config: 7 },
        Event { name: "instructions", alias: "", default: 1_000_000, config: 1 },
        Event { name: "ref-cycles", alias: "", default: 1_000_000, config: 9 },
    ],
};

impl ProbeKind for Hardware {
    fn names(&self) -> &'static [&'static str] {
        &["hardware", "h"]
    }
    fn resolve(&self, spec: &ProbeSpec, _: &mut Resolve) -> Result<Vec<Attach>, Diagnostic> {
        HARDWARE.resolve(spec)
    }
    fn list(&self, _: &Tracefs, _: &str) -> Vec<String> {
        HARDWARE.list()
    }
}
