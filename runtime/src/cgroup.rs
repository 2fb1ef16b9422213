//! cgroup ids as paths, as bpftrace's `cgroup_path` prints them: for each mounted cgroup hierarchy
//! whose name matches the filter (`unified` for cgroup2, the mount point's last component for a v1
//! hierarchy), `name:path`, where path is that of the file whose inode number is the id (a cgroup's
//! id is its directory's inode number on cgroup2), relative to the mount, `/` for the root; unified
//! first, then by name, joined with commas; a hierarchy where nothing has that number is left out.
//! (bpftrace looks for the cgroup2 id in v1 hierarchies too, where it may name an unrelated file:
//! so does vt, to print the same.)
//!
//! One walk of a hierarchy indexes all its inode numbers; an id is looked up there, checked with
//! one stat (the cgroup may be gone and the number reused), and a miss walks the hierarchy again
//! (a cgroup made since). So printing many keys of the same cgroups costs one walk.

use std::collections::HashMap;
use std::os::unix::fs::{DirEntryExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A hierarchy's name and mount point.
struct Hierarchy {
    name: String,
    mount: PathBuf,
}

/// Each mount point's index: inode number → path relative to the mount.
static INDEX: Mutex<Option<HashMap<PathBuf, HashMap<u64, String>>>> = Mutex::new(None);

/// The text of `cgroup_path(id, filter)`.
pub fn path(id: u64, filter: &str) -> String {
    let mut hs: Vec<Hierarchy> = hierarchies().into_iter().filter(|h| glob(filter, &h.name)).collect();
    hs.sort_by(|a, b| (a.name != "unified", &a.name).cmp(&(b.name != "unified", &b.name)));
    let mut index = INDEX.lock().unwrap_or_else(|e| e.into_inner());
    let index = index.get_or_insert_with(HashMap::new);
    let parts: Vec<String> = hs
        .iter()
        .filter_map(|h| {
            let p = in_hierarchy(index.entry(h.mount.clone()).or_default(), &h.mount, id);
            (!p.is_empty()).then(|| format!("{}:{}", h.name, p))
        })
        .collect();
    parts.join(",")
}

/// The cgroup mounts of /proc/self/mounts (each mount point once: one mounted over another is
/// listed twice but only the top one is seen).
fn hierarchies() -> Vec<Hierarchy> {
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    let mut out: Vec<Hierarchy> = Vec::new();
    for line in mounts.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let (Some(mount), Some(fstype)) = (f.get(1), f.get(2)) else { continue };
        let mount = PathBuf::from(unescape(mount));
        let name = match *fstype {
            "cgroup2" => "unified".to_string(),
            "cgroup" => mount.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            _ => continue,
        };
        if !out.iter().any(|h| h.mount == mount) {
            out.push(Hierarchy { name, mount });
        }
    }
    out
}

/// /proc/mounts writes space, tab, newline and backslash in paths as octal escapes.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let oct = b.get(i + 1..i + 4).filter(|d| b[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match oct {
            Some(d) => {
                out.push(d.iter().fold(0u8, |a, c| a.wrapping_mul(8) + (c - b'0')));
                i += 4;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The path of `id` in the hierarchy mounted at `mount`, `/` for its root, empty if none.
fn in_hierarchy(index: &mut HashMap<u64, String>, mount: &Path, id: u64) -> String {
    let ino = |p: &Path| std::fs::symlink_metadata(p).map(|m| m.ino()).ok();
    if ino(mount) == Some(id) {
        return "/".to_string();
    }
    if let Some(rel) = index.get(&id) {
        if ino(&mount.join(rel.trim_start_matches('/'))) == Some(id) {
            return rel.clone();
        }
    }
    index.clear();
    walk(mount, "", index);
    index.get(&id).cloned().unwrap_or_default()
}

/// Indexes every file and directory under `dir` (not following links) by inode number.
fn walk(dir: &Path, rel: &str, index: &mut HashMap<u64, String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let path = format!("{rel}/{}", e.file_name().to_string_lossy());
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            walk(&e.path(), &path, index);
        }
        index.entry(e.ino()).or_insert(path);
    }
}

/// bpftrace's wildcard match: `*` matches any run of characters, everything else itself.
fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, rest)) => {
            let Some(tail) = name.strip_prefix(head) else { return false };
            (0..=tail.len()).filter(|&i| tail.is_char_boundary(i)).any(|i| glob(rest, &tail[i..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(glob("*", "unified"));
        assert!(glob("unified", "unified"));
        assert!(!glob("unified", "unified2"));
        assert!(glob("cpu*", "cpuacct"));
        assert!(glob("*acct", "cpuacct"));
        assert!(glob("c*a*t", "cpuacct"));
        assert!(!glob("mem*", "cpu"));
    }

    #[test]
    fn escapes() {
        assert_eq!(unescape(r"/a\040b\\c"), r"/a b\\c");
        assert_eq!(unescape(r"/x\134y"), r"/x\y");
    }

    #[test]
    fn a_directory_tree() {
        let root = std::env::temp_dir().join(format!("vt-cgroup-test-{}", std::process::id()));
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        let id = std::fs::metadata(root.join("a/b")).unwrap().ino();
        let mut index = HashMap::new();
        assert_eq!(in_hierarchy(&mut index, &root, id), "/a/b");
        assert_eq!(in_hierarchy(&mut index, &root, std::fs::metadata(&root).unwrap().ino()), "/");
        std::fs::remove_dir(root.join("a/b")).unwrap();
        std::fs::create_dir(root.join("a/c")).unwrap();
        let id_c = std::fs::metadata(root.join("a/c")).unwrap().ino();
        // Made after the walk: found by walking again.
        assert_eq!(in_hierarchy(&mut index, &root, id_c), "/a/c");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
