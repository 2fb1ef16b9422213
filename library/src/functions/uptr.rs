//! `uptr(p)`: the memory the pointer `p` points to is user memory, so reads through it
//! (`uptr(args->p)->field`, `*uptr(p)`) use `bpf_probe_read_user` (the checker's kernel-types pass reads the
//! mark, lang/src/check/kernel.rs). As a value of its own it is `p`.

use codegen::registry::EmitFunction;
use lang::registry::{Call, Checking, Function};
use lang::typed::TExpr;

pub struct Uptr;

impl Function for Uptr {
    fn name(&self) -> &'static str {
        "uptr"
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<TExpr> {
        cx.arity(call, 1..=1)?;
        let mut p = cx.int_expr(&call.args[0])?;
        p.span = call.span;
        Some(p)
    }
}

/// Never emitted: the checker leaves the pointer's own expression.
impl EmitFunction for Uptr {}
