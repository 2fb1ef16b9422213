//! `tracepoint:CATEGORY:NAME` (`t:`, wildcards `*` `?`): a tracepoint program per matching event; `args`
//! is the event's record as its tracefs `format` file lays it out.

use lang::ast::{Ident, ProbeSpec};
use lang::diag::Diagnostic;
use lang::registry::{ProbeKind, Resolve};
use lang::tracefs::{closest, did_you_mean, glob_match, has_wildcard, Format, Tracefs};
use lang::typed::{Attach, Target};
use std::sync::Arc;

pub struct Tracepoint;

fn attach(category: String, name: String, format: Arc<Format>) -> Attach {
    Attach {
        probe: format!("tracepoint:{category}:{name}"),
        tag: name.clone(),
        target: Target::Tracepoint { category, name },
        args: Some(format),
    }
}

impl ProbeKind for Tracepoint {
    fn names(&self) -> &'static [&'static str] {
        &["tracepoint", "t"]
    }

    fn resolve(&self, spec: &ProbeSpec, cx: &mut Resolve) -> Result<Vec<Attach>, Diagnostic> {
        let tracefs = &mut *cx.tracefs;
        let [cat, name] = spec.parts.as_slice() else {
            return Err(Diagnostic::new(spec.span, "a tracepoint is written `tracepoint:CATEGORY:NAME`", "malformed probe")
                .with_help("e.g. `tracepoint:syscalls:sys_enter_openat`; `vt -l 'tracepoint:*'` lists them"));
        };
        if !tracefs.events().is_dir() {
            return Err(Diagnostic::new(
                spec.span,
                format!("no tracepoints: {} does not exist", tracefs.events().display()),
                "cannot resolve this probe",
            )
            .with_help("mount tracefs: `mount -t tracefs nodev /sys/kernel/tracing` (vt does it itself when run as root)"));
        }
        let wild = has_wildcard(&cat.name) || has_wildcard(&name.name);
        // Without wildcards, the format file is all there is to read.
        if !wild {
            if let Ok(format) = tracefs.format(&cat.name, &name.name) {
                return Ok(vec![attach(cat.name.clone(), name.name.clone(), format)]);
            }
        }
        let categories: Vec<String> = tracefs.categories().into_iter().filter(|c| glob_match(&cat.name, c)).collect();
        let mut found = Vec::new();
        for category in &categories {
            for event in tracefs.events_of(category) {
                if glob_match(&name.name, &event) {
                    found.push((category.clone(), event));
                }
            }
        }
        if found.is_empty() {
            return Err(unknown(spec, cat, name, &categories, tracefs));
        }
        let mut attaches = Vec::new();
        for (category, event) in found {
            match tracefs.format(&category, &event) {
                Ok(format) => attaches.push(attach(category, event, format)),
                // A wildcard may match events whose format is unreadable; skip those, bpftrace does too.
                Err(_) if wild => {}
                Err(e) => {
                    let msg = format!("cannot read the format of tracepoint {category}:{event}: {e}");
                    return Err(Diagnostic::new(spec.span, msg, "here"));
                }
            }
        }
        Ok(attaches)
    }

    fn list(&self, tracefs: &Tracefs, _: &str) -> Vec<String> {
        let mut names = Vec::new();
        for category in tracefs.categories() {
            for event in tracefs.events_of(&category) {
                names.push(format!("tracepoint:{category}:{event}"));
            }
        }
        names
    }
}

fn unknown(spec: &ProbeSpec, cat: &Ident, name: &Ident, matched: &[String], tracefs: &Tracefs) -> Diagnostic {
    if matched.is_empty() {
        let all = tracefs.categories();
        let hint = did_you_mean(&closest(&cat.name, all.iter().map(String::as_str)))
            .unwrap_or_else(|| "`vt -l 'tracepoint:*'` lists the tracepoints of this kernel".into());
        return Diagnostic::new(cat.span, format!("unknown tracepoint category `{}`", cat.name), "no such category")
            .with_help(hint);
    }
    let events: Vec<String> = matched.iter().flat_map(|c| tracefs.events_of(c)).collect();
    let hint = did_you_mean(&closest(&name.name, events.iter().map(String::as_str)))
        .unwrap_or_else(|| format!("`vt -l 'tracepoint:{}:*'` lists that category", cat.name));
    Diagnostic::new(name.span, format!("unknown tracepoint `{}`", spec.text()), "no such tracepoint").with_help(hint)
}
