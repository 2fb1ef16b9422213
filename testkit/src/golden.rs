//! Goldens: files holding what vt must produce (BPF listings, parse trees, …), compared byte for byte.
//!
//! The one bless switch of the repository is `VT_BLESS=1`: with it, [`check`] writes what was
//! produced into the golden file instead of comparing (review the result with `git diff` before
//! committing it). Any other value, or none, compares. Goldens that hold another program's output
//! (bpftrace 0.17's, under runtime/tests/golden/) are references: [`reference`] reads them and they
//! are never blessed from vt's output; they are regenerated from that program.

use std::path::Path;

/// The environment variable that blesses goldens.
pub const BLESS: &str = "VT_BLESS";

/// Whether this run blesses goldens (`VT_BLESS=1`).
pub fn blessing() -> bool {
    std::env::var(BLESS).is_ok_and(|v| v == "1")
}

/// The first line (1-based) where `a` and `b` differ.
fn first_difference(a: &str, b: &str) -> usize {
    let common = a.lines().zip(b.lines()).position(|(x, y)| x != y);
    common.unwrap_or(a.lines().count().min(b.lines().count())) + 1
}

/// Compares `actual` with the golden file `path` (panicking with both texts on a difference), or,
/// with `VT_BLESS=1`, writes `actual` to it.
pub fn check(path: &Path, actual: &str) {
    if blessing() {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        }
        std::fs::write(path, actual).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        eprintln!("blessed {}", path.display());
        return;
    }
    let expected = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e} (create it with {BLESS}=1, then review it)", path.display()));
    if expected != actual {
        panic!(
            "{} differs from line {} on ({BLESS}=1 accepts the new text, after review)\n--- expected ---\n{expected}--- actual ---\n{actual}",
            path.display(),
            first_difference(&expected, actual)
        );
    }
}

/// The text of a reference golden (another program's output, never blessed from vt's).
pub fn reference(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_different_line() {
        assert_eq!(first_difference("a\nb\nc\n", "a\nx\nc\n"), 2);
        assert_eq!(first_difference("a\n", "a\nb\n"), 2);
        assert_eq!(first_difference("a\n", "b\n"), 1);
    }

    #[test]
    fn compares_and_refuses_a_difference() {
        let dir = std::env::temp_dir().join(format!("vt-golden-{}", std::process::id()));
        let path = dir.join("g.txt");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(&path, "one\n").unwrap();
        if !blessing() {
            check(&path, "one\n");
            assert!(std::panic::catch_unwind(|| check(&path, "two\n")).is_err());
            assert_eq!(std::fs::read_to_string(&path).unwrap(), "one\n", "a comparison never writes");
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
