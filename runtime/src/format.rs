//! Output formatters: pure functions from map contents to text.
//!
//! Nothing here knows about BPF. The runtime reads each map (summing per-CPU values), turns it into a
//! [`MapDump`], and calls [`bpftrace_text`] at exit, [`map_text`] / [`map_text_with`] for `print(@m)`,
//! or [`bcc_hist`] for a BCC-style `print_log2_hist` layout.
//!
//! The text is byte-for-byte what bpftrace 0.17 prints; `runtime/tests/golden/` holds real bpftrace
//! 0.17 output (see `regen.sh` there) that the tests compare against.
//!
//! # Log2 histogram buckets (the contract with the code generator)
//!
//! A [`Value::Hist`] holds `buckets[index] = count`, with bpftrace's index for a value `v`
//! (taken as a signed 64-bit integer):
//!
//! | value `v`               | index                     | label printed   |
//! |-------------------------|---------------------------|-----------------|
//! | `v < 0`                 | `0`                       | `(..., 0)`      |
//! | `v == 0`                | `1`                       | `[0]`           |
//! | `v == 1`                | `2`                       | `[1]`           |
//! | `2 <= v < 4`            | `3`                       | `[2, 4)`        |
//! | `2^k <= v < 2^(k+1)`    | `k + 2`                   | `[2^k, 2^(k+1))`|
//!
//! i.e. `index = 0` if `v < 0`, `1` if `v == 0`, else `2 + floor(log2(v))` ([`log2_index`]).
//! Index `k + 2` is labelled `[2^k, 2^(k+1))`, so the largest index for an `i64` is 64
//! (`[4E, 8E)`); a vector of [`HIST_BUCKETS`] = 65 entries holds every bucket. Unsigned values of
//! 2^63 or more are negative as `i64` and land in index 0, exactly as in bpftrace.
//!
//! Note: bpftrace 0.17's own BPF code computes `floor(log2)` with only five shift steps
//! (16, 8, 4, 2, 1), so it never produces an index above 33: every value >= 2^31 lands in
//! `[2G, 4G)` (checked: `hist(1<<40)` prints `[2G, 4G)`). vt should use the correct formula above;
//! for values below 2^32 both agree.
//!
//! # Linear histogram buckets
//!
//! A [`Value::LHist`] `{ min, max, step, buckets }` uses bpftrace's `lhist` index ([`lhist_index`]):
//! `0` if `v < min`; `1 + (max - min) / step` if `v > max`; else `1 + (v - min) / step`.
//! With `n = (max - min) / step`, index 0 is labelled `(..., min)`, index `n + 1` is `[max, ...)`,
//! and index `i` in `1..=n` is `[min + (i-1)*step, min + i*step)`. When `step` does not divide
//! `max - min`, values in `[min + n*step, max]` also land in index `n + 1` (bpftrace does the same).
//!
//! # What bpftrace 0.17 does that is easy to miss
//!
//! * Maps print sorted by name. Keyed maps sort ascending by value: count/sum/min/max/int by the
//!   value, avg and stats by the average, hist and lhist by the total of all buckets; string and
//!   other values by key. bpftrace breaks ties in hash-table order (i.e. unpredictably); vt breaks
//!   them by key, with integers compared as unsigned 64-bit and strings bytewise (bpftrace's
//!   `sort_by_key` order).
//! * Integer keys print signed (bpftrace reads them as `intN_t`): a `u64` key of `2^64 - 1` prints
//!   `-1`. [`KeyPart::UInt`] is printed the same way; give narrower keys as [`KeyPart::Int`],
//!   sign-extended from their width, to match bpftrace.
//! * Every map ends with one newline after its last line; avg and stats maps with two; hist and
//!   lhist maps therefore show a blank line after each histogram. A map with no entries prints just
//!   that newline (or two), so a never-written map is a blank line. In bpftrace 0.17 a keyless
//!   `count()` lives in a per-CPU array and so always has an entry (`@c: 0`), while every other
//!   never-written map has none; the runtime should pass entries accordingly.
//! * At exit bpftrace prints [`EXIT_PREAMBLE`] (two newlines) before the maps; see [`exit_text`].
//! * The `@` bar is `(float)count / (float)max * 52`, truncated, in single precision (15 of 26 gives
//!   30 `@`, where double precision would give 29).

use std::cmp::Ordering;
use std::fmt::Write as _;

/// Number of log2 buckets that covers every `i64` (indices 0..=64).
pub const HIST_BUCKETS: usize = 65;

/// Width of the `@` bar in bpftrace's histograms.
pub const BAR_WIDTH: usize = 52;

/// What bpftrace prints at exit before the maps (`std::cout << "\n\n"` in its `main`).
pub const EXIT_PREAMBLE: &str = "\n\n";

/// One part of a map key; a map key is a list of these (`@m[comm, pid]` has two).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyPart {
    /// A signed integer, already sign-extended from its width.
    Int(i64),
    /// An unsigned 64-bit integer. Printed as bpftrace 0.17 does: reinterpreted as `i64`.
    UInt(u64),
    /// A string, without its NUL padding. Printed unquoted.
    Str(String),
}

/// The value of one map entry, already reduced over CPUs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `count()`.
    Count(u64),
    /// `sum(x)`.
    Sum(i64),
    /// `min(x)`.
    Min(i64),
    /// `max(x)`.
    Max(i64),
    /// `avg(x)`: printed as `total / count` (truncated toward zero; 0 when `count` is 0).
    Avg { count: u64, total: i64 },
    /// `stats(x)`: printed as `count N, average A, total T`.
    Stats { count: u64, total: i64 },
    /// `hist(x)`: `buckets[index] = count`, index as described in the module docs
    /// (0 = negative, 1 = zero, 2 = one, `k + 2` = `[2^k, 2^(k+1))`). May be shorter than
    /// [`HIST_BUCKETS`]; missing buckets count as zero.
    Hist(Vec<u64>),
    /// `lhist(x, min, max, step)`: `buckets[index] = count`, index as described in the module docs
    /// (0 = below `min`, `(max - min) / step + 1` = above `max`).
    LHist { min: i64, max: i64, step: i64, buckets: Vec<u64> },
    /// A plain signed integer assignment (`@x = 5`).
    Int(i64),
    /// A plain unsigned integer assignment.
    UInt(u64),
    /// A string assignment (`@name = comm`).
    Str(String),
    /// A tuple assignment (`@t = (1, "a")`): its type and bytes, printed `(1, a)` (`[1,"a"]` in JSON).
    Tuple { ty: lang::typed::Ty, bytes: Vec<u8> },
}

/// The kind of a map, which decides sorting, trailing newlines and how an empty map prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapKind {
    Count,
    Sum,
    Min,
    Max,
    Avg,
    Stats,
    Hist,
    LHist,
    Int,
    UInt,
    Str,
}

/// One map entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Empty for a keyless map.
    pub key: Vec<KeyPart>,
    pub value: Value,
}

/// The whole contents of one map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapDump {
    /// Without the `@`; `""` for the anonymous map `@`.
    pub name: String,
    pub kind: MapKind,
    /// In any order; the formatter sorts them.
    pub entries: Vec<Entry>,
}

impl Value {
    /// The map kind this value belongs to.
    pub fn kind(&self) -> MapKind {
        match self {
            Value::Count(_) => MapKind::Count,
            Value::Sum(_) => MapKind::Sum,
            Value::Min(_) => MapKind::Min,
            Value::Max(_) => MapKind::Max,
            Value::Avg { .. } => MapKind::Avg,
            Value::Stats { .. } => MapKind::Stats,
            Value::Hist(_) => MapKind::Hist,
            Value::LHist { .. } => MapKind::LHist,
            Value::Int(_) => MapKind::Int,
            Value::UInt(_) => MapKind::UInt,
            Value::Str(_) | Value::Tuple { .. } => MapKind::Str,
        }
    }
}

impl Entry {
    pub fn new(key: Vec<KeyPart>, value: Value) -> Self {
        Entry { key, value }
    }

    /// An entry of a keyless map.
    pub fn keyless(value: Value) -> Self {
        Entry { key: Vec::new(), value }
    }
}

impl MapDump {
    /// A map whose kind is taken from its first entry.
    ///
    /// # Panics
    /// If `entries` is empty: use [`MapDump::empty`] (or build the struct) to give the kind.
    pub fn new(name: impl Into<String>, entries: Vec<Entry>) -> Self {
        let kind = entries.first().expect("MapDump::new needs an entry to know the kind").value.kind();
        MapDump { name: name.into(), kind, entries }
    }

    /// A map with no entries (e.g. never written, or cleared).
    pub fn empty(name: impl Into<String>, kind: MapKind) -> Self {
        MapDump { name: name.into(), kind, entries: Vec::new() }
    }

    /// A keyless map holding one value.
    pub fn scalar(name: impl Into<String>, value: Value) -> Self {
        MapDump::new(name, vec![Entry::keyless(value)])
    }
}

// ---------------------------------------------------------------------------------------------
// Bucket index functions (reference implementations for the code generator's tests).

/// bpftrace's log2 bucket index of `v`: 0 if negative, 1 if zero, else `2 + floor(log2(v))`.
pub fn log2_index(v: i64) -> usize {
    if v < 0 {
        0
    } else if v == 0 {
        1
    } else {
        2 + (63 - v.leading_zeros() as usize)
    }
}

/// bpftrace's lhist bucket index of `v` (see the module docs). `step` must be positive.
pub fn lhist_index(v: i64, min: i64, max: i64, step: i64) -> usize {
    if v < min {
        0
    } else if v > max {
        1 + ((max - min) / step) as usize
    } else {
        1 + ((v - min) / step) as usize
    }
}

/// Number of buckets an lhist with these bounds has: `(max - min) / step + 2`.
pub fn lhist_buckets(min: i64, max: i64, step: i64) -> usize {
    ((max - min) / step) as usize + 2
}

// ---------------------------------------------------------------------------------------------
// Labels and bars.

/// The label of `2^power` as bpftrace prints it: `1`, `2`, ... `512`, `1K`, ... `512K`, `1M`, ...
/// with K/M/G/T for powers of 1024. bpftrace 0.17 stops at T (it never needs more, see the module
/// docs); vt goes on with P (2^50) and E (2^60) so that its full 64-bit buckets read well.
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

/// One histogram row: label left-aligned in 16 columns, count right-aligned in 8, then the bar.
fn hist_row(out: &mut String, label: &str, shown: u64, bar: usize) {
    let _ = writeln!(out, "{:<16}{:>8} |{:<width$}|", label, shown, "@".repeat(bar), width = BAR_WIDTH);
}

/// The rows of a log2 histogram (no map name), from the first to the last non-zero bucket.
/// Empty if every bucket is zero. `div` (0 means 1) divides the printed counts but not the bars,
/// like `print(@h, 0, div)`.
pub fn hist_text(buckets: &[u64], div: u32) -> String {
    let div = u64::from(div.max(1));
    let mut out = String::new();
    let Some(first) = buckets.iter().position(|&v| v > 0) else {
        return out;
    };
    let last = buckets.iter().rposition(|&v| v > 0).unwrap_or(first);
    let max = buckets.iter().copied().max().unwrap_or(0);
    for (i, &v) in buckets.iter().enumerate().take(last + 1).skip(first) {
        hist_row(&mut out, &hist_bucket_label(i), v / div, bar_len(v, max));
    }
    out
}

/// The rows of a linear histogram (no map name), trimmed of zero buckets at both ends.
/// Empty if every bucket is zero. (bpftrace ignores `div` for lhist.)
pub fn lhist_text(min: i64, max: i64, step: i64, buckets: &[u64]) -> String {
    let mut out = String::new();
    if step <= 0 || max < min {
        return out;
    }
    let n = lhist_buckets(min, max, step);
    let at = |i: usize| buckets.get(i).copied().unwrap_or(0);
    let Some(first) = (0..n).find(|&i| at(i) > 0) else {
        return out;
    };
    let last = (0..n).rev().find(|&i| at(i) > 0).unwrap_or(first);
    let vmax = buckets.iter().copied().max().unwrap_or(0);
    for i in first..=last {
        hist_row(&mut out, &lhist_bucket_label(i, min, max, step), at(i), bar_len(at(i), vmax));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Maps.

fn key_part_text(part: &KeyPart) -> String {
    match part {
        KeyPart::Int(v) => v.to_string(),
        KeyPart::UInt(v) => (*v as i64).to_string(),
        KeyPart::Str(s) => s.clone(),
    }
}

/// `@name` or `@name[k1, k2]`.
pub fn key_text(name: &str, key: &[KeyPart]) -> String {
    let mut s = format!("@{name}");
    if !key.is_empty() {
        s.push('[');
        for (i, part) in key.iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            s.push_str(&key_part_text(part));
        }
        s.push(']');
    }
    s
}

/// bpftrace's `sort_by_key` order: integers as unsigned 64-bit, strings bytewise, part by part.
fn cmp_key(a: &[KeyPart], b: &[KeyPart]) -> Ordering {
    fn rank(p: &KeyPart) -> u8 {
        match p {
            KeyPart::Int(_) | KeyPart::UInt(_) => 0,
            KeyPart::Str(_) => 1,
        }
    }
    for (x, y) in a.iter().zip(b) {
        let o = match (x, y) {
            (KeyPart::Str(x), KeyPart::Str(y)) => x.as_bytes().cmp(y.as_bytes()),
            (KeyPart::Int(_) | KeyPart::UInt(_), KeyPart::Int(_) | KeyPart::UInt(_)) => {
                let u = |p: &KeyPart| match p {
                    KeyPart::Int(v) => *v as u64,
                    KeyPart::UInt(v) => *v,
                    KeyPart::Str(_) => 0,
                };
                u(x).cmp(&u(y))
            }
            _ => rank(x).cmp(&rank(y)),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

fn avg_of(count: u64, total: i64) -> i64 {
    if count == 0 {
        0
    } else {
        // bpftrace: (int64_t)count, total / count, truncated toward zero.
        total.wrapping_div(count as i64)
    }
}

/// The number a keyed map sorts its entries by (None: sort by key only).
fn sort_value(v: &Value) -> Option<i128> {
    Some(match v {
        Value::Count(c) => i128::from(*c),
        Value::Sum(s) | Value::Min(s) | Value::Max(s) | Value::Int(s) => i128::from(*s),
        Value::UInt(u) => i128::from(*u),
        Value::Avg { count, total } | Value::Stats { count, total } => i128::from(avg_of(*count, *total)),
        Value::Hist(b) | Value::LHist { buckets: b, .. } => b.iter().map(|&x| i128::from(x)).sum(),
        Value::Str(_) | Value::Tuple { .. } => return None,
    })
}

/// A value that prints as one number (count, sum, min, max, avg, integers), divided by `div`.
pub fn number_text(v: &Value, div: u32) -> Option<String> {
    let d = div.max(1);
    Some(match v {
        Value::Count(c) | Value::UInt(c) => (c / u64::from(d)).to_string(),
        Value::Sum(s) | Value::Min(s) | Value::Max(s) | Value::Int(s) => (s / i64::from(d)).to_string(),
        Value::Avg { count, total } => (avg_of(*count, *total) / i64::from(d)).to_string(),
        _ => return None,
    })
}

fn value_text(v: &Value, div: u32) -> String {
    if let Some(n) = number_text(v, div) {
        return n;
    }
    match v {
        Value::Stats { count, total } => {
            format!("count {}, average {}, total {}", count, avg_of(*count, *total), total)
        }
        Value::Hist(b) => hist_text(b, div),
        Value::LHist { min, max, step, buckets } => lhist_text(*min, *max, *step, buckets),
        Value::Str(s) => s.clone(),
        Value::Tuple { ty, bytes } => crate::maps::value_text(ty, bytes),
        _ => unreachable!("numbers are printed above"),
    }
}

/// The entries in the order bpftrace prints them.
pub fn sorted_entries(map: &MapDump) -> Vec<&Entry> {
    let mut entries: Vec<&Entry> = map.entries.iter().collect();
    entries.sort_by(|a, b| cmp_key(&a.key, &b.key));
    entries.sort_by(|a, b| match (sort_value(&a.value), sort_value(&b.value)) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => Ordering::Equal,
    });
    entries
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
    let entries = sorted_entries(map);
    let skip = match (top as usize, map.kind) {
        (0, _) | (_, MapKind::Stats) => 0,
        (t, _) => entries.len().saturating_sub(t),
    };
    let mut elems = Vec::with_capacity(entries.len() - skip);
    for e in entries.into_iter().skip(skip) {
        let mut s = key_text(&map.name, &e.key);
        s.push_str(": ");
        if matches!(e.value, Value::Hist(_) | Value::LHist { .. }) {
            s.push('\n');
        }
        s.push_str(&value_text(&e.value, div));
        elems.push(s);
    }
    let mut out = elems.join("\n");
    out.push('\n');
    if matches!(map.kind, MapKind::Avg | MapKind::Stats) {
        out.push('\n');
    }
    out
}

/// All maps as bpftrace prints them at exit, sorted by name (the order of `maps` does not matter).
/// Does not include [`EXIT_PREAMBLE`]; see [`exit_text`].
pub fn bpftrace_text(maps: &[MapDump]) -> String {
    styled_text(maps, HistStyle::Bpftrace)
}

/// [`bpftrace_text`] with histograms in `style`.
pub fn styled_text(maps: &[MapDump], style: HistStyle) -> String {
    let mut sorted: Vec<&MapDump> = maps.iter().collect();
    sorted.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    sorted.into_iter().map(|m| styled_map_text(m, 0, 0, style, None)).collect()
}

/// Everything bpftrace prints to stdout at exit: [`EXIT_PREAMBLE`] then [`bpftrace_text`].
pub fn exit_text(maps: &[MapDump]) -> String {
    exit_text_styled(maps, HistStyle::Bpftrace)
}

/// [`exit_text`] with histograms in `style`.
pub fn exit_text_styled(maps: &[MapDump], style: HistStyle) -> String {
    let mut s = String::from(EXIT_PREAMBLE);
    s.push_str(&styled_text(maps, style));
    s
}

// ---------------------------------------------------------------------------------------------
// BCC.

/// Width of BCC's `*` bar (halved in the wide layout).
pub const BCC_STARS: usize = 40;

/// Converts bpftrace-convention log2 buckets (see the module docs) into BCC's slots as
/// `bpf_log2l()` + `print_log2_hist` number them (65 slots).
///
/// BCC's `bpf_log2l(v)` is `floor(log2(v)) + 1` for `v > 0` and 1 for `v == 0`, on the value as
/// an unsigned 64-bit number; slot `i >= 1` is printed as `2^(i-1) -> 2^i - 1`, except slot 1
/// which is `0 -> 1`. So: slot 1 = our index 1 (zero) + index 2 (one); slot `i` = our index
/// `i + 1` for `i` in 2..=63; and our negative bucket (index 0) goes to slot 64 (`2^63 -> 2^64-1`),
/// which is where BCC records a negative number sign-extended to `unsigned long`.
pub fn bcc_slots(buckets: &[u64]) -> Vec<u64> {
    let at = |i: usize| buckets.get(i).copied().unwrap_or(0);
    let mut slots = vec![0u64; HIST_BUCKETS];
    slots[1] = at(1) + at(2);
    for (i, slot) in slots.iter_mut().enumerate().take(64).skip(2) {
        *slot = at(i + 1);
    }
    slots[64] = at(0);
    slots
}

/// BCC's `_stars`: the loop `while not (i > width*val/val_max - 1 or i > width - 1)`, with
/// Python 3's true division; `+` replaces the last star when `val > val_max`.
fn bcc_stars(val: u64, val_max: u64, width: usize) -> String {
    let x = (width as f64 * val as f64) / val_max as f64;
    let mut n = 0usize;
    while !((n as f64) > x - 1.0 || n > width.saturating_sub(1)) {
        n += 1;
    }
    let mut s = "*".repeat(n);
    if val > val_max {
        s.pop();
        s.push('+');
    }
    s
}

/// A log2 histogram laid out as BCC's `table.print_log2_hist(val_type)` prints it, from BCC
/// slots (see [`bcc_slots`]; slot 0 is never printed). Prints the header and rows from slot 1 up
/// to the last non-zero slot; nothing if no slot above 0 is non-zero. Up to slot 32 the layout is
/// `%10d -> %-10d : %-8d |%-40s|`; beyond, `%20d -> %-20d : %-8d |%-20s|` under a wider header.
pub fn bcc_log2_hist(slots: &[u64], val_type: &str) -> String {
    let mut out = String::new();
    let Some(idx_max) = slots.iter().rposition(|&v| v > 0) else {
        return out;
    };
    if idx_max == 0 {
        return out;
    }
    let val_max = slots.iter().copied().max().unwrap_or(0);
    let (num_w, stars) = if idx_max <= 32 {
        let _ = writeln!(out, "     {:<19} : count     distribution", val_type);
        (10, BCC_STARS)
    } else {
        let _ = writeln!(out, "               {:<29} : count     distribution", val_type);
        (20, BCC_STARS / 2)
    };
    for (i, &val) in slots.iter().enumerate().take(idx_max + 1).skip(1) {
        let high = (1u128 << i) - 1;
        let mut low = (1u128 << i) >> 1;
        if low == high {
            low -= 1;
        }
        let _ = writeln!(
            out,
            "{:>w$} -> {:<w$} : {:<8} |{:<s$}|",
            low,
            high,
            val,
            bcc_stars(val, val_max, stars),
            w = num_w,
            s = stars
        );
    }
    out
}

/// A bpftrace-convention log2 histogram (a [`Value::Hist`]'s buckets) in BCC's layout, e.g.
/// `bcc_hist(&buckets, "recv pkts")`. See [`bcc_slots`] for how buckets map to BCC's rows.
pub fn bcc_hist(buckets: &[u64], label: &str) -> String {
    bcc_log2_hist(&bcc_slots(buckets), label)
}

/// How histograms print: bpftrace's `@` bars, or BCC's `print_log2_hist` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HistStyle {
    #[default]
    Bpftrace,
    Bcc,
}

/// One map for `print()` or the exit dump, in `style`. In BCC style a log2 histogram prints as BCC's
/// table under its `@name[key]:` line, with `label` as the value column (BCC's default is "value");
/// `print(@h, "label")` asks for the table alone, as BCC's `print_log2_hist("label")` prints it.
pub fn styled_map_text(map: &MapDump, top: u32, div: u32, style: HistStyle, label: Option<&str>) -> String {
    if map.kind != MapKind::Hist || (style == HistStyle::Bpftrace && label.is_none()) {
        return map_text_with(map, top, div);
    }
    let mut out = String::new();
    for e in &map.entries {
        let Value::Hist(buckets) = &e.value else { continue };
        if label.is_none() {
            let _ = writeln!(out, "{}:", key_text(&map.name, &e.key));
        }
        out.push_str(&bcc_hist(buckets, label.unwrap_or("value")));
        if label.is_none() {
            out.push('\n');
        }
    }
    out
}
