//! What the script says about each map as a metric family: its name, its labels (named after the key
//! expressions), its help text and its type. Read from the checked maps and, when there is one, the
//! script's syntax tree (a `.vto` has none: its labels are `key0`, `key1`, ...).

use crate::output::shape::Metric;
use lang::ast::{Expr, ExprKind, MapRef, Script, Stmt, StmtKind};
use lang::typed::{MapDef, MapKind, Ty};
use std::collections::{BTreeMap, BTreeSet};

/// The family name of the anonymous map `@` (documented in docs/METRICS.md).
pub const ANONYMOUS: &str = "vt_anonymous";

/// One map as a metric family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    /// The map's name, without `@`.
    pub map: String,
    /// `vt_NAME`.
    pub name: String,
    /// One label name per key part (tuples flattened), valid and distinct.
    pub labels: Vec<String>,
    pub help: String,
    /// The exposition type (a `sum` is already decided: `Counter` or `Gauge`).
    pub metric: Metric,
    /// Whether the aggregated values are signed (a histogram then has a bucket for negatives, and a
    /// summary's total may go down).
    pub signed: bool,
}

/// The families of `maps` (in their order); `script` is the source text and its tree.
pub fn families(maps: &[MapDef], script: Option<(&str, &Script)>) -> Vec<Family> {
    let uses = script.map(|(_, s)| uses(s)).unwrap_or_default();
    maps.iter()
        .map(|def| {
            let parts = flat_len(&def.key);
            let found = uses.keys.get(&def.name).map(|sets| agree(sets, parts)).unwrap_or_default();
            let (metric, signed) = match &def.kind {
                MapKind::Agg(a) => {
                    let m = library::LIBRARY.aggregation_entry(&a.name).map_or(Metric::Gauge, |e| e.metric(a));
                    let m = match m {
                        Metric::Total if !a.signed && !uses.shrunk.contains(&def.name) => Metric::Counter,
                        Metric::Total => Metric::Gauge,
                        m => m,
                    };
                    (m, a.signed)
                }
                MapKind::Value(_) => (Metric::Gauge, true),
            };
            let reserved: &[&str] = if metric == Metric::Histogram { &["le"] } else { &["value"] };
            Family {
                map: def.name.clone(),
                name: family_name(&def.name),
                labels: labels(&found, parts, reserved),
                help: script.map_or_else(|| format!("vt map @{}", def.name), |(text, _)| help(text, def)),
                metric,
                signed,
            }
        })
        .collect()
}

/// `vt_NAME`, or [`ANONYMOUS`] for `@`.
pub fn family_name(map: &str) -> String {
    if map.is_empty() {
        ANONYMOUS.to_string()
    } else {
        format!("vt_{map}")
    }
}

/// Key parts after flattening tuples (as `output::decode::key` does).
fn flat_len(key: &[Ty]) -> usize {
    key.iter().map(|t| if let Ty::Tuple(inner) = t { flat_len(inner) } else { 1 }).sum()
}

/// What the script does with its maps: the names of the keys each use writes, and which maps are
/// ever cleared, zeroed or deleted from (a total of those can go down).
#[derive(Default)]
struct Uses {
    keys: BTreeMap<String, Vec<Vec<Option<String>>>>,
    shrunk: BTreeSet<String>,
}

fn uses(script: &Script) -> Uses {
    let mut u = Uses::default();
    for p in &script.probes {
        if let Some(e) = &p.predicate {
            u.expr(e);
        }
        u.stmts(&p.body);
    }
    u
}

impl Uses {
    fn map(&mut self, m: &MapRef) {
        if !m.keys.is_empty() {
            let names = m.keys.iter().flat_map(key_names).collect();
            self.keys.entry(m.name.name.clone()).or_default().push(names);
        }
        m.keys.iter().for_each(|k| self.expr(k));
    }

    fn stmts(&mut self, stmts: &[Stmt]) {
        for s in stmts {
            match &s.kind {
                StmtKind::Expr(e) => self.expr(e),
                StmtKind::MapAssign { map, value } | StmtKind::MapCompound { map, value, .. } => {
                    self.map(map);
                    self.expr(value);
                }
                StmtKind::MapIncr { map, .. } => self.map(map),
                StmtKind::Delete { map } => {
                    self.shrunk.insert(map.name.name.clone());
                    self.map(map);
                }
                StmtKind::VarAssign { value, .. } | StmtKind::VarCompound { value, .. } => self.expr(value),
                StmtKind::If { cond, then, otherwise } => {
                    self.expr(cond);
                    self.stmts(then);
                    self.stmts(otherwise);
                }
                StmtKind::Unroll { count, body } => {
                    self.expr(count);
                    self.stmts(body);
                }
                StmtKind::For { lo, hi, body, .. } => {
                    self.expr(lo);
                    self.expr(hi);
                    self.stmts(body);
                }
                StmtKind::ForMap { body, .. } => self.stmts(body),
                StmtKind::While { cond, body } => {
                    self.expr(cond);
                    self.stmts(body);
                }
                StmtKind::Let { value, .. } => value.iter().for_each(|v| self.expr(v)),
                StmtKind::VarIncr { .. } | StmtKind::Return | StmtKind::Break | StmtKind::Continue => {}
            }
        }
    }

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Map(m) => self.map(m),
            ExprKind::Call { func, args } => {
                // clear(@m), zero(@m) and delete(@m, k) make a total go down.
                if matches!(func.name.as_str(), "clear" | "zero" | "delete") {
                    if let Some(ExprKind::Map(m)) = args.first().map(|a| &a.kind) {
                        self.shrunk.insert(m.name.name.clone());
                    }
                }
                args.iter().for_each(|a| self.expr(a));
            }
            ExprKind::Field { base, .. } => self.expr(base),
            ExprKind::Incr { target, .. } => self.expr(target),
            ExprKind::Index { base, index } => {
                self.expr(base);
                self.expr(index);
            }
            ExprKind::Unary { expr, .. } | ExprKind::Cast { expr, .. } => self.expr(expr),
            ExprKind::Binary { lhs, rhs, .. } => {
                self.expr(lhs);
                self.expr(rhs);
            }
            ExprKind::Ternary { cond, then, otherwise } => {
                self.expr(cond);
                self.expr(then);
                self.expr(otherwise);
            }
            ExprKind::Tuple(items) => items.iter().for_each(|i| self.expr(i)),
            ExprKind::Int(_) | ExprKind::Str(_) | ExprKind::Builtin(_) | ExprKind::Positional(_) | ExprKind::Var(_) => {}
        }
    }
}

/// The label names a key expression gives (a tuple gives one per item): `comm` → comm, `args.dev` →
/// dev, `$x` → x, `str(args.filename)` → filename, `f(..)` → f; None where no name fits.
fn key_names(e: &Expr) -> Vec<Option<String>> {
    match &e.kind {
        ExprKind::Tuple(items) => items.iter().flat_map(key_names).collect(),
        _ => vec![key_name(e)],
    }
}

fn key_name(e: &Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Builtin(b) => Some(b.clone()),
        ExprKind::Var(v) => Some(v.trim_start_matches('$').to_string()),
        ExprKind::Field { field, .. } => Some(field.name.clone()),
        ExprKind::Cast { expr, .. } => key_name(expr),
        ExprKind::Call { func, args } if func.name == "str" => args.first().and_then(key_name),
        ExprKind::Call { func, .. } => Some(func.name.clone()),
        _ => None,
    }
}

/// The names every use agrees on, position by position (None where uses differ or give none).
fn agree(sets: &[Vec<Option<String>>], parts: usize) -> Vec<Option<String>> {
    (0..parts)
        .map(|i| {
            let mut names = sets.iter().map(|s| if s.len() == parts { s[i].clone() } else { None });
            let first = names.next().flatten()?;
            names.all(|n| n.as_deref() == Some(first.as_str())).then_some(first)
        })
        .collect()
}

/// Valid, distinct label names: a name that is not a label name, is reserved (`le` in a histogram,
/// `value` where vt puts a string value, `__` prefixes) or repeats becomes `keyN`.
fn labels(found: &[Option<String>], parts: usize, reserved: &[&str]) -> Vec<String> {
    let valid = |n: &str| {
        let mut c = n.chars();
        c.next().is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
            && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
            && !n.starts_with("__")
            && !reserved.contains(&n)
    };
    let mut taken = BTreeSet::new();
    let chosen: Vec<Option<String>> = (0..parts)
        .map(|i| found.get(i).cloned().flatten().filter(|n| valid(n)))
        .map(|n| n.filter(|n| found.iter().flatten().filter(|m| *m == n).count() == 1))
        .collect();
    chosen.iter().flatten().for_each(|n| {
        taken.insert(n.clone());
    });
    chosen
        .into_iter()
        .enumerate()
        .map(|(i, n)| {
            n.unwrap_or_else(|| {
                let mut name = format!("key{i}");
                while taken.contains(&name) {
                    name.push('_');
                }
                taken.insert(name.clone());
                name
            })
        })
        .collect()
}

/// The help text: the `//` comment lines right above the statement that gives the map its kind (when
/// it starts its line), else that statement's text (`@rx = hist(args.recv_pkts)`).
fn help(text: &str, def: &MapDef) -> String {
    let start = def.span.start.min(text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let starts_line = text[line_start..start].trim().is_empty();
    let mut comments: Vec<&str> = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .take_while(|l| l.starts_with("//"))
        .map(|l| l.trim_start_matches('/').trim())
        .collect();
    comments.reverse();
    let comment = comments.join(" ");
    if starts_line && !comment.trim().is_empty() {
        return comment.trim().to_string();
    }
    let end = def.span.end.clamp(start, text.len());
    let stmt: Vec<&str> = text.get(start..end).unwrap_or("").split_whitespace().collect();
    format!("vt map @{}: {}", def.name, stmt.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fams(src: &str, maps: Vec<MapDef>) -> Vec<Family> {
        let script = lang::parse(src).unwrap();
        families(&maps, Some((src, &script)))
    }

    fn def(name: &str, agg: &str, signed: bool, key: Vec<Ty>, src: &str) -> MapDef {
        let at = src.find(&format!("@{name}")).unwrap_or(0);
        let end = src[at..].find(';').map_or(src.len(), |i| at + i);
        let a = lang::typed::Agg { name: agg.into(), params: Vec::new(), signed , sums: false };
        MapDef { name: name.into(), kind: MapKind::Agg(a), key, span: lang::ast::Span::new(at, end) }
    }

    #[test]
    fn labels_are_named_after_key_expressions() {
        let src = "BEGIN { @c[comm, args.dev] = count(); @[pid, $x, 1] = count(); @s[(comm, pid)] = sum(1); }";
        let maps = vec![
            def("c", "count", false, vec![Ty::Str(16), Ty::U64], src),
            def("", "count", false, vec![Ty::U64, Ty::U64, Ty::U64], src),
            def("s", "sum", false, vec![Ty::Tuple(vec![Ty::Str(16), Ty::U64])], src),
        ];
        let f = fams(src, maps);
        assert_eq!(f[0].labels, ["comm", "dev"]);
        assert_eq!(f[1].name, "vt_anonymous");
        assert_eq!(f[1].labels, ["pid", "x", "key2"]);
        assert_eq!(f[2].labels, ["comm", "pid"]);
    }

    #[test]
    fn disagreeing_repeated_or_reserved_names_become_key_n() {
        let src = "BEGIN { @h[pid, pid] = hist(1); @g[le] = count(); }\nEND { @a[tid] = count(); }\nBEGIN { @a[pid] = count(); }";
        let maps = vec![
            def("h", "hist", false, vec![Ty::U64, Ty::U64], src),
            def("a", "count", false, vec![Ty::U64], src),
        ];
        let f = fams(src, maps);
        assert_eq!(f[0].labels, ["key0", "key1"]);
        assert_eq!(f[1].labels, ["key0"]);
    }

    #[test]
    fn a_sum_is_a_counter_only_when_it_cannot_go_down() {
        let src = "BEGIN { @u = sum(1); @s = sum(-1); @c = sum(2); clear(@c); @d[1] = sum(3); delete(@d[1]); }";
        let maps = vec![
            def("u", "sum", false, vec![], src),
            def("s", "sum", true, vec![], src),
            def("c", "sum", false, vec![], src),
            def("d", "sum", false, vec![Ty::U64], src),
        ];
        let m: Vec<Metric> = fams(src, maps).iter().map(|f| f.metric).collect();
        assert_eq!(m, [Metric::Counter, Metric::Gauge, Metric::Gauge, Metric::Gauge]);
    }

    #[test]
    fn help_is_the_comment_above_or_the_statement() {
        let src = "BEGIN {\n  // packets per call\n  // (rx)\n  @rx = hist(1);\n  @tx   =  count();\n}";
        let maps = vec![def("rx", "hist", false, vec![], src), def("tx", "count", false, vec![], src)];
        let f = fams(src, maps);
        assert_eq!(f[0].help, "packets per call (rx)");
        assert_eq!(f[1].help, "vt map @tx: @tx = count()");
    }
}
