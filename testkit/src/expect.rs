//! Expected bpftrace 0.17 output, computed independently of vt's own formatter.

/// bpftrace's power-of-two label: 2^power with K/M/G/T/P/E suffixes for powers of 1024.
pub fn pow2_label(power: u32) -> String {
    const SUFFIXES: [&str; 7] = ["", "K", "M", "G", "T", "P", "E"];
    let (unit, rest) = ((power / 10) as usize, power % 10);
    format!("{}{}", 1u64 << rest, SUFFIXES[unit])
}

/// The log2 histogram of `values` as (label, count) rows, zero rows trimmed at both ends and kept in
/// between: `(..., 0)` for negatives, `[0]`, `[1]`, then `[2^k, 2^(k+1))`.
pub fn log2_rows(values: impl IntoIterator<Item = i64>) -> Vec<(String, u64)> {
    // Index 0: negative; 1: zero; 2: one; 2 + k: [2^k, 2^(k+1)) for k >= 1.
    let mut counts = vec![0u64; 66];
    for v in values {
        let i = if v < 0 {
            0
        } else if v == 0 {
            1
        } else {
            // The k with 2^k <= v < 2^(k+1), by counting halvings.
            let (mut k, mut x) = (0usize, v as u64);
            while x > 1 {
                x /= 2;
                k += 1;
            }
            2 + k
        };
        counts[i] += 1;
    }
    let label = |i: usize| match i {
        0 => "(..., 0)".to_string(),
        1 => "[0]".to_string(),
        2 => "[1]".to_string(),
        _ => format!("[{}, {})", pow2_label(i as u32 - 2), pow2_label(i as u32 - 1)),
    };
    let Some(first) = counts.iter().position(|&c| c > 0) else { return Vec::new() };
    let last = counts.iter().rposition(|&c| c > 0).unwrap();
    (first..=last).map(|i| (label(i), counts[i])).collect()
}

/// A histogram map as bpftrace prints it: `@name: ` then one row per bucket (label left-aligned in 16
/// columns, count right-aligned in 8, a 52-column bar scaled to the largest count), then a blank line.
pub fn hist_text(name: &str, rows: &[(String, u64)]) -> String {
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0);
    let mut out = format!("{name}: \n");
    for (label, count) in rows {
        let width = if max == 0 { 0 } else { (*count as f32 / max as f32 * 52.0) as usize };
        out.push_str(&format!("{label:<16}{count:>8} |{:<52}|\n", "@".repeat(width)));
    }
    out.push('\n');
    out
}

/// What a tracer prints at exit for these map texts (already in name order): two newlines, then them.
pub fn exit_text(maps: &[String]) -> String {
    format!("\n\n{}", maps.concat())
}

/// A scalar map line: `@name: value`.
pub fn scalar(name: &str, value: i64) -> String {
    format!("{name}: {value}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(pow2_label(1), "2");
        assert_eq!(pow2_label(9), "512");
        assert_eq!(pow2_label(10), "1K");
        assert_eq!(pow2_label(21), "2M");
    }

    #[test]
    fn rows_for_small_values() {
        let rows = log2_rows([1, 2, 3, 4, 7, 8, 1024, 0, -5]);
        let labels: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(labels[..5], ["(..., 0)", "[0]", "[1]", "[2, 4)", "[4, 8)"]);
        assert_eq!(labels.last(), Some(&"[1K, 2K)"));
        assert_eq!(rows.iter().find(|r| r.0 == "[512, 1K)").map(|r| r.1), Some(0));
        assert_eq!(rows.iter().map(|r| r.1).sum::<u64>(), 9);
    }

    /// A histogram printed by real bpftrace 0.17 (`hist(args->count)` over writes of 1..=10 bytes).
    #[test]
    fn text_matches_real_bpftrace() {
        let expected = "@h: \n\
[1]                    1 |@@@@@@@@@@@@@                                       |\n\
[2, 4)                 2 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n\
[4, 8)                 4 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n\
[8, 16)                3 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@             |\n\n";
        assert_eq!(hist_text("@h", &log2_rows(1..=10)), expected);
    }
}
