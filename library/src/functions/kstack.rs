//! `kstack(mode)`, `kstack(limit)`, `kstack(mode, limit)`: the kernel stack, printed as its frames'
//! symbols (see `crate::stacks`; the builtin `kstack` is the call without arguments).

use codegen::asm::Reg;
use codegen::emit::Emitter;
use codegen::registry::{EmitFunction, FnCall};
use lang::registry::{Call, Checking, Function};
use lang::typed::TExpr;

pub struct Kstack;

impl Function for Kstack {
    fn name(&self) -> &'static str {
        "kstack"
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<TExpr> {
        crate::stacks::check(false, cx, call)
    }
}

impl EmitFunction for Kstack {
    fn int(&self, e: &mut Emitter, call: &FnCall) -> Reg {
        crate::stacks::emit_kernel(e, call)
    }
}
