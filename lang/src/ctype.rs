//! The C types scripts read memory through: resolved from kernel BTF (and, for tracepoint fields, from
//! the C type the format names). A struct is a handle (its BTF id), so recursive types cost nothing
//! until a member is asked for. Typedefs, const, volatile and restrict are looked through.

use crate::ast::Span;
use crate::btf::{self, Btf};
use crate::diag::Diagnostic;
use crate::tracefs::did_you_mean;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CType {
    Void,
    /// An integer (or an enum, or a bool) of `size` bytes.
    Int { size: u32, signed: bool },
    Ptr(Box<CType>),
    /// A struct or union of the kernel's BTF.
    Record { id: u32, size: u32, name: String, union: bool },
    Array { elem: Box<CType>, len: u32 },
    /// Something vt does not read (a float, a function): its size and how it is written.
    Other { size: u32, name: String },
}

/// A member resolved to its place in the record.
#[derive(Clone, Debug)]
pub struct Field {
    pub ty: CType,
    pub bit_offset: u32,
    pub bitfield: u32,
}

impl CType {
    pub fn size(&self) -> u32 {
        match self {
            CType::Void => 1,
            CType::Int { size, .. } => *size,
            CType::Ptr(_) => 8,
            CType::Record { size, .. } | CType::Other { size, .. } => *size,
            CType::Array { elem, len } => elem.size() * len,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            CType::Void => "void".into(),
            CType::Int { size, signed } => format!("{}int{}", if *signed { "" } else { "u" }, size * 8),
            CType::Ptr(t) => format!("{} *", t.describe()),
            // `typedef struct { ... } t_t;`: the struct has no name but the typedef's.
            CType::Record { name, .. } if name.starts_with("anonymous.") => name["anonymous.".len()..].to_string(),
            CType::Record { name, union, .. } => format!("{} {name}", if *union { "union" } else { "struct" }),
            CType::Array { elem, len } => format!("{}[{len}]", elem.describe()),
            CType::Other { name, .. } => name.clone(),
        }
    }

    /// The record's member names in order, those of anonymous structs and unions in their place.
    pub fn member_names(&self) -> Vec<String> {
        let CType::Record { id, .. } = self else { return vec![] };
        if id & SCRIPT != 0 {
            return script_field(*id, "").err().unwrap_or_default();
        }
        crate::btf_module::by_handle(*id).map(|(b, id)| member_names(b, id)).unwrap_or_default()
    }

    /// The record's member `name` (looking into anonymous structs and unions), or the names it has.
    pub fn field(&self, name: &str) -> Result<Field, Vec<String>> {
        let CType::Record { id, .. } = self else { return Err(vec![]) };
        if id & SCRIPT != 0 {
            return script_field(*id, name);
        }
        let Some((b, id)) = crate::btf_module::by_handle(*id) else { return Err(vec![]) };
        find_member(b, id, name, 0).ok_or_else(|| member_names(b, id))
    }
}

fn find_member(b: &Btf, id: u32, name: &str, base: u32) -> Option<Field> {
    for m in b.members(id) {
        if m.name == name {
            return Some(Field { ty: from_btf(b, m.type_id), bit_offset: base + m.bit_offset, bitfield: m.bitfield });
        }
        if m.name.is_empty() {
            let inner = strip(b, m.type_id);
            if let Some(f) = find_member(b, inner, name, base + m.bit_offset) {
                return Some(f);
            }
        }
    }
    None
}

fn member_names(b: &Btf, id: u32) -> Vec<String> {
    b.members(id)
        .into_iter()
        .flat_map(|m| if m.name.is_empty() { member_names(b, strip(b, m.type_id)) } else { vec![m.name] })
        .collect()
}

/// Looks through typedefs and qualifiers.
fn strip(b: &Btf, mut id: u32) -> u32 {
    for _ in 0..64 {
        match b.head(id) {
            Some(h) if matches!(h.kind, btf::TYPEDEF | btf::CONST | btf::VOLATILE | btf::RESTRICT | btf::TYPE_TAG) => {
                id = h.size_or_type
            }
            _ => break,
        }
    }
    id
}

/// The C type of BTF type `id`.
pub fn from_btf(b: &Btf, id: u32) -> CType {
    let id = strip(b, id);
    let Some(h) = b.head(id) else { return CType::Void };
    match h.kind {
        // BTF gives plain `char` no sign; on x86 it is signed, as clang (and so bpftrace) has it.
        btf::INT => b.int(id).map_or(CType::Void, |(size, signed)| CType::Int { size, signed: signed || b.str_at(h.name_off) == "char" }),
        btf::ENUM | btf::ENUM64 => CType::Int { size: h.size_or_type, signed: h.kind_flag },
        btf::PTR => CType::Ptr(Box::new(from_btf(b, h.size_or_type))),
        btf::ARRAY => b.array(id).map_or(CType::Void, |(e, len)| CType::Array { elem: Box::new(from_btf(b, e)), len }),
        btf::STRUCT | btf::UNION => {
            let id = b.handle(id);
            CType::Record { id, size: h.size_or_type, name: b.str_at(h.name_off).to_string(), union: h.kind == btf::UNION }
        }
        btf::FWD => {
            // A declaration: the definition of that name, if the kernel has one.
            let (kind, name) = (if h.kind_flag { btf::UNION } else { btf::STRUCT }, b.str_at(h.name_off));
            match b.find(kind, name) {
                Some(def) => from_btf(b, def),
                None => CType::Other { size: 0, name: format!("struct {name}") },
            }
        }
        btf::FUNC_PROTO => CType::Other { size: 1, name: "a function".into() },
        _ => CType::Other { size: h.size_or_type, name: b.str_at(h.name_off).to_string() },
    }
}

/// The integer types casts and sizeof name.
pub fn int_named(name: &str) -> Option<CType> {
    let (size, signed) = match name {
        "int8" | "s8" | "i8" | "char" => (1, true),
        "uint8" | "u8" | "bool" | "unsigned char" => (1, false),
        "int16" | "s16" | "i16" | "short" => (2, true),
        "uint16" | "u16" | "unsigned short" => (2, false),
        "int32" | "s32" | "i32" | "int" => (4, true),
        "uint32" | "u32" | "unsigned int" | "unsigned" => (4, false),
        "int64" | "s64" | "i64" | "long" | "long long" => (8, true),
        "uint64" | "u64" | "unsigned long" | "unsigned long long" | "size_t" => (8, false),
        "void" => return Some(CType::Void),
        _ => return None,
    };
    Some(CType::Int { size, signed })
}

/// Why a type name could not be resolved.
#[derive(Debug)]
pub enum Unknown {
    /// The kernel has no BTF: the message says so.
    NoBtf(String),
    /// No such type; the closest names the kernel has.
    Missing(Vec<String>),
}

/// A type as a script writes it: `struct task_struct`, `union X`, `enum X`, an integer type, a kernel
/// typedef, each with any number of `*`.
pub fn named(text: &str) -> Result<CType, Unknown> {
    let text = text.trim();
    if let Some(inner) = text.strip_suffix('*') {
        return Ok(CType::Ptr(Box::new(named(inner)?)));
    }
    // Qualifiers change nothing vt reads.
    let mut text = text;
    while let Some(rest) = text.strip_prefix("const ").or_else(|| text.strip_prefix("volatile ")) {
        text = rest.trim();
    }
    if let Some(t) = int_named(text) {
        return Ok(t);
    }
    if let Some(t) = script_typedef(text) {
        return Ok(t);
    }
    if text.strip_prefix("enum ").is_some_and(|n| crate::cenum::script_enum(n.trim())) {
        return Ok(CType::Int { size: 4, signed: false });
    }
    for (tag, union) in [("struct ", false), ("union ", true)] {
        if let Some(t) = text.strip_prefix(tag).and_then(|n| script_record(n.trim(), union)) {
            return Ok(t);
        }
    }
    let b = btf::kernel().map_err(Unknown::NoBtf)?;
    let (kinds, name): (&[u32], &str) = match text.split_once(' ') {
        Some(("struct", n)) => (&[btf::STRUCT, btf::FWD], n.trim()),
        Some(("union", n)) => (&[btf::UNION], n.trim()),
        Some(("enum", n)) => (&[btf::ENUM, btf::ENUM64], n.trim()),
        _ => (&[btf::TYPEDEF, btf::INT], text),
    };
    if let Some(id) = kinds.iter().find_map(|k| b.find(*k, name)) {
        return Ok(from_btf(b, id));
    }
    // The types of the modules the script's probes named (a module function's argument types).
    for m in crate::btf_module::loaded() {
        if let Some(id) = kinds.iter().find_map(|k| m.find_own(*k, name)) {
            return Ok(from_btf(m, id));
        }
    }
    let names = b.names(kinds[0]);
    Err(Unknown::Missing(crate::tracefs::closest(name, names).into_iter().map(String::from).collect()))
}

/// The type of a tracepoint field from the C type its format names (`struct __kernel_timespec *`,
/// `const char *`): pointers to kernel records get the record's type.
pub fn of_format(c_type: &str) -> Option<CType> {
    let t = c_type.replace("__user", "");
    let t = t.trim();
    if !t.ends_with('*') {
        return None;
    }
    named(t).ok()
}

/// The type `text` names, or a spanned error: no BTF (saying what needs it), or no such type (with the
/// closest names the kernel has).
pub fn resolve(text: &str, span: Span) -> Result<CType, Diagnostic> {
    named(text).map_err(|e| match e {
        Unknown::NoBtf(why) => {
            Diagnostic::new(span, format!("`{}` is a kernel type, and reading kernel types needs BTF", text.trim()), "needs BTF")
                .with_help(format!("{why}; everything else vt does works without it"))
        }
        Unknown::Missing(close) => {
            let base = text.trim().trim_end_matches(['*', ' ', '\t']);
            let mut d = Diagnostic::new(span, format!("the kernel has no type `{base}`"), "unknown type");
            d.help = did_you_mean(&close.iter().map(String::as_str).collect::<Vec<_>>());
            d
        }
    })
}

/// `offsetof(TYPE, a.b)`: the byte offset of a member (bitfields have none).
pub fn offset_of(ty: &CType, path: &[&str]) -> Result<u64, String> {
    let mut t = ty.clone();
    let mut off = 0u64;
    for name in path {
        let f = t.field(name).map_err(|names| {
            let close = crate::tracefs::closest(name, names.iter().map(String::as_str));
            let hint = did_you_mean(&close).map(|h| format!(": {h}")).unwrap_or_default();
            format!("`{}` has no field `{name}`{hint}", t.describe())
        })?;
        if f.bitfield > 0 {
            return Err(format!("`{name}` is a bitfield, which has no byte offset"));
        }
        off += u64::from(f.bit_offset / 8);
        t = f.ty;
    }
    Ok(off)
}

// ---- the script's own types ----------------------------------------------------------------------

/// Ids of the script's records have this bit (BTF ids never reach it).
const SCRIPT: u32 = 1 << 31;

/// A struct or union the script defines: members at C's offsets.
#[derive(Clone, Debug)]
struct ScriptRecord {
    name: String,
    union: bool,
    align: u32,
    members: Vec<(String, CType, u32)>,
}

thread_local! {
    /// The types of the script being checked (the checker runs on one thread).
    static SCRIPT_TYPES: std::cell::RefCell<Vec<ScriptRecord>> = const { std::cell::RefCell::new(Vec::new()) };
    /// The script's typedefs: each name, the type it stands for as written, and an array's length. They
    /// are resolved where used, so `typedef struct foo foo_t;` may come before `struct foo { ... };`.
    static SCRIPT_TYPEDEFS: std::cell::RefCell<Vec<(String, String, Option<u32>)>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn script_typedef(name: &str) -> Option<CType> {
    let (text, len) = SCRIPT_TYPEDEFS.with(|t| t.borrow().iter().find(|(n, _, _)| n == name).map(|(_, t, l)| (t.clone(), *l)))?;
    let ty = named(&text).ok()?;
    Some(match len {
        Some(len) => CType::Array { elem: Box::new(ty), len },
        None => ty,
    })
}

/// The type a typedef's name stands for: the script's `typedef`, else the kernel's (BTF); None for
/// any other word (a builtin, an unknown name).
pub fn typedef_named(name: &str) -> Option<CType> {
    if let Some(t) = script_typedef(name) {
        return Some(t);
    }
    let b = btf::kernel().ok()?;
    b.find(btf::TYPEDEF, name).map(|id| from_btf(b, id))
}

fn script_record(name: &str, union: bool) -> Option<CType> {
    SCRIPT_TYPES.with(|t| {
        let t = t.borrow();
        let i = t.iter().position(|r| r.name == name && r.union == union)?;
        Some(record_of(&t[i], i))
    })
}

fn record_of(r: &ScriptRecord, i: usize) -> CType {
    let end = r.members.iter().map(|(_, t, off)| off + t.size()).max().unwrap_or(0);
    CType::Record { id: SCRIPT | i as u32, size: end.div_ceil(r.align) * r.align, name: r.name.clone(), union: r.union }
}

fn script_field(id: u32, name: &str) -> Result<Field, Vec<String>> {
    SCRIPT_TYPES.with(|t| {
        let t = t.borrow();
        let r = t.get((id & !SCRIPT) as usize).ok_or_else(Vec::new)?;
        r.members
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, ty, off)| Field { ty: ty.clone(), bit_offset: off * 8, bitfield: 0 })
            .ok_or_else(|| r.members.iter().map(|(n, _, _)| n.clone()).collect())
    })
}

/// A type's alignment as C lays it out (kernel records: the largest power of two dividing the size,
/// at most 8, which is what their members give on 64-bit machines).
fn align(t: &CType) -> u32 {
    match t {
        CType::Int { size, .. } => *size,
        CType::Ptr(_) => 8,
        CType::Array { elem, .. } => align(elem),
        CType::Record { id, .. } if id & SCRIPT != 0 => {
            SCRIPT_TYPES.with(|s| s.borrow().get((id & !SCRIPT) as usize).map_or(1, |r| r.align))
        }
        CType::Record { size, .. } => [8, 4, 2].into_iter().find(|a| size % a == 0).unwrap_or(1),
        _ => 1,
    }
}

/// Lays out the script's definitions and typedefs (in the order written: a member or a typedef may use
/// the ones before), replacing those of any script checked before on this thread.
pub fn define(defs: &[crate::ast::CDef], typedefs: &[crate::ast::CTypedef]) -> Result<(), Vec<Diagnostic>> {
    SCRIPT_TYPES.with(|t| t.borrow_mut().clear());
    SCRIPT_TYPEDEFS.with(|t| t.borrow_mut().clear());
    let mut errors = Vec::new();
    let mut pending = typedefs.iter().peekable();
    for d in defs {
        while let Some(t) = pending.next_if(|t| t.span.start < d.span.start) {
            errors.extend(typedef(t).err());
        }
        let mut members = Vec::new();
        let (mut off, mut max_align) = (0u32, 1u32);
        for (text, span) in &d.members {
            let Some((ty, name)) = declaration(text) else {
                errors.push(
                    Diagnostic::new(*span, format!("vt cannot read the member `{text}`"), "not understood")
                        .with_help("write one member per declaration: `TYPE NAME;`, `TYPE *NAME;` or `TYPE NAME[N];`"),
                );
                continue;
            };
            let (ty_text, len) = ty;
            let ty = match resolve(&ty_text, *span) {
                Ok(t) => t,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let ty = match len {
                Some(len) => CType::Array { elem: Box::new(ty), len },
                None => ty,
            };
            let a = align(&ty).max(1);
            max_align = max_align.max(a);
            let at = if d.union { 0 } else { off.div_ceil(a) * a };
            off = at + ty.size();
            members.push((name, ty, at));
        }
        SCRIPT_TYPES.with(|t| t.borrow_mut().push(ScriptRecord { name: d.name.name.clone(), union: d.union, align: max_align, members }));
    }
    for t in pending {
        errors.extend(typedef(t).err());
    }
    // A typedef of a struct or union may come before the definition; by now it must resolve.
    for t in typedefs {
        if let Some(((text, _), name)) = declaration(&t.decl) {
            if script_typedef(&name).is_none() {
                errors.extend(resolve(&text, t.span).err());
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Records `typedef DECL;`: the name a new one (not an integer type's, nor one the script already gave).
fn typedef(t: &crate::ast::CTypedef) -> Result<(), Diagnostic> {
    let Some(((text, len), name)) = declaration(&t.decl) else {
        return Err(Diagnostic::new(t.span, format!("vt cannot read the typedef `{}`", t.decl), "not understood")
            .with_help("write `typedef TYPE NAME;`, `typedef TYPE *NAME;` or `typedef TYPE NAME[N];`"));
    };
    if int_named(&name).is_some() || script_typedef(&name).is_some() {
        return Err(Diagnostic::new(t.span, format!("`{name}` is already a type"), "redefined").with_help("give the typedef another name"));
    }
    // Anything but a struct or union must exist already (so typedefs cannot name each other in a ring).
    let tagged = text.starts_with("struct ") || text.starts_with("union ");
    if !tagged {
        resolve(&text, t.span)?;
    }
    SCRIPT_TYPEDEFS.with(|s| s.borrow_mut().push((name, text, len)));
    Ok(())
}

/// `char name[16]` → ((`char`, Some(16)), `name`); `struct task_struct *t` → ((`struct task_struct *`,
/// None), `t`).
fn declaration(text: &str) -> Option<((String, Option<u32>), String)> {
    let mut t = text.trim();
    let mut len = None;
    if let Some(open) = t.strip_suffix(']').and_then(|s| s.rfind('[').map(|i| (s, i))) {
        let (s, i) = open;
        len = Some(s[i + 1..].trim().parse().ok()?);
        t = s[..i].trim_end();
    }
    let name_start = t.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))? + 1;
    let (ty, name) = (t[..name_start].trim(), &t[name_start..]);
    if name.is_empty() || ty.is_empty() || name.as_bytes()[0].is_ascii_digit() || ty.contains([',', ':', '(']) {
        return None;
    }
    Some(((ty.to_string(), len), name.to_string()))
}

#[cfg(test)]
#[path = "ctype_tests.rs"]
mod tests;
