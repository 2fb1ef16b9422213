//! `-f json`: newline-delimited JSON, one object per line, laid out as bpftrace 0.17 lays it out
//! (`{"type": "map", "data": {"@c": 3}}`: a space after each `:` and `,` of the envelope and of maps,
//! none inside a tuple `[1,"a"]`). Pure functions, like the text formatters.
//!
//! Known difference: bpftrace 0.17 escapes each byte above 0x7f as a sign-extended `\uffffffXX`
//! (not valid JSON); vt writes such text as UTF-8 (invalid sequences replaced by U+FFFD).

use super::shape::{average, bucket_span, by_name, Kind, KeyPart, MapDump, Value};

/// A JSON string literal.
pub fn string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
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

/// One `join(..)`.
pub fn join(text: &str) -> String {
    line("join", &string(text))
}

/// One `time(..)`.
pub fn time(text: &str) -> String {
    line("time", &string(text))
}

/// `print(value)`.
pub fn value(v: &Value) -> String {
    line("value", &value_text(v, 0))
}

/// A histogram's non-zero span of buckets as `[{"min": lo, "max": hi, "count": n}, ...]`: a log2
/// bucket below zero has only `"max": -1`; a linear one `{"max": min - 1, ..}` below `min` and
/// `{"min": max, ..}` above `max`.
fn buckets_text(v: &Value) -> String {
    let Some((first, last)) = bucket_span(v) else { return "[]".into() };
    let rows: Vec<String> = (first..=last)
        .map(|i| match v {
            Value::LHist { min, max, step, buckets } => {
                let c = buckets.get(i).copied().unwrap_or(0);
                let n = ((max - min) / step) as usize;
                if i == 0 {
                    format!("{{\"max\": {}, \"count\": {c}}}", min - 1)
                } else if i == n + 1 {
                    format!("{{\"min\": {max}, \"count\": {c}}}")
                } else {
                    let lo = min + (i as i64 - 1) * step;
                    format!("{{\"min\": {lo}, \"max\": {}, \"count\": {c}}}", lo + step - 1)
                }
            }
            Value::Hist(buckets) => {
                let n = buckets.get(i).copied().unwrap_or(0);
                match i {
                    0 => format!("{{\"max\": -1, \"count\": {n}}}"),
                    1 => format!("{{\"min\": 0, \"max\": 0, \"count\": {n}}}"),
                    i => {
                        let lo = 1u128 << (i - 2);
                        format!("{{\"min\": {lo}, \"max\": {}, \"count\": {n}}}", (lo << 1) - 1)
                    }
                }
            }
            _ => String::new(),
        })
        .collect();
    format!("[{}]", rows.join(", "))
}

/// A value: a number, a string, an object (stats), an array (a tuple, a histogram's buckets).
pub fn value_text(v: &Value, div: u32) -> String {
    if let Some(n) = v.number(div) {
        return n.to_string();
    }
    match v {
        Value::Stats { count, total } => {
            format!("{{\"count\": {count}, \"average\": {}, \"total\": {total}}}", average(*count, *total))
        }
        Value::Hist(_) | Value::LHist { .. } => buckets_text(v),
        Value::Str(s) => string(s),
        Value::Tuple(items) => {
            let items: Vec<String> = items.iter().map(|i| value_text(i, 0)).collect();
            format!("[{}]", items.join(","))
        }
        Value::Bytes(b) => format!("[{}]", b.iter().map(u8::to_string).collect::<Vec<_>>().join(",")),
        Value::Int(_) | Value::UInt(_) | Value::Avg { .. } => String::new(),
    }
}

/// A key as one JSON object key's text: its parts joined by `,`.
fn key_text(key: &[KeyPart]) -> String {
    key.iter().map(KeyPart::to_string).collect::<Vec<_>>().join(",")
}

/// One map as bpftrace's `-f json` prints it (for `print(@m, top, div)` and at exit); `None` for a
/// map with no entries, which bpftrace does not print at all.
pub fn map(map: &MapDump, top: u32, div: u32) -> Option<String> {
    if map.entries.is_empty() {
        return None;
    }
    let kind = match map.kind {
        Kind::Hist | Kind::LHist => "hist",
        Kind::Avg | Kind::Stats => "stats",
        _ => "map",
    };
    let name = string(&format!("@{}", map.name));
    let data = match map.entries.as_slice() {
        [only] if only.key.is_empty() => value_text(&only.value, div),
        _ => {
            let items: Vec<String> = map
                .shown(top)
                .iter()
                .map(|e| format!("{}: {}", string(&key_text(&e.key)), value_text(&e.value, div)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    };
    Some(line(kind, &format!("{{{name}: {data}}}")))
}

/// Every map at exit, sorted by name (bpftrace prints its `\n\n` preamble before them in JSON too).
pub fn maps(maps: &[MapDump]) -> String {
    by_name(maps).into_iter().filter_map(|m| map(m, 0, 0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::shape::Entry;

    #[test]
    fn envelope_and_maps_as_bpftrace_lays_them_out() {
        assert_eq!(attached(1), "{\"type\": \"attached_probes\", \"data\": {\"probes\": 1}}\n");
        assert_eq!(map(&MapDump::scalar("c", Value::UInt(3)), 0, 0).unwrap(), "{\"type\": \"map\", \"data\": {\"@c\": 3}}\n");
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
        let multi = MapDump::new("m", vec![Entry::new(vec![KeyPart::Int(18354), KeyPart::Str("x".into())], Value::Int(6))]);
        assert_eq!(map(&multi, 0, 0).unwrap(), "{\"type\": \"map\", \"data\": {\"@m\": {\"18354,x\": 6}}}\n");
        let stats = MapDump::scalar("s", Value::Stats { count: 3, total: 12 });
        assert_eq!(
            map(&stats, 0, 0).unwrap(),
            "{\"type\": \"stats\", \"data\": {\"@s\": {\"count\": 3, \"average\": 4, \"total\": 12}}}\n"
        );
        assert_eq!(map(&MapDump::scalar("a", Value::Avg { count: 3, total: 21 }), 0, 0).unwrap(), "{\"type\": \"stats\", \"data\": {\"@a\": 7}}\n");
        assert_eq!(map(&MapDump::empty("x", Kind::UInt), 0, 0), None);
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
        let tuple = Value::Tuple(vec![Value::Int(1), Value::Str("x\"y".into())]);
        assert_eq!(value(&tuple), "{\"type\": \"value\", \"data\": [1,\"x\\\"y\"]}\n");
        // A byte array (pton) is an array of numbers, as bpftrace 0.17 prints it.
        assert_eq!(value(&Value::Bytes(vec![192, 168, 1, 255])), "{\"type\": \"value\", \"data\": [192,168,1,255]}\n");
        assert_eq!(printf(b"q\"\\ \t tab\n"), "{\"type\": \"printf\", \"data\": \"q\\\"\\\\ \\t tab\\n\"}\n");
        assert_eq!(lost_events(7), "{\"type\": \"lost_events\", \"data\": {\"events\": 7}}\n");
    }
}
