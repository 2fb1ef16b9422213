//! Finding (and building) the binaries the tests run: `vt` and the kit's workload program `shapes`; running `vt`.

use crate::deadline::run_with_deadline;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::sync::Once;
use std::time::Duration;

/// The workspace root (the parent of this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("testkit/ has a parent").to_path_buf()
}

/// The kit's own directory (`testkit/`): conformance tables, goldens and fixtures are under it.
pub fn kit_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

static BUILD: Once = Once::new();

/// `$VAR` if set, else `<target>/debug/NAME`, after building `vt` and `shapes` once per test process
/// (one cargo call; a no-op when they are up to date). A test binary of another package cannot see
/// this package's binaries, so the kit builds them rather than trusting a stale file.
fn built(var: &str, name: &str) -> PathBuf {
    if let Some(bin) = std::env::var_os(var) {
        return PathBuf::from(bin);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"));
    BUILD.call_once(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-q", "-p", "runtime", "--bin", "vt", "-p", "vt-testkit", "--bin", "shapes"])
            .current_dir(workspace_root())
            .stdout(Stdio::null())
            .status()
            .expect("cannot run cargo to build vt and the workload");
        assert!(status.success(), "`cargo build -p runtime --bin vt -p vt-testkit --bin shapes` failed ({status})");
    });
    let bin = target.join("debug").join(name);
    assert!(bin.exists(), "{} does not exist after building it", bin.display());
    bin
}

/// The `vt` binary: `$VT_BIN` if set, else `<target>/debug/vt`, built once per test process.
pub fn vt_bin() -> PathBuf {
    built("VT_BIN", "vt")
}

/// The workload program, `shapes` (src/bin/shapes.rs): `$VT_WORKLOAD_BIN` if set, else built like
/// [`vt_bin`].
pub fn workload_bin() -> PathBuf {
    built("VT_WORKLOAD_BIN", "shapes")
}

/// A `Command` for `vt`.
pub fn vt() -> Command {
    Command::new(vt_bin())
}

/// A `Command` for `vt` with the given arguments.
pub fn vt_command(args: &[&str]) -> Command {
    let mut c = vt();
    c.args(args);
    c
}

/// The first `program` in `$PATH`.
pub fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(program)).find(|p| p.is_file())
}

/// `vt ARGS` to its end within `limit`.
pub fn run_vt(args: &[&str], limit: Duration) -> Output {
    run_with_deadline(vt_command(args), limit.as_secs())
}

/// What `vt ARGS` prints on stdout; it must succeed within a minute.
pub fn vt_stdout(args: &[&str]) -> String {
    let out = run_with_deadline(vt_command(args), 60);
    assert!(out.status.success(), "vt {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Bytes as text, lossily.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The exit code, or 128 + signal as a shell says it.
pub fn code(s: &ExitStatus) -> i32 {
    s.code().unwrap_or_else(|| 128 + s.signal().unwrap_or(0))
}
