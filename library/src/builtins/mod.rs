//! Builtins: one file each. Most are one helper call; `helper_value` is that shared shape.

pub mod arg;
pub mod cgroup;
pub mod comm;
pub mod cpid;
pub mod cpu;
pub mod ctx;
pub mod curtask;
pub mod elapsed;
pub mod func;
pub mod gid;
pub mod jiffies;
pub mod kstack;
pub mod nsecs;
pub mod numaid;
pub mod pid;
pub mod probe;
pub mod rand;
pub mod retval;
pub mod tid;
pub mod uid;
pub mod ustack;
pub mod username;

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
    &arg::ARGS[0],
    &arg::ARGS[1],
    &arg::ARGS[2],
    &arg::ARGS[3],
    &arg::ARGS[4],
    &arg::ARGS[5],
    &arg::ARGS[6],
    &arg::ARGS[7],
    &arg::ARGS[8],
    &arg::ARGS[9],
    &retval::Retval,
    &func::Func,
    &username::Username,
    &jiffies::Jiffies,
    &ctx::Ctx,
    &kstack::Kstack,
    &ustack::Ustack,
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

/// A builtin whose value is one helper call: `helper_builtin!(Pid, "pid", IntTy::U64, GET_CURRENT_PID_TGID, High)`
/// defines the entry `Pid` (its name, its type, the helper and the part of its result taken).
macro_rules! helper_builtin {
    ($entry:ident, $name:literal, $ty:expr, $helper:ident, $part:ident) => {
        pub struct $entry;

        impl lang::registry::Builtin for $entry {
            fn name(&self) -> &'static str {
                $name
            }
            fn check(&self, cx: &lang::registry::BuiltinCx) -> Result<lang::typed::TExpr, lang::diag::Diagnostic> {
                #[allow(unused_imports)]
                use lang::typed::IntTy;
                Ok(super::emitted($name, $ty, cx))
            }
        }

        impl codegen::registry::EmitBuiltin for $entry {
            fn int(&self, e: &mut codegen::emit::Emitter, dst: codegen::asm::Reg) {
                super::helper_value(e, dst, codegen::asm::helper::$helper, super::Part::$part);
            }
        }
    };
}
pub(crate) use helper_builtin;

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
