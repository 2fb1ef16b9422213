//! The emitter: one function per construct, turning a checked probe program into BPF instructions.
//!
//! Registers: `r6` holds the context for the whole program; `r7`–`r9` (callee-saved, so they survive
//! helper calls) hold integer temporaries; when an expression needs more, the left operand is spilled
//! to the stack. `r0`–`r5` are scratch between helper calls.
//!
//! Stack: variables live at the top of the frame (zeroed in the prologue); below them each statement
//! takes what it needs for keys, strings and event records, given back when the statement ends.
//! Strings, tuples and keys are built in stack buffers, integers in registers.

use crate::asm::{helper, Asm, Code, Label, Reg, Src};
use crate::{event, key_size, Internal, MapSpec};
use bpf_ins::{ArithmeticOperation as Alu, Instruction, JumpOperation as Jmp, MemoryOpSize};
use lang::ast::{BinOp, UnOp};
use lang::diag::Diagnostic;
use lang::typed::*;

const CTX: Reg = Reg::R6;
const TEMPS: [Reg; 3] = [Reg::R9, Reg::R8, Reg::R7];
/// Holds the pointer to the shared value of keyless aggregations, in programs that use one.
const SCALARS: Reg = Reg::R9;
const STACK_LIMIT: i32 = 512;

const BPF_NOEXIST: i32 = 1;

pub fn program(p: &ProbeProgram, maps: &[MapDef], specs: &[MapSpec], internal: &Internal) -> Result<Code, Diagnostic> {
    let vars = p.vars_size.div_ceil(8) as i32 * 8;
    let shared = uses_shared(&p.body, specs);
    let mut e = Emitter {
        asm: Asm::default(),
        // The shared aggregation pointer takes one temporary for the whole program.
        free: TEMPS.iter().copied().filter(|&r| !(shared && r == SCALARS)).collect(),
        frame: -vars,
        deepest: -vars,
        vars_base: -vars,
        maps,
        specs,
        internal,
        done: Label::default(),
    };
    e.done = e.asm.label();
    e.asm.mov(CTX, Src::Reg(Reg::R1));
    e.zero(e.vars_base, vars as u32);
    if let Some(pred) = &p.predicate {
        let r = e.expr(pred);
        let done = e.done;
        e.asm.jump_if(Jmp::IfEqual, r, Src::Imm(0), done);
        e.release(r);
    }
    // BEGIN and END run on the runtime's request alone (END after the switch is off), and an empty
    // block has nothing to stop: no switch.
    let switched = !matches!(p.attach, Attach::Begin | Attach::End) && !p.body.is_empty();
    if shared {
        e.shared_lookup(switched);
    } else if switched {
        e.run_check();
    }
    e.block(&p.body);
    let done = e.done;
    e.asm.bind(done);
    e.asm.mov(Reg::R0, Src::Imm(0));
    e.asm.exit();
    if -e.deepest > STACK_LIMIT {
        return Err(Diagnostic::new(
            p.span,
            format!("{} needs {} bytes of BPF stack; the kernel allows {STACK_LIMIT}", p.attach.probe_name(), -e.deepest),
            "too much stack",
        )
        .with_help("use shorter strings (`str(p, 32)`), fewer variables or fewer printf arguments"));
    }
    e.asm.try_finish().map_err(|n| {
        Diagnostic::new(
            p.span,
            format!("{} compiles to {n} BPF instructions: too many for its jumps to reach", p.attach.probe_name()),
            "program too large",
        )
        .with_help(format!("a BPF jump reaches at most {} instructions; use smaller unroll counts", i16::MAX))
    })
}

struct Emitter<'a> {
    asm: Asm,
    /// Temporaries not in use, taken from the end.
    free: Vec<Reg>,
    /// Lowest stack offset in use.
    frame: i32,
    /// Lowest stack offset ever used.
    deepest: i32,
    vars_base: i32,
    maps: &'a [MapDef],
    specs: &'a [MapSpec],
    internal: &'a Internal,
    /// The program's exit.
    done: Label,
}

/// A stack buffer: `size` bytes at `r10 + off`.
#[derive(Clone, Copy)]
struct Buf {
    off: i32,
    size: u32,
}

impl Buf {
    fn at(self, delta: u32, size: u32) -> Buf {
        Buf { off: self.off + delta as i32, size }
    }
    fn off16(self) -> i16 {
        // Within the 512-byte frame (checked at the end of the program) offsets fit; clamp meanwhile.
        self.off.max(-(i16::MAX as i32)) as i16
    }
}

impl Emitter<'_> {
    fn take(&mut self) -> Reg {
        self.free.pop().expect("expression evaluation ran out of registers")
    }

    fn release(&mut self, r: Reg) {
        debug_assert!(!self.free.contains(&r));
        self.free.push(r);
    }

    /// Reserves `size` bytes (rounded up to 8) of stack until the current statement ends.
    fn alloc(&mut self, size: u32) -> Buf {
        let size = size.div_ceil(8) * 8;
        self.frame -= size as i32;
        self.deepest = self.deepest.min(self.frame);
        Buf { off: self.frame, size }
    }

    fn var(&self, slot: Slot) -> Buf {
        Buf { off: self.vars_base + slot.offset as i32, size: slot.size }
    }

    /// `r = r10 + off`
    fn addr(&mut self, r: Reg, b: Buf) {
        self.asm.mov(r, Src::Reg(Reg::R10));
        self.asm.alu(Alu::Add, r, Src::Imm(b.off));
    }

    /// Zeroes `size` bytes (a multiple of 8) at `off`.
    fn zero(&mut self, off: i32, size: u32) {
        for i in (0..size).step_by(8) {
            self.asm.insn(Instruction::store64(Reg::R10, (off + i as i32) as i16, 0));
        }
    }

    fn block(&mut self, stmts: &[TStmt]) {
        for s in stmts {
            let mark = self.frame;
            self.stmt(s);
            self.frame = mark;
            // What follows exit() or return is never reached, and the verifier refuses unreachable code.
            if terminates(std::slice::from_ref(s)) {
                break;
            }
        }
    }

    fn stmt(&mut self, s: &TStmt) {
        match s {
            TStmt::Aggregate { map, keys, value } => self.aggregate(*map, keys, value.as_ref()),
            TStmt::MapStore { map, keys, value } => {
                let key = self.key(*map, keys, None);
                let MapKind::Value(ty) = &self.maps[*map].kind else { unreachable!("checked: a value map") };
                let ty = ty.clone();
                let val = self.alloc(ty.size());
                self.value_to(value, val, &ty);
                self.map_call(*map, key, Some(val), helper::MAP_UPDATE_ELEM, 0);
                let stored = self.asm.label();
                self.asm.jump_if(Jmp::IfSignedGreaterOrEqual, Reg::R0, Src::Imm(0), stored);
                self.count_drop(*map);
                self.asm.bind(stored);
            }
            TStmt::MapDelete { map, keys } => match self.maps[*map].kind {
                MapKind::Agg(agg) if self.maps[*map].key.is_empty() => self.delete_keyless(*map, agg),
                _ => {
                    let key = self.key(*map, keys, None);
                    self.map_call(*map, key, None, helper::MAP_DELETE_ELEM, 0);
                }
            },
            TStmt::VarStore { slot, value } => {
                let buf = self.var(*slot);
                let ty = storage_of(&value.ty, slot.size);
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
            TStmt::For { slot, lo, hi, body } => {
                let var = self.var(*slot);
                self.value_to(lo, var, &Ty::I64);
                let (top, end) = (self.asm.label(), self.asm.label());
                self.asm.bind(top);
                let h = self.expr(hi);
                self.asm.insn(Instruction::loadx64(Reg::R1, Reg::R10, var.off16()));
                self.asm.jump_if(Jmp::IfSignedGreaterOrEqual, Reg::R1, Src::Reg(h), end);
                self.release(h);
                self.block(body);
                self.asm.insn(Instruction::loadx64(Reg::R1, Reg::R10, var.off16()));
                self.asm.alu(Alu::Add, Reg::R1, Src::Imm(1));
                self.asm.insn(Instruction::storex64(Reg::R10, var.off16(), Reg::R1));
                self.asm.jump(top);
                self.asm.bind(end);
            }
            TStmt::Event(ev) => self.event(ev),
            TStmt::Exit => {
                let rec = self.alloc(16);
                self.header(rec, event::EXIT, 0);
                self.output(rec);
                let done = self.done;
                self.asm.jump(done);
            }
            TStmt::Return => {
                let done = self.done;
                self.asm.jump(done);
            }
        }
    }

    /// `SCALARS = &vt_scalars[0]`, the one lookup every keyless aggregation of the program shares.
    /// `switched`: the key is the run switch itself, so that once the runtime turns it to 1 the
    /// lookup finds nothing (the array has one entry) and the program leaves: the run check for free.
    fn shared_lookup(&mut self, switched: bool) {
        self.asm.load_map(Reg::R1, self.internal.scalars.expect("shared maps have a host"));
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
    fn run_check(&mut self) {
        self.asm.load_map_value(Reg::R1, self.internal.run);
        self.asm.insn(Instruction::loadx32(Reg::R1, Reg::R1, 0));
        let done = self.done;
        self.asm.jump_if(Jmp::IfNotEqual, Reg::R1, Src::Imm(0), done);
    }

    /// Writes the 16-byte event header.
    fn header(&mut self, rec: Buf, kind: u64, arg: u64) {
        self.asm.insn(Instruction::store64(Reg::R10, rec.off16(), kind as i64));
        self.asm.insn(Instruction::store64(Reg::R10, rec.off16() + 8, arg as i64));
    }

    fn event(&mut self, ev: &EventStmt) {
        match ev {
            EventStmt::Printf { format, args } => {
                let size: u32 = args.iter().map(|a| a.ty.size()).sum();
                let rec = self.alloc(16 + size);
                self.header(rec, event::PRINTF, *format as u64);
                let mut at = 16;
                for a in args {
                    let ty = a.ty.clone();
                    self.value_to(a, rec.at(at, ty.size()), &ty);
                    at += ty.size();
                }
                self.output(rec);
            }
            EventStmt::PrintValue { format, value } => {
                let ty = value.ty.clone();
                let rec = self.alloc(16 + ty.size());
                self.header(rec, event::PRINT_VALUE, *format as u64);
                self.value_to(value, rec.at(16, ty.size()), &ty);
                self.output(rec);
            }
            EventStmt::Time { format } => self.simple_event(event::TIME, *format as u64, &[]),
            EventStmt::Print { map, top, div, label } => {
                let label = label.map_or(0, |l| l as u64 + 1);
                self.simple_event(event::PRINT, *map as u64, &[*top, *div, label])
            }
            EventStmt::Clear { map } => self.simple_event(event::CLEAR, *map as u64, &[]),
            EventStmt::Zero { map } => self.simple_event(event::ZERO, *map as u64, &[]),
        }
    }

    fn simple_event(&mut self, kind: u64, arg: u64, payload: &[u64]) {
        let rec = self.alloc(16 + 8 * payload.len() as u32);
        self.header(rec, kind, arg);
        for (i, v) in payload.iter().enumerate() {
            self.asm.mov_const(Reg::R1, *v);
            self.asm.insn(Instruction::storex64(Reg::R10, rec.off16() + 16 + 8 * i as i16, Reg::R1));
        }
        self.output(rec);
    }

    /// Sends a record to the ring buffer; counts it as lost when there is no room.
    fn output(&mut self, rec: Buf) {
        self.asm.load_map(Reg::R1, self.internal.events);
        self.addr(Reg::R2, rec);
        self.asm.mov(Reg::R3, Src::Imm(rec.size as i32));
        self.asm.mov(Reg::R4, Src::Imm(0));
        self.asm.call(helper::RINGBUF_OUTPUT);
        let ok = self.asm.label();
        self.asm.jump_if(Jmp::IfSignedGreaterOrEqual, Reg::R0, Src::Imm(0), ok);
        let key = self.alloc(8);
        self.asm.insn(Instruction::store64(Reg::R10, key.off16(), 0));
        self.asm.load_map(Reg::R1, self.internal.lost);
        self.addr(Reg::R2, key);
        self.asm.call(helper::MAP_LOOKUP_ELEM);
        self.asm.jump_if(Jmp::IfEqual, Reg::R0, Src::Imm(0), ok);
        self.increment(Reg::R0, 0, Src::Imm(1));
        self.asm.bind(ok);
    }

    /// `*(u64 *)(base + off) += v`
    fn increment(&mut self, base: Reg, off: i16, v: Src) {
        self.asm.insn(Instruction::loadx64(Reg::R1, base, off));
        self.asm.alu(Alu::Add, Reg::R1, v);
        self.asm.insn(Instruction::storex64(base, off, Reg::R1));
    }

    /// Builds map `map`'s key from `keys` (plus a histogram bucket held in `bucket`) on the stack.
    fn key(&mut self, map: usize, keys: &[TExpr], bucket: Option<Reg>) -> Buf {
        let def = &self.maps[map];
        let size = key_size(def);
        let parts = def.key.clone();
        let buf = self.alloc(size);
        if keys.is_empty() {
            match bucket {
                Some(b) => self.asm.insn(Instruction::storex32(Reg::R10, buf.off16(), b)),
                None => self.zero(buf.off, buf.size),
            }
            return buf;
        }
        let mut at = 0;
        for (k, ty) in keys.iter().zip(&parts) {
            self.value_to(k, buf.at(at, ty.size()), ty);
            at += ty.size();
        }
        if let Some(b) = bucket {
            self.asm.insn(Instruction::storex64(Reg::R10, (buf.off + at as i32) as i16, b));
        }
        buf
    }

    /// `r0 = helper(map, &key [, &value, flags])` for lookup, update and delete.
    fn map_call(&mut self, map: usize, key: Buf, value: Option<Buf>, helper_id: u32, flags: i32) {
        self.asm.load_map(Reg::R1, map);
        self.addr(Reg::R2, key);
        if let Some(v) = value {
            self.addr(Reg::R3, v);
            self.asm.mov(Reg::R4, Src::Imm(flags));
        }
        self.asm.call(helper_id);
    }

    /// One aggregation update: find (or create) the entry, then change it in place. Per-CPU maps need
    /// no atomics.
    fn aggregate(&mut self, map: usize, keys: &[TExpr], value: Option<&TExpr>) {
        let MapKind::Agg(agg) = self.maps[map].kind else { unreachable!("checked: an aggregation map") };
        let v = value.map(|v| (self.expr(v), v.ty.int().map_or(64, |t| t.bits)));
        let bucket = match (agg, v) {
            (Agg::Hist, Some((r, bits))) => {
                self.log2_bucket(r, bits);
                Some(r)
            }
            (Agg::LHist { min, max, step }, Some((r, _))) => {
                self.linear_bucket(r, min, max, step);
                Some(r)
            }
            _ => None,
        };
        let skip = self.asm.label();
        let (base, off) = match self.specs[map].within {
            // A keyless aggregation in the shared value: the prologue's pointer, plus the bucket.
            Some(offset) => match bucket {
                Some(b) => {
                    // The explicit bound lets the verifier accept the computed offset.
                    let last = crate::buckets(agg).unwrap() as i32 - 1;
                    self.asm.jump_if(Jmp::IfGreater, b, Src::Imm(last), skip);
                    self.asm.alu(Alu::Lhs, b, Src::Imm(3));
                    self.asm.alu(Alu::Add, b, Src::Reg(SCALARS));
                    (b, offset as i16)
                }
                None => (SCALARS, offset as i16),
            },
            None => {
                self.entry(map, keys, bucket, skip);
                (Reg::R0, 0)
            }
        };
        let val = v.map(|(r, _)| Src::Reg(r));
        match agg {
            Agg::Count | Agg::Hist | Agg::LHist { .. } => self.increment(base, off, Src::Imm(1)),
            Agg::Sum { .. } => {
                self.increment(base, off, val.unwrap());
                self.asm.insn(Instruction::store64(base, off + 8, 1));
            }
            Agg::Avg | Agg::Stats => {
                self.increment(base, off, Src::Imm(1));
                self.increment(base, off + 8, val.unwrap());
            }
            Agg::Min | Agg::Max => {
                // [value, seen]: take v when nothing was seen yet or v is better.
                let (store, keep) = (self.asm.label(), self.asm.label());
                let Some(Src::Reg(r)) = val else { unreachable!() };
                self.asm.insn(Instruction::loadx64(Reg::R1, base, off + 8));
                self.asm.jump_if(Jmp::IfEqual, Reg::R1, Src::Imm(0), store);
                self.asm.insn(Instruction::loadx64(Reg::R1, base, off));
                let worse = if agg == Agg::Min { Jmp::IfSignedGreaterOrEqual } else { Jmp::IfSignedLessThanOrEqual };
                self.asm.jump_if(worse, r, Src::Reg(Reg::R1), keep);
                self.asm.bind(store);
                self.asm.insn(Instruction::storex64(base, off, r));
                self.asm.insn(Instruction::store64(base, off + 8, 1));
                self.asm.bind(keep);
            }
        }
        self.asm.bind(skip);
        if let Some((r, _)) = v {
            self.release(r);
        }
    }

    /// `r0 = &value` of map `map`'s entry at `keys` (and `bucket`), creating a keyed entry on first use;
    /// jumps to `skip` when there is none (a full map).
    fn entry(&mut self, map: usize, keys: &[TExpr], bucket: Option<Reg>, skip: Label) {
        let key = self.key(map, keys, bucket);
        self.map_call(map, key, None, helper::MAP_LOOKUP_ELEM, 0);
        if !keys.is_empty() {
            // A new key: insert a zero value, then look it up again (the map may be full).
            let found = self.asm.label();
            self.asm.jump_if(Jmp::IfNotEqual, Reg::R0, Src::Imm(0), found);
            let zero = self.alloc(crate::value_size(&self.maps[map].kind));
            self.zero(zero.off, zero.size);
            self.map_call(map, key, Some(zero), helper::MAP_UPDATE_ELEM, BPF_NOEXIST);
            self.map_call(map, key, None, helper::MAP_LOOKUP_ELEM, 0);
            self.asm.jump_if(Jmp::IfNotEqual, Reg::R0, Src::Imm(0), found);
            // Still missing: the map is full.
            self.count_drop(map);
            self.asm.jump(skip);
            self.asm.bind(found);
        }
        self.asm.jump_if(Jmp::IfEqual, Reg::R0, Src::Imm(0), skip);
    }

    /// `delete(@)` of a keyless aggregation, whose entries live in an array (the shared value or a
    /// per-CPU array of its own) that the kernel cannot delete from. bpftrace 0.17 deletes its key 0,
    /// which here is this CPU's first entry: the whole value, bucket 0 of a histogram, or the count
    /// of avg and stats (bpftrace keeps their total under key 1). Zeroed, it prints as bpftrace's.
    fn delete_keyless(&mut self, map: usize, agg: Agg) {
        let bytes = match agg {
            Agg::Avg | Agg::Stats => 8,
            _ => crate::value_size(&self.maps[map].kind),
        };
        let skip = self.asm.label();
        let (base, off) = match self.specs[map].within {
            Some(offset) => (SCALARS, offset as i16),
            None => {
                self.entry(map, &[], None, skip);
                (Reg::R0, 0)
            }
        };
        for i in (0..bytes as i16).step_by(8) {
            self.asm.insn(Instruction::store64(base, off + i, 0));
        }
        self.asm.bind(skip);
    }

    /// Counts an update to `map` that did not fit (slot `1 + map` of the per-CPU `lost` counters).
    fn count_drop(&mut self, map: usize) {
        let done = self.asm.label();
        let key = self.alloc(8);
        self.asm.insn(Instruction::store64(Reg::R10, key.off16(), 1 + map as i32 as i64));
        self.asm.load_map(Reg::R1, self.internal.lost);
        self.addr(Reg::R2, key);
        self.asm.call(helper::MAP_LOOKUP_ELEM);
        self.asm.jump_if(Jmp::IfEqual, Reg::R0, Src::Imm(0), done);
        self.increment(Reg::R0, 0, Src::Imm(1));
        self.asm.bind(done);
    }

    /// Replaces the signed value in `v` by its bpftrace log2 bucket: 0 for negatives, 1 for zero, and
    /// `2 + floor(log2(v))` otherwise — a binary search over the bit width, no loop. A value of `bits`
    /// bits needs only the search steps below that width.
    fn log2_bucket(&mut self, v: Reg, bits: u8) {
        let (positive, done) = (self.asm.label(), self.asm.label());
        self.asm.jump_if(Jmp::IfSignedGreater, v, Src::Imm(0), positive);
        // v <= 0: the sign (-1 or 0) plus one is the bucket (0 for negatives, 1 for zero).
        self.asm.alu(Alu::Ash, v, Src::Imm(63));
        self.asm.alu(Alu::Add, v, Src::Imm(1));
        self.asm.jump(done);
        self.asm.bind(positive);
        // r1 holds what is left of the value, v counts the bucket.
        self.asm.mov(Reg::R1, Src::Reg(v));
        self.asm.mov(v, Src::Imm(2));
        for shift in [32, 16, 8, 4, 2, 1].into_iter().filter(|&s| s < bits as i32) {
            let next = self.asm.label();
            if shift == 32 {
                // 1 << 32 does not fit an immediate: test the shifted value instead.
                self.asm.mov(Reg::R2, Src::Reg(Reg::R1));
                self.asm.alu(Alu::Rhs, Reg::R2, Src::Imm(32));
                self.asm.jump_if(Jmp::IfEqual, Reg::R2, Src::Imm(0), next);
                self.asm.mov(Reg::R1, Src::Reg(Reg::R2));
            } else {
                self.asm.jump_if(Jmp::IfLessThan, Reg::R1, Src::Imm(1 << shift), next);
                self.asm.alu(Alu::Rhs, Reg::R1, Src::Imm(shift));
            }
            self.asm.alu(Alu::Add, v, Src::Imm(shift));
            self.asm.bind(next);
        }
        self.asm.bind(done);
    }

    /// Replaces `v` by its lhist bucket: 0 below `min`, `1 + (v - min) / step` inside, the last above `max`.
    fn linear_bucket(&mut self, v: Reg, min: i64, max: i64, step: i64) {
        let (below, above, done) = (self.asm.label(), self.asm.label(), self.asm.label());
        self.asm.mov_const(Reg::R1, min as u64);
        self.asm.jump_if(Jmp::IfSignedLessThan, v, Src::Reg(Reg::R1), below);
        self.asm.mov_const(Reg::R1, max as u64);
        self.asm.jump_if(Jmp::IfSignedGreater, v, Src::Reg(Reg::R1), above);
        self.asm.mov_const(Reg::R1, min as u64);
        self.asm.alu(Alu::Sub, v, Src::Reg(Reg::R1));
        self.asm.mov_const(Reg::R1, step as u64);
        self.asm.alu(Alu::Div, v, Src::Reg(Reg::R1));
        self.asm.alu(Alu::Add, v, Src::Imm(1));
        // v == max with a step that does not divide the range lands past the last inner bucket.
        let last = ((max - min) / step + 1) as i32;
        self.asm.jump_if(Jmp::IfSignedGreater, v, Src::Imm(last), above);
        self.asm.jump(done);
        self.asm.bind(below);
        self.asm.mov(v, Src::Imm(0));
        self.asm.jump(done);
        self.asm.bind(above);
        self.asm.mov(v, Src::Imm(last));
        self.asm.bind(done);
    }

    /// Writes the value of `e` into `dst` laid out as `ty` (strings padded or truncated to its size).
    fn value_to(&mut self, e: &TExpr, dst: Buf, ty: &Ty) {
        match (ty, &e.kind) {
            (Ty::Int(_), _) => {
                let r = self.expr(e);
                self.asm.insn(Instruction::storex64(Reg::R10, dst.off16(), r));
                self.release(r);
            }
            (Ty::Tuple(parts), TExprKind::Tuple(items)) => {
                let mut at = 0;
                for (item, part) in items.iter().zip(parts) {
                    self.value_to(item, dst.at(at, part.size()), part);
                    at += part.size();
                }
            }
            (Ty::Str(n), _) => self.string_to(e, Buf { off: dst.off, size: n.div_ceil(8) * 8 }),
            (Ty::Tuple(_), _) => {
                // A tuple held in a variable or a map: copy its bytes.
                let src = self.materialize(e);
                self.copy(Reg::R10, src.off, dst, src.size.min(dst.size));
            }
        }
    }

    /// Evaluates a string or tuple expression into a fresh stack buffer.
    fn materialize(&mut self, e: &TExpr) -> Buf {
        match &e.kind {
            TExprKind::Var(slot) => self.var(*slot),
            _ => {
                let ty = e.ty.clone();
                let buf = self.alloc(ty.size());
                self.value_to(e, buf, &ty);
                buf
            }
        }
    }

    /// Copies `size` bytes (a multiple of 8) from `base + off` to the stack buffer `dst`.
    fn copy(&mut self, base: Reg, off: i32, dst: Buf, size: u32) {
        for i in (0..size).step_by(8) {
            self.asm.insn(Instruction::loadx64(Reg::R1, base, (off + i as i32) as i16));
            self.asm.insn(Instruction::storex64(Reg::R10, (dst.off + i as i32) as i16, Reg::R1));
        }
    }

    /// Writes a NUL-padded string into `dst` (the whole buffer is written: keys hash all their bytes).
    fn string_to(&mut self, e: &TExpr, dst: Buf) {
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
            TExprKind::Builtin(Builtin::Comm) => {
                self.zero(dst.off, dst.size);
                self.addr(Reg::R1, dst);
                self.asm.mov(Reg::R2, Src::Imm(dst.size.min(16) as i32));
                self.asm.call(helper::GET_CURRENT_COMM);
            }
            TExprKind::CtxChars { offset } => {
                let Ty::Str(n) = e.ty else { unreachable!() };
                self.zero(dst.off, dst.size);
                self.addr(Reg::R1, dst);
                self.asm.mov(Reg::R2, Src::Imm(n.min(dst.size - 1) as i32));
                self.asm.mov(Reg::R3, Src::Reg(CTX));
                self.asm.alu(Alu::Add, Reg::R3, Src::Imm(*offset as i32));
                self.asm.call(helper::PROBE_READ_KERNEL);
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
            TExprKind::ReadStr { ptr, len, .. } => {
                self.zero(dst.off, dst.size);
                let p = self.expr(ptr);
                match len {
                    Some(l) => {
                        // min(len + 1, size), at least 1: the helper needs a constant-bounded size.
                        let l = self.expr(l);
                        let (small, ok) = (self.asm.label(), self.asm.label());
                        self.asm.mov(Reg::R2, Src::Reg(l));
                        self.asm.alu(Alu::Add, Reg::R2, Src::Imm(1));
                        self.asm.jump_if(Jmp::IfLessThanOrEqual, Reg::R2, Src::Imm(dst.size as i32), small);
                        self.asm.mov(Reg::R2, Src::Imm(dst.size as i32));
                        self.asm.bind(small);
                        self.asm.jump_if(Jmp::IfNotEqual, Reg::R2, Src::Imm(0), ok);
                        self.asm.mov(Reg::R2, Src::Imm(1));
                        self.asm.bind(ok);
                        self.release(l);
                    }
                    // The string's own size (str(p, 5) holds 5 characters and a NUL), not the
                    // buffer's, which is rounded up to 8 bytes.
                    None => {
                        let Ty::Str(n) = e.ty else { unreachable!() };
                        self.asm.mov(Reg::R2, Src::Imm(n.min(dst.size) as i32));
                    }
                }
                self.addr(Reg::R1, dst);
                self.asm.mov(Reg::R3, Src::Reg(p));
                self.asm.call(helper::PROBE_READ_STR);
                self.release(p);
            }
            TExprKind::Var(slot) => {
                let src = self.var(*slot);
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
                let stored = crate::value_size(&self.maps[*map].kind);
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
            _ => unreachable!("checked: {:?} is not a string", e.kind),
        }
    }

    /// Makes sure a string copied into `dst` ends with a NUL within it.
    fn terminate(&mut self, dst: Buf) {
        self.asm.insn(Instruction::store8(Reg::R10, (dst.off + dst.size as i32 - 1) as i16, 0));
    }

    /// Evaluates an integer expression into a fresh temporary register holding its 64-bit value.
    fn expr(&mut self, e: &TExpr) -> Reg {
        let ty = e.ty.int().unwrap_or(IntTy::U64);
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
                self.asm.insn(Instruction::loadx(r, CTX, *offset as i16, mem_size(ty.bits)));
                self.extend(r, ty);
                r
            }
            TExprKind::CtxArrayElem { offset, elem, len, index } => self.array_elem(*offset, *elem, *len, index, ty),
            TExprKind::Var(slot) => {
                let r = self.take();
                let b = self.var(*slot);
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
            TExprKind::HasKey { map, keys } => {
                let mark = self.frame;
                let key = self.key(*map, keys, None);
                self.map_call(*map, key, None, helper::MAP_LOOKUP_ELEM, 0);
                self.frame = mark;
                let r = self.take();
                self.set_bool(Jmp::IfNotEqual, r, Reg::R0, Src::Imm(0));
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
            _ => unreachable!("checked: {:?} is not an integer", e.kind),
        }
    }

    /// An element of an integer array field: a constant index reads the context directly; a computed
    /// one is bounds-checked and read with a helper (the verifier refuses variable context offsets).
    fn array_elem(&mut self, offset: u32, elem: u32, len: u32, index: &TExpr, ty: IntTy) -> Reg {
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
    fn strcmp(&mut self, eq: bool, lhs: &TExpr, rhs: &TExpr) -> Reg {
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
    fn extend(&mut self, r: Reg, ty: IntTy) {
        if ty.signed && ty.bits < 64 {
            let shift = 64 - ty.bits as i32;
            self.asm.alu(Alu::Lhs, r, Src::Imm(shift));
            self.asm.alu(Alu::Ash, r, Src::Imm(shift));
        }
    }

    fn builtin(&mut self, b: Builtin, r: Reg) {
        let (call, shift, low) = match b {
            Builtin::Pid => (helper::GET_CURRENT_PID_TGID, 32, false),
            Builtin::Tid => (helper::GET_CURRENT_PID_TGID, 0, true),
            Builtin::Uid => (helper::GET_CURRENT_UID_GID, 0, true),
            Builtin::Gid => (helper::GET_CURRENT_UID_GID, 32, false),
            Builtin::Nsecs => (helper::KTIME_GET_NS, 0, false),
            Builtin::Cpu => (helper::GET_SMP_PROCESSOR_ID, 0, false),
            Builtin::Rand => (helper::GET_PRANDOM_U32, 0, false),
            Builtin::Cgroup => (helper::GET_CURRENT_CGROUP_ID, 0, false),
            Builtin::Curtask => (helper::GET_CURRENT_TASK, 0, false),
            Builtin::Elapsed => {
                // nsecs minus the session start the runtime stored in vt_start.
                let mark = self.frame;
                let key = self.alloc(8);
                self.asm.insn(Instruction::store64(Reg::R10, key.off16(), 0));
                self.asm.load_map(Reg::R1, self.internal.start);
                self.addr(Reg::R2, key);
                self.asm.call(helper::MAP_LOOKUP_ELEM);
                self.frame = mark;
                let missing = self.asm.label();
                self.asm.mov(r, Src::Imm(0));
                self.asm.jump_if(Jmp::IfEqual, Reg::R0, Src::Imm(0), missing);
                self.asm.insn(Instruction::loadx64(r, Reg::R0, 0));
                self.asm.bind(missing);
                self.asm.call(helper::KTIME_GET_NS);
                self.asm.alu(Alu::Sub, Reg::R0, Src::Reg(r));
                self.asm.mov(r, Src::Reg(Reg::R0));
                return;
            }
            Builtin::Comm => unreachable!("comm is a string"),
        };
        self.asm.call(call);
        if low {
            // A 32-bit move zero-extends: the low half.
            self.asm.insn(Instruction::movx32(r, Reg::R0));
        } else {
            self.asm.mov(r, Src::Reg(Reg::R0));
            if shift > 0 {
                self.asm.alu(Alu::Rhs, r, Src::Imm(shift));
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

/// The layout a value takes in a slot of `size` bytes: a string of the slot's size, else its own type.
fn storage_of(ty: &Ty, size: u32) -> Ty {
    match ty {
        Ty::Str(_) => Ty::Str(size),
        Ty::Int(_) => Ty::I64,
        other => other.clone(),
    }
}

fn mem_size(bits: u8) -> MemoryOpSize {
    match bits {
        8 => MemoryOpSize::Byte,
        16 => MemoryOpSize::HalfWord,
        32 => MemoryOpSize::Word,
        _ => MemoryOpSize::DoubleWord,
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

/// Whether any statement updates or deletes a keyless aggregation kept in the shared value.
fn uses_shared(stmts: &[TStmt], specs: &[MapSpec]) -> bool {
    stmts.iter().any(|s| match s {
        TStmt::Aggregate { map, .. } | TStmt::MapDelete { map, .. } => specs[*map].within.is_some(),
        TStmt::If { then, otherwise, .. } => uses_shared(then, specs) || uses_shared(otherwise, specs),
        TStmt::For { body, .. } => uses_shared(body, specs),
        _ => false,
    })
}

/// Whether a block always leaves the program (its last statement is exit() or return, or an if/else
/// whose branches both do): nothing may be emitted after it, since unreachable code fails verification.
fn terminates(stmts: &[TStmt]) -> bool {
    match stmts.last() {
        Some(TStmt::Exit | TStmt::Return) => true,
        Some(TStmt::If { then, otherwise, .. }) => terminates(then) && terminates(otherwise),
        _ => false,
    }
}
