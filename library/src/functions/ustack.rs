//! `ustack(mode)`, `ustack(limit)`, `ustack(mode, limit)`: the user stack, printed as its frames'
//! symbols (see `crate::stacks`; the builtin `ustack` is the call without arguments).

use codegen::emit::{Buf, Emitter};
use codegen::registry::{EmitFunction, FnCall};
use lang::registry::{Call, Checking, Function};
use lang::typed::TExpr;

pub struct Ustack;

impl Function for Ustack {
    fn name(&self) -> &'static str {
        "ustack"
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<TExpr> {
        crate::stacks::check(true, cx, call)
    }
}

impl EmitFunction for Ustack {
    fn string(&self, e: &mut Emitter, call: &FnCall, dst: Buf) {
        crate::stacks::emit_user(e, call, dst)
    }
}
