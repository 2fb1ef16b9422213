//! The emitter: one function per construct, turning a checked probe program into BPF instructions.
//!
//! Register use: `r6` holds the context for the whole program; `r7`–`r9` (callee-saved, so they survive
//! helper calls) hold expression temporaries; when an expression needs more, the left operand is spilled
//! to the stack. `r0`–`r5` are scratch between helper calls.

use crate::asm::{helper, Asm, Code, Reg, Src};
use crate::{event, Layout};
use bpf_ins::{ArithmeticOperation as Alu, Instruction, JumpOperation as Jmp, MemoryOpSize};
use lang::ast::{BinOp, UnOp};
use lang::typed::*;

const CTX: Reg = Reg::R6;
const TEMPS: [Reg; 3] = [Reg::R9, Reg::R8, Reg::R7];
/// The stack slot the map key is built in (the top 8 bytes of the frame).
const KEY_SLOT: i16 = -8;

pub fn program(p: &ProbeProgram, layout: &Layout) -> Code {
    let mut e = Emitter { asm: Asm::default(), free: TEMPS.to_vec(), stack: KEY_SLOT, layout };
    e.asm.mov(CTX, Src::Reg(Reg::R1));
    let done = e.asm.label();
    if let Some(pred) = &p.predicate {
        let r = e.expr(pred);
        e.asm.jump_if(Jmp::IfEqual, r, Src::Imm(0), done);
        e.release(r);
    }
    for s in &p.body {
        e.stmt(s, done);
    }
    e.asm.bind(done);
    e.asm.mov(Reg::R0, Src::Imm(0));
    e.asm.exit();
    e.asm.finish()
}

struct Emitter<'a> {
    asm: Asm,
    /// Temporaries not in use, taken from the end.
    free: Vec<Reg>,
    /// Lowest stack offset in use (grows downwards from the key slot).
    stack: i16,
    layout: &'a Layout,
}

impl Emitter<'_> {
    fn take(&mut self) -> Reg {
        self.free.pop().expect("expression evaluation ran out of registers")
    }

    fn release(&mut self, r: Reg) {
        debug_assert!(!self.free.contains(&r));
        self.free.push(r);
    }

    fn stmt(&mut self, s: &TStmt, done: crate::asm::Label) {
        match s {
            TStmt::Aggregate { map, value, .. } => self.aggregate(*map, value.as_ref()),
            TStmt::Exit { .. } => {
                self.event(event::EXIT);
                self.asm.jump(done);
            }
        }
    }

    /// Sends an 8-byte event header `kind` to the ring buffer.
    fn event(&mut self, kind: u64) {
        let slot = self.stack - 8;
        self.asm.mov_const(Reg::R1, kind);
        self.asm.insn(Instruction::storex64(Reg::R10, slot, Reg::R1));
        self.asm.load_map(Reg::R1, self.layout.events.expect("layout has a ring buffer when exit() is used"));
        self.asm.mov(Reg::R2, Src::Reg(Reg::R10));
        self.asm.alu(Alu::Add, Reg::R2, Src::Imm(slot as i32));
        self.asm.mov(Reg::R3, Src::Imm(8));
        self.asm.mov(Reg::R4, Src::Imm(0));
        self.asm.call(helper::RINGBUF_OUTPUT);
    }

    /// `@m = count()` / `sum(v)` / `hist(v)`: one lookup in the map's per-CPU array, then an in-place add.
    fn aggregate(&mut self, map: usize, value: Option<&TExpr>) {
        let agg = self.layout.aggs[map];
        let v = value.map(|v| self.expr(v));
        match (agg, v) {
            (Agg::Hist, Some(v)) => {
                self.log2_bucket(v, value.unwrap().ty.bits);
                self.asm.insn(Instruction::storex32(Reg::R10, KEY_SLOT, v));
            }
            _ => self.asm.insn(Instruction::store32(Reg::R10, KEY_SLOT, 0)),
        }
        self.asm.load_map(Reg::R1, map);
        self.asm.mov(Reg::R2, Src::Reg(Reg::R10));
        self.asm.alu(Alu::Add, Reg::R2, Src::Imm(KEY_SLOT as i32));
        self.asm.call(helper::MAP_LOOKUP_ELEM);
        let skip = self.asm.label();
        self.asm.jump_if(Jmp::IfEqual, Reg::R0, Src::Imm(0), skip);
        self.asm.insn(Instruction::loadx64(Reg::R1, Reg::R0, 0));
        match (agg, v) {
            (Agg::Sum, Some(v)) => self.asm.alu(Alu::Add, Reg::R1, Src::Reg(v)),
            _ => self.asm.alu(Alu::Add, Reg::R1, Src::Imm(1)),
        }
        self.asm.insn(Instruction::storex64(Reg::R0, 0, Reg::R1));
        self.asm.bind(skip);
        if let Some(v) = v {
            self.release(v);
        }
    }

    /// Replaces the signed value in `v` by its bpftrace log2 bucket: 0 for negatives, 1 for zero, and
    /// `2 + floor(log2(v))` otherwise — a binary search over the bit width, no loop. A value of `bits`
    /// bits needs only the search steps below that width.
    fn log2_bucket(&mut self, v: Reg, bits: u8) {
        let (positive, zero, done) = (self.asm.label(), self.asm.label(), self.asm.label());
        self.asm.jump_if(Jmp::IfSignedGreater, v, Src::Imm(0), positive);
        self.asm.jump_if(Jmp::IfEqual, v, Src::Imm(0), zero);
        self.asm.mov(v, Src::Imm(0));
        self.asm.jump(done);
        self.asm.bind(zero);
        self.asm.mov(v, Src::Imm(1));
        self.asm.jump(done);
        self.asm.bind(positive);
        self.asm.mov(Reg::R1, Src::Imm(2));
        for shift in [32, 16, 8, 4, 2, 1].into_iter().filter(|&s| s < bits as i32) {
            let next = self.asm.label();
            self.asm.mov(Reg::R2, Src::Reg(v));
            self.asm.alu(Alu::Rhs, Reg::R2, Src::Imm(shift));
            self.asm.jump_if(Jmp::IfEqual, Reg::R2, Src::Imm(0), next);
            self.asm.mov(v, Src::Reg(Reg::R2));
            self.asm.alu(Alu::Add, Reg::R1, Src::Imm(shift));
            self.asm.bind(next);
        }
        self.asm.mov(v, Src::Reg(Reg::R1));
        self.asm.bind(done);
    }

    /// Evaluates `e` into a fresh temporary register holding its 64-bit value.
    fn expr(&mut self, e: &TExpr) -> Reg {
        match &e.kind {
            TExprKind::Const(v) => {
                let r = self.take();
                self.asm.mov_const(r, *v);
                r
            }
            TExprKind::Builtin(b) => {
                let r = self.take();
                self.builtin(*b, r);
                r
            }
            TExprKind::CtxField { offset } => {
                let r = self.take();
                let size = match e.ty.bits {
                    8 => MemoryOpSize::Byte,
                    16 => MemoryOpSize::HalfWord,
                    32 => MemoryOpSize::Word,
                    _ => MemoryOpSize::DoubleWord,
                };
                self.asm.insn(Instruction::loadx(r, CTX, *offset as i16, size));
                self.extend(r, e.ty);
                r
            }
            TExprKind::Unary(op, inner) => {
                let r = self.expr(inner);
                match op {
                    UnOp::Neg => self.asm.alu(Alu::Neg, r, Src::Imm(0)),
                    UnOp::BitNot => self.asm.alu(Alu::Xor, r, Src::Imm(-1)),
                    UnOp::Not => self.set_bool(Jmp::IfEqual, r, r, Src::Imm(0)),
                }
                r
            }
            TExprKind::Binary(BinOp::And, l, r) => self.logical(l, r, true),
            TExprKind::Binary(BinOp::Or, l, r) => self.logical(l, r, false),
            TExprKind::Binary(op, l, r) => self.binary(*op, l, r),
        }
    }

    /// Sign-extends a narrow signed value loaded zero-extended.
    fn extend(&mut self, r: Reg, ty: IntTy) {
        if ty.signed && ty.bits < 64 {
            let shift = 64 - ty.bits as i32;
            self.asm.alu(Alu::Lhs, r, Src::Imm(shift));
            self.asm.alu(Alu::Ash, r, Src::Imm(shift));
        }
    }

    fn builtin(&mut self, b: Builtin, r: Reg) {
        match b {
            Builtin::Pid | Builtin::Tid => {
                self.asm.call(helper::GET_CURRENT_PID_TGID);
                if b == Builtin::Pid {
                    self.asm.mov(r, Src::Reg(Reg::R0));
                    self.asm.alu(Alu::Rhs, r, Src::Imm(32));
                } else {
                    // A 32-bit move zero-extends: the low half is the thread id.
                    self.asm.insn(Instruction::movx32(r, Reg::R0));
                }
            }
            Builtin::Nsecs => {
                self.asm.call(helper::KTIME_GET_NS);
                self.asm.mov(r, Src::Reg(Reg::R0));
            }
            Builtin::Cpu => {
                self.asm.call(helper::GET_SMP_PROCESSOR_ID);
                self.asm.mov(r, Src::Reg(Reg::R0));
            }
        }
    }

    /// `dst = (a OP b) ? 1 : 0`
    fn set_bool(&mut self, op: Jmp, dst: Reg, a: Reg, b: Src) {
        let (yes, end) = (self.asm.label(), self.asm.label());
        self.asm.jump_if(op, a, b, yes);
        self.asm.mov(dst, Src::Imm(0));
        self.asm.jump(end);
        self.asm.bind(yes);
        self.asm.mov(dst, Src::Imm(1));
        self.asm.bind(end);
    }

    /// `&&` and `||` with short-circuit evaluation; the result is 0 or 1.
    fn logical(&mut self, l: &TExpr, r: &TExpr, and: bool) -> Reg {
        let (short, end) = (self.asm.label(), self.asm.label());
        let test = if and { Jmp::IfEqual } else { Jmp::IfNotEqual };
        let a = self.expr(l);
        self.asm.jump_if(test, a, Src::Imm(0), short);
        self.release(a);
        let b = self.expr(r);
        self.asm.jump_if(test, b, Src::Imm(0), short);
        self.asm.mov(b, Src::Imm(and as i32));
        self.asm.jump(end);
        self.asm.bind(short);
        self.asm.mov(b, Src::Imm(!and as i32));
        self.asm.bind(end);
        b
    }

    fn binary(&mut self, op: BinOp, l: &TExpr, r: &TExpr) -> Reg {
        let signed = l.ty.signed && r.ty.signed;
        let mut a = self.expr(l);
        // A constant right operand that fits an immediate needs no register.
        let imm = match r.kind {
            TExprKind::Const(v) => i32::try_from(v as i64).ok(),
            _ => None,
        };
        let (dst, b) = match imm {
            Some(i) => (a, Src::Imm(i)),
            None if !self.free.is_empty() => (a, Src::Reg(self.expr(r))),
            None => {
                // Out of temporaries: park the left operand on the stack, evaluate the right one, and
                // combine in the scratch register r1 (no helper call can happen in between).
                self.stack -= 8;
                let slot = self.stack;
                self.asm.insn(Instruction::storex64(Reg::R10, slot, a));
                self.release(a);
                let b = self.expr(r);
                a = Reg::R1;
                self.asm.insn(Instruction::loadx64(a, Reg::R10, slot));
                (b, Src::Reg(b))
            }
        };
        if let Some(jmp) = comparison(op, signed) {
            self.set_bool(jmp, dst, a, b);
        } else {
            let alu = match op {
                BinOp::Add => Alu::Add,
                BinOp::Sub => Alu::Sub,
                BinOp::Mul => Alu::Mul,
                BinOp::Div => Alu::Div,
                BinOp::Mod => Alu::Mod,
                BinOp::BitAnd => Alu::And,
                BinOp::BitOr => Alu::Or,
                BinOp::BitXor => Alu::Xor,
                BinOp::Shl => Alu::Lhs,
                BinOp::Shr if signed => Alu::Ash,
                BinOp::Shr => Alu::Rhs,
                _ => unreachable!("logical and comparison operators are handled above"),
            };
            self.asm.alu(alu, a, b);
            if a != dst {
                self.asm.mov(dst, Src::Reg(a));
            }
        }
        if let Src::Reg(b) = b {
            if b != dst {
                self.release(b);
            }
        }
        dst
    }
}

fn comparison(op: BinOp, signed: bool) -> Option<Jmp> {
    Some(match (op, signed) {
        (BinOp::Eq, _) => Jmp::IfEqual,
        (BinOp::Ne, _) => Jmp::IfNotEqual,
        (BinOp::Lt, false) => Jmp::IfLessThan,
        (BinOp::Le, false) => Jmp::IfLessThanOrEqual,
        (BinOp::Gt, false) => Jmp::IfGreater,
        (BinOp::Ge, false) => Jmp::IfGreaterOrEqual,
        (BinOp::Lt, true) => Jmp::IfSignedLessThan,
        (BinOp::Le, true) => Jmp::IfSignedLessThanOrEqual,
        (BinOp::Gt, true) => Jmp::IfSignedGreater,
        (BinOp::Ge, true) => Jmp::IfSignedGreaterOrEqual,
        _ => return None,
    })
}
