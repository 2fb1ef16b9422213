//! `kptr(p)`: the memory the pointer `p` points to is kernel memory, so reads through it
//! (`kptr(args->p)->field`, `*kptr(p)`) use `bpf_probe_read_kernel` (the checker's kernel-types pass reads the
//! mark, lang/src/check/kernel.rs). As a value of its own it is `p`.

use codegen::registry::EmitFunction;
use lang::registry::{Call, Checking, Function};
use lang::typed::TExpr;

pub struct Kptr;

impl Function for Kptr {
    fn name(&self) -> &'static str {
        "kptr"
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<TExpr> {
        cx.arity(call, 1..=1)?;
        let mut p = cx.int_expr(&call.args[0])?;
        p.span = call.span;
        Some(p)
    }
}

/// Never emitted: the checker leaves the pointer's own expression.
impl EmitFunction for Kptr {}
