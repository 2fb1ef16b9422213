//! BCC `print_log2_hist` layout, checked against the real BCC output in the project seed
//! (`/work/shared/seed/000_b23378af8053d779.txt`, copied with its non-breaking spaces turned back
//! into spaces as `golden/bcc_vhost_seed.txt`).

use runtime::output::{bcc::*, shape::*};
use std::path::Path;

struct Block {
    label: String,
    text: String,
    /// BCC slots as printed (slot 1 = `0 -> 1`, slot i = `2^(i-1) -> 2^i - 1`).
    slots: Vec<u64>,
}

fn seed_blocks() -> Vec<Block> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/bcc_vhost_seed.txt");
    let text = std::fs::read_to_string(path).unwrap();
    let mut blocks: Vec<Block> = Vec::new();
    for line in text.lines() {
        if line.ends_with(": count     distribution") {
            let label = line[5..24].trim_end().to_string();
            blocks.push(Block { label, text: format!("{line}\n"), slots: vec![0; 65] });
        } else if line.contains(" -> ") {
            let b = blocks.last_mut().unwrap();
            b.text.push_str(line);
            b.text.push('\n');
            let (range, rest) = line.split_once(" : ").unwrap();
            let low: u64 = range.split(" -> ").next().unwrap().trim().parse().unwrap();
            let count: u64 = rest.split_whitespace().next().unwrap().parse().unwrap();
            let slot = if low == 0 { 1 } else { 64 - low.leading_zeros() as usize };
            b.slots[slot] = count;
        }
    }
    blocks
}

#[test]
fn seed_has_two_complete_histograms() {
    let blocks = seed_blocks();
    assert_eq!(blocks.len(), 2);
    assert_eq!(blocks[0].label, "recv pkts");
    assert_eq!(blocks[1].label, "total len");
    assert_eq!(blocks[1].slots[18], 1, "131072 -> 262143 is slot 18");
}

#[test]
fn seed_rows_from_bcc_slots() {
    for b in seed_blocks() {
        assert_eq!(bcc_log2_hist(&b.slots, &b.label), b.text, "{}", b.label);
    }
}

#[test]
fn seed_rows_from_bpftrace_buckets() {
    for b in seed_blocks() {
        // Our buckets: index 1 = value 0, 2 = value 1, i + 1 = BCC slot i for i >= 2.
        // Put BCC's `0 -> 1` count in our `[1]` bucket, and check the split does not matter.
        let mut buckets = vec![0u64; HIST_BUCKETS];
        buckets[2] = b.slots[1];
        buckets[3..65].copy_from_slice(&b.slots[2..64]);
        assert_eq!(bcc_hist(&buckets, &b.label), b.text, "{}", b.label);
        let (zero, one) = (buckets[2] / 3, buckets[2] - buckets[2] / 3);
        buckets[1] = zero;
        buckets[2] = one;
        assert_eq!(bcc_hist(&buckets, &b.label), b.text, "{}", b.label);
    }
}

#[test]
fn slots_mapping() {
    let mut buckets = vec![0u64; HIST_BUCKETS];
    for v in [-5i64, 0, 1, 2, 3, 4, 7, 8, 1 << 40, i64::MAX] {
        buckets[log2_index(v)] += 1;
    }
    let slots = bcc_slots(&buckets);
    assert_eq!(slots.len(), 65);
    assert_eq!(slots[0], 0);
    assert_eq!(slots[1], 2, "0 and 1 share BCC's 0 -> 1");
    assert_eq!(slots[2], 2, "2 -> 3");
    assert_eq!(slots[3], 2, "4 -> 7");
    assert_eq!(slots[4], 1, "8 -> 15");
    assert_eq!(slots[41], 1, "2^40 -> 2^41-1");
    assert_eq!(slots[63], 1, "2^62 -> 2^63-1");
    assert_eq!(slots[64], 1, "negative, as bpf_log2l sees it sign-extended");
}

#[test]
fn empty_prints_nothing() {
    assert_eq!(bcc_hist(&[], "x"), "");
    assert_eq!(bcc_hist(&[0; 65], "x"), "");
    assert_eq!(bcc_log2_hist(&[7], "x"), "", "slot 0 alone: no header, no rows");
}

#[test]
fn leading_zero_slots_are_printed() {
    let mut slots = vec![0u64; 65];
    slots[4] = 10;
    slots[5] = 3;
    let want = "     usecs               : count     distribution\n\
\x20        0 -> 1          : 0        |                                        |\n\
\x20        2 -> 3          : 0        |                                        |\n\
\x20        4 -> 7          : 0        |                                        |\n\
\x20        8 -> 15         : 10       |****************************************|\n\
\x20       16 -> 31         : 3        |************                            |\n";
    assert_eq!(bcc_log2_hist(&slots, "usecs"), want);
}

#[test]
fn wide_layout_above_slot_32() {
    let mut slots = vec![0u64; 65];
    slots[1] = 4;
    slots[33] = 1;
    let text = bcc_log2_hist(&slots, "bytes");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "               bytes                         : count     distribution");
    assert_eq!(lines[1], "                   0 -> 1                    : 4        |********************|");
    assert_eq!(lines[33], "          4294967296 -> 8589934591           : 1        |*****               |");
    assert_eq!(lines.len(), 34);
    // The negative bucket is slot 64, 2^63 -> 2^64-1, which also needs the wide layout.
    let mut b = vec![0u64; HIST_BUCKETS];
    b[0] = 1;
    let t = bcc_hist(&b, "v");
    assert!(
        t.ends_with(" 9223372036854775808 -> 18446744073709551615 : 1        |********************|\n"),
        "{t}"
    );
}

#[test]
fn stars_truncate() {
    // 40 * 40457 / 482291 = 3.36 -> 3 stars; exact multiples give the full count.
    let mut slots = vec![0u64; 65];
    slots[1] = 482291;
    slots[2] = 40457;
    slots[3] = 1;
    slots[4] = 241146; // 19.99999 -> 19
    slots[5] = 241146 * 2 + 1; // 40.0000x -> capped at 40
    let text = bcc_log2_hist(&slots, "x");
    let stars: Vec<usize> = text.lines().skip(1).map(|l| l.matches('*').count()).collect();
    assert_eq!(stars, vec![39, 3, 0, 19, 40]);
}
