//! bpftrace's text layout: byte-for-byte what bpftrace 0.17 prints. `runtime/tests/golden/` holds real
//! bpftrace 0.17 output (see `regen.sh` there) that the tests compare against.
//!
//! What is easy to miss:
//! * Every map ends with one newline after its last line; avg and stats maps with two; hist and lhist
//!   maps therefore show a blank line after each histogram. A map with no entries prints just that
//!   newline (or two), so a never-written map is a blank line. In bpftrace 0.17 a keyless `count()`
//!   lives in a per-CPU array and so always has an entry (`@c: 0`), while every other never-written
//!   map has none; the runtime passes entries accordingly.
//! * At exit bpftrace prints [`EXIT_PREAMBLE`] (two newlines) before the maps; see [`exit_text`].
//! * The `@` bar is `(float)count / (float)max * 52`, truncated, in single precision (15 of 26 gives
//!   30 `@`, where double precision would give 29).

use super::shape::{bucket_span, by_name, Kind, KeyPart, MapDump, Value};
use std::fmt::Write as _;

/// Width of the `@` bar in bpftrace's histograms.
pub const BAR_WIDTH: usize = 52;

/// What bpftrace prints at exit before the maps (`std::cout << "\n\n"` in its `main`).
pub const EXIT_PREAMBLE: &str = "\n\n";

/// The label of `2^power` as bpftrace prints it: `1`, `2`, ... `512`, `1K`, ... `512K`, `1M`, ...
/// with K/M/G/T for powers of 1024. bpftrace 0.17 stops at T (it never needs more, see `shape`);
/// vt goes on with P (2^50) and E (2^60) so that its full 64-bit buckets read well.
pub fn hist_index_label(power: u32) -> String {
    let (base, suffix) = match power {
        60.. => (power - 60, "E"),
        50.. => (power - 50, "P"),
        40.. => (power - 40, "T"),
        30.. => (power - 30, "G"),
        20.. => (power - 20, "M"),
        10.. => (power - 10, "K"),
        _ => (power, ""),
    };
    format!("{}{}", 1u128 << base.min(127), suffix)
}

/// The label of a log2 bucket index: `(..., 0)`, `[0]`, `[1]`, `[2, 4)`, `[512, 1K)`, ...
pub fn hist_bucket_label(index: usize) -> String {
    match index {
        0 => "(..., 0)".to_string(),
        1 => "[0]".to_string(),
        2 => "[1]".to_string(),
        i => {
            let p = (i - 2) as u32;
            format!("[{}, {})", hist_index_label(p), hist_index_label(p + 1))
        }
    }
}

/// A number as an lhist label: multiples of 1048576 as `NM`, other multiples of 1024 as `NK`
/// (zero stays `0`).
pub fn lhist_index_label(n: i64) -> String {
    const KILO: i64 = 1024;
    const MEGA: i64 = 1048576;
    if n == 0 {
        "0".to_string()
    } else if n % MEGA == 0 {
        format!("{}M", n / MEGA)
    } else if n % KILO == 0 {
        format!("{}K", n / KILO)
    } else {
        n.to_string()
    }
}

/// The label of an lhist bucket index: `(..., min)`, `[lo, hi)`, `[max, ...)`.
pub fn lhist_bucket_label(index: usize, min: i64, max: i64, step: i64) -> String {
    let n = ((max - min) / step) as usize;
    if index == 0 {
        format!("(..., {})", lhist_index_label(min))
    } else if index == n + 1 {
        format!("[{}, ...)", lhist_index_label(max))
    } else {
        let i = index as i64;
        format!("[{}, {})", lhist_index_label((i - 1) * step + min), lhist_index_label(i * step + min))
    }
}

/// Length of the `@` bar for `count` out of `max`: `(float)count / (float)max * 52`, truncated,
/// computed in single precision as bpftrace does.
pub fn bar_len(count: u64, max: u64) -> usize {
    if max == 0 {
        return 0;
    }
    let w = count as f32 / max as f32 * BAR_WIDTH as f32;
    w as usize
}

/// The rows of a histogram (no map name), from its first to its last non-zero bucket: label
/// left-aligned in 16 columns, count right-aligned in 8, then the bar. `div` (0 means 1) divides the
/// printed counts of a log2 histogram but not its bars, like `print(@h, 0, div)`; bpftrace ignores it
/// for lhist.
fn buckets_text(value: &Value, div: u32) -> String {
    let mut out = String::new();
    let Some((first, last)) = bucket_span(value) else { return out };
    let (buckets, div) = match value {
        Value::Hist(b) => (b, u64::from(div.max(1))),
        Value::LHist { buckets, .. } => (buckets, 1),
        _ => return out,
    };
    let at = |i: usize| buckets.get(i).copied().unwrap_or(0);
    let max = buckets.iter().copied().max().unwrap_or(0);
    for i in first..=last {
        let label = match value {
            Value::LHist { min, max, step, .. } => lhist_bucket_label(i, *min, *max, *step),
            _ => hist_bucket_label(i),
        };
        let _ = writeln!(out, "{:<16}{:>8} |{:<width$}|", label, at(i) / div, "@".repeat(bar_len(at(i), max)), width = BAR_WIDTH);
    }
    out
}

/// The rows of a log2 histogram (no map name); empty if every bucket is zero.
pub fn hist_text(buckets: &[u64], div: u32) -> String {
    buckets_text(&Value::Hist(buckets.to_vec()), div)
}

/// The rows of a linear histogram (no map name), trimmed of zero buckets at both ends; empty if every
/// bucket is zero.
pub fn lhist_text(min: i64, max: i64, step: i64, buckets: &[u64]) -> String {
    buckets_text(&Value::LHist { min, max, step, buckets: buckets.to_vec() }, 0)
}

/// `@name` or `@name[k1, k2]`.
pub fn key_text(name: &str, key: &[KeyPart]) -> String {
    let mut s = format!("@{name}");
    if !key.is_empty() {
        let parts: Vec<String> = key.iter().map(KeyPart::to_string).collect();
        s += &format!("[{}]", parts.join(", "));
    }
    s
}

/// A value as bpftrace prints it after `@m: ` (strings unquoted, tuples as `(a, b)`).
pub fn value_text(v: &Value, div: u32) -> String {
    if let Some(n) = v.number(div) {
        return n.to_string();
    }
    match v {
        Value::Stats { count, total } => {
            format!("count {}, average {}, total {}", count, super::shape::average(*count, *total), total)
        }
        Value::Hist(_) | Value::LHist { .. } => buckets_text(v, div),
        Value::Str(s) => s.clone(),
        Value::Tuple(items) => {
            let items: Vec<String> = items.iter().map(|i| value_text(i, 0)).collect();
            format!("({})", items.join(", "))
        }
        Value::Bytes(b) => format!("[{}]", b.iter().map(u8::to_string).collect::<Vec<_>>().join(",")),
        Value::Int(_) | Value::UInt(_) | Value::Avg { .. } => String::new(),
    }
}

/// One map as `print(@m)` and the exit dump print it.
pub fn map_text(map: &MapDump) -> String {
    map_text_with(map, 0, 0)
}

/// One map as `print(@m, top, div)` prints it: with `top > 0`, only the last `top` entries in
/// sorted order (the largest), still ascending; `div > 0` divides the printed values. As in
/// bpftrace 0.17, `div` is ignored by lhist and stats, `top` is ignored by stats, and a hist's bars
/// use the undivided counts.
pub fn map_text_with(map: &MapDump, top: u32, div: u32) -> String {
    let elems: Vec<String> = map
        .shown(top)
        .into_iter()
        .map(|e| {
            let mut s = key_text(&map.name, &e.key);
            s.push_str(": ");
            if matches!(e.value, Value::Hist(_) | Value::LHist { .. }) {
                s.push('\n');
            }
            s + &value_text(&e.value, div)
        })
        .collect();
    let mut out = elems.join("\n");
    out.push('\n');
    if matches!(map.kind, Kind::Avg | Kind::Stats) {
        out.push('\n');
    }
    out
}

/// All maps as bpftrace prints them at exit, sorted by name (the order of `maps` does not matter).
/// Does not include [`EXIT_PREAMBLE`]; see [`exit_text`].
pub fn bpftrace_text(maps: &[MapDump]) -> String {
    by_name(maps).into_iter().map(map_text).collect()
}

/// Everything bpftrace prints to stdout at exit: [`EXIT_PREAMBLE`] then [`bpftrace_text`].
pub fn exit_text(maps: &[MapDump]) -> String {
    String::from(EXIT_PREAMBLE) + &bpftrace_text(maps)
}

/// The warning printed at exit for a map that dropped updates because it was full:
/// `Warning: 5904 updates to @m dropped: the map is full (4096 entries)`.
pub fn dropped_warning(name: &str, updates: u64, capacity: u32) -> String {
    let s = if updates == 1 { "" } else { "s" };
    format!("Warning: {updates} update{s} to @{name} dropped: the map is full ({capacity} entries)")
}
