//! `for ($kv : @map) { body }`: the program calls `bpf_for_each_map_elem(map, callback, area, 0)`, and
//! the body is the callback, a subprogram of its own (its instructions go to the ELF's `.text`, the
//! `ld_imm64` of its address is relocated against its symbol, and BTF marks it static, as the kernel
//! requires of callbacks; see `elf.rs` and `btf.rs`).
//!
//! The callback has a frame of its own, so it cannot reach the probe's variables through `r10`. It
//! gets `area`, a pointer into the caller's frame: it copies the caller's variables into the same
//! offsets of its own frame on entry and back on every way out, so the body is emitted as any other
//! block and sees (and changes) the probe's variables. The area also holds the probe's context (for
//! `r6`), the shared aggregation pointer (for `SCALARS`) and a stop flag for `exit()` and `return`:
//!
//! ```text
//! area + 0   the context (r6)            area + 8   SCALARS (when shared)
//! area + 16  stop flag: set by a callback that left the probe (the caller then jumps to its end)
//! ```
//!
//! `$kv` gets the entry's key bytes and then its value bytes: the key of a map is laid out as the
//! tuple of its parts, so `(key, value)` is the tuple type the checker gave `$kv`. `continue` returns
//! 0 from the callback (the next entry), `break` returns 1 (the kernel stops the walk).

use super::{Buf, Emitter, CTX, SCALARS, TEMPS};
use crate::asm::{helper, Asm, Reg, Src};
use bpf_ins::{Instruction, JumpOperation as Jmp};
use lang::typed::{MapId, TStmt, VarId};

/// Offsets in the area.
const AREA_CTX: i32 = 0;
const AREA_SCALARS: i32 = 8;
const AREA_STOP: i32 = 16;
const AREA_SIZE: u32 = 24;

impl Emitter<'_> {
    pub(super) fn for_map(&mut self, var: VarId, map: MapId, body: &[TStmt]) {
        let area = self.alloc(AREA_SIZE);
        self.asm.insn(Instruction::storex64(Reg::R10, (area.off + AREA_CTX) as i16, CTX));
        if self.shared {
            self.asm.insn(Instruction::storex64(Reg::R10, (area.off + AREA_SCALARS) as i16, SCALARS));
        } else {
            self.asm.insn(Instruction::store64(Reg::R10, (area.off + AREA_SCALARS) as i16, 0));
        }
        self.asm.insn(Instruction::store64(Reg::R10, (area.off + AREA_STOP) as i16, 0));
        let func = self.callbacks.len();
        let callback = self.callback(var, map, body, area);
        self.callbacks.push(callback);
        self.asm.load_map(Reg::R1, map.index());
        self.asm.load_func(Reg::R2, func);
        self.addr(Reg::R3, area);
        self.asm.mov(Reg::R4, Src::Imm(0));
        self.asm.call(helper::FOR_EACH_MAP_ELEM);
        self.asm.insn(Instruction::loadx64(Reg::R1, Reg::R10, (area.off + AREA_STOP) as i16));
        let done = self.done;
        self.asm.jump_if(Jmp::IfNotEqual, Reg::R1, Src::Imm(0), done);
    }

    /// The body as a callback `(map, key, value, area)`, and the lowest stack offset it uses.
    fn callback(&mut self, var: VarId, map: MapId, body: &[TStmt], area: Buf) -> (crate::asm::Code, i32) {
        let vars = -self.vars_base;
        // Where the callback keeps `area` (r4), just below its copy of the variables.
        let keep = self.vars_base - 8;
        let mut cb = Emitter {
            asm: Asm::default(),
            free: TEMPS.iter().copied().filter(|&r| !(self.shared && r == SCALARS)).collect(),
            frame: keep,
            deepest: keep,
            vars_base: self.vars_base,
            slots: self.slots.clone(),
            maps: self.maps,
            specs: self.specs,
            internal: self.internal,
            lib: self.lib,
            done: Default::default(),
            missing: None,
            loops: Vec::new(),
            shared: self.shared,
            callbacks: Vec::new(),
        };
        cb.done = cb.asm.label();
        // The caller's variables, from the area to the same offsets of this frame.
        let to_vars = self.vars_base - area.off;
        cb.asm.insn(Instruction::storex64(Reg::R10, keep as i16, Reg::R4));
        for i in (0..vars).step_by(8) {
            cb.asm.insn(Instruction::loadx64(Reg::R0, Reg::R4, (to_vars + i) as i16));
            cb.asm.insn(Instruction::storex64(Reg::R10, (self.vars_base + i) as i16, Reg::R0));
        }
        // `$kv`: the key's bytes, then the value's.
        let kv = cb.var(var);
        let spec = &self.specs[map.index()];
        let (key_size, value_size) = (spec.key_size as i32, spec.value_size as i32);
        for (src, at, size) in [(Reg::R2, 0, key_size), (Reg::R3, key_size, value_size)] {
            for i in (0..size).step_by(8) {
                cb.asm.insn(Instruction::loadx64(Reg::R0, src, i as i16));
                cb.asm.insn(Instruction::storex64(Reg::R10, (kv.off + at + i) as i16, Reg::R0));
            }
        }
        cb.asm.insn(Instruction::loadx64(CTX, Reg::R4, AREA_CTX as i16));
        if self.shared {
            cb.asm.insn(Instruction::loadx64(SCALARS, Reg::R4, AREA_SCALARS as i16));
        }
        let (next, stop) = (cb.asm.label(), cb.asm.label());
        cb.loops.push((next, stop));
        cb.block(body);
        cb.loops.pop();
        // Each way out writes the variables back: the next entry (0), the end of the walk (1), or
        // the end of the probe (1, and the stop flag).
        // (The verifier refuses code nothing reaches: a way out nothing takes is left out.)
        let done = cb.done;
        let falls_through = !super::terminates(body);
        for (label, ret, leave) in [(next, 0, false), (stop, 1, false), (done, 1, true)] {
            if !(cb.asm.jumps_to(label) || (label == next && falls_through)) {
                continue;
            }
            cb.asm.bind(label);
            cb.asm.insn(Instruction::loadx64(Reg::R1, Reg::R10, keep as i16));
            for i in (0..vars).step_by(8) {
                cb.asm.insn(Instruction::loadx64(Reg::R0, Reg::R10, (self.vars_base + i) as i16));
                cb.asm.insn(Instruction::storex64(Reg::R1, (to_vars + i) as i16, Reg::R0));
            }
            if leave {
                cb.asm.insn(Instruction::store64(Reg::R1, AREA_STOP as i16, 1));
            }
            cb.asm.mov(Reg::R0, Src::Imm(ret));
            cb.asm.exit();
        }
        if let Some(what) = cb.missing.take() {
            self.missing.get_or_insert(what);
        }
        let deepest = cb.deepest;
        let code = cb.asm.try_finish().unwrap_or_else(|_| {
            self.missing.get_or_insert_with(|| "a `for` over a map whose body is too large for its jumps".into());
            crate::asm::Code { words: Vec::new(), relocs: Vec::new(), funcs: Vec::new(), callbacks: Vec::new() }
        });
        (code, deepest)
    }
}
