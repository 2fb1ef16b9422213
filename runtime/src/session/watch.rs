//! Watchpoints on a function's argument (`watchpoint:FUNC+argN:LEN:MODE`): the setup uprobe sends
//! each address it sees; the runtime arms the watchpoint program there (once per address) and, for a
//! synchronous `watchpoint`, lets the process go on (the setup program stopped it with SIGSTOP).

use super::{chain, Error, Session};
use crate::attach;
use lang::typed::{Breakpoint, Target, Uprobe};

impl Session {
    /// Arms program `index`'s deferred watchpoint at `addr`.
    pub(super) fn arm_watchpoint(&mut self, index: usize, addr: u64) -> Result<(), Error> {
        let Some(p) = self.object.programs.get(index) else { return Ok(()) };
        let Target::PerfEvent(event) = &p.attach.target else { return Ok(()) };
        let (Some(bp), Some(pid)) = (event.breakpoint, event.pid) else { return Ok(()) };
        // The setup program comes right before the watchpoint's (lang::check).
        let stop = index.checked_sub(1).and_then(|s| self.object.programs.get(s)).is_some_and(|s| {
            matches!(&s.attach.target, Target::Uprobe(Uprobe { watch: Some(w), .. }) if w.stop)
        });
        let mut result = Ok(());
        let stopping = self.exit_requested && !self.ending;
        if addr != 0 && !stopping && !self.watches.iter().any(|(i, a, _)| *i == index && *a == addr) {
            let mut armed = event.clone();
            armed.breakpoint = Some(Breakpoint { addr, deferred: false, ..bp });
            let probe = p.attach.probe_name();
            let prog = self.ebpf.program_mut(&p.symbol).ok_or_else(|| Error::Load(format!("program {} missing", p.symbol)))?;
            match attach::attach(prog, &attach::Target::PerfEvent(&armed)) {
                Ok(Some(link)) => self.watches.push((index, addr, link)),
                Ok(None) => {}
                // An asyncwatchpoint's process may have exited before the address came through: it
                // can make no more accesses to count.
                Err(_) if !alive(pid) => {}
                Err(e) => result = Err(Error::Attach { probe, reason: format!("at {addr:#x}: {}", chain(&e)) }),
            }
        }
        if stop {
            resume(pid);
        }
        result
    }

    /// Lets go every process a synchronous watchpoint's setup may have stopped and whose address
    /// was never read (the run ended first).
    pub(super) fn resume_watched(&self) {
        for p in &self.object.programs {
            if let Target::Uprobe(Uprobe { watch: Some(w), pid: Some(pid), .. }) = &p.attach.target {
                if w.stop {
                    resume(*pid);
                }
            }
        }
    }
}

fn resume(pid: u32) {
    // SAFETY: kill(2) with a pid and a signal number only.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGCONT) };
}

/// Whether the process is still running (not gone, not a zombie waiting to be reaped).
fn alive(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The state follows the command's closing parenthesis.
    let state = stat.rsplit_once(") ").and_then(|(_, rest)| rest.chars().next());
    state.is_some_and(|c| !matches!(c, 'Z' | 'X'))
}
