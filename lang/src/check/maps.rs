//! Maps: each gets one kind (an aggregation of the registry, or a plain value type) and one key type
//! on first assignment; later uses must agree.

use super::services::Services;
use super::{sigiled, Checker, Ctx};
use crate::ast::*;
use crate::diag::Diagnostic;
use crate::tracefs::{closest, did_you_mean};
use crate::registry::Call;
use crate::typed::*;

impl Checker<'_> {
    /// `@m[k] = e`: an aggregation call defines or feeds an aggregation map; anything else a value map.
    pub(super) fn map_assign(&mut self, map: &MapRef, value: &Expr, cx: &mut Ctx) -> Option<TStmt> {
        let keys = self.keys(&map.keys, cx);
        if let ExprKind::Call { func, args } = &value.kind {
            if let Some(entry) = self.reg.aggregation(&func.name) {
                let call = Call { func, args, span: value.span };
                let (agg, v) = entry.check(&mut Services { ch: self, cx }, &call)?;
                let keys = keys?;
                let index = self.define(&map.name, MapKind::Agg(agg), &keys, map.span.to(value.span))?;
                return Some(TStmt::Aggregate { map: index, keys, value: v });
            }
        }
        let v = self.expr(value, cx);
        let (keys, v) = (keys?, v?);
        let index = self.define(&map.name, MapKind::Value(storage_ty(&v.ty)), &keys, map.span.to(value.span))?;
        Some(TStmt::MapStore { map: index, keys, value: v })
    }

    pub(super) fn keys(&mut self, keys: &[Expr], cx: &mut Ctx) -> Option<Vec<TExpr>> {
        let typed: Vec<Option<TExpr>> = keys.iter().map(|k| self.expr(k, cx)).collect();
        typed.into_iter().collect()
    }

    /// The map called `name`, created with `kind` and key types on first definition; an error if it
    /// already holds something else.
    fn define(&mut self, name: &Ident, kind: MapKind, keys: &[TExpr], span: Span) -> Option<MapId> {
        let key: Vec<Ty> = keys.iter().map(|k| storage_ty(&k.ty)).collect();
        if let Some(i) = self.maps.iter().position(|m| m.name == name.name) {
            let def = &self.maps[i];
            let same_kind = match (&def.kind, &kind) {
                // A map keeps the aggregation it was first defined as (a sum its signedness).
                (MapKind::Agg(a), MapKind::Agg(b)) => a.same_kind(b),
                (MapKind::Value(a), MapKind::Value(b)) => compatible(a, b),
                _ => false,
            };
            if !same_kind {
                let msg = format!("@{} holds {} and cannot also hold {}", name.name, def.kind.describe(), kind.describe());
                let hint = format!("@{} was first assigned at another place; use another map name", name.name);
                return self.fail(Diagnostic::new(span, msg, "different kind of value").with_help(hint));
            }
            // A string value map holds the longest string any assignment gives it (`@m = ""; @m =
            // "hello"` prints hello, as in bpftrace); the first pass has seen them all.
            if let (MapKind::Value(a), MapKind::Value(b)) = (&def.kind, &kind) {
                let wide = widen(a, b);
                self.maps[i].kind = MapKind::Value(wide);
            }
            let def = &self.maps[i];
            if !keys_compatible(&def.key, &key) {
                let msg = format!(
                    "@{} is keyed by [{}], not [{}]",
                    name.name,
                    def.key.iter().map(Ty::describe).collect::<Vec<_>>().join(", "),
                    key.iter().map(Ty::describe).collect::<Vec<_>>().join(", ")
                );
                return self.fail(Diagnostic::new(span, msg, "different key"));
            }
            // A string key part, likewise, takes the longest string any definition gives it (`probe`
            // in a probe with several attach points: each name is whole).
            let wide: Vec<Ty> = def.key.iter().zip(&key).map(|(a, b)| widen(a, b)).collect();
            self.maps[i].key = wide;
            return Some(MapId(i as u32));
        }
        self.maps.push(MapDef { name: name.name.clone(), kind, key, span });
        Some(MapId(self.maps.len() as u32 - 1))
    }

    pub(super) fn existing_map(&mut self, name: &Ident) -> Option<MapId> {
        if let Some(i) = self.maps.iter().position(|m| m.name == name.name) {
            return Some(MapId(i as u32));
        }
        if self.learning {
            return None;
        }
        let names: Vec<&str> = self.maps.iter().map(|m| m.name.as_str()).collect();
        let mut d = Diagnostic::new(sigiled(name.span), format!("@{} is never assigned", name.name), "unknown map");
        d.help = did_you_mean(&closest(&name.name, names.iter().copied()));
        self.fail(d)
    }

    /// A map and its typed keys, checked against the map's key type.
    pub(super) fn map_access(&mut self, m: &MapRef, cx: &mut Ctx, what: &str) -> Option<(MapId, Vec<TExpr>)> {
        let keys = self.keys(&m.keys, cx)?;
        let index = self.existing_map(&m.name)?;
        let def = &self.maps[index.index()];
        let key: Vec<Ty> = keys.iter().map(|k| storage_ty(&k.ty)).collect();
        if !keys_compatible(&def.key, &key) {
            let msg = format!("{what} of @{} with a key of the wrong type", m.name.name);
            return self.fail(Diagnostic::new(m.span, msg, "different key"));
        }
        Some((index, keys))
    }
}

/// The type a value is stored with in a map or variable: integers widen to 64 bits.
pub(super) fn storage_ty(ty: &Ty) -> Ty {
    match ty {
        Ty::Int(i) => Ty::Int(IntTy { bits: 64, signed: i.signed }),
        Ty::Str(n) => Ty::Str(*n),
        Ty::Tuple(p) => Ty::Tuple(p.iter().map(storage_ty).collect()),
        Ty::Text(r) => Ty::Text(r.clone()),
    }
}

/// Whether a value of type `b` may be stored where `a` was defined: same shape; strings of any size
/// (they are truncated or padded), integers of either signedness.
pub(super) fn compatible(a: &Ty, b: &Ty) -> bool {
    match (a, b) {
        (Ty::Int(_), Ty::Int(_)) => true,
        (Ty::Str(_), Ty::Str(_)) => true,
        (Ty::Tuple(x), Ty::Tuple(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| compatible(a, b)),
        (Ty::Text(x), Ty::Text(y)) => x == y,
        _ => false,
    }
}

/// The type that holds values of both `a` and `b` (which are `compatible`): strings take the larger
/// size, part by part in tuples.
pub(super) fn widen(a: &Ty, b: &Ty) -> Ty {
    match (a, b) {
        // A variable's integer is as wide as the widest value assigned to it (map values are all 64-bit).
        (Ty::Int(x), Ty::Int(y)) => Ty::Int(IntTy { bits: x.bits.max(y.bits), signed: x.signed }),
        (Ty::Str(x), Ty::Str(y)) => Ty::Str(*x.max(y)),
        (Ty::Tuple(x), Ty::Tuple(y)) if x.len() == y.len() => Ty::Tuple(x.iter().zip(y).map(|(a, b)| widen(a, b)).collect()),
        _ => a.clone(),
    }
}

/// Keys agree part by part in the same way (a string key part is widened to the longest defined).
fn keys_compatible(a: &[Ty], b: &[Ty]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| compatible(x, y))
}
