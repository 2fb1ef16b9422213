//! Attaching and detaching the session's programs, and running BEGIN and END.

use super::{chain, Error, Session};
use crate::attach::{self, Link};
use lang::typed::{Attach, Target};

impl Session {
    /// Attaches every tracepoint (one perf event each) and interval program.
    pub fn attach(&mut self) -> Result<(), Error> {
        for i in 0..self.object.programs.len() {
            // A watchpoint on a function's argument is armed when the function runs (`watch.rs`).
            if !matches!(&self.object.programs[i].attach.target, Target::PerfEvent(e) if e.breakpoint.is_some_and(|b| b.deferred)) {
                self.attach_program(i)?;
            }
        }
        Ok(())
    }

    /// Attaches program `index` of the object alone (BEGIN and END attach nowhere).
    pub fn attach_program(&mut self, index: usize) -> Result<(), Error> {
        let p = &self.object.programs[index];
        let fail = |reason: String| Error::Attach { probe: p.attach.probe_name(), reason };
        if let lang::typed::Target::Fentry(f) = &p.attach.target {
            use std::os::fd::AsFd;
            let fd = self.tracing.get(index).and_then(Option::as_ref).ok_or_else(|| fail("the program is not loaded".into()))?;
            self.links[index] = Some(attach::fentry::attach(fd.as_fd(), f).map_err(|e| fail(chain(&e)))?);
            return Ok(());
        }
        if let lang::typed::Target::Kprobe(k) = &p.attach.target {
            if !k.multi.is_empty() {
                use std::os::fd::AsFd;
                let fd = self.tracing.get(index).and_then(Option::as_ref).ok_or_else(|| fail("the program is not loaded".into()))?;
                self.links[index] = Some(attach::kprobe_multi::attach(fd.as_fd(), k).map_err(|e| fail(chain(&e)))?);
                return Ok(());
            }
        }
        let prog = self.ebpf.program_mut(&p.symbol).ok_or_else(|| fail(format!("program {} missing", p.symbol)))?;
        if let Some(link) = attach::attach(prog, &attach::target(&p.attach)).map_err(|e| fail(chain(&e)))? {
            self.links[index] = Some(link);
        }
        Ok(())
    }

    /// Whether any probe is attached.
    pub fn attached(&self) -> bool {
        self.links.iter().any(Option::is_some)
    }

    /// Detaches every probe, so that the maps stop changing. Closing a tracepoint's perf event waits for
    /// an RCU grace period (tens of milliseconds), so the links are closed from several threads at once.
    pub fn detach(&mut self) {
        let mut links: Vec<Link> = self.links.iter_mut().filter_map(Option::take).collect();
        links.extend(self.watches.drain(..).map(|(_, _, link)| link));
        let threads = links.len().clamp(1, 16);
        let mut chunks: Vec<Vec<Link>> = (0..threads).map(|_| Vec::new()).collect();
        for (i, link) in links.into_iter().enumerate() {
            chunks[i % threads].push(link);
        }
        std::thread::scope(|s| {
            for chunk in chunks {
                s.spawn(move || drop(chunk));
            }
        });
        self.resume_watched();
    }

    /// Detaches (and unloads) program `index` of the object alone.
    pub fn detach_program(&mut self, index: usize) {
        if let Some(link) = self.links.get_mut(index) {
            drop(link.take());
        }
        if let Some(fd) = self.tracing.get_mut(index) {
            drop(fd.take());
        }
        let Some(p) = self.object.programs.get(index) else { return };
        if let Some(prog) = self.ebpf.program_mut(&p.symbol) {
            attach::unload(prog, &attach::target(&p.attach));
        }
    }

    /// How many times program `index` has run; counted only while BPF run-time statistics are on
    /// (`aya::sys::enable_stats`). `None` once the program is unloaded.
    pub fn run_count(&self, index: usize) -> Option<u64> {
        self.info(index).map(|i| i.run_count())
    }

    /// The kernel's information on program `index`: aya's, or for a program vt loaded itself
    /// (fentry) the loaded program of the id its descriptor's fdinfo gives.
    fn info(&self, index: usize) -> Option<aya::programs::ProgramInfo> {
        let p = self.object.programs.get(index)?;
        if let Some(Some(fd)) = self.tracing.get(index) {
            use std::os::fd::AsRawFd;
            let fdinfo = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.as_raw_fd())).ok()?;
            let id: u32 = fdinfo.lines().find_map(|l| l.strip_prefix("prog_id:"))?.trim().parse().ok()?;
            return aya::programs::loaded_programs().flatten().find(|i| i.id() == id);
        }
        self.ebpf.program(&p.symbol)?.info().ok()
    }

    /// Program `index`'s probe name, run count and run time in ns (both counted only while BPF
    /// statistics are on); `None` once it is unloaded.
    pub fn run_stats(&self, index: usize) -> Option<(String, u64, u64)> {
        let p = self.object.programs.get(index)?;
        let info = self.info(index)?;
        Some((p.attach.probe_name(), info.run_count(), info.run_time().as_nanos() as u64))
    }

    pub fn run_begin(&mut self) -> Result<(), Error> {
        self.run_special(|_, a| matches!(a.target, Target::Begin))
    }

    /// Runs the BEGIN programs whose index `which` selects.
    pub fn run_begin_where(&mut self, which: impl Fn(usize) -> bool) -> Result<(), Error> {
        self.run_special(|i, a| matches!(a.target, Target::Begin) && which(i))
    }

    pub fn run_end(&mut self) -> Result<(), Error> {
        // As in bpftrace, what probes did after exit() (until they were detached) is not shown.
        if self.exit_requested {
            while self.events.next().is_some() {}
        }
        self.ending = true;
        self.run_special(|_, a| matches!(a.target, Target::End))
    }

    /// Runs the BEGIN or END programs `which` selects (by index and attach point) once.
    fn run_special(&mut self, which: impl Fn(usize, &Attach) -> bool) -> Result<(), Error> {
        for (_, p) in self.object.programs.iter().enumerate().filter(|(i, p)| which(*i, &p.attach)) {
            let fail = |reason: String| Error::Run { probe: p.attach.probe_name(), reason };
            let prog = self.ebpf.program_mut(&p.symbol).ok_or_else(|| fail(format!("program {} missing", p.symbol)))?;
            attach::test_run::run(prog).map_err(|e| fail(chain(&e)))?;
        }
        Ok(())
    }
}
