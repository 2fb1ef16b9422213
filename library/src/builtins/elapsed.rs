//! `elapsed`: nanoseconds since the session started (the runtime stores the start in `vt_start`).

use super::emitted;
use codegen::asm::{helper, Reg, Src};
use codegen::emit::Emitter;
use codegen::registry::EmitBuiltin;
use bpf_ins::{ArithmeticOperation as Alu, Instruction, JumpOperation as Jmp};
use lang::diag::Diagnostic;
use lang::registry::{Builtin, BuiltinCx};
use lang::typed::{IntTy, TExpr};

pub struct Elapsed;

impl Builtin for Elapsed {
    fn name(&self) -> &'static str {
        "elapsed"
    }
    fn check(&self, cx: &BuiltinCx) -> Result<TExpr, Diagnostic> {
        Ok(emitted("elapsed", IntTy::U64, cx))
    }
}

impl EmitBuiltin for Elapsed {
    fn int(&self, e: &mut Emitter, r: Reg) {
        // nsecs minus the session start the runtime stored in vt_start.
        let mark = e.mark();
        let key = e.alloc(8);
        e.asm.insn(Instruction::store64(Reg::R10, key.off16(), 0));
        let start = e.internal().start;
        e.asm.load_map(Reg::R1, start);
        e.addr(Reg::R2, key);
        e.asm.call(helper::MAP_LOOKUP_ELEM);
        e.reset(mark);
        let missing = e.asm.label();
        e.asm.mov(r, Src::Imm(0));
        e.asm.jump_if(Jmp::IfEqual, Reg::R0, Src::Imm(0), missing);
        e.asm.insn(Instruction::loadx64(r, Reg::R0, 0));
        e.asm.bind(missing);
        e.asm.call(helper::KTIME_GET_NS);
        e.asm.alu(Alu::Sub, Reg::R0, Src::Reg(r));
        e.asm.mov(r, Src::Reg(Reg::R0));
    }
}
