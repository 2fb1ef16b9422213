//! Tracepoint formats from tracefs (read lazily, one `format` file per tracepoint a script names), and
//! the name matching every probe kind shares: globs and "did you mean" hints. The probe kinds themselves
//! are registry entries in the `library` crate.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One field of a tracepoint record, as its `format` file describes it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Field {
    pub name: String,
    /// The C declaration's type, e.g. `unsigned int`, `const char *`, `char[16]`, `__data_loc char[]`.
    pub c_type: String,
    pub offset: u32,
    pub size: u32,
    pub signed: bool,
    pub kind: FieldKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FieldKind {
    /// An integer or a pointer (read as an unsigned 64-bit integer).
    Int,
    /// A fixed-size array `T name[N]` (`char[N]` is a string).
    Array,
    /// `__data_loc T[] name`: a 32-bit `offset | len << 16` relative to the record.
    DataLoc,
}

/// A tracepoint's record layout, without the `common_` fields (which `args` does not show).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Format {
    pub fields: Vec<Field>,
}

impl Format {
    /// Parses the text of `events/CAT/NAME/format`.
    pub fn parse(text: &str) -> Result<Format, String> {
        let mut fields = Vec::new();
        for line in text.lines() {
            let Some(rest) = line.trim().strip_prefix("field:") else { continue };
            let mut decl = None;
            let (mut offset, mut size, mut signed) = (None, None, false);
            for part in rest.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                if let Some(v) = part.strip_prefix("offset:") {
                    offset = v.parse().ok();
                } else if let Some(v) = part.strip_prefix("size:") {
                    size = v.parse().ok();
                } else if let Some(v) = part.strip_prefix("signed:") {
                    signed = v == "1";
                } else if decl.is_none() {
                    decl = Some(part);
                }
            }
            let (Some(decl), Some(offset), Some(size)) = (decl, offset, size) else {
                return Err(format!("malformed field line: {}", line.trim()));
            };
            let field = parse_decl(decl, offset, size, signed)?;
            if !field.name.starts_with("common_") {
                fields.push(field);
            }
        }
        Ok(Format { fields })
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// `unsigned int len`, `char comm[16]`, `__data_loc char[] name`, `const char * filename`.
fn parse_decl(decl: &str, offset: u32, size: u32, signed: bool) -> Result<Field, String> {
    let (head, array) = match decl.find('[') {
        Some(i) if !decl.starts_with("__data_loc") => (&decl[..i], Some(&decl[i..])),
        _ => (decl, None),
    };
    let head = head.trim_end();
    let split = head.rfind(|c: char| !(c.is_alphanumeric() || c == '_')).map_or(0, |i| i + 1);
    let (ty, name) = (head[..split].trim(), &head[split..]);
    if name.is_empty() || ty.is_empty() {
        return Err(format!("malformed field declaration: {decl}"));
    }
    let (kind, c_type) = if ty.starts_with("__data_loc") {
        (FieldKind::DataLoc, ty.to_string())
    } else if let Some(dims) = array {
        (FieldKind::Array, format!("{ty}{dims}"))
    } else {
        (FieldKind::Int, ty.to_string())
    };
    let (size, signed) = if kind == FieldKind::Int { syscall_int(&c_type, size, signed) } else { (size, signed) };
    Ok(Field { name: name.to_string(), c_type, offset, size, signed, kind })
}

/// The width and signedness bpftrace 0.17 gives an integer field. The `syscalls` formats widen every
/// argument to 8 bytes and mark it unsigned (`int dfd; size:8; signed:0`); bpftrace takes the type from
/// the C declaration instead: `int` becomes a signed 64-bit integer; `unsigned int`, `pid_t`, `uid_t`,
/// `gid_t` unsigned 64-bit ones; other types keep their C width and signedness (`off_t` is signed,
/// `umode_t` 2 bytes). Other formats' size and signed flags already agree with their C types.
fn syscall_int(c_type: &str, size: u32, signed: bool) -> (u32, bool) {
    if size != 8 || signed {
        return (size, signed);
    }
    match c_type.strip_prefix("const ").unwrap_or(c_type) {
        "int" | "long" | "long long" | "off_t" | "loff_t" | "ssize_t" | "s64" | "__s64" => (8, true),
        "key_t" | "key_serial_t" | "clockid_t" | "timer_t" | "mqd_t" | "rwf_t" | "s32" | "__s32" => (4, true),
        "__u32" | "qid_t" => (4, false),
        "umode_t" | "u16" | "__u16" | "unsigned short" => (2, false),
        _ => (size, signed),
    }
}

/// Where tracepoint formats come from: a tracefs mount, or a directory laid out like one
/// (`ROOT/events/CAT/NAME/format`), so that tests and `vt check` work without the tracepoint.
/// Formats are read lazily and only for the tracepoints a script uses.
pub struct Tracefs {
    root: PathBuf,
    formats: HashMap<(String, String), Arc<Format>>,
}

impl Tracefs {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Tracefs { root: root.into(), formats: HashMap::new() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The `events` directory: one directory per category, one per event below.
    pub fn events(&self) -> PathBuf {
        self.root.join("events")
    }

    /// Directory names under `dir`, sorted.
    fn list(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        names
    }

    pub fn categories(&self) -> Vec<String> {
        Self::list(&self.events())
    }

    pub fn events_of(&self, category: &str) -> Vec<String> {
        Self::list(&self.events().join(category))
    }

    pub fn format(&mut self, category: &str, name: &str) -> std::io::Result<Arc<Format>> {
        let key = (category.to_string(), name.to_string());
        if let Some(f) = self.formats.get(&key) {
            return Ok(f.clone());
        }
        let path = self.events().join(category).join(name).join("format");
        let text = std::fs::read_to_string(&path)?;
        let format = Format::parse(&text)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}: {e}", path.display())))?;
        let format = Arc::new(format);
        self.formats.insert(key, format.clone());
        Ok(format)
    }
}

impl Field {
    /// The field as a C declaration, the way `vt -lv` shows it: `int recv_pkts`, `char comm[16]`.
    pub fn declaration(&self) -> String {
        match self.c_type.find('[') {
            Some(i) if self.kind == FieldKind::Array => format!("{} {}{}", &self.c_type[..i], self.name, &self.c_type[i..]),
            _ if self.c_type.ends_with('*') => format!("{}{}", self.c_type, self.name).replacen('*', "* ", 1).replace("*  ", "* "),
            _ => format!("{} {}", self.c_type, self.name),
        }
    }
}

/// Shell-style matching with `*` and `?`.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], t) || (!t.is_empty() && go(p, &t[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), text.as_bytes())
}

/// Whether a probe part holds a glob wildcard.
pub fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?'])
}

/// The candidates closest to `name` (edit distance), best first, for "did you mean" hints.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(name, c), c))
        .filter(|(d, c)| *d <= (name.len().max(c.len()) / 2).max(2))
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

pub fn did_you_mean(names: &[&str]) -> Option<String> {
    match names {
        [] => None,
        [one] => Some(format!("did you mean `{one}`?")),
        many => Some(format!(
            "did you mean one of {}?",
            many.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GETPPID: &str = "name: sys_enter_getppid\nID: 1\nformat:\n\
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\
\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n\
\tfield:char comm[16];\toffset:12;\tsize:16;\tsigned:0;\n\
\tfield:__data_loc char[] name;\toffset:28;\tsize:4;\tsigned:0;\n\
\tfield:const char * filename;\toffset:32;\tsize:8;\tsigned:0;\n\nprint fmt: \"\"\n";

    #[test]
    fn parses_format_files() {
        let f = Format::parse(GETPPID).unwrap();
        let got: Vec<_> = f.fields.iter().map(|f| (f.name.as_str(), f.c_type.as_str(), f.offset, f.size, f.signed, f.kind)).collect();
        assert_eq!(
            got,
            vec![
                ("__syscall_nr", "int", 8, 4, true, FieldKind::Int),
                ("comm", "char[16]", 12, 16, false, FieldKind::Array),
                ("name", "__data_loc char[]", 28, 4, false, FieldKind::DataLoc),
                ("filename", "const char *", 32, 8, false, FieldKind::Int),
            ]
        );
    }

    #[test]
    fn syscall_fields_take_their_c_types() {
        let line = |decl: &str| format!("\tfield:{decl};\toffset:16;\tsize:8;\tsigned:0;\n");
        let decls = ["int dfd", "unsigned int fd", "pid_t pid", "off_t offset", "umode_t mode", "clockid_t which", "size_t count", "const char * name"];
        let f = Format::parse(&decls.iter().map(|d| line(d)).collect::<String>()).unwrap();
        let got: Vec<_> = f.fields.iter().map(|f| (f.name.as_str(), f.size, f.signed)).collect();
        let want = [("dfd", 8, true), ("fd", 8, false), ("pid", 8, false), ("offset", 8, true), ("mode", 2, false), ("which", 4, true), ("count", 8, false), ("name", 8, false)];
        assert_eq!(got, want);
    }

    #[test]
    fn globs() {
        assert!(glob_match("sys_enter_*", "sys_enter_read"));
        assert!(glob_match("*", ""));
        assert!(glob_match("sched_?witch", "sched_switch"));
        assert!(!glob_match("sys_enter_*", "sys_exit_read"));
    }

    #[test]
    fn closest_names() {
        assert_eq!(closest("recv_pkt", ["recv_pkts", "total_len"]), vec!["recv_pkts"]);
        assert!(closest("zzzzzz", ["recv_pkts"]).is_empty());
    }
}
