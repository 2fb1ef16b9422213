//! Integer expressions: constants, context fields, variables, map reads, operators, casts; builtins
//! and function calls through their registry entries.

use super::{mem_size, Emitter, CTX};
use crate::asm::{helper, Reg, Src};
use crate::registry::FnCall;
use bpf_ins::{ArithmeticOperation as Alu, Instruction, JumpOperation as Jmp};
use lang::ast::{BinOp, UnOp};
use lang::typed::*;

impl Emitter<'_> {
    /// Evaluates an integer expression into a fresh temporary register holding its 64-bit value.
    pub fn expr(&mut self, e: &TExpr) -> Reg {
        let ty = e.ty.int().unwrap_or(IntTy::U64);
        match &e.kind {
            TExprKind::Const(v) => {
                let r = self.take();
                self.asm.mov_const(r, *v);
                r
            }
            TExprKind::Builtin(name) => {
                let r = self.take();
                let lib = self.lib;
                match lib.builtin(name) {
                    Some(b) => b.int(self, r),
                    None => self.unsupported(&format!("the builtin `{name}`"), r),
                }
                r
            }
            TExprKind::Call { func, map, args } => {
                let lib = self.lib;
                let call = FnCall { map: *map, args, ty: &e.ty };
                match lib.function(func) {
                    Some(f) => f.int(self, &call),
                    None => {
                        let r = self.take();
                        self.unsupported(&format!("the function `{func}`"), r);
                        r
                    }
                }
            }
            TExprKind::CtxField { offset } => {
                let r = self.take();
                self.asm.insn(Instruction::loadx(r, CTX, *offset as i16, mem_size(ty.bits)));
                self.extend(r, ty);
                r
            }
            TExprKind::CtxArrayElem { offset, elem, len, index } => self.array_elem(*offset, *elem, *len, index, ty),
            TExprKind::Read { addr, size, user } => self.read(addr, *size, *user, ty),
            TExprKind::Var(id) => {
                let r = self.take();
                let b = self.var(*id);
                self.asm.insn(Instruction::loadx64(r, Reg::R10, b.off16()));
                r
            }
            TExprKind::MapRead { map, keys } => {
                let mark = self.frame;
                let key = self.key(*map, keys, None);
                self.map_call(*map, key, None, helper::MAP_LOOKUP_ELEM, 0);
                self.frame = mark;
                let r = self.take();
                let missing = self.asm.label();
                self.asm.mov(r, Src::Imm(0));
                self.asm.jump_if(Jmp::IfEqual, Reg::R0, Src::Imm(0), missing);
                self.asm.insn(Instruction::loadx64(r, Reg::R0, 0));
                self.asm.bind(missing);
                r
            }
            TExprKind::ByteAt { base, index } => {
                let mark = self.frame;
                let buf = self.materialize(base);
                self.frame = mark;
                let r = self.take();
                self.asm.insn(Instruction::loadx8(r, Reg::R10, (buf.off + *index as i32) as i16));
                r
            }
            TExprKind::TupleField { base, index } => {
                let mark = self.frame;
                let (buf, at) = self.tuple_part(base, *index);
                self.frame = mark;
                let r = self.take();
                self.asm.insn(Instruction::loadx64(r, Reg::R10, (buf.off + at as i32) as i16));
                r
            }
            TExprKind::Unary(op, inner) => {
                let r = self.expr(inner);
                match op {
                    UnOp::Neg => self.asm.alu(Alu::Neg, r, Src::Imm(0)),
                    UnOp::BitNot => self.asm.alu(Alu::Xor, r, Src::Imm(-1)),
                    UnOp::Not => self.set_bool(Jmp::IfEqual, r, r, Src::Imm(0)),
                    // The checker turns `*p` into a read.
                    UnOp::Deref => self.unsupported("a dereference left unchecked", r),
                }
                r
            }
            TExprKind::Binary(BinOp::And, l, r) => self.logical(l, r, true),
            TExprKind::Binary(BinOp::Or, l, r) => self.logical(l, r, false),
            TExprKind::Binary(op, l, r) => self.binary(*op, l, r),
            TExprKind::StrCmp { eq, lhs, rhs } => self.strcmp(*eq, lhs, rhs),
            TExprKind::Ternary { cond, then, otherwise } => {
                // Both branches leave their value in one stack slot, so that the register is the same.
                let mark = self.frame;
                let slot = self.alloc(8);
                let (other, end) = (self.asm.label(), self.asm.label());
                let c = self.expr(cond);
                self.asm.jump_if(Jmp::IfEqual, c, Src::Imm(0), other);
                self.release(c);
                self.value_to(then, slot, &Ty::I64);
                self.asm.jump(end);
                self.asm.bind(other);
                self.value_to(otherwise, slot, &Ty::I64);
                self.asm.bind(end);
                let r = self.take();
                self.asm.insn(Instruction::loadx64(r, Reg::R10, slot.off16()));
                self.frame = mark;
                r
            }
            TExprKind::Cast(inner) => {
                let r = self.expr(inner);
                if ty.bits < 64 {
                    let shift = 64 - ty.bits as i32;
                    self.asm.alu(Alu::Lhs, r, Src::Imm(shift));
                    self.asm.alu(if ty.signed { Alu::Ash } else { Alu::Rhs }, r, Src::Imm(shift));
                }
                r
            }
            TExprKind::UserInt { addr } => {
                // The helper writes its destination whether or not the read succeeds (zeros if not).
                let mark = self.frame;
                let buf = self.alloc(8);
                let a = self.expr(addr);
                self.addr(Reg::R1, buf);
                self.asm.mov(Reg::R2, Src::Imm(ty.bits as i32 / 8));
                self.asm.mov(Reg::R3, Src::Reg(a));
                self.release(a);
                self.asm.call(helper::PROBE_READ_USER);
                let r = self.take();
                self.asm.insn(Instruction::loadx(r, Reg::R10, buf.off16(), mem_size(ty.bits)));
                self.extend(r, ty);
                self.frame = mark;
                r
            }
            _ => {
                let r = self.take();
                self.unsupported("an integer from a string expression", r);
                r
            }
        }
    }

    /// An integer read from kernel (or user) memory: the helper copies it to the stack (0 when the read
    /// fails: the helper clears its buffer), then it is loaded and extended.
    pub fn read(&mut self, addr: &TExpr, size: u32, user: bool, ty: IntTy) -> Reg {
        let r = self.expr(addr);
        let mark = self.frame;
        let tmp = self.alloc(8);
        self.addr(Reg::R1, tmp);
        self.asm.mov(Reg::R2, Src::Imm(size as i32));
        self.asm.mov(Reg::R3, Src::Reg(r));
        self.asm.call(if user { helper::PROBE_READ_USER } else { helper::PROBE_READ_KERNEL });
        self.asm.insn(Instruction::loadx(r, Reg::R10, tmp.off16(), mem_size(ty.bits)));
        self.extend(r, ty);
        self.frame = mark;
        r
    }

    /// An element of an integer array field: a constant index reads the context directly; a computed
    /// one is bounds-checked and read with a helper (the verifier refuses variable context offsets).
    pub fn array_elem(&mut self, offset: u32, elem: u32, len: u32, index: &TExpr, ty: IntTy) -> Reg {
        if let TExprKind::Const(i) = index.kind {
            let r = self.take();
            if i < len as u64 {
                self.asm.insn(Instruction::loadx(r, CTX, (offset + i as u32 * elem) as i16, mem_size(ty.bits)));
                self.extend(r, ty);
            } else {
                self.asm.mov(r, Src::Imm(0));
            }
            return r;
        }
        let mark = self.frame;
        let tmp = self.alloc(8);
        self.asm.insn(Instruction::store64(Reg::R10, tmp.off16(), 0));
        let i = self.expr(index);
        let out = self.asm.label();
        self.asm.jump_if(Jmp::IfGreaterOrEqual, i, Src::Imm(len as i32), out);
        self.asm.mov(Reg::R3, Src::Reg(i));
        self.asm.alu(Alu::Mul, Reg::R3, Src::Imm(elem as i32));
        self.asm.alu(Alu::Add, Reg::R3, Src::Imm(offset as i32));
        self.asm.alu(Alu::Add, Reg::R3, Src::Reg(CTX));
        self.addr(Reg::R1, tmp);
        self.asm.mov(Reg::R2, Src::Imm(elem as i32));
        self.asm.call(helper::PROBE_READ_KERNEL);
        self.asm.bind(out);
        self.asm.insn(Instruction::loadx(i, Reg::R10, tmp.off16(), mem_size(ty.bits)));
        self.extend(i, ty);
        self.frame = mark;
        i
    }

    /// String equality up to the first NUL, byte by byte, unrolled over the shorter buffer.
    pub fn strcmp(&mut self, eq: bool, lhs: &TExpr, rhs: &TExpr) -> Reg {
        let mark = self.frame;
        // A literal on either side is compared against immediates.
        let (other, lit) = match (&lhs.kind, &rhs.kind) {
            (_, TExprKind::StrConst(s)) => (lhs, Some(s.clone())),
            (TExprKind::StrConst(s), _) => (rhs, Some(s.clone())),
            _ => (lhs, None),
        };
        let a = self.materialize(other);
        let (differ, same, end) = (self.asm.label(), self.asm.label(), self.asm.label());
        match lit {
            Some(s) => {
                let mut bytes = s.into_bytes();
                bytes.push(0);
                for (i, byte) in bytes.iter().enumerate().take(a.size as usize) {
                    self.asm.insn(Instruction::loadx8(Reg::R1, Reg::R10, (a.off + i as i32) as i16));
                    self.asm.jump_if(Jmp::IfNotEqual, Reg::R1, Src::Imm(*byte as i32), differ);
                }
            }
            None => {
                let b = self.materialize(rhs);
                for i in 0..a.size.min(b.size) as i32 {
                    self.asm.insn(Instruction::loadx8(Reg::R1, Reg::R10, (a.off + i) as i16));
                    self.asm.insn(Instruction::loadx8(Reg::R2, Reg::R10, (b.off + i) as i16));
                    self.asm.jump_if(Jmp::IfNotEqual, Reg::R1, Src::Reg(Reg::R2), differ);
                    self.asm.jump_if(Jmp::IfEqual, Reg::R1, Src::Imm(0), same);
                }
            }
        }
        self.frame = mark;
        let r = self.take();
        self.asm.bind(same);
        self.asm.mov(r, Src::Imm(eq as i32));
        self.asm.jump(end);
        self.asm.bind(differ);
        self.asm.mov(r, Src::Imm(!eq as i32));
        self.asm.bind(end);
        r
    }

    /// Sign-extends a narrow signed value loaded zero-extended.
    pub fn extend(&mut self, r: Reg, ty: IntTy) {
        if ty.signed && ty.bits < 64 {
            let shift = 64 - ty.bits as i32;
            self.asm.alu(Alu::Lhs, r, Src::Imm(shift));
            self.asm.alu(Alu::Ash, r, Src::Imm(shift));
        }
    }

    /// `dst = (a OP b) ? 1 : 0`
    pub fn set_bool(&mut self, op: Jmp, dst: Reg, a: Reg, b: Src) {
        let (yes, end) = (self.asm.label(), self.asm.label());
        self.asm.jump_if(op, a, b, yes);
        self.asm.mov(dst, Src::Imm(0));
        self.asm.jump(end);
        self.asm.bind(yes);
        self.asm.mov(dst, Src::Imm(1));
        self.asm.bind(end);
    }

    /// `&&` and `||` with short-circuit evaluation; the result is 0 or 1.
    pub fn logical(&mut self, l: &TExpr, r: &TExpr, and: bool) -> Reg {
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

    pub fn binary(&mut self, op: BinOp, l: &TExpr, r: &TExpr) -> Reg {
        let signed = [l, r].iter().all(|e| e.ty.int().is_some_and(|t| t.signed));
        let mut a = self.expr(l);
        // A constant right operand that fits an immediate needs no register.
        let imm = match r.kind {
            TExprKind::Const(v) => i32::try_from(v as i64).ok(),
            _ => None,
        };
        let mark = self.frame;
        let (dst, b) = match imm {
            Some(i) => (a, Src::Imm(i)),
            None if !self.free.is_empty() => (a, Src::Reg(self.expr(r))),
            None => {
                // Out of temporaries: park the left operand on the stack, evaluate the right one, and
                // combine in the scratch register r1 (no helper call can happen in between).
                let slot = self.alloc(8);
                self.asm.insn(Instruction::storex64(Reg::R10, slot.off16(), a));
                self.release(a);
                let b = self.expr(r);
                a = Reg::R1;
                self.asm.insn(Instruction::loadx64(a, Reg::R10, slot.off16()));
                (b, Src::Reg(b))
            }
        };
        self.frame = mark;
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
                // bpftrace shifts right logically, whatever the signedness.
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
