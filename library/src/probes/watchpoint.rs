//! `watchpoint:ADDR:LEN:MODE` (`w:`): a perf_event program on a hardware breakpoint of one process
//! (`-p PID`, or `-c CMD`'s child), run each time it reads (`r`), writes (`w`) or executes (`x`) the
//! LEN bytes at ADDR (1, 2, 4 or 8; 1 for `x`). MODE `r` or `w` or `rw`, or `x` alone, as bpftrace.
//!
//! `watchpoint:FUNC+argN:LEN:MODE` watches, from each call of the process's function FUNC on, the
//! address in its argument N: two programs, a uprobe on FUNC that sends the address (and stops the
//! process with SIGSTOP until the runtime has armed the watchpoint and sent SIGCONT) and the
//! watchpoint's own, armed once per address. `asyncwatchpoint` does not stop the process (its first
//! accesses may come before the watchpoint is armed), as in bpftrace.

use lang::ast::ProbeSpec;
use lang::diag::Diagnostic;
use lang::registry::{ProbeKind, Resolve};
use lang::tracefs::Tracefs;
use lang::typed::{Attach, Breakpoint, PerfEvent, Sample, Target, Uprobe, WatchSetup};
use std::path::PathBuf;

pub struct Watchpoint {
    /// `watchpoint` (not `asyncwatchpoint`): stop the process until a FUNC+argN watchpoint is armed.
    stop: bool,
}

pub static WATCHPOINT: Watchpoint = Watchpoint { stop: true };
pub static ASYNCWATCHPOINT: Watchpoint = Watchpoint { stop: false };

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
        if self.stop {
            &["watchpoint", "w"]
        } else {
            &["asyncwatchpoint", "aw"]
        }
    }

    fn resolve(&self, spec: &ProbeSpec, cx: &mut Resolve) -> Result<Vec<Attach>, Diagnostic> {
        let [addr, len, mode] = spec.parts.as_slice() else {
            return Err(Diagnostic::new(spec.span, "a watchpoint is written `watchpoint:ADDR:LEN:MODE`", "malformed probe")
                .with_help("e.g. `watchpoint:0x10000000:8:w` with `-p PID`; MODE is r, w, rw or x"));
        };
        let kind = self.names()[0];
        let from = addr.name.split_once("+arg").filter(|(f, n)| !f.is_empty() && !n.is_empty() && number(f).is_none());
        let a = match from {
            Some(_) => 0,
            None => number(&addr.name).filter(|&a| a != 0).ok_or_else(|| {
                Diagnostic::new(addr.span, format!("`{}` is not an address", addr.name), "not an address")
                    .with_help("an address (`0x7ffd1234`) or a function's argument (`FUNC+arg0`)")
            })?,
        };
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
        let breakpoint = Breakpoint { addr: a, len: n, bp_type: t, deferred: from.is_some() };
        let mut attaches = Vec::new();
        if let Some((func, arg)) = from {
            let setup = self.setup(func, arg, addr, pid, cx)?;
            // bpftrace names it by the program and function (not the argument).
            let probe = format!("{kind}:{}:{}:{n}:{}", setup.path, setup.func, mode.name);
            attaches.push(Attach { probe, tag: "watchset".into(), target: Target::Uprobe(setup), args: None });
        }
        let probe = match attaches.first() {
            Some(setup) => setup.probe.clone(),
            // bpftrace names it with the address in decimal.
            None => format!("{kind}:{a}:{n}:{}", mode.name),
        };
        attaches.push(Attach {
            probe,
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
        });
        Ok(attaches)
    }

    fn list(&self, _: &Tracefs, _: &str) -> Vec<String> {
        vec![format!("{}:", self.names()[0])]
    }
}

impl Watchpoint {
    /// The uprobe on FUNC (of `-p`'s program, or `-c`'s) that sends argument `arg`'s value.
    fn setup(&self, func: &str, arg: &str, at: &lang::ast::Ident, pid: u32, cx: &Resolve) -> Result<Uprobe, Diagnostic> {
        let arg: u8 = arg.parse().ok().filter(|n| *n < 6).ok_or_else(|| {
            Diagnostic::new(at.span, format!("`arg{arg}` is not an argument a watchpoint can take"), "not an argument")
                .with_help("arg0 to arg5 (the arguments passed in registers)")
        })?;
        let path = match (cx.pid, cx.cmd) {
            (Some(p), _) => std::fs::read_link(format!("/proc/{p}/exe")).map_err(|e| {
                Diagnostic::new(at.span, format!("cannot find process {p}'s program: {e}"), "no program")
            })?,
            (None, Some(cmd)) => cmd.to_path_buf(),
            (None, None) => PathBuf::new(),
        };
        let bin = super::binary::Binary::read(&path).map_err(|e| Diagnostic::new(at.span, e, "unreadable program"))?;
        let shown = path.display().to_string();
        let f = bin.function(func).ok_or_else(|| {
            Diagnostic::new(at.span, format!("{shown} has no function `{func}`"), "no such function")
                .with_help(format!("`vt -l 'uprobe:{shown}:*'` lists its functions"))
        })?;
        let offset = bin.file_offset(f.addr).ok_or_else(|| Diagnostic::new(at.span, format!("`{func}` is in no loadable segment of {shown}"), "no file offset"))?;
        Ok(Uprobe { path: shown, offset, ret: false, pid: Some(pid), func: f.name.clone(), watch: Some(WatchSetup { arg, stop: self.stop }) })
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
