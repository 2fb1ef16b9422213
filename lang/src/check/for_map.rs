//! `for ($kv : @map) { body }` (bpftrace 0.20+): the body runs once per entry of a plain-value map,
//! with `$kv` holding `(key, value)`; a map of several keys gives a tuple key (`$kv.0.1`). The emitter
//! runs the body as the callback of `bpf_for_each_map_elem`.
//!
//! Refused: maps of aggregations (their values are per CPU: the kernel's walk sees one CPU's), keyless
//! maps, and a `for` over a map inside another (the callback would need a callback of its own).

use super::{sigiled, Checker, Ctx};
use crate::ast::*;
use crate::diag::Diagnostic;
use crate::typed::*;

impl Checker<'_> {
    pub(super) fn for_map(&mut self, span: Span, var: &Ident, map: &Ident, body: &[Stmt], cx: &mut Ctx) -> Option<TStmt> {
        let head = Span::new(span.start, map.span.end);
        let kv = self.entry_type(head, map, cx);
        let var_id = kv.as_ref().and_then(|(_, ty)| self.declare(var, ty, cx));
        let outer = cx.scope.in_for_map;
        cx.scope.in_for_map = true;
        cx.scope.loops += 1;
        let body = self.block(body, cx);
        cx.scope.loops -= 1;
        cx.scope.in_for_map = outer;
        Some(TStmt::ForMap { var: var_id?, map: kv?.0, body })
    }

    /// The map's id and the type of `(key, value)` for one of its entries, or None (with an error).
    fn entry_type(&mut self, head: Span, map: &Ident, cx: &Ctx) -> Option<(MapId, Ty)> {
        let id = self.existing_map(map)?;
        let def = &self.maps[id.index()];
        let name = sigiled(map.span);
        if cx.scope.in_for_map {
            return self.fail(
                Diagnostic::new(head, "vt cannot run a `for` over a map inside another", "nested map loop")
                    .with_help("copy what the inner loop needs into a map of its own, and loop over it afterwards"),
            );
        }
        let value = match &def.kind {
            MapKind::Value(ty) => ty.clone(),
            MapKind::Agg(a) => {
                let msg = format!("vt cannot loop over @{}: it holds {}() values, kept per CPU", def.name, a.name);
                return self.fail(
                    Diagnostic::new(name, msg, "map of an aggregation")
                        .with_help("the kernel's walk of a per-CPU map sees one CPU's values; loop over a map of plain values"),
                );
            }
        };
        let key = match def.key.as_slice() {
            [] => {
                return self.fail(
                    Diagnostic::new(name, format!("@{} has no keys to loop over", def.name), "keyless map")
                        .with_help("read the map's one value directly"),
                )
            }
            [one] => one.clone(),
            many => Ty::Tuple(many.to_vec()),
        };
        Some((id, Ty::Tuple(vec![key, value])))
    }
}
