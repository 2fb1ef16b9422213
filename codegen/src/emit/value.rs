//! Values in stack buffers: strings (padded, truncated, copied), tuples, and whole-value copies.

use super::{Buf, Emitter, CTX};
use crate::asm::{helper, Reg, Src};
use crate::layout::size;
use crate::registry::FnCall;
use bpf_ins::{ArithmeticOperation as Alu, Instruction, JumpOperation as Jmp};
use lang::typed::*;

impl Emitter<'_> {
    /// Writes the value of `e` into `dst` laid out as `ty` (strings padded or truncated to its size).
    pub fn value_to(&mut self, e: &TExpr, dst: Buf, ty: &Ty) {
        match (ty, &e.kind) {
            (Ty::Int(_), _) => self.int_to(e, dst),
            (Ty::Text(r), _) if r.size() == 8 && !matches!(r, Render::Bytes(_)) => self.int_to(e, dst),
            (Ty::Text(_), _) => self.bytes_to(e, dst),
            (Ty::Tuple(parts), TExprKind::Tuple(items)) => {

                let mut at = 0;
                for (item, part) in items.iter().zip(parts) {
                    self.value_to(item, dst.at(at, size(part)), part);
                    at += size(part);
                }
            }
            (Ty::Str(n), _) => self.string_to(e, Buf { off: dst.off, size: n.div_ceil(8) * 8 }),
            // A tuple map's value: its bytes (materializing it would come back here).
            (Ty::Tuple(_), TExprKind::MapRead { .. }) => self.bytes_to(e, dst),
            // A tuple inside a tuple (`$t.0` of `((1, "a"), 2)`): its bytes within the outer one.
            (Ty::Tuple(_), TExprKind::TupleField { base, index }) => {
                let (buf, at) = self.tuple_part(base, *index);
                let n = size(&e.ty).min(dst.size);
                self.copy(Reg::R10, buf.off + at as i32, dst, n);
            }
            (Ty::Tuple(_), _) => {
                // A tuple held in a variable or a map: copy its bytes.
                let src = self.materialize(e);
                self.copy(Reg::R10, src.off, dst, src.size.min(dst.size));
            }
        }
    }

    /// Stores an integer (or an 8-byte `Ty::Text`) in its 8 bytes at `dst`.
    fn int_to(&mut self, e: &TExpr, dst: Buf) {
        let r = self.expr(e);
        self.asm.insn(Instruction::storex64(Reg::R10, dst.off16(), r));
        self.release(r);
    }

    /// Writes the raw bytes of a wider `Ty::Text` value (an address) into `dst`: a function's
    /// own bytes, or a copy of a variable's or a map's (no NUL is forced, unlike a string).
    fn bytes_to(&mut self, e: &TExpr, dst: Buf) {
        match &e.kind {
            TExprKind::Call { func, map, args } => {
                let lib = self.lib;
                let call = FnCall { map: *map, args, ty: &e.ty };
                match lib.function(func) {
                    Some(f) => f.string(self, &call, dst),
                    None => self.unsupported_string(&format!("the function `{func}`"), dst),
                }
            }
            TExprKind::Var(id) => {
                let src = self.var(*id);
                self.copy(Reg::R10, src.off, dst, src.size.min(dst.size));
            }
            TExprKind::MapRead { map, keys } => {
                let key = self.key(*map, keys, None);
                self.zero(dst.off, dst.size);
                self.map_call(*map, key, None, helper::MAP_LOOKUP_ELEM, 0);
                let missing = self.asm.label();
                self.asm.jump_if(Jmp::IfEqual, Reg::R0, Src::Imm(0), missing);
                let stored = self.specs[map.index()].value_size;
                self.copy(Reg::R0, 0, dst, stored.min(dst.size));
                self.asm.bind(missing);
            }
            _ => self.unsupported_string("these bytes", dst),
        }
    }

    /// Evaluates a string or tuple expression into a fresh stack buffer.
    pub fn materialize(&mut self, e: &TExpr) -> Buf {
        match &e.kind {
            TExprKind::Var(id) => self.var(*id),
            _ => {
                let ty = e.ty.clone();
                let buf = self.alloc(size(&ty));
                self.value_to(e, buf, &ty);
                buf
            }
        }
    }

    /// Copies `size` bytes (a multiple of 8) from `base + off` to the stack buffer `dst`.
    pub fn copy(&mut self, base: Reg, off: i32, dst: Buf, size: u32) {
        for i in (0..size).step_by(8) {
            self.asm.insn(Instruction::loadx64(Reg::R1, base, (off + i as i32) as i16));
            self.asm.insn(Instruction::storex64(Reg::R10, (dst.off + i as i32) as i16, Reg::R1));
        }
    }

    /// Writes a NUL-padded string into `dst` (the whole buffer is written: keys hash all their bytes).
    pub fn string_to(&mut self, e: &TExpr, dst: Buf) {
        match &e.kind {
            TExprKind::StrConst(s) => {
                let mut bytes = s.as_bytes().to_vec();
                bytes.resize(dst.size as usize, 0);
                if let Some(last) = bytes.last_mut() {
                    *last = 0; // truncated strings keep their NUL
                }
                for (i, chunk) in bytes.chunks(4).enumerate() {
                    let word = i32::from_le_bytes(chunk.try_into().unwrap());
                    self.asm.insn(Instruction::store32(Reg::R10, (dst.off + 4 * i as i32) as i16, word));
                }
            }
            TExprKind::Builtin(name) => {
                let lib = self.lib;
                match lib.builtin(name) {
                    Some(b) => b.string(self, dst),
                    None => self.unsupported_string(&format!("the builtin `{name}`"), dst),
                }
            }
            TExprKind::Call { func, map, args } => {
                let lib = self.lib;
                let call = FnCall { map: *map, args, ty: &e.ty };
                match lib.function(func) {
                    Some(f) => f.string(self, &call, dst),
                    None => self.unsupported_string(&format!("the function `{func}`"), dst),
                }
            }
            TExprKind::CtxChars { offset } => {
                let n = match e.ty { Ty::Str(n) => n, _ => dst.size };
                self.zero(dst.off, dst.size);
                self.addr(Reg::R1, dst);
                self.asm.mov(Reg::R2, Src::Imm(n.min(dst.size - 1) as i32));
                self.asm.mov(Reg::R3, Src::Reg(CTX));
                self.asm.alu(Alu::Add, Reg::R3, Src::Imm(*offset as i32));
                self.asm.call(helper::PROBE_READ_KERNEL);
            }
            TExprKind::ReadChars { addr, user } => {
                let n = match e.ty { Ty::Str(n) => n, _ => dst.size };
                let r = self.expr(addr);
                self.zero(dst.off, dst.size);
                self.addr(Reg::R1, dst);
                self.asm.mov(Reg::R2, Src::Imm(n.min(dst.size - 1) as i32));
                self.asm.mov(Reg::R3, Src::Reg(r));
                self.release(r);
                self.asm.call(if *user { helper::PROBE_READ_USER } else { helper::PROBE_READ_KERNEL });
            }
            TExprKind::CtxDataLoc { offset } => {
                self.zero(dst.off, dst.size);
                // The locator: the string starts at record + (loc & 0xffff).
                self.asm.insn(Instruction::loadx32(Reg::R3, CTX, *offset as i16));
                self.asm.alu(Alu::And, Reg::R3, Src::Imm(0xffff));
                self.asm.alu(Alu::Add, Reg::R3, Src::Reg(CTX));
                self.addr(Reg::R1, dst);
                self.asm.mov(Reg::R2, Src::Imm(dst.size as i32));
                self.asm.call(helper::PROBE_READ_KERNEL_STR);
            }
            TExprKind::Var(id) => {
                let src = self.var(*id);
                self.zero(dst.off, dst.size);
                self.copy(Reg::R10, src.off, dst, src.size.min(dst.size).div_ceil(8) * 8);
                self.terminate(dst);
            }
            TExprKind::MapRead { map, keys } => {
                let key = self.key(*map, keys, None);
                self.zero(dst.off, dst.size);
                self.map_call(*map, key, None, helper::MAP_LOOKUP_ELEM, 0);
                let missing = self.asm.label();
                self.asm.jump_if(Jmp::IfEqual, Reg::R0, Src::Imm(0), missing);
                let stored = self.specs[map.index()].value_size;
                self.copy(Reg::R0, 0, dst, stored.min(dst.size));
                self.terminate(dst);
                self.asm.bind(missing);
            }
            TExprKind::Ternary { cond, then, otherwise } => {
                let (other, end) = (self.asm.label(), self.asm.label());
                let c = self.expr(cond);
                self.asm.jump_if(Jmp::IfEqual, c, Src::Imm(0), other);
                self.release(c);
                self.string_to(then, dst);
                self.asm.jump(end);
                self.asm.bind(other);
                self.string_to(otherwise, dst);
                self.asm.bind(end);
            }
            TExprKind::TupleField { base, index } => {
                let (buf, at) = self.tuple_part(base, *index);
                let n = size(&e.ty).min(dst.size);
                self.zero(dst.off, dst.size);
                self.copy(Reg::R10, buf.off + at as i32, dst, n);
                self.terminate(dst);
            }
            _ => self.unsupported_string("a string from an integer expression", dst),
        }
    }

    /// The tuple `base` in a stack buffer, and where its part `index` starts in it.
    pub(super) fn tuple_part(&mut self, base: &TExpr, index: u32) -> (Buf, u32) {
        let buf = self.materialize(base);
        let at = match &base.ty {
            Ty::Tuple(parts) => parts.iter().take(index as usize).map(size).sum(),
            _ => 0,
        };
        (buf, at)
    }

    /// Makes sure a string copied into `dst` ends with a NUL within it.
    pub fn terminate(&mut self, dst: Buf) {
        self.asm.insn(Instruction::store8(Reg::R10, (dst.off + dst.size as i32 - 1) as i16, 0));
    }
}
