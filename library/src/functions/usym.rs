//! `usym(addr)`: a user address, printed as the name of the symbol holding it in the current process's
//! mappings (the pid is kept beside the address; the runtime names it when it prints).

use codegen::asm::Reg;
use codegen::emit::{Buf, Emitter};
use codegen::registry::{EmitFunction, FnCall};
use lang::registry::{Call, Checking, Function};
use lang::typed::{Render, TExpr, TExprKind, Ty};

pub struct Usym;

impl Function for Usym {
    fn name(&self) -> &'static str {
        "usym"
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<TExpr> {
        cx.arity(call, 1..=1)?;
        let addr = cx.int_expr(&call.args[0])?;
        let ty = Ty::Text(Render::USym);
        Some(TExpr { kind: TExprKind::Call { func: "usym", map: None, args: vec![addr] }, ty, span: call.span })
    }
}

impl EmitFunction for Usym {
    /// The address, then the pid.
    fn string(&self, e: &mut Emitter, call: &FnCall, dst: Buf) {
        let r: Reg = e.expr(&call.args[0]);
        e.asm.insn(bpf_ins::Instruction::storex64(Reg::R10, dst.off16(), r));
        e.release(r);
        crate::stacks::store_pid(e, dst.off16() + 8);
    }
}
