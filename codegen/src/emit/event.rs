//! The ring buffer (printf, print, time, clear, zero, join, exit events, in order) and the run switch.

use super::{Buf, Emitter, SCALARS};
use crate::asm::{helper, Reg, Src};
use crate::event;
use crate::layout;
use bpf_ins::{ArithmeticOperation as Alu, Instruction, JumpOperation as Jmp};
use lang::typed::*;

/// Linux's SIGSTOP (the same number on every architecture vt builds for).
const SIGSTOP: i32 = 19;

impl Emitter<'_> {
    /// `SCALARS = &vt_scalars[0]`, the one lookup every keyless aggregation of the program shares.
    /// `switched`: the key is the run switch itself, so that once the runtime turns it to 1 the
    /// lookup finds nothing (the array has one entry) and the program leaves: the run check for free.
    pub(super) fn shared_lookup(&mut self, switched: bool) {
        let Some(scalars) = self.internal.scalars else {
            self.missing.get_or_insert_with(|| "a shared aggregation without its host map".into());
            return;
        };
        self.asm.load_map(Reg::R1, scalars);
        if switched {
            self.asm.load_map_value(Reg::R2, self.internal.run);
        } else {
            let key = self.alloc(8);
            self.asm.insn(Instruction::store32(Reg::R10, key.off16(), 0));
            self.addr(Reg::R2, key);
        }
        self.asm.call(helper::MAP_LOOKUP_ELEM);
        let done = self.done;
        self.asm.jump_if(Jmp::IfEqual, Reg::R0, Src::Imm(0), done);
        self.asm.mov(SCALARS, Src::Reg(Reg::R0));
    }

    /// Leaves the program when the runtime has stopped the session (the run switch is not 0).
    pub(super) fn run_check(&mut self) {
        self.asm.load_map_value(Reg::R1, self.internal.run);
        self.asm.insn(Instruction::loadx32(Reg::R1, Reg::R1, 0));
        let done = self.done;
        self.asm.jump_if(Jmp::IfNotEqual, Reg::R1, Src::Imm(0), done);
    }

    /// Writes the 16-byte event header.
    pub(super) fn header(&mut self, rec: Buf, kind: u64, arg: u64) {
        self.asm.insn(Instruction::store64(Reg::R10, rec.off16(), kind as i64));
        self.asm.insn(Instruction::store64(Reg::R10, rec.off16() + 8, arg as i64));
    }

    /// An event of `kind` carrying a format's arguments (printf, cat, system).
    fn formatted(&mut self, kind: u64, format: usize, args: &[TExpr]) {
        let size: u32 = args.iter().map(|a| layout::size(&a.ty)).sum();
        let rec = self.alloc(16 + size);
        self.header(rec, kind, format as u64);
        let mut at = 16;
        for a in args {
            let ty = a.ty.clone();
            self.value_to(a, rec.at(at, layout::size(&ty)), &ty);
            at += layout::size(&ty);
        }
        self.output(rec);
    }

    pub(super) fn event(&mut self, ev: &EventStmt) {
        match ev {
            EventStmt::Printf { format, args } => self.formatted(event::PRINTF, *format, args),
            EventStmt::Command { format, args, system } => {
                self.formatted(if *system { event::SYSTEM } else { event::CAT }, *format, args)
            }
            EventStmt::PrintValue { format, value } => {
                let ty = value.ty.clone();
                let rec = self.alloc(16 + layout::size(&ty));
                self.header(rec, event::PRINT_VALUE, *format as u64);
                self.value_to(value, rec.at(16, layout::size(&ty)), &ty);
                self.output(rec);
            }
            EventStmt::Time { format } => self.simple_event(event::TIME, *format as u64, &[]),
            EventStmt::Print { map, top, div, label } => {
                let label = label.map_or(0, |l| l as u64 + 1);
                self.simple_event(event::PRINT, u64::from(map.0), &[*top, *div, label])
            }
            EventStmt::Clear { map } => self.simple_event(event::CLEAR, u64::from(map.0), &[]),
            EventStmt::Zero { map } => self.simple_event(event::ZERO, u64::from(map.0), &[]),
            EventStmt::Join { format, arr } => self.join(*format, arr),
            EventStmt::Watch { program, addr, stop } => {
                let rec = self.alloc(24);
                self.header(rec, event::WATCH, *program as u64);
                self.value_to(addr, rec.at(16, 8), &Ty::U64);
                self.output(rec);
                if *stop {
                    // Stopped until the runtime has armed the watchpoint (it sends SIGCONT).
                    self.asm.mov(Reg::R1, Src::Imm(SIGSTOP));
                    self.asm.call(helper::SEND_SIGNAL);
                }
            }
        }
    }

    pub(super) fn simple_event(&mut self, kind: u64, arg: u64, payload: &[u64]) {
        let rec = self.alloc(16 + 8 * payload.len() as u32);
        self.header(rec, kind, arg);
        for (i, v) in payload.iter().enumerate() {
            self.asm.mov_const(Reg::R1, *v);
            self.asm.insn(Instruction::storex64(Reg::R10, rec.off16() + 16 + 8 * i as i16, Reg::R1));
        }
        self.output(rec);
    }

    /// `join(arr, delim)`: the record is too big for the stack (bpftrace's 16 strings of 1024
    /// bytes), so it is reserved in the ring buffer and the strings are read straight into it.
    fn join(&mut self, format: usize, arr: &TExpr) {
        let p = self.expr(arr);
        let rec = self.take();
        let size = 16 + event::JOIN_ARGS * event::JOIN_ARG_SIZE;
        let (submit, end) = (self.asm.label(), self.asm.label());
        self.asm.load_map(Reg::R1, self.internal.events);
        self.asm.mov(Reg::R2, Src::Imm(size as i32));
        self.asm.mov(Reg::R3, Src::Imm(0));
        self.asm.call(helper::RINGBUF_RESERVE);
        let reserved = self.asm.label();
        self.asm.jump_if(Jmp::IfNotEqual, Reg::R0, Src::Imm(0), reserved);
        self.count_lost();
        self.asm.jump(end);
        self.asm.bind(reserved);
        self.asm.mov(rec, Src::Reg(Reg::R0));
        self.asm.insn(Instruction::store64(rec, 0, event::JOIN as i64));
        self.asm.insn(Instruction::store64(rec, 8, format as i64));
        let slot = self.alloc(8);
        for i in 0..event::JOIN_ARGS {
            // arr[i], then the string it points to; a NULL pointer ends the list.
            self.asm.insn(Instruction::store64(Reg::R10, slot.off16(), 0));
            self.addr(Reg::R1, slot);
            self.asm.mov(Reg::R2, Src::Imm(8));
            self.asm.mov(Reg::R3, Src::Reg(p));
            self.asm.call(helper::PROBE_READ);
            self.asm.insn(Instruction::loadx64(Reg::R3, Reg::R10, slot.off16()));
            self.asm.mov(Reg::R1, Src::Reg(rec));
            self.asm.alu(Alu::Add, Reg::R1, Src::Imm((16 + i * event::JOIN_ARG_SIZE) as i32));
            self.asm.insn(Instruction::store8(Reg::R1, 0, 0));
            self.asm.jump_if(Jmp::IfEqual, Reg::R3, Src::Imm(0), submit);
            self.asm.mov(Reg::R2, Src::Imm(event::JOIN_ARG_SIZE as i32));
            self.asm.call(helper::PROBE_READ_STR);
            self.asm.alu(Alu::Add, p, Src::Imm(8));
        }
        self.asm.bind(submit);
        self.asm.mov(Reg::R1, Src::Reg(rec));
        self.asm.mov(Reg::R2, Src::Imm(0));
        self.asm.call(helper::RINGBUF_SUBMIT);
        self.asm.bind(end);
        self.release(rec);
        self.release(p);
    }

    /// Adds one to the lost-events counter.
    fn count_lost(&mut self) {
        let skip = self.asm.label();
        let key = self.alloc(8);
        self.asm.insn(Instruction::store64(Reg::R10, key.off16(), 0));
        self.asm.load_map(Reg::R1, self.internal.lost);
        self.addr(Reg::R2, key);
        self.asm.call(helper::MAP_LOOKUP_ELEM);
        self.asm.jump_if(Jmp::IfEqual, Reg::R0, Src::Imm(0), skip);
        self.increment(Reg::R0, 0, Src::Imm(1));
        self.asm.bind(skip);
    }

    /// Sends a record to the ring buffer; counts it as lost when there is no room.
    pub(super) fn output(&mut self, rec: Buf) {
        self.asm.load_map(Reg::R1, self.internal.events);
        self.addr(Reg::R2, rec);
        self.asm.mov(Reg::R3, Src::Imm(rec.size as i32));
        self.asm.mov(Reg::R4, Src::Imm(0));
        self.asm.call(helper::RINGBUF_OUTPUT);
        let ok = self.asm.label();
        self.asm.jump_if(Jmp::IfSignedGreaterOrEqual, Reg::R0, Src::Imm(0), ok);
        self.count_lost();
        self.asm.bind(ok);
    }
}
