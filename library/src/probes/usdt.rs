//! `usdt:FILE:[PROVIDER:]NAME` (`U:`): a program on each site of a USDT probe (the file's
//! `.note.stapsdt`), with `arg0…` typed as the note says, and the probe's semaphore raised while it is
//! attached. FILE as for uprobes (with `-p PID`, a library as that process maps it, and the probe in
//! that process only). Wildcards `*` `?` in PROVIDER and NAME; without PROVIDER, any provider.

use super::binary;
use super::sdt::{self, Probe};
use lang::ast::{Ident, ProbeSpec};
use lang::diag::Diagnostic;
use lang::registry::{ProbeKind, Resolve};
use lang::tracefs::{glob_match, has_wildcard, Tracefs};
use lang::typed::{Attach, Target, Usdt as Place};
use std::path::PathBuf;

pub struct Usdt;

/// The file FILE names: a path, a program on `$PATH`, or a library (`-p PID`'s mapping of it first).
fn file(file: &Ident, pid: Option<u32>) -> Result<PathBuf, Diagnostic> {
    binary::resolve(&file.name, pid).map_err(|e| Diagnostic::new(file.span, e, "no such file"))
}

impl ProbeKind for Usdt {
    fn names(&self) -> &'static [&'static str] {
        &["usdt", "U"]
    }

    fn resolve(&self, spec: &ProbeSpec, cx: &mut Resolve) -> Result<Vec<Attach>, Diagnostic> {
        let (path_part, provider, name) = match spec.parts.as_slice() {
            [f, n] => (f, None, n),
            [f, p, n] => (f, Some(p), n),
            _ => {
                return Err(Diagnostic::new(spec.span, "a usdt probe is written `usdt:FILE:[PROVIDER:]NAME`", "malformed probe")
                    .with_help("`vt -l 'usdt:FILE:*'` lists a file's probes"))
            }
        };
        let path = file(path_part, cx.pid)?;
        let probes = sdt::probes(&path).map_err(|e| Diagnostic::new(path_part.span, e, "cannot read this file"))?;
        let shown = path.to_string_lossy().into_owned();
        let provider_pattern = provider.map_or("*", |p| p.name.as_str());
        let found: Vec<&Probe> =
            probes.iter().filter(|p| glob_match(provider_pattern, &p.provider) && glob_match(&name.name, &p.name)).collect();
        if found.is_empty() {
            let what = match provider {
                Some(p) => format!("{}:{}", p.name, name.name),
                None => name.name.clone(),
            };
            let at = provider.map_or(name.span, |p| p.span.to(name.span));
            let help = match probes.is_empty() {
                true => "this file has no USDT probes (no .note.stapsdt section)".to_string(),
                false => format!("`vt -l 'usdt:{shown}:*'` lists its probes"),
            };
            return Err(Diagnostic::new(at, format!("{shown} has no USDT probe `{what}`"), "no such probe").with_help(help));
        }
        // Without wildcards and without a provider, one name must not mean two providers' probes.
        if provider.is_none() && !has_wildcard(&name.name) {
            if let Some(other) = found.iter().find(|p| p.provider != found[0].provider) {
                return Err(Diagnostic::new(
                    name.span,
                    format!("`{}` is a probe of providers {} and {}", name.name, found[0].provider, other.provider),
                    "ambiguous probe",
                )
                .with_help(format!("name the provider: `usdt:{}:{}:{}`", path_part.name, found[0].provider, name.name)));
            }
        }
        Ok(found.into_iter().map(|p| attach(&shown, p, cx.pid)).collect())
    }

    fn list(&self, _: &Tracefs, pattern: &str) -> Vec<String> {
        // Only a pattern naming a file lists that file's probes: `usdt:/usr/bin/python3:*`.
        let Some((file, path)) = binary::listed_file(self.names(), pattern) else { return Vec::new() };
        let Ok(probes) = sdt::probes(&path) else { return Vec::new() };
        let mut names: Vec<String> = probes.iter().map(|p| format!("usdt:{file}:{}:{}", p.provider, p.name)).collect();
        names.sort();
        names.dedup();
        names
    }
}

fn attach(path: &str, p: &Probe, pid: Option<u32>) -> Attach {
    Attach {
        probe: format!("usdt:{path}:{}:{}", p.provider, p.name),
        tag: p.name.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').collect(),
        target: Target::Usdt(Place {
            path: path.into(),
            offset: p.offset,
            semaphore: p.semaphore,
            pid,
            provider: p.provider.clone(),
            name: p.name.clone(),
            args: p.args.clone(),
        }),
        args: None,
    }
}
