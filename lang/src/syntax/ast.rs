//! The syntax tree. Every node carries the byte span of the text it came from, so that every later layer
//! (checker, codegen, runtime) can point at the source when it has something to say.

use std::fmt;

/// Byte offsets `[start, end)` into the script text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// A name with the span it was written at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Script {
    /// The script's own C types (`struct foo { ... };` before the probes).
    pub types: Vec<CDef>,
    /// The script's own enums (`enum color { RED, GREEN = 5 };`).
    pub enums: Vec<CEnum>,
    pub probes: Vec<Probe>,
    /// `config = { key = value; ... }` (bpftrace 0.20+), in order.
    pub config: Vec<ConfigItem>,
    /// The script's `typedef`s, in order.
    pub typedefs: Vec<CTypedef>,
    /// The headers of the script's `#include` lines (`linux/sched.h`), outside branches `#ifdef` dropped.
    pub includes: Vec<Ident>,
    /// `macro name(params) { body }` (bpftrace 0.21+); `parse` expands their calls and leaves this empty.
    pub macros: Vec<MacroDef>,
}

/// `macro name($v, @m, e) { body }`: each parameter keeps its sigil (`$v`, `@m`; `e` takes any
/// expression).
#[derive(Clone, Debug, PartialEq)]
pub struct MacroDef {
    pub name: Ident,
    pub params: Vec<Ident>,
    pub body: Vec<Stmt>,
    pub span: Span,
    /// A `#define` (expanded as C does: its names are the caller's, it may use any map).
    pub c_like: bool,
}

/// `key = value` of a config block; the value is a word or a number, as written.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigItem {
    pub key: Ident,
    pub value: Ident,
}

/// `enum NAME { A, B = 5 };` written in the script.
#[derive(Clone, Debug, PartialEq)]
pub struct CEnum {
    pub name: Option<Ident>,
    /// Each name, with its value as written (`5`, `-1`, `0x10`) if it has one.
    pub items: Vec<(Ident, Option<Ident>)>,
}

/// `typedef TYPE NAME;` written in the script: the declaration as written (`unsigned int u32_t`,
/// `struct foo *foo_p`, `char name_t[16]`), without `typedef` and `;`.
#[derive(Clone, Debug, PartialEq)]
pub struct CTypedef {
    pub decl: String,
    pub span: Span,
}

/// `struct NAME { members };` or `union NAME { ... };` written in the script.
#[derive(Clone, Debug, PartialEq)]
pub struct CDef {
    pub union: bool,
    pub name: Ident,
    /// Each member's declaration as written (`char name[16]`, `struct task_struct *t`), without its `;`.
    pub members: Vec<(String, Span)>,
    pub span: Span,
}

/// `spec, spec /pred/ { body }`
#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    pub specs: Vec<ProbeSpec>,
    pub predicate: Option<Expr>,
    pub body: Vec<Stmt>,
    pub span: Span,
}

/// One attach point as written: `tracepoint:sched:sched_switch` has provider `tracepoint` and parts
/// `["sched", "sched_switch"]`; `BEGIN` has provider `BEGIN` and no parts; `interval:s:1` has parts
/// `["s", "1"]`. Parts may hold `*` wildcards. What the parts mean is the provider's business.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeSpec {
    pub provider: Ident,
    pub parts: Vec<Ident>,
    pub span: Span,
}

impl ProbeSpec {
    /// The spec as the user would write it, e.g. `tracepoint:sched:sched_switch`.
    pub fn text(&self) -> String {
        let mut s = self.provider.name.clone();
        for p in &self.parts {
            s.push(':');
            s.push_str(&p.name);
        }
        s
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// An expression evaluated for its effect, e.g. `exit()` or `printf(...)`.
    Expr(Expr),
    /// `@m[k] = e` (e may be an aggregation call such as `count()`).
    MapAssign { map: MapRef, value: Expr },
    /// `@m[k] op= e` for `+= -= *= /= %= &= |= ^= <<= >>=`.
    MapCompound { map: MapRef, op: BinOp, value: Expr },
    /// `@m[k]++` / `@m[k]--` / `++@m[k]` / `--@m[k]` as a statement (`delta` is +1 or -1).
    MapIncr { map: MapRef, delta: i64 },
    /// `$v = e`
    VarAssign { var: Ident, value: Expr },
    /// `$v op= e`
    VarCompound { var: Ident, op: BinOp, value: Expr },
    /// `$v++` / `$v--`
    VarIncr { var: Ident, delta: i64 },
    /// `if (c) { .. } else if (c) { .. } else { .. }`: `otherwise` holds a single nested `If` for `else if`.
    If { cond: Expr, then: Vec<Stmt>, otherwise: Vec<Stmt> },
    /// `unroll(N) { .. }`
    Unroll { count: Expr, body: Vec<Stmt> },
    /// `for ($i : lo..hi) { .. }`
    For { var: Ident, lo: Expr, hi: Expr, body: Vec<Stmt> },
    /// `for ($kv : @map) { .. }` (bpftrace 0.20+): parsed, refused by the checker.
    ForMap { var: Ident, map: Ident, body: Vec<Stmt> },
    /// `while (c) { .. }`
    While { cond: Expr, body: Vec<Stmt> },
    /// `let $v [: type] [= e];`: a new variable of the enclosing block (bpftrace 0.21+).
    Let { var: Ident, ty: Option<Ident>, value: Option<Expr> },
    /// `break` / `continue` in a `while` or `for` loop.
    Break,
    Continue,
    /// `delete(@m[k])` or `delete(@m, k)`.
    Delete { map: MapRef },
    /// `return;`
    Return,
}

/// `@name` or `@name[k1, k2]`. The anonymous map `@` has an empty name.
#[derive(Clone, Debug, PartialEq)]
pub struct MapRef {
    pub name: Ident,
    pub keys: Vec<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// Decimal, hex (`0x1f`), octal (`017`) or character literal; always non-negative as written.
    Int(u64),
    /// A string literal with escapes already decoded.
    Str(String),
    /// `pid`, `tid`, `nsecs`, `cpu`, `comm`, `args`, `probe`, ... (any bare identifier).
    Builtin(String),
    /// `$1`, `$2`, ... positional parameter (`$#` is `Builtin("$#")`).
    Positional(u32),
    /// `$name`
    Var(String),
    /// `@name[keys]` read as a value.
    Map(MapRef),
    /// `base.field` or `base->field` (`args.f`, `args->f`, `$t->f`).
    Field { base: Box<Expr>, field: Ident, arrow: bool },
    /// `base[index]` on something that is not a map (e.g. an array field).
    Index { base: Box<Expr>, index: Box<Expr> },
    /// `f(a, b)`: builtin functions and aggregations (`count()`, `hist(x)`, `str(p)`, `printf(..)`).
    Call { func: Ident, args: Vec<Expr> },
    Unary { op: UnOp, expr: Box<Expr> },
    Binary { op: BinOp, lhs: Box<Expr>, rhs: Box<Expr> },
    /// `c ? a : b`
    Ternary { cond: Box<Expr>, then: Box<Expr>, otherwise: Box<Expr> },
    /// `(type) e`, e.g. `(uint8) x`.
    Cast { ty: Ident, expr: Box<Expr> },
    /// `(a, b, c)`
    Tuple(Vec<Expr>),
    /// `++$v`, `$v--`, `@m[k]++`, ... as a value: `target` is a `Var` or a `Map`; the value is the
    /// one after the change (`post` false) or before it.
    Incr { target: Box<Expr>, delta: i64, post: bool },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Not,
    BitNot,
    /// `*p`: what a C pointer points to (the checker turns it into a read).
    Deref,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        use BinOp::*;
        match self {
            Add => "+",
            Sub => "-",
            Mul => "*",
            Div => "/",
            Mod => "%",
            BitAnd => "&",
            BitOr => "|",
            BitXor => "^",
            Shl => "<<",
            Shr => ">>",
            Eq => "==",
            Ne => "!=",
            Lt => "<",
            Le => "<=",
            Gt => ">",
            Ge => ">=",
            And => "&&",
            Or => "||",
        }
    }
    pub fn is_comparison(self) -> bool {
        use BinOp::*;
        matches!(self, Eq | Ne | Lt | Le | Gt | Ge)
    }
}

impl UnOp {
    pub fn symbol(self) -> &'static str {
        match self {
            UnOp::Neg => "-",
            UnOp::Not => "!",
            UnOp::BitNot => "~",
            UnOp::Deref => "*",
        }
    }
}
