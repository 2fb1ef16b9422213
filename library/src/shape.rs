//! Value shapes: what map contents and printed values look like to the formatters, whatever aggregation
//! or map produced them. A format renders shapes, never aggregations, so a new aggregation costs the
//! formatters nothing (its registry entry decodes into one of these) and a new format costs one file.
//!
//! # Log2 histogram buckets (the contract with the code generator)
//!
//! [`Value::Hist`] holds `buckets[index] = count`, with bpftrace's index for a value `v` (taken as a
//! signed 64-bit integer):
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
//! `[2G, 4G)` (checked: `hist(1<<40)` prints `[2G, 4G)`). vt uses the correct formula above;
//! for values below 2^32 both agree.
//!
//! # Linear histogram buckets
//!
//! [`Value::LHist`] `{ min, max, step, buckets }` uses bpftrace's `lhist` index ([`lhist_index`]):
//! `0` if `v < min`; `1 + (max - min) / step` if `v > max`; else `1 + (v - min) / step`.
//! With `n = (max - min) / step`, index 0 is labelled `(..., min)`, index `n + 1` is `[max, ...)`,
//! and index `i` in `1..=n` is `[min + (i-1)*step, min + i*step)`. When `step` does not divide
//! `max - min`, values in `[min + n*step, max]` also land in index `n + 1` (bpftrace does the same).
//!
//! # Order (what bpftrace 0.17 does that is easy to miss)
//!
//! Maps print sorted by name. Keyed maps sort ascending by value: integers by the value, averages and
//! stats by the average, histograms by the total of all buckets; strings and tuples by key. bpftrace
//! breaks ties in hash-table order (i.e. unpredictably); vt breaks them by key, with integers compared
//! as unsigned 64-bit and strings bytewise (bpftrace's `sort_by_key` order). Integer keys print signed
//! (bpftrace reads them as `intN_t`): a `u64` key of `2^64 - 1` prints `-1`.

use std::cmp::Ordering;
use std::fmt;

/// Number of log2 buckets that covers every `i64` (indices 0..=64).
pub const HIST_BUCKETS: usize = 65;

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

/// One value: an entry of a map, reduced over CPUs, or a value a program printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A signed integer (`sum`, `min`, `max`, `@x = -5`).
    Int(i64),
    /// An unsigned integer (`count`, an unsigned `sum`, `@x = 5u`).
    UInt(u64),
    /// An average, printed as one number: `total / count` (truncated toward zero; 0 when `count` is 0).
    Avg { count: u64, total: i64 },
    /// Count, average and total, printed `count N, average A, total T`.
    Stats { count: u64, total: i64 },
    /// A log2 histogram: `buckets[index] = count`, index as described in the module docs
    /// (0 = negative, 1 = zero, 2 = one, `k + 2` = `[2^k, 2^(k+1))`). May be shorter than
    /// [`HIST_BUCKETS`]; missing buckets count as zero.
    Hist(Vec<u64>),
    /// A linear histogram: `buckets[index] = count`, index as described in the module docs
    /// (0 = below `min`, `(max - min) / step + 1` = above `max`).
    LHist { min: i64, max: i64, step: i64, buckets: Vec<u64> },
    /// A string, without its NUL padding.
    Str(String),
    /// A tuple (`(1, "a")`), printed `(1, a)` (`[1,"a"]` in JSON).
    Tuple(Vec<Value>),
    /// A byte array (`pton(...)`), printed `[1,2,3,4]` (the same in JSON).
    Bytes(Vec<u8>),
}

/// The shape of a map's values, which decides its layout (trailing newlines, what `top` does, JSON's
/// envelope) even when the map is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    UInt,
    Avg,
    Stats,
    Hist,
    LHist,
    Str,
    Tuple,
}

/// What an aggregation's values are as Prometheus metrics (the exposition's `TYPE`); the aggregation
/// says it (`Decode::metric`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Only goes up (`count`).
    Counter,
    /// A total: a counter when it can never go down (unsigned argument, map never cleared or deleted
    /// from), a gauge otherwise (`sum`).
    Total,
    /// Any value (`min`, `max`, plain values).
    Gauge,
    /// A count and a total (`avg`, `stats`): `_count` and `_sum`.
    Summary,
    /// Buckets (`hist`, `lhist`).
    Histogram,
}

impl Kind {
    /// The metric type of values of this kind when nothing more is known.
    pub fn metric(self) -> Metric {
        match self {
            Kind::Avg | Kind::Stats => Metric::Summary,
            Kind::Hist | Kind::LHist => Metric::Histogram,
            Kind::Int | Kind::UInt | Kind::Str | Kind::Tuple => Metric::Gauge,
        }
    }
}

/// One map entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Empty for a keyless map.
    pub key: Vec<KeyPart>,
    pub value: Value,
    /// A histogram's sum of the values it counted, when its aggregation keeps one (`hist` and
    /// `lhist` do, for the metrics' `_sum`; bpftrace's text and JSON show none).
    pub sum: Option<i128>,
}

/// The whole contents of one map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapDump {
    /// Without the `@`; `""` for the anonymous map `@`.
    pub name: String,
    pub kind: Kind,
    /// In any order; the formatters sort them ([`MapDump::shown`]).
    pub entries: Vec<Entry>,
}

impl fmt::Display for KeyPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyPart::Int(v) => write!(f, "{v}"),
            KeyPart::UInt(v) => write!(f, "{}", *v as i64),
            KeyPart::Str(s) => f.write_str(s),
        }
    }
}

/// `total / count` as bpftrace computes it: `(int64_t)count`, truncated toward zero; 0 for no count.
pub fn average(count: u64, total: i64) -> i64 {
    if count == 0 {
        0
    } else {
        total.wrapping_div(count as i64)
    }
}

/// A number as printed, after dividing by `div`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Number {
    Signed(i64),
    Unsigned(u64),
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Signed(v) => write!(f, "{v}"),
            Number::Unsigned(v) => write!(f, "{v}"),
        }
    }
}

impl Value {
    /// The kind of map this value belongs to.
    pub fn kind(&self) -> Kind {
        match self {
            Value::Int(_) => Kind::Int,
            Value::UInt(_) => Kind::UInt,
            Value::Avg { .. } => Kind::Avg,
            Value::Stats { .. } => Kind::Stats,
            Value::Hist(_) => Kind::Hist,
            Value::LHist { .. } => Kind::LHist,
            Value::Str(_) | Value::Bytes(_) => Kind::Str,
            Value::Tuple(_) => Kind::Tuple,
        }
    }

    /// A value that prints as one number (integers, averages), divided by `div` (0 means 1).
    pub fn number(&self, div: u32) -> Option<Number> {
        let d = div.max(1);
        Some(match self {
            Value::UInt(c) => Number::Unsigned(c / u64::from(d)),
            Value::Int(s) => Number::Signed(s / i64::from(d)),
            Value::Avg { count, total } => Number::Signed(average(*count, *total) / i64::from(d)),
            _ => return None,
        })
    }

    /// The number a keyed map sorts its entries by (None: sort by key only).
    fn sort_value(&self) -> Option<i128> {
        Some(match self {
            Value::Int(s) => i128::from(*s),
            Value::UInt(u) => i128::from(*u),
            Value::Avg { count, total } | Value::Stats { count, total } => i128::from(average(*count, *total)),
            Value::Hist(b) | Value::LHist { buckets: b, .. } => b.iter().map(|&x| i128::from(x)).sum(),
            Value::Str(_) | Value::Tuple(_) | Value::Bytes(_) => return None,
        })
    }
}

impl Entry {
    pub fn new(key: Vec<KeyPart>, value: Value) -> Self {
        Entry { key, value, sum: None }
    }

    /// An entry of a keyless map.
    pub fn keyless(value: Value) -> Self {
        Entry { key: Vec::new(), value, sum: None }
    }

    /// The entry with a histogram's sum.
    pub fn with_sum(self, sum: Option<i128>) -> Self {
        Entry { sum, ..self }
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
    pub fn empty(name: impl Into<String>, kind: Kind) -> Self {
        MapDump { name: name.into(), kind, entries: Vec::new() }
    }

    /// A keyless map holding one value.
    pub fn scalar(name: impl Into<String>, value: Value) -> Self {
        MapDump::new(name, vec![Entry::keyless(value)])
    }

    /// The entries `print(@m, top)` shows, in the order bpftrace prints them: with `top > 0`, only the
    /// last `top` in sorted order (the largest), still ascending. As in bpftrace, stats ignore `top`.
    pub fn shown(&self, top: u32) -> Vec<&Entry> {
        let mut entries = sorted_entries(self);
        let skip = match (top as usize, self.kind) {
            (0, _) | (_, Kind::Stats) => 0,
            (t, _) => entries.len().saturating_sub(t),
        };
        entries.drain(..skip);
        entries
    }
}

/// Maps in the order they print at exit: by name, bytewise.
pub fn by_name(maps: &[MapDump]) -> Vec<&MapDump> {
    let mut sorted: Vec<&MapDump> = maps.iter().collect();
    sorted.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    sorted
}

/// bpftrace's `sort_by_key` order: integers as unsigned 64-bit, strings bytewise, part by part.
fn cmp_key(a: &[KeyPart], b: &[KeyPart]) -> Ordering {
    fn rank(p: &KeyPart) -> u8 {
        match p {
            KeyPart::Int(_) | KeyPart::UInt(_) => 0,
            KeyPart::Str(_) => 1,
        }
    }
    let unsigned = |p: &KeyPart| match p {
        KeyPart::Int(v) => *v as u64,
        KeyPart::UInt(v) => *v,
        KeyPart::Str(_) => 0,
    };
    for (x, y) in a.iter().zip(b) {
        let o = match (x, y) {
            (KeyPart::Str(x), KeyPart::Str(y)) => x.as_bytes().cmp(y.as_bytes()),
            (KeyPart::Int(_) | KeyPart::UInt(_), KeyPart::Int(_) | KeyPart::UInt(_)) => unsigned(x).cmp(&unsigned(y)),
            _ => rank(x).cmp(&rank(y)),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

/// The entries in the order bpftrace prints them.
pub fn sorted_entries(map: &MapDump) -> Vec<&Entry> {
    let mut entries: Vec<&Entry> = map.entries.iter().collect();
    entries.sort_by(|a, b| cmp_key(&a.key, &b.key));
    entries.sort_by(|a, b| match (a.value.sort_value(), b.value.sort_value()) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => Ordering::Equal,
    });
    entries
}

// ---------------------------------------------------------------------------------------------
// Buckets.

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

/// The buckets that print: from the first to the last non-zero one (`None` when all are zero). A
/// linear histogram's span stays within its `lhist_buckets` (none for bounds it cannot have).
pub fn bucket_span(value: &Value) -> Option<(usize, usize)> {
    let (n, buckets) = match value {
        Value::Hist(b) => (b.len(), b),
        Value::LHist { min, max, step, buckets } if *step > 0 && max >= min => (lhist_buckets(*min, *max, *step), buckets),
        _ => return None,
    };
    let at = |i: usize| buckets.get(i).copied().unwrap_or(0);
    let first = (0..n).find(|&i| at(i) > 0)?;
    let last = (0..n).rev().find(|&i| at(i) > 0).unwrap_or(first);
    Some((first, last))
}
