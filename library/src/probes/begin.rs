//! `BEGIN`: runs once, before any other probe fires.

use lang::ast::ProbeSpec;
use lang::diag::Diagnostic;
use lang::registry::{ProbeKind, Resolve};
use lang::tracefs::Tracefs;
use lang::typed::{Attach, Target};

pub struct Begin;

impl ProbeKind for Begin {
    fn names(&self) -> &'static [&'static str] {
        &["BEGIN"]
    }
    fn resolve(&self, spec: &ProbeSpec, _: &mut Resolve) -> Result<Vec<Attach>, Diagnostic> {
        super::no_parts(spec)?;
        Ok(vec![Attach { probe: "BEGIN".into(), tag: "begin".into(), target: Target::Begin, args: None }])
    }
    fn list(&self, _: &Tracefs, _: &str) -> Vec<String> {
        vec!["BEGIN".into()]
    }
}
