//! `END`: runs once, after the run has stopped, before the maps print.

use lang::ast::ProbeSpec;
use lang::diag::Diagnostic;
use lang::registry::{ProbeKind, Resolve};
use lang::tracefs::Tracefs;
use lang::typed::{Attach, Target};

pub struct End;

impl ProbeKind for End {
    fn names(&self) -> &'static [&'static str] {
        &["END"]
    }
    fn resolve(&self, spec: &ProbeSpec, _: &mut Resolve) -> Result<Vec<Attach>, Diagnostic> {
        super::no_parts(spec)?;
        Ok(vec![Attach { probe: "END".into(), tag: "end".into(), target: Target::End, args: None }])
    }
    fn list(&self, _: &Tracefs, _: &str) -> Vec<String> {
        vec!["END".into()]
    }
}
