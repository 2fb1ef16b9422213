//! `software:EVENT:COUNT` (`s:`): the kernel's software events (page faults, context switches, CPU
//! clocks, ...), on every CPU, run every COUNT events; bpftrace's names, aliases and default counts.

use super::counter::{Counters, Event};
use lang::ast::ProbeSpec;
use lang::diag::Diagnostic;
use lang::registry::{ProbeKind, Resolve};
use lang::tracefs::Tracefs;
use lang::typed::Attach;

pub struct Software;

/// `PERF_TYPE_SOFTWARE`'s events (`PERF_COUNT_SW_*`).
static SOFTWARE: Counters = Counters {
    kind: "software",
    perf_type: 1,
    events: &[
        Event { name: "alignment-faults", alias: "", default: 1, config: 7 },
        Event { name: "bpf-output", alias: "", default: 1, config: 10 },
        Event { name: "context-switches", alias: "cs", default: 1000, config: 3 },
        Event { name: "cpu-clock", alias: "cpu", default: 1_000_000, config: 0 },
        Event { name: "cpu-migrations", alias: "", default: 1, config: 4 },
        Event { name: "dummy", alias: "", default: 1, config: 9 },
        Event { name: "emulation-faults", alias: "", default: 1, config: 8 },
        Event { name: "major-faults", alias: "", default: 1, config: 6 },
        Event { name: "minor-faults", alias: "", default: 100, config: 5 },
        Event { name: "page-faults", alias: "faults", default: 100, config: 2 },
        Event { name: "task-clock", alias: "", default: 1, config: 1 },
    ],
};

impl ProbeKind for Software {
    fn names(&self) -> &'static [&'static str] {
        &["software", "s"]
    }
    fn resolve(&self, spec: &ProbeSpec, _: &mut Resolve) -> Result<Vec<Attach>, Diagnostic> {
        SOFTWARE.resolve(spec)
    }
    fn list(&self, _: &Tracefs, _: &str) -> Vec<String> {
        SOFTWARE.list()
    }
}
