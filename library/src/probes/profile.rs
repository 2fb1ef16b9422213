//! `profile:UNIT:N` (`p:`): on every CPU, N times a second (`hz`) or every N seconds, milliseconds or
//! microseconds of CPU time: a perf_event program on each CPU's software clock, as bpftrace opens it
//! (`hz` asks the kernel for a frequency, the others for a period).

use lang::ast::ProbeSpec;
use lang::diag::Diagnostic;
use lang::registry::{ProbeKind, Resolve};
use lang::tracefs::Tracefs;
use lang::typed::{Attach, PerfEvent, Sample, Target};

pub struct Profile;

impl ProbeKind for Profile {
    fn names(&self) -> &'static [&'static str] {
        &["profile", "p"]
    }
    fn resolve(&self, spec: &ProbeSpec, _: &mut Resolve) -> Result<Vec<Attach>, Diagnostic> {
        let bad = |span| {
            Diagnostic::new(span, "a profile probe is written `profile:UNIT:N`", "malformed profile probe")
                .with_help("UNIT is hz, s, ms or us, e.g. `profile:hz:99` or `profile:ms:10`")
        };
        let [unit, n] = spec.parts.as_slice() else { return Err(bad(spec.span)) };
        let value: u64 = n.name.parse().ok().filter(|&v| v > 0).ok_or_else(|| bad(n.span))?;
        let sample = match unit.name.as_str() {
            "hz" => Some(Sample::Frequency(value)),
            "s" => value.checked_mul(1_000_000_000).map(Sample::Period),
            "ms" => value.checked_mul(1_000_000).map(Sample::Period),
            "us" => value.checked_mul(1_000).map(Sample::Period),
            _ => None,
        }
        .ok_or_else(|| bad(unit.span))?;
        let unit = &unit.name;
        Ok(vec![Attach {
            probe: format!("profile:{unit}:{value}"),
            tag: format!("p{unit}{value}"),
            // PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK, on every CPU.
            target: Target::PerfEvent(PerfEvent { perf_type: 1, config: 0, sample, cpu: None, breakpoint: None, pid: None }),
            args: None,
        }])
    }
    fn list(&self, _: &Tracefs, _: &str) -> Vec<String> {
        ["profile:hz:", "profile:ms:", "profile:s:", "profile:us:"].map(String::from).to_vec()
    }
}
