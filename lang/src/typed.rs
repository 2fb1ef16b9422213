//! The checked program: what the checker hands to codegen. Every probe is expanded to its attach points
//! (one program per attach point, since `args` layouts differ), every expression carries its type, every
//! field is resolved to an offset in the probe's context, every map has one kind and one key type, and
//! every variable a type (codegen decides where it lives).

use crate::ast::{BinOp, Span, UnOp};

#[derive(Clone, Debug)]
pub struct Program {
    pub maps: Vec<MapDef>,
    pub probes: Vec<ProbeProgram>,
    /// printf/time format strings, referred to by index from events.
    pub formats: Vec<PrintfFormat>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MapDef {
    /// Without the `@`; empty for the anonymous map.
    pub name: String,
    pub kind: MapKind,
    /// The key's parts (empty for a keyless map).
    pub key: Vec<Ty>,
    /// Where the map was first given its kind.
    pub span: Span,
}

/// What a map holds: an aggregation (per-CPU, summed by the runtime) or a plain value.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum MapKind {
    Agg(Agg),
    Value(Ty),
}

impl MapKind {
    pub fn describe(&self) -> String {
        match self {
            MapKind::Agg(a) => format!("{}()", a.name()),
            MapKind::Value(t) => t.describe(),
        }
    }
}

/// An aggregation, as the registry's entry of that name defines it (`count`, `hist`, `lhist`, ...).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Agg {
    /// The registry entry's name.
    pub name: String,
    /// Constant arguments that shape the map (lhist's min, max and step); two maps of the same
    /// aggregation agree on these.
    pub params: Vec<i64>,
    /// Whether the values fed to it are signed (an unsigned sum prints unsigned). Not part of the
    /// map's identity: a map keeps the signedness it was first defined with.
    pub signed: bool,
    /// Histograms also keep, per bucket, the sum of the values they counted: the metrics
    /// exposition's `_sum` (bpftrace's histograms keep none). Set for the whole program by
    /// `CheckOptions::bucket_sums` (with `--metrics`), so that printing alone pays nothing for it.
    #[serde(default)]
    pub sums: bool,
}

impl Agg {
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Whether `other` may feed the map this one defined.
    pub fn same_kind(&self, other: &Agg) -> bool {
        self.name == other.name && self.params == other.params
    }
}

pub use crate::target::*;


#[derive(Clone, Debug)]
pub struct ProbeProgram {
    pub attach: Attach,
    /// The probe block this program came from.
    pub span: Span,
    pub predicate: Option<TExpr>,
    pub body: Vec<TStmt>,
    /// The types of the program's variables, indexed by `VarId` (codegen gives them their stack slots).
    pub vars: Vec<Ty>,
}

/// A user map: an index into `Program::maps` (and, since user maps come first, into the compiled
/// object's maps).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MapId(pub u32);

impl MapId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl std::fmt::Display for MapId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A variable of one probe program: an index into `ProbeProgram::vars`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VarId(pub u32);

#[derive(Clone, Debug)]
pub enum TStmt {
    /// Update aggregation map `map` at `keys` with `value` (none for count).
    Aggregate { map: MapId, keys: Vec<TExpr>, value: Option<TExpr> },
    /// `@m[k] = v` for a plain-value map.
    MapStore { map: MapId, keys: Vec<TExpr>, value: TExpr },
    /// `delete(@m[k])`
    MapDelete { map: MapId, keys: Vec<TExpr> },
    /// `$v = e`
    VarStore { var: VarId, value: TExpr },
    If { cond: TExpr, then: Vec<TStmt>, otherwise: Vec<TStmt> },
    /// `for ($i : lo..hi)`: a bounded loop over the variable `var`.
    For { var: VarId, lo: TExpr, hi: TExpr, body: Vec<TStmt> },
    /// `for ($kv : @map) { body }`: `var` holds `(key, value)` (the key a tuple when the map has
    /// several) for each entry of the plain-value map `map`, in the kernel's order.
    ForMap { var: VarId, map: MapId, body: Vec<TStmt> },
    /// `while (cond) { body }`: the kernel's verifier bounds it (as bpftrace's loops).
    While { cond: TExpr, body: Vec<TStmt> },
    /// `break` / `continue` of the innermost `while` or `for`.
    Break,
    Continue,
    /// Something the runtime does, in order with the other events of the ring buffer.
    Event(EventStmt),
    /// `exit()` / `exit(code)`: ask the runtime to stop (vt then exits with `code`), and leave this probe.
    Exit(u8),
    /// `return`: leave this probe.
    Return,
    /// A call made for what it does (`signal(..)`); its value is dropped.
    Eval(TExpr),
}

/// Statements carried out by the runtime: the program sends an event, the runtime acts on it.
#[derive(Clone, Debug)]
pub enum EventStmt {
    /// `printf(fmt, args)` with `formats[format]`.
    Printf { format: usize, args: Vec<TExpr> },
    /// `cat(fmt, args)` (the file named by the formatted text, printed whole) or, with `system`,
    /// `system(fmt, args)` (the text run by `sh -c`, its output printed), both as bpftrace 0.17.
    Command { format: usize, args: Vec<TExpr>, system: bool },
    /// `time(fmt)` with `formats[format]`.
    Time { format: usize },
    /// `print(@m, top, div)`; top 0 means all. vt's `print(@hist, "label")` prints a histogram in
    /// BCC's layout with that value label (`formats[label].text`), as BCC's `print_log2_hist(label)`.
    Print { map: MapId, top: u64, div: u64, label: Option<usize> },
    /// `print(e)` of a non-map value; `formats[format].args` holds its type.
    PrintValue { format: usize, value: TExpr },
    Clear { map: MapId },
    Zero { map: MapId },
    /// `join(argv [, delim])`: the strings of a NULL-ended pointer array, joined by
    /// `formats[format].text`, on a line.
    Join { format: usize, arr: TExpr },
    /// A watchpoint's setup uprobe: arm program `program`'s watchpoint at `addr` (once per address);
    /// with `stop`, the process is stopped (SIGSTOP) until it is armed.
    Watch { program: usize, addr: TExpr, stop: bool },
}

/// A printf (or time) format string, as written, with the types of its arguments.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PrintfFormat {
    pub text: String,
    pub args: Vec<Ty>,
}

/// Value types.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Ty {
    Int(IntTy),
    /// A NUL-padded string of at most `size` bytes (including the NUL).
    Str(u32),
    Tuple(Vec<Ty>),
    /// A value the program stores as raw bytes and the runtime shows as text (`strftime`, `ntop`,
    /// `strerror`, `username`, `cgroup_path`): printf's `%s` prints it, a map prints it as a string.
    Text(Render),
}

/// How the runtime shows a `Ty::Text` value, and the bytes the program stores for it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Render {
    /// Nanoseconds since boot (8 bytes), shown as local time with a strftime format (`%f`: microseconds).
    Time(String),
    /// An IPv4 or IPv6 address: the family (8 bytes: 2 or 10), then 16 bytes of address.
    Inet,
    /// An errno (8 bytes), shown as strerror(3) says it.
    Errno,
    /// A user id (8 bytes), shown as its user name.
    User,
    /// `buf(p, n)`: the length (8 bytes), then `n` bytes, shown with non-printable bytes as `\xNN`.
    Buf(u32),
    /// A cgroup id (8 bytes), shown as its path in each cgroup hierarchy whose name matches the
    /// wildcard filter (`*`: all), as bpftrace's `cgroup_path` prints it.
    CgroupPath(String),
    /// A kernel stack: its id in the stack map of its frame limit (8 bytes), shown as its frames.
    KStack(StackFmt),
    /// A user stack: its id, then the pid whose mappings name its frames (16 bytes).
    UStack(StackFmt),
    /// A kernel address (8 bytes), shown as its symbol.
    KSym,
    /// A user address, then the pid whose mappings name it (16 bytes).
    USym,
    /// `n` bytes (`uint8[n]`, as `pton` gives), shown as `[1,2,3,4]`; 8-byte aligned in storage.
    Bytes(u32),
    /// A system call number (8 bytes), shown as its name (`syscall_name`).
    Syscall,
}

/// How a stack prints and how many frames it keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StackFmt {
    pub mode: StackMode,
    pub limit: u32,
}

/// bpftrace's stack modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum StackMode {
    /// `symbol+offset`, indented.
    Bpftrace,
    /// A tab, the address in hex, the symbol (and for user stacks the file), as perf prints them.
    Perf,
    /// The addresses in hex only (bpftrace 0.20+).
    Raw,
}

impl StackFmt {
    /// bpftrace's default: its own mode, as many frames as the kernel gives (perf_event_max_stack).
    pub const DEFAULT: StackFmt = StackFmt { mode: StackMode::Bpftrace, limit: MAX_STACK };
}

/// The most frames a stack keeps: the kernel's default `perf_event_max_stack`.
pub const MAX_STACK: u32 = 127;

impl Render {
    /// Bytes the value takes.
    pub fn size(&self) -> u32 {
        match self {
            Render::Inet => 24,
            Render::Buf(n) => 8 + n.div_ceil(8) * 8,
            Render::UStack(_) | Render::USym => 16,
            Render::Bytes(n) => n.div_ceil(8) * 8,
            _ => 8,
        }
    }
    pub fn name(&self) -> &'static str {
        match self {
            Render::Time(_) => "timestamp",
            Render::Inet => "inet",
            Render::Errno => "strerror",
            Render::User => "username",
            Render::Buf(_) => "buffer",
            Render::CgroupPath(_) => "cgroup_path",
            Render::KStack(_) => "kstack",
            Render::UStack(_) => "ustack",
            Render::KSym => "ksym",
            Render::USym => "usym",
            Render::Bytes(_) => "uint8 array",
            Render::Syscall => "syscall_name",
        }
    }
}

impl Ty {
    pub const I64: Ty = Ty::Int(IntTy::I64);
    pub const U64: Ty = Ty::Int(IntTy::U64);

    pub fn int(&self) -> Option<IntTy> {
        match self {
            Ty::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Ty::Int(i) => format!("{}int{}", if i.signed { "" } else { "u" }, i.bits),
            Ty::Str(n) => format!("string[{n}]"),
            Ty::Tuple(p) => format!("({})", p.iter().map(Ty::describe).collect::<Vec<_>>().join(", ")),
            Ty::Text(r) => r.name().to_string(),
        }
    }
}

/// An integer type: width in bits (8, 16, 32, 64) and signedness. Values are held in 64 bits, sign- or
/// zero-extended from their width.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IntTy {
    pub bits: u8,
    pub signed: bool,
}

impl IntTy {
    pub const I64: IntTy = IntTy { bits: 64, signed: true };
    pub const U64: IntTy = IntTy { bits: 64, signed: false };
}

#[derive(Clone, Debug)]
pub struct TExpr {
    pub kind: TExprKind,
    pub ty: Ty,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum TExprKind {
    Const(u64),
    /// A string literal (its type gives the padded size).
    StrConst(String),
    /// A builtin of the registry, by name (`pid`, `comm`, ...): its entry emits it.
    Builtin(&'static str),
    /// A value function of the registry, by name (`bswap(x)`, ...), with its checked arguments (and the
    /// map it takes first, for `has_key(@m, k)`).
    Call { func: &'static str, map: Option<MapId>, args: Vec<TExpr> },
    /// An integer field of the probe's context record, `bits / 8` bytes at `offset`.
    CtxField { offset: u32 },
    /// A `char[N]` field: `N` bytes at `offset`, as a string.
    CtxChars { offset: u32 },
    /// An element of an integer array field: `ty` sized, at `offset + index * elem` (index checked).
    CtxArrayElem { offset: u32, elem: u32, len: u32, index: Box<TExpr> },
    /// A `__data_loc char[]` field: the 32-bit locator at `offset` (`off | len << 16`) names the string.
    CtxDataLoc { offset: u32 },
    Var(VarId),
    /// A plain-value map's entry (0 or the empty string when absent).
    MapRead { map: MapId, keys: Vec<TExpr> },
    Unary(UnOp, Box<TExpr>),
    /// Integer arithmetic, bitwise, shifts and comparisons (`ty` of the operands decides signedness).
    Binary(BinOp, Box<TExpr>, Box<TExpr>),
    /// `a == b` / `a != b` on strings: compares up to the first NUL.
    StrCmp { eq: bool, lhs: Box<TExpr>, rhs: Box<TExpr> },
    Ternary { cond: Box<TExpr>, then: Box<TExpr>, otherwise: Box<TExpr> },
    /// An integer cast to `ty` (truncation, then sign or zero extension).
    Cast(Box<TExpr>),
    Tuple(Vec<TExpr>),
    /// `$t.N`: part `index` of a tuple.
    TupleField { base: Box<TExpr>, index: u32 },
    /// An integer of `size` bytes read from memory at `addr` (kernel memory, or user memory for
    /// `user`), extended as `ty` says; 0 when the read fails.
    Read { addr: Box<TExpr>, size: u32, user: bool },
    /// A `char[N]` read from memory at `addr` as a string (`ty` is `Str(N)`, as a `char[N]` field's).
    ReadChars { addr: Box<TExpr>, user: bool },
    /// An integer of `ty` read from the probed task's memory at `addr` (0 where unreadable).
    UserInt { addr: Box<TExpr> },
    /// `a[i]` of a byte array value (`Render::Bytes`): its byte `index` (checked), zero-extended.
    ByteAt { base: Box<TExpr>, index: u32 },
}
