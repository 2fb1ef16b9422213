//! Test programs built from source by the tests that need a program of known shape which the
//! workload cannot be (frame pointers, fixed addresses, C++ names): each built once per test run.

use std::path::PathBuf;
use std::process::Command;

/// Builds `source` (file name `file`, e.g. `calls.c`) with `compiler` and `flags` into a directory
/// of this test process, once; returns the program's path.
pub fn build(file: &str, source: &str, compiler: &str, flags: &[&str]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vt-programs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join(file);
    let bin = src.with_extension("");
    if !bin.exists() {
        std::fs::write(&src, source).unwrap();
        let status = Command::new(compiler)
            .args(flags)
            .arg("-o")
            .arg(&bin)
            .arg(&src)
            .status()
            .unwrap_or_else(|e| panic!("{compiler} must be installed (tests/run.sh installs it): {e}"));
        assert!(status.success(), "{compiler} failed to build {}", src.display());
    }
    bin
}
