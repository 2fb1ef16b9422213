//! `bswap(n)`: `n` with its bytes in reverse order, at its own width (bpftrace 0.21+): a 16-, 32- or
//! 64-bit swap for those widths; an 8-bit value is its own swap. The result is unsigned, of the same
//! width.

use codegen::asm::Reg;
use codegen::emit::Emitter;
use codegen::registry::{EmitFunction, FnCall};
use bpf_ins::Instruction;
use lang::registry::{Call, Checking, Function};
use lang::typed::{IntTy, TExpr, TExprKind, Ty};

pub struct Bswap;

impl Function for Bswap {
    fn name(&self) -> &'static str {
        "bswap"
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<TExpr> {
        cx.arity(call, 1..=1)?;
        let n = cx.int_expr(&call.args[0])?;
        let bits = n.ty.int().map_or(64, |t| t.bits);
        let ty = Ty::Int(IntTy { bits, signed: false });
        Some(TExpr { kind: TExprKind::Call { func: "bswap", map: None, args: vec![n] }, ty, span: call.span })
    }
}

/// `BPF_ALU | BPF_END | BPF_TO_BE` on `dst` with `bits` as the immediate: on a little-endian machine
/// the conversion to big endian is the byte swap, and it clears the bits above `bits`.
fn to_big_endian(dst: Reg, bits: u8) -> Option<Instruction> {
    const ALU_END_TO_BE: u64 = 0x04 | 0xd0 | 0x08;
    let raw = ALU_END_TO_BE | u64::from(dst.as_num()) << 8 | u64::from(bits) << 32;
    Instruction::decode(&[raw]).ok()
}

impl EmitFunction for Bswap {
    fn int(&self, e: &mut Emitter, call: &FnCall) -> Reg {
        let r = e.expr(&call.args[0]);
        let bits = call.ty.int().map_or(64, |t| t.bits);
        if bits > 8 {
            match to_big_endian(r, bits) {
                Some(insn) => e.asm.insn(insn),
                None => e.unsupported("a byte swap", r),
            }
        } else {
            // An 8-bit value swaps to itself; drop what sign extension put above it.
            e.asm.alu(bpf_ins::ArithmeticOperation::And, r, codegen::asm::Src::Imm(0xff));
        }
        r
    }
}
