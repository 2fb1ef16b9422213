//! `interval:UNIT:N` (`i:`): every N seconds, milliseconds, microseconds, or N times a second (`hz`),
//! on one CPU. A perf_event program on the software CPU clock.

use lang::ast::ProbeSpec;
use lang::diag::Diagnostic;
use lang::registry::{ProbeKind, Resolve};
use lang::tracefs::Tracefs;
use lang::typed::{Attach, PerfEvent, Sample, Target};

pub struct Interval;

impl ProbeKind for Interval {
    fn names(&self) -> &'static [&'static str] {
        &["interval", "i"]
    }
    fn resolve(&self, spec: &ProbeSpec, _: &mut Resolve) -> Result<Vec<Attach>, Diagnostic> {
        let bad = |span| {
            Diagnostic::new(span, "an interval is written `interval:UNIT:N`", "malformed interval")
                .with_help("UNIT is s, ms, us or hz, e.g. `interval:s:1` or `interval:hz:99`")
        };
        let [unit, n] = spec.parts.as_slice() else { return Err(bad(spec.span)) };
        let value: u64 = n.name.parse().ok().filter(|&v| v > 0).ok_or_else(|| bad(n.span))?;
        let period_ns = match unit.name.as_str() {
            "s" => value.checked_mul(1_000_000_000),
            "ms" => value.checked_mul(1_000_000),
            "us" => value.checked_mul(1_000),
            "hz" => Some(1_000_000_000 / value),
            _ => None,
        }
        .filter(|&p| p > 0)
        .ok_or_else(|| bad(unit.span))?;
        let unit = &unit.name;
        Ok(vec![Attach {
            probe: format!("interval:{unit}:{value}"),
            tag: format!("{unit}{value}"),
            // Every period_ns of CPU 0's software clock (PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK).
            target: Target::PerfEvent(PerfEvent { perf_type: 1, config: 0, sample: Sample::Period(period_ns), cpu: Some(0), breakpoint: None, pid: None }),
            args: None,
        }])
    }
    fn list(&self, _: &Tracefs, _: &str) -> Vec<String> {
        ["interval:hz:", "interval:ms:", "interval:s:", "interval:us:"].map(String::from).to_vec()
    }
}
