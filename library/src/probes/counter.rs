//! What `software:EVENT:COUNT` and `hardware:EVENT:COUNT` share: a table of events (name, alias,
//! bpftrace's default count, the kernel's config number) and the spec's reading against it.

use lang::ast::ProbeSpec;
use lang::diag::Diagnostic;
use lang::tracefs::{closest, did_you_mean};
use lang::typed::{Attach, PerfEvent, Sample, Target};

/// One perf event of a type.
pub struct Event {
    pub name: &'static str,
    /// bpftrace's short name, or "".
    pub alias: &'static str,
    /// The period when the spec gives none (bpftrace's).
    pub default: u64,
    /// `PERF_COUNT_SW_*` or `PERF_COUNT_HW_*`.
    pub config: u64,
}

/// A kind of counted events: `software` or `hardware`.
pub struct Counters {
    pub kind: &'static str,
    /// `PERF_TYPE_SOFTWARE` (1) or `PERF_TYPE_HARDWARE` (0).
    pub perf_type: u32,
    pub events: &'static [Event],
}

impl Counters {
    /// `KIND:EVENT[:COUNT]`: a perf_event program on every CPU, run every COUNT events.
    pub fn resolve(&self, spec: &ProbeSpec) -> Result<Vec<Attach>, Diagnostic> {
        let kind = self.kind;
        let (event, count) = match spec.parts.as_slice() {
            [e] => (e, None),
            [e, c] => (e, Some(c)),
            _ => {
                return Err(Diagnostic::new(spec.span, format!("a {kind} probe is written `{kind}:EVENT:COUNT`"), "malformed probe")
                    .with_help(format!("`vt -l '{kind}:*'` lists the events")))
            }
        };
        let Some(found) = self.events.iter().find(|e| e.name == event.name || (!e.alias.is_empty() && e.alias == event.name)) else {
            let names = self.events.iter().flat_map(|e| [e.name, e.alias]).filter(|n| !n.is_empty());
            let help = did_you_mean(&closest(&event.name, names)).unwrap_or_else(|| format!("`vt -l '{kind}:*'` lists the events"));
            return Err(Diagnostic::new(event.span, format!("unknown {kind} event `{}`", event.name), format!("not a {kind} event")).with_help(help));
        };
        let period = match count {
            None => found.default,
            Some(c) => c.name.parse().ok().filter(|&n: &u64| n > 0).ok_or_else(|| {
                Diagnostic::new(c.span, format!("the count of a {kind} probe is a positive integer"), "not a count")
                    .with_help(format!("e.g. `{kind}:{}:{}`", found.name, found.default))
            })?,
        };
        // The name as written (bpftrace's `probe` keeps the alias); the count only when given.
        let probe = match count {
            Some(c) => format!("{kind}:{}:{}", event.name, c.name),
            None => format!("{kind}:{}", event.name),
        };
        Ok(vec![Attach {
            probe,
            tag: found.name.chars().filter(|c| c.is_ascii_alphanumeric()).collect(),
            target: Target::PerfEvent(PerfEvent { perf_type: self.perf_type, config: found.config, sample: Sample::Period(period), cpu: None, breakpoint: None, pid: None }),
            args: None,
        }])
    }

    /// Every event, by its name and by its alias.
    pub fn list(&self) -> Vec<String> {
        let mut names = Vec::new();
        for e in self.events {
            names.push(format!("{}:{}:", self.kind, e.name));
            if !e.alias.is_empty() {
                names.push(format!("{}:{}:", self.kind, e.alias));
            }
        }
        names
    }
}
