//! `uprobe:FILE:FUNC` (`u:`) and `uretprobe:FILE:FUNC` (`ur:`): a program on a function of a program or
//! shared library, on its first instruction or on its return. FILE is a path, a program on `$PATH` or
//! a library by name (`libc`); FUNC a symbol (wildcards `*` `?` match several), `FUNC+OFFSET` within
//! the function, or a virtual address `0xADDR` inside a function. With `-p PID`, in that process only.

use super::binary::{self, Binary, Function};
use lang::ast::{Ident, ProbeSpec};
use lang::diag::Diagnostic;
use lang::registry::{ProbeKind, Resolve};
use lang::tracefs::{closest, did_you_mean, glob_match, has_wildcard, Tracefs};
use lang::typed::{Attach, Target, Uprobe as Place};

pub struct Uprobe {
    ret: bool,
}

pub static UPROBE: Uprobe = Uprobe { ret: false };
pub static URETPROBE: Uprobe = Uprobe { ret: true };

impl Uprobe {
    fn kind(&self) -> &'static str {
        if self.ret {
            "uretprobe"
        } else {
            "uprobe"
        }
    }

    fn attach(&self, path: &str, f: &Function, offset_in: u64, file_offset: u64, pid: Option<u32>, written: &str) -> Attach {
        let kind = self.kind();
        Attach {
            probe: format!("{kind}:{path}:{written}"),
            tag: f.name.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').collect(),
            target: Target::Uprobe(Place { path: path.into(), offset: file_offset + offset_in, ret: self.ret, pid, func: f.name.clone(), watch: None }),
            args: None,
        }
    }
}

/// `0x…` or decimal.
fn number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

impl ProbeKind for Uprobe {
    fn names(&self) -> &'static [&'static str] {
        if self.ret {
            &["uretprobe", "ur"]
        } else {
            &["uprobe", "u"]
        }
    }

    fn resolve(&self, spec: &ProbeSpec, cx: &mut Resolve) -> Result<Vec<Attach>, Diagnostic> {
        let kind = self.kind();
        let [file, func] = spec.parts.as_slice() else {
            return Err(Diagnostic::new(spec.span, format!("a {kind} is written `{kind}:FILE:FUNCTION`"), "malformed probe")
                .with_help(format!("e.g. `{kind}:/bin/bash:readline` or `{kind}:libc:malloc`")));
        };
        let path = binary::resolve(&file.name, cx.pid).map_err(|e| Diagnostic::new(file.span, e, "no such file"))?;
        let bin = Binary::read(&path).map_err(|e| Diagnostic::new(file.span, e, "cannot read this file"))?;
        let path = path.to_string_lossy().into_owned();
        let offset_of = |f: &Function| {
            bin.file_offset(f.addr).ok_or_else(|| {
                Diagnostic::new(func.span, format!("`{}` at {:#x} is in no loadable segment of {path}", f.name, f.addr), "cannot place it")
            })
        };
        let pid = cx.pid;
        // A virtual address inside a function.
        if let Some(addr) = func.name.strip_prefix("0x").and_then(|_| number(&func.name)) {
            let f = bin.function_at(addr).ok_or_else(|| {
                Diagnostic::new(func.span, format!("{:#x} is inside no function of {path}", addr), "not in a function")
                    .with_help(format!("`vt -l '{kind}:{path}:*'` lists its functions"))
            })?;
            let file_offset = offset_of(f)?;
            return Ok(vec![self.attach(&path, f, addr - f.addr, file_offset, pid, &func.name)]);
        }
        // FUNC+OFFSET
        if let Some((name, off)) = func.name.rsplit_once('+') {
            let off_ident = Ident { name: off.into(), span: func.span };
            let Some(offset) = number(off) else {
                return Err(Diagnostic::new(func.span, format!("`{off}` is not an offset"), "malformed offset")
                    .with_help(format!("e.g. `{kind}:{path}:{name}+0x10`")));
            };
            let f = self.function(&bin, name, &path, func)?;
            if offset >= f.size.max(1) {
                return Err(Diagnostic::new(
                    off_ident.span,
                    format!("offset {offset:#x} is outside `{name}`, which is {} bytes long", f.size),
                    "outside the function",
                ));
            }
            let file_offset = offset_of(f)?;
            return Ok(vec![self.attach(&path, f, offset, file_offset, pid, &func.name)]);
        }
        if !has_wildcard(&func.name) {
            let f = self.function(&bin, &func.name, &path, func)?;
            // Named by its symbol, as bpftrace names `"ns::foo"` (`_ZN2ns3fooEi`).
            return Ok(vec![self.attach(&path, f, 0, offset_of(f)?, pid, &f.name)]);
        }
        let mut attaches = Vec::new();
        for f in bin.matching(&func.name, glob_match) {
            // A wildcard skips what cannot be placed, as bpftrace does.
            if let Some(file_offset) = bin.file_offset(f.addr) {
                attaches.push(self.attach(&path, f, 0, file_offset, pid, &f.name));
            }
        }
        if attaches.is_empty() {
            return Err(Diagnostic::new(func.span, format!("no function of {path} matches `{}`", func.name), "no match")
                .with_help(format!("`vt -l '{kind}:{path}:*'` lists its functions")));
        }
        Ok(attaches)
    }

    fn list(&self, _: &Tracefs, pattern: &str) -> Vec<String> {
        // Only a pattern naming a file lists that file's functions: `uprobe:/bin/bash:*`.
        let kind = self.kind();
        let Some((file, path)) = binary::listed_file(self.names(), pattern) else { return Vec::new() };
        let Ok(bin) = Binary::read(&path) else { return Vec::new() };
        // Listed under the file's name as the pattern wrote it, so that the pattern matches.
        bin.functions.iter().map(|f| format!("{kind}:{file}:{}", f.name)).collect()
    }
}

impl Uprobe {
    fn function<'b>(&self, bin: &'b Binary, name: &str, path: &str, at: &Ident) -> Result<&'b Function, Diagnostic> {
        bin.function(name).ok_or_else(|| {
            let hint = did_you_mean(&closest(name, bin.functions.iter().map(|f| f.name.as_str())))
                .unwrap_or_else(|| format!("`vt -l '{}:{path}:*'` lists its functions", self.kind()));
            Diagnostic::new(at.span, format!("{path} has no function `{name}`"), "no such function").with_help(hint)
        })
    }
}
