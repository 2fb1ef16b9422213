//! Statements: map stores and deletes, variables, `if`, `for`, `exit`, `return`, and events.

use super::{storage_of, terminates, Emitter};
use crate::asm::{helper, Reg, Src};
use crate::event;
use crate::layout::size;
use bpf_ins::{ArithmeticOperation as Alu, Instruction, JumpOperation as Jmp};
use lang::typed::*;

impl Emitter<'_> {
    pub(super) fn stmt(&mut self, s: &TStmt) {
        match s {
            TStmt::Aggregate { map, keys, value } => self.aggregate(*map, keys, value.as_ref()),
            TStmt::MapStore { map, keys, value } => {
                let key = self.key(*map, keys, None);
                let MapKind::Value(ty) = &self.maps[map.index()].kind else { unreachable!("checked: a value map") };
                let ty = ty.clone();
                let val = self.alloc(size(&ty));
                self.value_to(value, val, &ty);
                self.map_call(*map, key, Some(val), helper::MAP_UPDATE_ELEM, 0);
                let stored = self.asm.label();
                self.asm.jump_if(Jmp::IfSignedGreaterOrEqual, Reg::R0, Src::Imm(0), stored);
                self.count_drop(*map);
                self.asm.bind(stored);
            }
            TStmt::MapDelete { map, keys } => match &self.maps[map.index()].kind {
                MapKind::Agg(agg) if self.maps[map.index()].key.is_empty() => self.delete_keyless(*map, agg),
                _ => {
                    let key = self.key(*map, keys, None);
                    self.map_call(*map, key, None, helper::MAP_DELETE_ELEM, 0);
                }
            },
            TStmt::VarStore { var, value } => {
                let buf = self.var(*var);
                let ty = storage_of(&value.ty, buf.size);
                self.value_to(value, buf, &ty);
            }
            TStmt::If { cond, then, otherwise } => {
                let (other, end) = (self.asm.label(), self.asm.label());
                let r = self.expr(cond);
                self.asm.jump_if(Jmp::IfEqual, r, Src::Imm(0), other);
                self.release(r);
                self.block(then);
                if !terminates(then) {
                    self.asm.jump(end);
                }
                self.asm.bind(other);
                self.block(otherwise);
                self.asm.bind(end);
            }
            TStmt::For { var, lo, hi, body } => {
                let var = self.var(*var);
                self.value_to(lo, var, &Ty::I64);
                let (top, step, end) = (self.asm.label(), self.asm.label(), self.asm.label());
                self.asm.bind(top);
                let h = self.expr(hi);
                self.asm.insn(Instruction::loadx64(Reg::R1, Reg::R10, var.off16()));
                self.asm.jump_if(Jmp::IfSignedGreaterOrEqual, Reg::R1, Src::Reg(h), end);
                self.release(h);
                self.loops.push((step, end));
                self.block(body);
                self.loops.pop();
                self.asm.bind(step);
                self.asm.insn(Instruction::loadx64(Reg::R1, Reg::R10, var.off16()));
                self.asm.alu(Alu::Add, Reg::R1, Src::Imm(1));
                self.asm.insn(Instruction::storex64(Reg::R10, var.off16(), Reg::R1));
                self.asm.jump(top);
                self.asm.bind(end);
            }
            TStmt::ForMap { var, map, body } => self.for_map(*var, *map, body),
            TStmt::While { cond, body } => {
                let (top, end) = (self.asm.label(), self.asm.label());
                self.asm.bind(top);
                let c = self.expr(cond);
                self.asm.jump_if(Jmp::IfEqual, c, Src::Imm(0), end);
                self.release(c);
                self.loops.push((top, end));
                self.block(body);
                self.loops.pop();
                if !terminates(body) {
                    self.asm.jump(top);
                }
                self.asm.bind(end);
            }
            TStmt::Break | TStmt::Continue => {
                // The checker allows them only inside a loop.
                if let Some(&(next, end)) = self.loops.last() {
                    self.asm.jump(if matches!(s, TStmt::Break) { end } else { next });
                }
            }
            TStmt::Event(ev) => self.event(ev),
            TStmt::Exit(code) => {
                let rec = self.alloc(16);
                self.header(rec, event::EXIT, u64::from(*code));
                self.output(rec);
                let done = self.done;
                self.asm.jump(done);
            }
            TStmt::Return => {
                let done = self.done;
                self.asm.jump(done);
            }
            TStmt::Eval(e) => {
                let r = self.expr(e);
                self.release(r);
            }
        }
    }
}
