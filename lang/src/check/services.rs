//! What the checker lends a registry entry while it checks a call (see `registry::Checking`).

use super::{Checker, Ctx};
use crate::ast::{Expr, MapRef};
use crate::diag::Diagnostic;
use crate::registry::{Call, Checking};
use crate::typed::{MapId, TExpr};
use std::ops::RangeInclusive;

pub(super) struct Services<'c, 'p, 'a> {
    pub ch: &'c mut Checker<'p>,
    pub cx: &'c mut Ctx<'a>,
}

impl Checking for Services<'_, '_, '_> {
    fn expr(&mut self, e: &Expr) -> Option<TExpr> {
        self.ch.expr(e, self.cx)
    }
    fn int_expr(&mut self, e: &Expr) -> Option<TExpr> {
        self.ch.int_expr(e, self.cx)
    }
    fn const_int(&mut self, e: &Expr, what: &str) -> Option<u64> {
        self.ch.const_int(e, what)
    }
    fn arity(&mut self, call: &Call, want: RangeInclusive<usize>) -> Option<()> {
        self.ch.arity(call.func, call.args, want, call.span)
    }
    fn map_access(&mut self, m: &MapRef, what: &str) -> Option<(MapId, Vec<TExpr>)> {
        self.ch.map_access(m, self.cx, what)
    }
    fn positional(&self, n: u32) -> String {
        self.ch.param_text(n)
    }
    fn error(&mut self, d: Diagnostic) {
        self.ch.err(d);
    }
    fn attach(&self) -> &crate::typed::Attach {
        self.cx.attach
    }
    fn unsafe_allowed(&self) -> bool {
        self.ch.unsafe_allowed
    }
    fn named_param(&self, name: &str) -> Option<Option<String>> {
        self.ch.named.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    }
}
