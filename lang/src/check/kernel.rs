//! Expressions of C types: `curtask->parent->pid`, `args->rqtp->tv_sec`, `((struct sock *)arg0)->x`,
//! `p[i]`, `s.f`. Each step resolves, at check time, to an address computation and a type; reads of
//! memory (`TExprKind::Read`) happen only where an integer or a string is finally wanted.

use super::{int, Checker, Ctx};
use crate::ast::*;
use crate::ctype::{self, CType};
use crate::diag::Diagnostic;
use crate::tracefs::did_you_mean;
use crate::typed::*;

/// A C-typed expression: a value (a pointer in a register), or memory at an address.
#[derive(Clone)]
pub(super) struct CVal {
    at: At,
    ty: CType,
    /// Memory it refers to is user memory (syscall arguments).
    user: bool,
}

#[derive(Clone)]
enum At {
    Value(TExpr),
    Mem(TExpr),
}

impl CVal {
    pub(super) fn ty(&self) -> &CType {
        &self.ty
    }

    pub(super) fn is_record_in_memory(&self) -> bool {
        matches!((&self.ty, &self.at), (CType::Record { .. }, At::Mem(_)))
    }

    /// Element `i` of an array in memory.
    pub(super) fn element(&self, i: u32, elem: &CType) -> CVal {
        let At::Mem(a) = &self.at else { unreachable!("element() of an array value") };
        CVal { at: At::Mem(add(a.clone(), u64::from(i * elem.size()))), ty: elem.clone(), user: self.user }
    }
}

fn add(addr: TExpr, off: u64) -> TExpr {
    if off == 0 {
        return addr;
    }
    let span = addr.span;
    let c = int(TExprKind::Const(off), IntTy::U64, span);
    int(TExprKind::Binary(BinOp::Add, Box::new(addr), Box::new(c)), IntTy::U64, span)
}

fn bin(op: BinOp, a: TExpr, b: u64) -> TExpr {
    let span = a.span;
    let c = int(TExprKind::Const(b), IntTy::U64, span);
    int(TExprKind::Binary(op, Box::new(a), Box::new(c)), IntTy::U64, span)
}

/// Whether `e` reaches through C types (and so is checked here rather than as an integer).
pub(super) fn is_c(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Unary { op: UnOp::Deref, .. } => true,
        ExprKind::Field { base, field, .. } => {
            !field.name.bytes().all(|b| b.is_ascii_digit()) && !matches!(&base.kind, ExprKind::Builtin(b) if b == "args")
        }
        ExprKind::Index { base, .. } => match &base.kind {
            ExprKind::Field { base: b, .. } if matches!(&b.kind, ExprKind::Builtin(n) if n == "args") => false,
            _ => true,
        },
        _ => false,
    }
}

/// Whether `e` may be a pointer of a C type (which a variable assigned it keeps).
pub(super) fn is_c_pointer(e: &Expr) -> bool {
    match &e.kind {
        // Without BTF, `$t = curtask` is still an integer.
        ExprKind::Builtin(b) => b == "curtask" && crate::btf::kernel().is_ok(),
        ExprKind::Cast { ty, .. } => is_c_cast(&ty.name),
        ExprKind::Call { func, .. } => matches!(func.name.as_str(), "uptr" | "kptr" | "uaddr"),
        _ => is_c(e),
    }
}

/// Whether a cast names a C type rather than an integer type.
pub(super) fn is_c_cast(ty: &str) -> bool {
    ty.contains('*') || ty.starts_with("struct") || ty.starts_with("union") || ty.starts_with("enum") || typedef_pointer(ty)
}

/// `(task_p)x` where `task_p` is a typedef of a pointer (the script's or the kernel's).
fn typedef_pointer(ty: &str) -> bool {
    super::expr::cast_type(ty).is_none() && matches!(ctype::typedef_named(ty.trim()), Some(CType::Ptr(_)))
}

impl Checker<'_> {
    /// The type `text` names, or a spanned error.
    pub(super) fn c_named(&mut self, text: &str, span: Span) -> Option<CType> {
        match ctype::resolve(text, span) {
            Ok(t) => Some(t),
            Err(d) => self.fail(d),
        }
    }

    /// The value of a C-typed expression, as an integer or a string.
    pub(super) fn c_value(&mut self, e: &Expr, cx: &mut Ctx) -> Option<TExpr> {
        let v = self.c_expr(e, cx)?;
        self.load(v, e.span)
    }

    /// A value that may be a C pointer: its integer value, and its pointer type if it is one.
    pub(super) fn c_pointer_value(&mut self, e: &Expr, cx: &mut Ctx) -> Option<(TExpr, Option<(CType, bool)>)> {
        let v = self.c_expr(e, cx)?;
        let ty = matches!(v.ty, CType::Ptr(_)).then(|| (v.ty.clone(), v.user));
        Some((self.load(v, e.span)?, ty))
    }

    fn load(&mut self, v: CVal, span: Span) -> Option<TExpr> {
        let addr = match v.at {
            At::Value(mut t) => {
                t.span = span;
                return Some(t);
            }
            At::Mem(a) => Box::new(a),
        };
        let user = v.user;
        match &v.ty {
            CType::Int { size: size @ (1 | 2 | 4 | 8), signed } => {
                let ty = IntTy { bits: (*size * 8) as u8, signed: *signed };
                Some(int(TExprKind::Read { addr, size: *size, user }, ty, span))
            }
            CType::Ptr(_) => Some(int(TExprKind::Read { addr, size: 8, user }, IntTy::U64, span)),
            CType::Array { elem, len } if matches!(**elem, CType::Int { size: 1, .. }) => {
                Some(TExpr { kind: TExprKind::ReadChars { addr, user }, ty: Ty::Str(*len), span })
            }
            CType::Record { .. } => self.fail(
                Diagnostic::new(span, format!("reading a whole `{}` is not supported by vt yet", v.ty.describe()), "a whole struct")
                    .with_help("read its fields: `s.field`, or `p->field` through a pointer"),
            ),
            t => self.fail(Diagnostic::new(span, format!("a value of type `{}` cannot be read as an integer or a string", t.describe()), "not readable")),
        }
    }

    pub(super) fn load_c(&mut self, v: CVal, span: Span) -> Option<TExpr> {
        self.load(v, span)
    }

    /// Member `name` of a record in memory (for printing a whole record).
    pub(super) fn member(&mut self, v: &CVal, name: &str, span: Span) -> Option<CVal> {
        let At::Mem(a) = &v.at else { unreachable!("member() of a record value") };
        self.field_at(a.clone(), &v.ty, v.user, &Ident { name: name.to_string(), span }, span)
    }

    /// Field `field` of record `rec` at `addr`.
    fn field_at(&mut self, addr: TExpr, rec: &CType, user: bool, field: &Ident, span: Span) -> Option<CVal> {
        let f = match rec.field(&field.name) {
            Ok(f) => f,
            Err(names) => {
                let close = crate::tracefs::closest(&field.name, names.iter().map(String::as_str));
                let mut d = Diagnostic::new(field.span, format!("`{}` has no field `{}`", rec.describe(), field.name), "unknown field");
                d.help = did_you_mean(&close);
                return self.fail(d);
            }
        };
        if f.bitfield > 0 {
            return Some(CVal { at: At::Value(bitfield(addr, f.bit_offset, f.bitfield, user, span)), ty: f.ty, user });
        }
        Some(CVal { at: At::Mem(add(addr, u64::from(f.bit_offset / 8))), ty: f.ty, user })
    }

    /// The pointer a C value holds, as an integer expression.
    fn pointer(&mut self, v: CVal, span: Span) -> Option<(TExpr, CType, bool)> {
        let CType::Ptr(to) = v.ty.clone() else { unreachable!("pointer() of a non-pointer") };
        let user = v.user;
        Some((self.load(v, span)?, *to, user))
    }

    pub(super) fn c_expr(&mut self, e: &Expr, cx: &mut Ctx) -> Option<CVal> {
        let span = e.span;
        match &e.kind {
            ExprKind::Builtin(name) if name == "curtask" => {
                let ty = self.c_named("struct task_struct *", span)?;
                let t = self.expr(e, cx)?;
                Some(CVal { at: At::Value(t), ty, user: false })
            }
            ExprKind::Cast { ty, expr } if is_c_cast(&ty.name) => {
                let target = self.c_named(&ty.name, ty.span)?;
                // An array or a struct cast to a pointer is its address (`(int8 *)curtask->comm`). The
                // memory stays user memory if it was (a syscall's pointer argument, as bpftrace keeps it).
                let (inner, user) = if is_c(expr) {
                    match self.c_expr(expr, cx)? {
                        CVal { at: At::Mem(a), ty: CType::Array { .. } | CType::Record { .. }, user } => (a, user),
                        v => {
                            let user = v.user;
                            (self.load(v, expr.span)?, user)
                        }
                    }
                } else {
                    (self.int_expr(expr, cx)?, self.user_pointer_arg(expr, cx))
                };
                if !matches!(target, CType::Ptr(_)) {
                    let msg = format!("a cast to `{}` needs a pointer type", ty.name.trim());
                    return self.fail(Diagnostic::new(ty.span, msg, "not a pointer").with_help("cast to a pointer: `(struct foo *)addr`"));
                }
                Some(CVal { at: At::Value(int(TExprKind::Cast(Box::new(inner)), IntTy::U64, span)), ty: target, user })
            }
            // fexit's `retval` of a pointer type: the function's BTF return type (`retval->f`).
            ExprKind::Builtin(name) if name == "retval" && self.fexit_pointer(cx).is_some() => {
                let ty = self.fexit_pointer(cx)?;
                let t = self.expr(e, cx)?;
                Some(CVal { at: At::Value(t), ty, user: false })
            }
            ExprKind::Field { base, field, .. } if matches!(&base.kind, ExprKind::Builtin(b) if b == "args") => {
                self.args_pointer(field, cx, span)
            }
            ExprKind::Field { base, field, arrow } => {
                let b = self.c_expr(base, cx)?;
                let (addr, rec, user) = match (&b.ty, &b.at, *arrow) {
                    (CType::Ptr(to), _, true) if matches!(**to, CType::Record { .. }) => self.pointer(b, base.span)?,
                    (CType::Record { .. }, At::Mem(_), false) => {
                        let At::Mem(a) = b.at else { unreachable!() };
                        (a, b.ty, b.user)
                    }
                    (t, _, arrow) => {
                        let (op, hint) = if arrow {
                            ("->", "`->` takes a field through a pointer to a struct; a struct itself takes `.`")
                        } else {
                            (".", "`.` takes a field of a struct; through a pointer write `->`")
                        };
                        let msg = format!("`{op}{}` cannot apply to `{}`", field.name, t.describe());
                        return self.fail(Diagnostic::new(span, msg, "not a struct").with_help(hint));
                    }
                };
                self.field_at(addr, &rec, user, field, span)
            }
            ExprKind::Index { base, index } => {
                let b = self.c_expr(base, cx)?;
                let (addr, elem, len, user) = match (&b.ty, &b.at) {
                    (CType::Ptr(to), _) if !matches!(**to, CType::Void) => {
                        let (a, t, u) = self.pointer(b, base.span)?;
                        (a, t, None, u)
                    }
                    (CType::Array { elem, len }, At::Mem(_)) => {
                        let (elem, len) = ((**elem).clone(), *len);
                        let At::Mem(a) = b.at else { unreachable!() };
                        (a, elem, Some(len), b.user)
                    }
                    (t, _) => {
                        let msg = format!("`{}` cannot be indexed", t.describe());
                        return self.fail(Diagnostic::new(span, msg, "not an array or pointer"));
                    }
                };
                let size = u64::from(elem.size());
                let at = match (&index.kind, len) {
                    (ExprKind::Int(n), Some(len)) if *n >= u64::from(len) => {
                        let msg = format!("index {n} is out of bounds: the array has {len} elements");
                        return self.fail(Diagnostic::new(index.span, msg, "out of bounds"));
                    }
                    (ExprKind::Int(n), _) => add(addr, n * size),
                    _ => {
                        let i = self.int_expr(index, cx)?;
                        let off = bin(BinOp::Mul, i, size);
                        int(TExprKind::Binary(BinOp::Add, Box::new(addr), Box::new(off)), IntTy::U64, span)
                    }
                };
                Some(CVal { at: At::Mem(at), ty: elem, user })
            }
            ExprKind::Unary { op: UnOp::Deref, expr } => {
                let b = self.c_expr(expr, cx)?;
                if !matches!(&b.ty, CType::Ptr(to) if !matches!(**to, CType::Void)) {
                    let msg = format!("`*` takes a pointer, not `{}`", b.ty.describe());
                    return self.fail(Diagnostic::new(span, msg, "not a pointer"));
                }
                let (addr, ty, user) = self.pointer(b, expr.span)?;
                Some(CVal { at: At::Mem(addr), ty, user })
            }
            // `uptr(p)` / `kptr(p)`: the memory `p` points to is user / kernel memory.
            ExprKind::Call { func, args } if matches!(func.name.as_str(), "uptr" | "kptr") && args.len() == 1 => {
                let mut v = self.c_expr(&args[0], cx)?;
                v.user = func.name == "uptr";
                Some(v)
            }
            ExprKind::Var(name) if cx.scope.ctypes.contains_key(name) => {
                let (ty, user) = cx.scope.ctypes[name].clone();
                Some(CVal { at: At::Value(self.expr(e, cx)?), ty, user })
            }
            _ => {
                let t = self.expr(e, cx)?;
                // `uaddr("x")`: a user pointer to an integer of x's size (library/src/functions/uaddr.rs).
                if let TExprKind::Call { func: "uaddr", args, .. } = &t.kind {
                    if let [addr, TExpr { kind: TExprKind::Const(size), .. }] = args.as_slice() {
                        let ty = CType::Ptr(Box::new(CType::Int { size: *size as u32, signed: true }));
                        return Some(CVal { at: At::Value(addr.clone()), ty, user: true });
                    }
                }
                let msg = format!("{} has no C type vt knows", t.ty.describe());
                self.fail(
                    Diagnostic::new(span, msg, "type unknown")
                        .with_help("cast it to the pointer it is: `((struct task_struct *)EXPR)->field`"),
                )
            }
        }
    }

    /// Whether `e` is a pointer field of a syscall tracepoint's `args` (user memory).
    fn user_pointer_arg(&self, e: &Expr, cx: &Ctx) -> bool {
        let ExprKind::Field { base, field, .. } = &e.kind else { return false };
        if !matches!(&base.kind, ExprKind::Builtin(b) if b == "args") {
            return false;
        }
        let syscall = matches!(&cx.attach.target, Target::Tracepoint { category, .. } if category == "syscalls");
        syscall && cx.attach.args.as_ref().and_then(|fmt| fmt.field(&field.name)).is_some_and(|f| f.c_type.contains('*'))
    }

    /// The pointer type an fexit's return value has, if it is a pointer to a type vt knows.
    fn fexit_pointer(&self, cx: &Ctx) -> Option<CType> {
        if !matches!(&cx.attach.target, Target::Fentry(f) if f.ret) {
            return None;
        }
        let f = cx.attach.args.as_ref()?.field(crate::typed::FENTRY_RETVAL)?;
        ctype::of_format(&f.c_type)
    }

    /// `args.f` where the field is a pointer: the type its format names, read as user memory for a
    /// syscall's arguments.
    fn args_pointer(&mut self, field: &Ident, cx: &mut Ctx, span: Span) -> Option<CVal> {
        let f = cx.attach.args.as_ref().and_then(|fmt| fmt.field(&field.name)).cloned();
        let Some(f) = f else {
            // The usual errors (no args here, no such field).
            self.args_field_value(field, cx, span)?;
            return None;
        };
        let t = self.args_field_value(field, cx, span)?;
        let Some(ty) = ctype::of_format(&f.c_type) else {
            let msg = format!("field `{}` is a `{}`, not a pointer to a type vt knows", f.name, f.c_type);
            return self.fail(Diagnostic::new(span, msg, "not a pointer"));
        };
        let user = matches!(&cx.attach.target, Target::Tracepoint { category, .. } if category == "syscalls");
        Some(CVal { at: At::Value(t), ty, user })
    }
}

/// A bitfield's value: the bytes that hold it, shifted and masked.
fn bitfield(addr: TExpr, bit_offset: u32, bits: u32, user: bool, span: Span) -> TExpr {
    let (byte, shift) = (bit_offset / 8, bit_offset % 8);
    let size = match (shift + bits).div_ceil(8) {
        0..=1 => 1,
        2 => 2,
        3..=4 => 4,
        _ => 8,
    };
    let read = int(TExprKind::Read { addr: Box::new(add(addr, u64::from(byte))), size, user }, IntTy { bits: (size * 8) as u8, signed: false }, span);
    let shifted = if shift > 0 { bin(BinOp::Shr, read, u64::from(shift)) } else { read };
    if bits >= 64 {
        return shifted;
    }
    bin(BinOp::BitAnd, shifted, (1u64 << bits) - 1)
}
