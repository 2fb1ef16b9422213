//! Probe kinds: one file each. Each turns a spec into attach points: the kernel target as data, the
//! probe's name, and the record `args` reads (if any).

pub mod begin;
pub mod binary;
pub mod counter;
pub mod end;
pub mod fentry;
pub mod hardware;
pub mod interval;
pub mod kprobe;
pub mod ksyms;
pub mod profile;
pub mod rawtracepoint;
pub mod sdt;
pub mod software;
pub mod tracepoint;
pub mod uprobe;
pub mod usdt;
pub mod watchpoint;

/// The registered entries: one line per file of this folder.
pub static LIST: &[&dyn ProbeKind] = &[
    &begin::Begin,
    &end::End,
    &interval::Interval,
    &tracepoint::Tracepoint,
    &profile::Profile,
    &software::Software,
    &hardware::Hardware,
    &uprobe::UPROBE,
    &uprobe::URETPROBE,
    &kprobe::KPROBE,
    &kprobe::KRETPROBE,
    &fentry::FENTRY,
    &fentry::FEXIT,
    &usdt::Usdt,
    &rawtracepoint::RawTracepoint,
    &watchpoint::WATCHPOINT,
    &watchpoint::ASYNCWATCHPOINT,
];

use lang::ast::ProbeSpec;
use lang::registry::ProbeKind;
use lang::diag::Diagnostic;

/// A spec that must have no parts (`BEGIN`, `END`).
pub fn no_parts(spec: &ProbeSpec) -> Result<(), Diagnostic> {
    match (spec.parts.first(), spec.parts.last()) {
        (Some(first), Some(last)) => Err(Diagnostic::new(
            first.span.to(last.span),
            format!("{} takes no arguments", spec.provider.name),
            "unexpected",
        )),
        _ => Ok(()),
    }
}
