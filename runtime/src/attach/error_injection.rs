//! What `override()` needs from the kernel, checked before a kprobe program that calls
//! `bpf_override_return` is loaded, so that a kernel that cannot do it gets a reason rather than the
//! verifier's "unknown func" or the attach's bare EINVAL: a kernel built with
//! `CONFIG_BPF_KPROBE_OVERRIDE` (which needs `CONFIG_FUNCTION_ERROR_INJECTION`), and a function on
//! its error-injection list (marked `ALLOW_ERROR_INJECTION`, which the kernel requires of a program
//! that overrides). Debian's 6.1 kernel, the test guest's, has neither option.

use lang::typed::Kprobe;
use std::path::Path;

const DEBUGFS: &str = "/sys/kernel/debug";
const LIST: &str = "/sys/kernel/debug/error_injection/list";

fn release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease").map(|s| s.trim().to_string()).unwrap_or_else(|_| "this kernel".into())
}

fn debugfs_mounted() -> bool {
    std::fs::read_to_string("/proc/self/mounts").is_ok_and(|m| m.lines().any(|l| l.split(' ').nth(1) == Some(DEBUGFS)))
}

/// Mounts debugfs at /sys/kernel/debug (root only; vt mounts tracefs the same way).
fn mount_debugfs() {
    let c = |s: &str| std::ffi::CString::new(s).unwrap();
    let (src, target, fstype) = (c("debugfs"), c(DEBUGFS), c("debugfs"));
    // SAFETY: NUL-terminated strings; data may be null. A failure shows as the list missing.
    unsafe { libc::mount(src.as_ptr(), target.as_ptr(), fstype.as_ptr(), 0, std::ptr::null()) };
}

/// The kernel's build configuration where it is plain text (`/boot/config-RELEASE`).
fn config(release: &str) -> Option<(String, String)> {
    let path = format!("/boot/config-{release}");
    std::fs::read_to_string(&path).ok().map(|text| (path, text))
}

/// The functions of the error-injection list (`FUNC\tTYPE`, `FUNC [MODULE]\tTYPE` for a module's).
fn listed(list: &str) -> impl Iterator<Item = &str> {
    list.lines().filter_map(|l| l.split(['\t', ' ']).next())
}

/// Why `override()` cannot work on `target` here, if it cannot.
pub fn check(target: &Kprobe) -> Result<(), String> {
    let release = release();
    if let Some((path, text)) = config(&release) {
        let has = |opt: &str| text.lines().any(|l| l.strip_prefix(opt) == Some("=y"));
        if !has("CONFIG_BPF_KPROBE_OVERRIDE") {
            let nor = match has("CONFIG_FUNCTION_ERROR_INJECTION") {
                true => "",
                false => " (nor with CONFIG_FUNCTION_ERROR_INJECTION, which it needs)",
            };
            return Err(format!("override() needs a kernel built with CONFIG_BPF_KPROBE_OVERRIDE, and {release} was not{nor}, says {path}"));
        }
    }
    if !Path::new(LIST).exists() && !debugfs_mounted() {
        mount_debugfs();
    }
    match std::fs::read_to_string(LIST) {
        Ok(list) if listed(&list).any(|f| f == target.func) => Ok(()),
        Ok(_) => Err(format!(
            "override() works only on functions on the kernel's error-injection list (marked ALLOW_ERROR_INJECTION), and `{}` is not on it ({LIST})",
            target.func
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && debugfs_mounted() => Err(format!(
            "override() needs function error injection, and {release} has none: there is no {LIST} (a kernel built without CONFIG_FUNCTION_ERROR_INJECTION, hence without CONFIG_BPF_KPROBE_OVERRIDE)"
        )),
        Err(e) => Err(format!("override() works only on functions on the kernel's error-injection list, and {LIST} cannot be read: {e} (is debugfs mounted at {DEBUGFS}?)")),
    }
}

#[cfg(test)]
mod tests {
    use super::listed;

    #[test]
    fn list_entries_with_and_without_a_module() {
        let list = "should_failslab\tERRNO\n__x64_sys_getppid\tERRNO\nbtrfs_should_cancel_balance [btrfs]\tTRUE\n";
        assert_eq!(listed(list).collect::<Vec<_>>(), ["should_failslab", "__x64_sys_getppid", "btrfs_should_cancel_balance"]);
    }
}
