//! `fentry:FUNC` (`f:`, bpftrace 0.17's `kfunc:`) and `fexit:FUNC` (`fr:`, `kretfunc:`): a tracing
//! program on a kernel function's entry or exit, through a BPF trampoline. The function must have BTF
//! (vmlinux's, or `fentry:MODULE:FUNC` a module's); its parameters are `args.NAME` with their BTF
//! types (`args.file->f_path.dentry`), and on exit `retval` is its return value, typed from BTF.
//! `*` and `?` in FUNC (or MODULE) match several functions, one program each: those with BTF that
//! ftrace can trace. Whether the kernel has the tracing program type is found when it loads one.

use super::ksyms;
use lang::ast::{Ident, ProbeSpec};
use lang::btf::{self, Btf};
use lang::btf_module;
use lang::ctype::{self, CType};
use lang::diag::Diagnostic;
use lang::registry::{ProbeKind, Resolve};
use lang::tracefs::{closest, did_you_mean, glob_match, has_wildcard, Field, FieldKind, Format, Tracefs};
use lang::typed::{Attach, Fentry as Place, Target};
use std::sync::Arc;

pub struct Fentry {
    ret: bool,
}

pub static FENTRY: Fentry = Fentry { ret: false };
pub static FEXIT: Fentry = Fentry { ret: true };

/// Whether `-l` lists fentry and fexit functions: the runtime turns it off where the kernel cannot
/// load tracing programs (the registry itself makes no system calls).
pub static LISTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// The name of the `args` record's field that holds fexit's return value (no C name can clash).
pub const RETVAL: &str = lang::typed::FENTRY_RETVAL;

/// A kernel function found in BTF: its blob, FUNC id, and module (None: vmlinux).
struct Found {
    btf: &'static Btf,
    id: u32,
    module: Option<String>,
}

impl Fentry {
    fn kind(&self) -> &'static str {
        if self.ret {
            "fexit"
        } else {
            "fentry"
        }
    }

    fn attach(&self, func: &str, f: &Found) -> Result<Attach, String> {
        let place = Place { func: func.into(), module: f.module.clone(), ret: self.ret };
        let shown = match &f.module {
            Some(m) => format!("{m}:{func}"),
            None => func.to_string(),
        };
        Ok(Attach {
            probe: format!("{}:{shown}", self.kind()),
            tag: func.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').collect(),
            target: Target::Fentry(place),
            args: Some(Arc::new(args_format(f.btf, f.id, self.ret)?)),
        })
    }
}

/// The `args` record of function `func` (a FUNC id): parameter i at byte 8*i of the context, and on
/// exit the return value after them (`RETVAL`).
fn args_format(b: &Btf, func: u32, ret: bool) -> Result<Format, String> {
    let proto = b.head(func).map(|h| h.size_or_type).ok_or("no such BTF type")?;
    let params = b.params(proto);
    if params.last().is_some_and(|(n, t)| n.is_empty() && *t == 0) {
        return Err("it takes a variable number of arguments, which the kernel cannot trace".into());
    }
    let mut fields: Vec<Field> = params.iter().enumerate().map(|(i, (name, ty))| field(name, &ctype::from_btf(b, *ty), i)).collect();
    if ret {
        let rt = b.returns(proto).unwrap_or(0);
        if rt != 0 {
            fields.push(field(RETVAL, &ctype::from_btf(b, rt), params.len()));
        }
    }
    Ok(Format { fields })
}

/// A context slot as a format field: its C type written so that `ctype::of_format` reads it back.
fn field(name: &str, ty: &CType, slot: usize) -> Field {
    let (size, signed) = match ty {
        CType::Int { size, signed } => (*size, *signed),
        CType::Ptr(_) => (8, false),
        other => (other.size(), false),
    };
    Field { name: name.to_string(), c_type: ty.describe(), offset: 8 * slot as u32, size, signed, kind: FieldKind::Int }
}

/// The kernel's BTF, or the one-line reason fentry cannot be used.
fn kernel_btf(span: lang::ast::Span, kind: &str) -> Result<&'static Btf, Diagnostic> {
    btf::kernel().map_err(|why| {
        Diagnostic::new(span, format!("{kind} needs the kernel's BTF: {why}"), "needs BTF").with_help("kprobe:FUNC needs no BTF")
    })
}

impl ProbeKind for Fentry {
    fn names(&self) -> &'static [&'static str] {
        if self.ret {
            &["fexit", "fr", "kretfunc"]
        } else {
            &["fentry", "f", "kfunc"]
        }
    }

    fn resolve(&self, spec: &ProbeSpec, cx: &mut Resolve) -> Result<Vec<Attach>, Diagnostic> {
        let kind = self.kind();
        let (module, func) = super::ksyms::module_and_function(spec, kind, &format!("an {kind} probe"), "vhost_net:handle_tx_kick")?;
        let base = kernel_btf(spec.span, kind)?;
        let name = func.name.as_str();
        let module_name = module.map(|m| m.name.as_str());
        if has_wildcard(name) || module_name.is_some_and(has_wildcard) {
            return self.expand(spec, base, module_name, name, cx);
        }
        let found = match module_name {
            None | Some("vmlinux") => {
                let in_kernel = base.find_own(btf::FUNC, name).map(|id| Found { btf: base, id, module: None });
                match (in_kernel, module_name) {
                    (Some(f), _) => f,
                    // `fentry:FUNC` also finds a module's function, as bpftrace does.
                    (None, None) => self.in_some_module(func)?.ok_or_else(|| missing(kind, func, base, None))?,
                    (None, Some(_)) => return Err(missing(kind, func, base, None)),
                }
            }
            Some(m) => {
                let ident = module.expect("a module name");
                let b = btf_module::module(m).map_err(|why| {
                    let mut d = Diagnostic::new(ident.span, format!("no module `{m}` with BTF is loaded"), "no such module").with_help(why);
                    if let Some(h) = did_you_mean(&closest(m, btf_module::names().iter().map(String::as_str))) {
                        d = d.with_help(h);
                    }
                    d
                })?;
                let id = b.find_own(btf::FUNC, name).ok_or_else(|| missing(kind, func, b, Some(m)))?;
                Found { btf: b, id, module: Some(m.to_string()) }
            }
        };
        let attach = self.attach(name, &found).map_err(|why| Diagnostic::new(func.span, format!("{kind}:{name} cannot be used: {why}"), "refused"))?;
        Ok(vec![attach])
    }

    fn list(&self, tracefs: &Tracefs, pattern: &str) -> Vec<String> {
        let head = pattern.split(':').next().unwrap_or("");
        if !self.names().iter().any(|n| glob_match(head, n)) || !LISTED.load(std::sync::atomic::Ordering::Relaxed) {
            return Vec::new();
        }
        let Ok(base) = btf::kernel() else { return Vec::new() };
        // Listed under the name the pattern used (`kfunc:` lists as bpftrace 0.17 does).
        let kind = self.names().iter().copied().find(|n| *n == head).unwrap_or(self.kind());
        // Modules' functions only for a pattern that names a module (`fentry:vhost:*`).
        let module = match pattern.split(':').collect::<Vec<_>>().as_slice() {
            [_, m, _] => Some(m.to_string()),
            _ => None,
        };
        traceable_with_btf(base, tracefs, module.as_deref())
            .into_iter()
            .map(|(f, m)| match m {
                Some(m) => format!("{kind}:{m}:{f}"),
                None => format!("{kind}:{f}"),
            })
            .collect()
    }
}

/// "No such function", spanned, with the closest names of that BTF.
fn missing(kind: &str, func: &Ident, b: &Btf, module: Option<&str>) -> Diagnostic {
    let what = match module {
        Some(m) => format!("module {m} has no function `{}` in its BTF", func.name),
        None => format!("the kernel has no function `{}` in its BTF", func.name),
    };
    let hint = did_you_mean(&closest(&func.name, b.names(btf::FUNC))).unwrap_or_else(|| format!("`vt -l '{kind}:*'` lists the functions {kind} can trace"));
    Diagnostic::new(func.span, what, "no such function").with_help(hint)
}

/// The functions with BTF that ftrace lists as traceable (a trampoline needs ftrace's entry): vmlinux's
/// (unless `module`, a pattern, does not match `vmlinux`), and those of the modules with BTF that
/// `module` matches.
fn traceable_with_btf(base: &'static Btf, tracefs: &Tracefs, module: Option<&str>) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let traceable = ksyms::traceable(tracefs.root());
    let want_kernel = module.is_none_or(|p| glob_match(p, "vmlinux"));
    if want_kernel {
        let names: std::collections::HashSet<&str> = base.names(btf::FUNC).into_iter().collect();
        for (f, m) in &traceable {
            if m.is_none() && names.contains(f.as_str()) && seen.insert((f.clone(), None)) {
                out.push((f.clone(), None));
            }
        }
    }
    for m in btf_module::names() {
        if !module.is_some_and(|p| glob_match(p, &m)) {
            continue;
        }
        let Ok(b) = btf_module::module(&m) else { continue };
        let names: std::collections::HashSet<&str> = b.names(btf::FUNC).into_iter().collect();
        for (f, fm) in &traceable {
            if fm.as_deref() == Some(m.as_str()) && names.contains(f.as_str()) && seen.insert((f.clone(), Some(m.clone()))) {
                out.push((f.clone(), Some(m.clone())));
            }
        }
    }
    out
}

impl Fentry {
    /// `fentry:FUNC` of a function vmlinux lacks: the one module whose BTF has it.
    fn in_some_module(&self, func: &Ident) -> Result<Option<Found>, Diagnostic> {
        let mut hits: Vec<Found> = Vec::new();
        for m in btf_module::names() {
            if let Ok(b) = btf_module::module(&m) {
                if let Some(id) = b.find_own(btf::FUNC, &func.name) {
                    hits.push(Found { btf: b, id, module: Some(m) });
                }
            }
        }
        if hits.len() > 1 {
            let mods: Vec<&str> = hits.iter().filter_map(|h| h.module.as_deref()).collect();
            return Err(Diagnostic::new(func.span, format!("{} modules have a function `{}` ({})", hits.len(), func.name, mods.join(", ")), "ambiguous")
                .with_help(format!("name the module: `{}:{}:{}`", self.kind(), mods[0], func.name)));
        }
        Ok(hits.pop())
    }

    /// A wildcard: every traceable function with BTF that matches, one program each.
    fn expand(&self, spec: &ProbeSpec, base: &'static Btf, module: Option<&str>, name: &str, cx: &mut Resolve) -> Result<Vec<Attach>, Diagnostic> {
        let mut out = Vec::new();
        for (f, m) in traceable_with_btf(base, cx.tracefs, module) {
            if !glob_match(name, &f) {
                continue;
            }
            let b = match &m {
                Some(m) => btf_module::module(m).ok(),
                None => Some(base),
            };
            let Some(b) = b else { continue };
            let Some(id) = b.find_own(btf::FUNC, &f) else { continue };
            // Functions the kernel cannot trace (variadic ones) are skipped, as bpftrace skips them.
            if let Ok(a) = self.attach(&f, &Found { btf: b, id, module: m }) {
                out.push(a);
            }
        }
        if out.is_empty() {
            return Err(Diagnostic::new(spec.span, format!("no kernel function with BTF matches `{}`", spec.text()), "no match")
                .with_help(format!("`vt -l '{}:*'` lists the functions {} can trace", self.kind(), self.kind())));
        }
        Ok(out)
    }
}
