//! `sizeof(TYPE)` and `sizeof(expr)`: the bytes of an integer type, of a kernel type (`struct
//! task_struct`, from BTF), of a typedef (the script's or the kernel's), or of an expression's type (a string its buffer, a tuple its parts), known
//! at check time.

use lang::ast::ExprKind;
use lang::registry::{Call, Checking, Function};
use lang::typed::{TExpr, TExprKind, Ty};
use codegen::registry::EmitFunction;

pub struct Sizeof;

/// Bytes of an integer type named as casts name them.
fn int_type_size(name: &str) -> Option<u64> {
    Some(match name {
        "int8" | "uint8" | "u8" | "s8" | "i8" | "char" | "bool" => 1,
        "int16" | "uint16" | "u16" | "s16" | "i16" | "short" => 2,
        "int32" | "uint32" | "u32" | "s32" | "i32" | "int" => 4,
        "int64" | "uint64" | "u64" | "s64" | "i64" | "long" => 8,
        _ => return None,
    })
}

/// Bytes of a value of `ty`, as bpftrace counts them (a string its declared size).
fn ty_size(ty: &Ty) -> u64 {
    match ty {
        Ty::Int(i) => u64::from(i.bits / 8),
        Ty::Str(n) => u64::from(*n),
        Ty::Tuple(parts) => parts.iter().map(ty_size).sum(),
        Ty::Text(lang::typed::Render::Bytes(n)) => u64::from(*n),
        Ty::Text(r) => u64::from(r.size()),
    }
}

impl Function for Sizeof {
    fn name(&self) -> &'static str {
        "sizeof"
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<TExpr> {
        cx.arity(call, 1..=1)?;
        let arg = &call.args[0];
        let size = match &arg.kind {
            ExprKind::Builtin(name) if int_type_size(name).is_some() => int_type_size(name)?,
            ExprKind::Builtin(name) if name.starts_with("struct") || name.starts_with("union") || name.starts_with("enum") => {
                match lang::ctype::resolve(name, arg.span) {
                    Ok(t) => u64::from(t.size()),
                    Err(d) => {
                        cx.error(d);
                        return None;
                    }
                }
            }
            // A typedef's name (the script's, or the kernel's such as `pid_t`).
            ExprKind::Builtin(name) if lang::ctype::typedef_named(name).is_some() => u64::from(lang::ctype::typedef_named(name)?.size()),
            _ => ty_size(&cx.expr(arg)?.ty),
        };
        Some(TExpr { kind: TExprKind::Const(size), ty: Ty::U64, span: call.span })
    }
}

/// Never emitted: the checker leaves a constant.
impl EmitFunction for Sizeof {}
