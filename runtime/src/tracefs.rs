//! Finding tracefs, and mounting it when it is missing and we may.

use std::path::{Path, PathBuf};

const MOUNT_POINT: &str = "/sys/kernel/tracing";
const CANDIDATES: [&str; 2] = [MOUNT_POINT, "/sys/kernel/debug/tracing"];

fn is_mounted(p: &Path) -> bool {
    p.join("events").is_dir()
}

/// The tracefs root, mounting it at /sys/kernel/tracing first if no mount is found and we are root.
pub fn locate() -> Result<PathBuf, String> {
    if let Some(p) = CANDIDATES.iter().map(Path::new).find(|p| is_mounted(p)) {
        return Ok(p.to_path_buf());
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        // Mounted but closed to this user (tracefs is root's only, mode 0700).
        if let Some(p) = CANDIDATES.iter().map(Path::new).find(|p| {
            std::fs::read_dir(p).is_err_and(|e| e.kind() == std::io::ErrorKind::PermissionDenied)
        }) {
            return Err(format!("{} is not readable by this user: run vt as root", p.display()));
        }
        return Err(format!(
            "tracefs is not mounted and only root can mount it: run `sudo mount -t tracefs nodev {MOUNT_POINT}`"
        ));
    }
    let c = |s: &str| std::ffi::CString::new(s).unwrap();
    let (src, target, fstype) = (c("nodev"), c(MOUNT_POINT), c("tracefs"));
    // SAFETY: all pointers are valid NUL-terminated strings; data may be null.
    let rc = unsafe { libc::mount(src.as_ptr(), target.as_ptr(), fstype.as_ptr(), 0, std::ptr::null()) };
    if rc != 0 || !is_mounted(Path::new(MOUNT_POINT)) {
        return Err(format!(
            "tracefs is not mounted and mounting it at {MOUNT_POINT} failed: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(PathBuf::from(MOUNT_POINT))
}
