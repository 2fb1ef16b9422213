//! `-f json`: newline-delimited JSON, one object per line, laid out as bpftrace 0.17 lays it out
//! (`{"type": "map", "data": {"@c": 3}}`: a space after each `:` and `,` of the envelope and of maps,
//! none inside a tuple `[1,"a"]`). Pure functions, like the text formatters.
//!
//! Known difference: bpftrace 0.17 escapes each byte above 0x7f as a sign-extended `\uffffffXX`
//! (not valid JSON); vt writes such text as UTF-8 (invalid sequences replaced by U+FFFD).

use crate::format::{sorted_entries, KeyPart, MapDump, MapKind, Value};
use crate::maps;
use lang::typed::Ty;

/// A JSON string literal.
pub fn string(s: &str) -> String {
    serde_json::to_string(s).expect("a string always serializes")
}

fn line(kind: &str, data: &str) -> String {
    format!("{{\"type\": {}, \"data\": {data}}}\n", string(kind))
}

/// `Attaching N probes...` as JSON.
pub fn attached(probes: usize) -> String {
    line("attached_probes", &format!("{{\"probes\": {probes}}}"))
}

/// Events the ring buffer had no room for.
pub fn lost_events(events: u64) -> String {
    line("lost_events", &format!("{{\"events\": {events}}}"))
}

/// One `printf(..)`.
pub fn printf(bytes: &[u8]) -> String {
    line("printf", &string(&String::from_utf8_lossy(bytes)))
}

/// One `time(..)`.
pub fn time(text: &str) -> String {
    line("time", &string(text))
}

/// `print(value)`.
pub fn value(ty: &Ty, bytes: &[u8]) -> String {
    line("value", &typed_value(ty, bytes))
}

/// A value of type `ty` stored in `bytes`: a number, a string or (for a tuple) an array.
pub fn typed_value(ty: &Ty, bytes: &[u8]) -> String {
    match ty {
        Ty::Int(i) => {
            let Some(b) = bytes.get(..8) else { return "0".into() };
            let raw = u64::from_ne_bytes(b.try_into().unwrap());
            if i.signed { (raw as i64).to_string() } else { raw.to_string() }
        }
        Ty::Str(n) => string(&maps::c_str(&bytes[..(*n as usize).min(bytes.len())])),
        Ty::Tuple(parts) => {
            let mut at = 0;
            let items: Vec<String> = parts
                .iter()
                .map(|p| {
                    let size = p.size() as usize;
                    let s = typed_value(p, bytes.get(at..at + size).unwrap_or(&[]));
                    at += size;
                    s
                })
                .collect();
            format!("[{}]", items.join(","))
        }
    }
}

fn key_text(key: &[KeyPart]) -> String {
    let parts: Vec<String> = key
        .iter()
        .map(|p| match p {
            KeyPart::Int(v) => v.to_string(),
            KeyPart::UInt(v) => (*v as i64).to_string(),
            KeyPart::Str(s) => s.clone(),
        })
        .collect();
    parts.join(",")
}

fn avg_of(count: u64, total: i64) -> i64 {
    if count == 0 {
        0
    } else {
        total.wrapping_div(count as i64)
    }
}

/// A log2 histogram's non-zero span of buckets as `[{"min": lo, "max": hi, "count": n}, ...]`.
fn hist_buckets(buckets: &[u64]) -> String {
    let Some(first) = buckets.iter().position(|&v| v > 0) else { return "[]".into() };
    let last = buckets.iter().rposition(|&v| v > 0).unwrap_or(first);
    let rows: Vec<String> = (first..=last)
        .map(|i| {
            let n = buckets[i];
            match i {
                0 => format!("{{\"max\": -1, \"count\": {n}}}"),
                1 => format!("{{\"min\": 0, \"max\": 0, \"count\": {n}}}"),
                i => {
                    let lo = 1u128 << (i - 2);
                    format!("{{\"min\": {lo}, \"max\": {}, \"count\": {n}}}", (lo << 1) - 1)
                }
            }
        })
        .collect();
    format!("[{}]", rows.join(", "))
}

/// A linear histogram's non-zero span of buckets, with `{"max": min - 1, ..}` below `min` and
/// `{"min": max, ..}` above `max`.
fn lhist_buckets(min: i64, max: i64, step: i64, buckets: &[u64]) -> String {
    let n = ((max - min) / step) as usize;
    let at = |i: usize| buckets.get(i).copied().unwrap_or(0);
    let Some(first) = (0..=n + 1).find(|&i| at(i) > 0) else { return "[]".into() };
    let last = (0..=n + 1).rev().find(|&i| at(i) > 0).unwrap_or(first);
    let rows: Vec<String> = (first..=last)
        .map(|i| {
            let c = at(i);
            if i == 0 {
                format!("{{\"max\": {}, \"count\": {c}}}", min - 1)
            } else if i == n + 1 {
                format!("{{\"min\": {max}, \"count\": {c}}}")
            } else {
                let lo = min + (i as i64 - 1) * step;
                format!("{{\"min\": {lo}, \"max\": {}, \"count\": {c}}}", lo + step - 1)
            }
        })
        .collect();
    format!("[{}]", rows.join(", "))
}

fn entry_value(v: &Value, div: u32) -> String {
    if let Some(n) = crate::format::number_text(v, div) {
        return n;
    }
    match v {
        Value::Stats { count, total } => {
            format!("{{\"count\": {count}, \"average\": {}, \"total\": {total}}}", avg_of(*count, *total))
        }
        Value::Hist(b) => hist_buckets(b),
        Value::LHist { min, max, step, buckets } => lhist_buckets(*min, *max, *step, buckets),
        Value::Str(s) => string(s),
        Value::Tuple { ty, bytes } => typed_value(ty, bytes),
        _ => unreachable!("numbers are printed above"),
    }
}

/// One map as bpftrace's `-f json` prints it (for `print(@m, top, div)` and at exit); `None` for a
/// map with no entries, which bpftrace does not print at all.
pub fn map(map: &MapDump, top: u32, div: u32) -> Option<String> {
    if map.entries.is_empty() {
        return None;
    }
    let kind = match map.kind {
        MapKind::Hist | MapKind::LHist => "hist",
        MapKind::Avg | MapKind::Stats => "stats",
        _ => "map",
    };
    let name = string(&format!("@{}", map.name));
    let entries = sorted_entries(map);
    let data = if entries.len() == 1 && entries[0].key.is_empty() {
        entry_value(&entries[0].value, div)
    } else {
        let skip = match (top as usize, map.kind) {
            (0, _) | (_, MapKind::Stats) => 0,
            (t, _) => entries.len().saturating_sub(t),
        };
        let items: Vec<String> = entries
            .iter()
            .skip(skip)
            .map(|e| format!("{}: {}", string(&key_text(&e.key)), entry_value(&e.value, div)))
            .collect();
        format!("{{{}}}", items.join(", "))
    };
    Some(line(kind, &format!("{{{name}: {data}}}")))
}

/// Every map at exit, sorted by name (bpftrace prints its `\n\n` preamble before them in JSON too).
pub fn maps(maps: &[MapDump]) -> String {
    let mut sorted: Vec<&MapDump> = maps.iter().collect();
    sorted.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    sorted.into_iter().filter_map(|m| map(m, 0, 0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Entry;

    #[test]
    fn envelope_and_maps_as_bpftrace_lays_them_out() {
        assert_eq!(attached(1), "{\"type\": \"attached_probes\", \"data\": {\"probes\": 1}}\n");
        assert_eq!(map(&MapDump::scalar("c", Value::Count(3)), 0, 0).unwrap(), "{\"type\": \"map\", \"data\": {\"@c\": 3}}\n");
        let keyed = MapDump::new(
            "y",
            vec![
                Entry::new(vec![KeyPart::Int(4)], Value::Int(9)),
                Entry::new(vec![KeyPart::Int(3)], Value::Int(5)),
                Entry::new(vec![KeyPart::Int(5)], Value::Int(1)),
            ],
        );
        // Checked against bpftrace 0.17: print(@y, 2) and print(@y, 0, 2).
        assert_eq!(map(&keyed, 2, 0).unwrap(), "{\"type\": \"map\", \"data\": {\"@y\": {\"3\": 5, \"4\": 9}}}\n");
        assert_eq!(map(&keyed, 0, 2).unwrap(), "{\"type\": \"map\", \"data\": {\"@y\": {\"5\": 0, \"3\": 2, \"4\": 4}}}\n");
        let multi = MapDump::new("m", vec![Entry::new(vec![KeyPart::Int(18354), KeyPart::Str("x".into())], Value::Sum(6))]);
        assert_eq!(map(&multi, 0, 0).unwrap(), "{\"type\": \"map\", \"data\": {\"@m\": {\"18354,x\": 6}}}\n");
        let stats = MapDump::scalar("s", Value::Stats { count: 3, total: 12 });
        assert_eq!(
            map(&stats, 0, 0).unwrap(),
            "{\"type\": \"stats\", \"data\": {\"@s\": {\"count\": 3, \"average\": 4, \"total\": 12}}}\n"
        );
        assert_eq!(map(&MapDump::scalar("a", Value::Avg { count: 3, total: 21 }), 0, 0).unwrap(), "{\"type\": \"stats\", \"data\": {\"@a\": 7}}\n");
        assert_eq!(map(&MapDump::empty("x", MapKind::Count), 0, 0), None);
    }

    #[test]
    fn histograms_as_bpftrace_lays_them_out() {
        // hist(-1), hist(0), hist(5), hist(100), as bpftrace 0.17 printed them.
        let mut b = vec![0u64; 65];
        b[0] = 1;
        b[1] = 1;
        b[2 + 2] = 1;
        b[2 + 6] = 1;
        let h = map(&MapDump::scalar("h", Value::Hist(b)), 0, 0).unwrap();
        assert_eq!(h, "{\"type\": \"hist\", \"data\": {\"@h\": [{\"max\": -1, \"count\": 1}, {\"min\": 0, \"max\": 0, \"count\": 1}, {\"min\": 1, \"max\": 1, \"count\": 0}, {\"min\": 2, \"max\": 3, \"count\": 0}, {\"min\": 4, \"max\": 7, \"count\": 1}, {\"min\": 8, \"max\": 15, \"count\": 0}, {\"min\": 16, \"max\": 31, \"count\": 0}, {\"min\": 32, \"max\": 63, \"count\": 0}, {\"min\": 64, \"max\": 127, \"count\": 1}]}}\n");
        // lhist(3|-4|30, 0, 10, 2).
        let mut l = vec![0u64; 7];
        l[0] = 1;
        l[2] = 1;
        l[6] = 1;
        let lh = map(&MapDump::scalar("l", Value::LHist { min: 0, max: 10, step: 2, buckets: l }), 0, 0).unwrap();
        assert_eq!(lh, "{\"type\": \"hist\", \"data\": {\"@l\": [{\"max\": -1, \"count\": 1}, {\"min\": 0, \"max\": 1, \"count\": 0}, {\"min\": 2, \"max\": 3, \"count\": 1}, {\"min\": 4, \"max\": 5, \"count\": 0}, {\"min\": 6, \"max\": 7, \"count\": 0}, {\"min\": 8, \"max\": 9, \"count\": 0}, {\"min\": 10, \"count\": 1}]}}\n");
    }

    #[test]
    fn values_and_text() {
        let tuple = Ty::Tuple(vec![Ty::I64, Ty::Str(8)]);
        let mut bytes = 1i64.to_ne_bytes().to_vec();
        bytes.extend(b"x\"y\0\0\0\0\0");
        assert_eq!(value(&tuple, &bytes), "{\"type\": \"value\", \"data\": [1,\"x\\\"y\"]}\n");
        assert_eq!(printf(b"q\"\\ \t tab\n"), "{\"type\": \"printf\", \"data\": \"q\\\"\\\\ \\t tab\\n\"}\n");
        assert_eq!(lost_events(7), "{\"type\": \"lost_events\", \"data\": {\"events\": 7}}\n");
    }
}
