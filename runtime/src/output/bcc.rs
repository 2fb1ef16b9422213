//! BCC's layout of a log2 histogram, as `table.print_log2_hist(val_type)` prints it.

use super::shape::{MapDump, Value, HIST_BUCKETS};
use super::text::key_text;
use std::fmt::Write as _;

/// Width of BCC's `*` bar (halved in the wide layout).
pub const BCC_STARS: usize = 40;

/// Converts bpftrace-convention log2 buckets (see `shape`) into BCC's slots as `bpf_log2l()` +
/// `print_log2_hist` number them (65 slots).
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

/// A log2 histogram map in BCC's layout: each entry's table under its `@name[key]:` line, with
/// "value" (BCC's default) as the value column. With `label` (`print(@h, "label")`), the tables
/// alone, as BCC's `print_log2_hist("label")` prints them.
pub fn bcc_map_text(map: &MapDump, label: Option<&str>) -> String {
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
