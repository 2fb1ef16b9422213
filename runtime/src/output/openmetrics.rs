//! `/metrics`: maps as Prometheus metric families, in Prometheus's text format 0.0.4 or OpenMetrics
//! 1.0 (as the scraper's Accept header asks). Pure functions over value shapes, like the other
//! formats; what each map is as a family (name, labels, help, type) comes from
//! `metrics::describe`. The choices are documented in docs/METRICS.md.

use super::shape::{lhist_buckets, Entry, KeyPart, MapDump, Metric, Value};
use crate::metrics::describe::Family;
use std::fmt::Write as _;

/// The two text formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposition {
    /// Prometheus text format 0.0.4.
    Prometheus,
    /// OpenMetrics 1.0.
    OpenMetrics,
}

impl Exposition {
    /// What an Accept header asks for: OpenMetrics when it ranks `application/openmetrics-text` at
    /// least as high as `text/plain` (and above zero), else 0.0.4.
    pub fn from_accept(accept: Option<&str>) -> Exposition {
        let (mut om, mut plain) = (0.0f32, 0.0f32);
        for range in accept.unwrap_or("").split(',') {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or("").to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.strip_prefix("q=").and_then(|v| v.trim().parse::<f32>().ok()))
                .next()
                .unwrap_or(1.0);
            match media.as_str() {
                "application/openmetrics-text" => om = om.max(q),
                "text/plain" | "text/*" | "*/*" => plain = plain.max(q),
                _ => {}
            }
        }
        if om > 0.0 && om >= plain {
            Exposition::OpenMetrics
        } else {
            Exposition::Prometheus
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Exposition::Prometheus => "text/plain; version=0.0.4; charset=utf-8",
            Exposition::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// vt's own state, as metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Health {
    /// Events the ring buffer had no room for.
    pub lost_events: u64,
    /// Per map: updates dropped because the map was full.
    pub dropped: Vec<(String, u64)>,
    pub probes: usize,
    /// Per program (its probe), run count and run time in ns: only when the kernel's BPF statistics
    /// are on (`kernel.bpf_stats_enabled`).
    pub programs: Option<Vec<(String, u64, u64)>>,
}

/// The families vt's health takes, to keep maps off them.
pub const HEALTH_FAMILIES: &[&str] = &["vt_lost_events", "vt_dropped_updates", "vt_probes_attached", "vt_program_runs", "vt_program_run_seconds"];

/// Every sample name a family can write (to find two families that would clash).
pub fn sample_names(f: &Family) -> Vec<String> {
    let n = &f.name;
    match f.metric {
        Metric::Counter => vec![n.clone(), format!("{n}_total"), format!("{n}_created")],
        Metric::Summary | Metric::Histogram => {
            vec![n.clone(), format!("{n}_sum"), format!("{n}_count"), format!("{n}_bucket"), format!("{n}_created")]
        }
        Metric::Total | Metric::Gauge => vec![n.clone()],
    }
}

/// The exposition of `maps` (described by `families`, matched by map name); `tops[i]` is the highest
/// log2 bucket index map `i` has held so far (see [`hist_top`]), so that a series keeps its buckets.
pub fn render(format: Exposition, families: &[Family], maps: &[MapDump], tops: &[usize], health: &Health) -> String {
    let mut out = String::new();
    for (i, map) in maps.iter().enumerate() {
        let Some(f) = families.iter().find(|f| f.map == map.name) else { continue };
        family(&mut out, format, f, map, tops.get(i).copied().unwrap_or(2));
    }
    health_families(&mut out, format, health);
    if format == Exposition::OpenMetrics {
        out.push_str("# EOF\n");
    }
    out
}

/// The highest log2 bucket index any entry of `map` holds (at least 2, the bucket of 1).
pub fn hist_top(map: &MapDump) -> usize {
    map.entries
        .iter()
        .filter_map(|e| match &e.value {
            Value::Hist(b) => b.iter().rposition(|&c| c > 0),
            _ => None,
        })
        .fold(2, usize::max)
}

fn escape_label(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn escape_help(format: Exposition, s: &str) -> String {
    let s = s.replace('\\', "\\\\").replace('\n', "\\n");
    match format {
        Exposition::OpenMetrics => s.replace('"', "\\\""),
        Exposition::Prometheus => s,
    }
}

/// `# HELP` and `# TYPE` of a family whose samples are named `sample` in 0.0.4 (OpenMetrics names
/// the family without a counter's `_total`).
fn header(out: &mut String, format: Exposition, name: &str, kind: &str, help: &str) {
    let name = match (format, kind) {
        (Exposition::Prometheus, "counter") => format!("{name}_total"),
        _ => name.to_string(),
    };
    let _ = writeln!(out, "# HELP {name} {}", escape_help(format, help));
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// `{a="x",b="1"}` from the key and extra pairs; empty without any.
fn labels(names: &[String], key: &[KeyPart], extra: &[(&str, String)]) -> String {
    let mut pairs: Vec<String> = names.iter().zip(key).map(|(n, k)| format!("{n}=\"{}\"", escape_label(&k.to_string()))).collect();
    pairs.extend(extra.iter().map(|(n, v)| format!("{n}=\"{}\"", escape_label(v))));
    if pairs.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", pairs.join(","))
    }
}

fn family(out: &mut String, format: Exposition, f: &Family, map: &MapDump, top: usize) {
    let name = &f.name;
    let entries = super::shape::sorted_entries(map);
    match f.metric {
        Metric::Histogram => {
            header(out, format, name, "histogram", &f.help);
            for e in entries {
                histogram(out, format, f, e, top);
            }
        }
        // A signed argument's total may be negative, which OpenMetrics asks of no summary; Prometheus
        // takes it, and two gauges named `_sum` and `_count` would be worse (docs/METRICS.md).
        Metric::Summary => {
            header(out, format, name, "summary", &f.help);
            for e in entries {
                if let Some((count, total)) = pair(&e.value) {
                    let l = labels(&f.labels, &e.key, &[]);
                    let _ = writeln!(out, "{name}_sum{l} {total}\n{name}_count{l} {count}");
                }
            }
        }
        Metric::Counter => {
            header(out, format, name, "counter", &f.help);
            for e in entries {
                if let Some(v) = number(&e.value) {
                    let _ = writeln!(out, "{name}_total{} {v}", labels(&f.labels, &e.key, &[]));
                }
            }
        }
        Metric::Gauge | Metric::Total => {
            header(out, format, name, "gauge", &f.help);
            for e in entries {
                match number(&e.value) {
                    Some(v) => {
                        let _ = writeln!(out, "{name}{} {v}", labels(&f.labels, &e.key, &[]));
                    }
                    // A string or tuple value: a `value` label on a sample of 1.
                    None => {
                        let text = super::text::value_text(&e.value, 0);
                        let _ = writeln!(out, "{name}{} 1", labels(&f.labels, &e.key, &[("value", text)]));
                    }
                }
            }
        }
    }
}

fn number(v: &Value) -> Option<i128> {
    match v {
        Value::Int(i) => Some(i128::from(*i)),
        Value::UInt(u) => Some(i128::from(*u)),
        _ => None,
    }
}

fn pair(v: &Value) -> Option<(u64, i64)> {
    match v {
        Value::Avg { count, total } | Value::Stats { count, total } => Some((*count, *total)),
        _ => None,
    }
}

/// One histogram series: cumulative buckets with their inclusive integer upper bounds, `+Inf`,
/// `_count`, `_sum`. OpenMetrics allows no sum beside a negative bound, so it has none there.
fn histogram(out: &mut String, format: Exposition, f: &Family, e: &Entry, top: usize) {
    let name = &f.name;
    // (upper bound, bucket index) of each finite bucket, in order.
    let (bounds, counts): (Vec<(i128, usize)>, &Vec<u64>) = match &e.value {
        Value::Hist(b) => {
            // An unsigned value of 2^63 or more lands in bucket 0 (it is negative as i64): it belongs
            // above every finite bound, so without a sign there is no bucket for negatives.
            let first = if f.signed { 0 } else { 1 };
            let bounds = (first..=top.min(64))
                .map(|i| match i {
                    0 => (-1, 0),
                    1 => (0, 1),
                    i => ((1i128 << (i - 1)) - 1, i),
                })
                .collect();
            (bounds, b)
        }
        Value::LHist { min, max, step, buckets } if *step > 0 && max > min => {
            let n = lhist_buckets(*min, *max, *step) - 2;
            let below = (i128::from(*min) - 1, 0);
            let inner = (1..=n).map(|i| (i128::from(*min) + i as i128 * i128::from(*step) - 1, i));
            (std::iter::once(below).chain(inner).collect(), buckets)
        }
        _ => return,
    };
    let at = |i: usize| counts.get(i).copied().unwrap_or(0);
    let total: u64 = counts.iter().fold(0u64, |a, &c| a.wrapping_add(c));
    let mut cumulative = 0u64;
    for (le, i) in &bounds {
        cumulative = cumulative.wrapping_add(at(*i));
        let l = labels(&f.labels, &e.key, &[("le", le.to_string())]);
        let _ = writeln!(out, "{name}_bucket{l} {cumulative}");
    }
    let l = labels(&f.labels, &e.key, &[("le", "+Inf".into())]);
    let _ = writeln!(out, "{name}_bucket{l} {total}");
    let l = labels(&f.labels, &e.key, &[]);
    let _ = writeln!(out, "{name}_count{l} {total}");
    let negative = bounds.first().is_some_and(|(le, _)| *le < 0);
    if let Some(sum) = e.sum.filter(|_| !(negative && format == Exposition::OpenMetrics)) {
        let _ = writeln!(out, "{name}_sum{l} {sum}");
    }
}

fn health_families(out: &mut String, format: Exposition, h: &Health) {
    header(out, format, "vt_lost_events", "counter", "Events the ring buffer had no room for");
    let _ = writeln!(out, "vt_lost_events_total {}", h.lost_events);
    header(out, format, "vt_dropped_updates", "counter", "Map updates dropped because the map was full");
    for (map, n) in &h.dropped {
        let _ = writeln!(out, "vt_dropped_updates_total{{map=\"{}\"}} {n}", escape_label(&format!("@{map}")));
    }
    header(out, format, "vt_probes_attached", "gauge", "Programs vt attached");
    let _ = writeln!(out, "vt_probes_attached {}", h.probes);
    if let Some(programs) = &h.programs {
        header(out, format, "vt_program_runs", "counter", "Runs of each BPF program (kernel.bpf_stats_enabled)");
        for (probe, runs, _) in programs {
            let _ = writeln!(out, "vt_program_runs_total{{probe=\"{}\"}} {runs}", escape_label(probe));
        }
        header(out, format, "vt_program_run_seconds", "counter", "Time spent in each BPF program (kernel.bpf_stats_enabled)");
        for (probe, _, ns) in programs {
            let _ = writeln!(out, "vt_program_run_seconds_total{{probe=\"{}\"}} {}", escape_label(probe), *ns as f64 / 1e9);
        }
    }
}
