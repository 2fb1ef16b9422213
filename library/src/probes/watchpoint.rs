//! `watchpoint:ADDR:LEN:MODE` (`w:`): a perf_event program on a hardware breakpoint of one process
//! (`-p PID`, or `-c CMD`'s child), run each time it reads (`r`), writes (`w`) or executes (`x`) the
//! LEN bytes at ADDR (1, 2, 4 or 8; 1 for `x`). MODE `r` or `w` or `rw`, or `x` alone, as bpftrace.

use lang::ast::ProbeSpec;
use lang::diag::Diagnostic;
use lang::registry::{ProbeKind, Resolve};
use lang::tracefs::Tracefs;
use lang::typed::{Attach, Breakpoint, PerfEvent, Sample, Target};

pub struct Watchpoint;

/// `PERF_TYPE_BREAKPOINT`
const PERF_TYPE_BREAKPOINT: u32 = 5;

fn number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// HW_BREAKPOINT_R 1, W 2, X 4 from the letters of MODE, each at most once; `x` only alone.
fn bp_type(mode: &str) -> Option<u32> {
    let mut bits = 0;
    for c in mode.chars() {
        let bit = match c {
            'r' => 1,
            'w' => 2,
            'x' => 4,
            _ => return None,
        };
        if bits & bit != 0 {
            return None;
        }
        bits |= bit;
    }
    (bits != 0 && (bits & 4 == 0 || bits == 4)).then_some(bits)
}

impl ProbeKind for Watchpoint {
    fn names(&self) -> &'static [&'static str] {
        &["watchpoint", "w"]
    }

    fn resolve(&self, spec: &ProbeSpec, cx: &mut Resolve) -> Result<Vec<Attach>, Diagnostic> {
        let [addr, len, mode] = spec.parts.as_slice() else {
            return Err(Diagnostic::new(spec.span, "a watchpoint is written `watchpoint:ADDR:LEN:MODE`", "malformed probe")
                .with_help("e.g. `watchpoint:0x10000000:8:w` with `-p PID`; MODE is r, w, rw or x"));
        };
        let a = number(&addr.name).filter(|&a| a != 0).ok_or_else(|| {
            Diagnostic::new(addr.span, format!("`{}` is not an address", addr.name), "not an address").with_help("e.g. `0x7ffd1234`")
        })?;
        let t = bp_type(&mode.name).ok_or_else(|| {
            Diagnostic::new(mode.span, format!("`{}` is not a watchpoint mode", mode.name), "not a mode")
                .with_help("r (reads), w (writes), rw (both) or x (execution)")
        })?;
        let n = number(&len.name).filter(|n| if t == 4 { *n == 1 } else { matches!(n, 1 | 2 | 4 | 8) }).ok_or_else(|| {
            let want = if t == 4 { "1 for an execution watchpoint" } else { "1, 2, 4 or 8" };
            Diagnostic::new(len.span, format!("a watchpoint's length is {want}"), "not a length")
        })?;
        let Some(pid) = cx.pid.or(cx.cpid) else {
            return Err(Diagnostic::new(spec.span, "a watchpoint watches one process's memory: give `-p PID` or `-c CMD`", "no process")
                .with_help("ADDR is an address of that process"));
        };
        let breakpoint = Breakpoint { addr: a, len: n, bp_type: t };
        Ok(vec![Attach {
            // bpftrace names it with the address in decimal.
            probe: format!("watchpoint:{a}:{n}:{}", mode.name),
            tag: "watch".into(),
            target: Target::PerfEvent(PerfEvent {
                perf_type: PERF_TYPE_BREAKPOINT,
                config: 0,
                sample: Sample::Period(1),
                cpu: None,
                breakpoint: Some(breakpoint),
                pid: Some(pid),
            }),
            args: None,
        }])
    }

    fn list(&self, _: &Tracefs, _: &str) -> Vec<String> {
        vec!["watchpoint:".into()]
    }
}

#[cfg(test)]
mod tests {
    use super::bp_type;

    #[test]
    fn modes() {
        assert_eq!(bp_type("r"), Some(1));
        assert_eq!(bp_type("w"), Some(2));
        assert_eq!(bp_type("rw"), Some(3));
        assert_eq!(bp_type("wr"), Some(3));
        assert_eq!(bp_type("x"), Some(4));
        for bad in ["", "rx", "ww", "q", "rwx"] {
            assert_eq!(bp_type(bad), None, "{bad}");
        }
    }
}
