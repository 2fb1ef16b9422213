//! Builtins: one file each. Most are one helper call; `helper_value` is that shared shape.

pub mod cgroup;
pub mod comm;
pub mod cpid;
pub mod cpu;
pub mod curtask;
pub mod elapsed;
pub mod gid;
pub mod nsecs;
pub mod numaid;
pub mod pid;
pub mod probe;
pub mod rand;
pub mod tid;
pub mod uid;

/// The registered entries: one line per file of this folder.
pub static LIST: &[&dyn BuiltinEntry] = &[
    &pid::Pid,
    &tid::Tid,
    &uid::Uid,
    &gid::Gid,
    &nsecs::Nsecs,
    &elapsed::Elapsed,
    &cpu::Cpu,
    &numaid::Numaid,
    &comm::Comm,
    &rand::Rand,
    &cgroup::Cgroup,
    &curtask::Curtask,
    &probe::Probe,
    &cpid::Cpid,
];

use codegen::asm::{Reg, Src};
use codegen::emit::Emitter;
use codegen::registry::EmitBuiltin;
use lang::registry::{Builtin, BuiltinCx};
use lang::typed::{IntTy, TExpr, TExprKind, Ty};

/// A builtin with both sides: the checker's and the emitter's.
pub trait BuiltinEntry: Builtin + EmitBuiltin {}
impl<T: Builtin + EmitBuiltin> BuiltinEntry for T {}

/// The typed use of an integer builtin the entry emits itself.
pub fn emitted(name: &'static str, ty: IntTy, cx: &BuiltinCx) -> TExpr {
    TExpr { kind: TExprKind::Builtin(name), ty: Ty::Int(ty), span: cx.span }
}

/// Which part of a helper's 64-bit result a builtin takes.
pub enum Part {
    All,
    /// The low 32 bits.
    Low,
    /// The high 32 bits.
    High,
}

/// `dst = helper()`, or its low or high half.
pub fn helper_value(e: &mut Emitter, dst: Reg, helper: u32, part: Part) {
    e.asm.call(helper);
    match part {
        // A 32-bit move zero-extends: the low half.
        Part::Low => e.asm.insn(bpf_ins::Instruction::movx32(dst, Reg::R0)),
        Part::All => e.asm.mov(dst, Src::Reg(Reg::R0)),
        Part::High => {
            e.asm.mov(dst, Src::Reg(Reg::R0));
            e.asm.alu(bpf_ins::ArithmeticOperation::Rhs, dst, Src::Imm(32));
        }
    }
}
