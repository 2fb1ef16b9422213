//! Maps: keys, lookups and updates, and the aggregation update every aggregation entry plugs into.

use super::{Buf, Emitter, SCALARS};
use crate::asm::{helper, Label, Reg, Src};
use crate::layout;
use bpf_ins::{ArithmeticOperation as Alu, Instruction, JumpOperation as Jmp};
use lang::typed::*;

const BPF_NOEXIST: i32 = 1;

impl Emitter<'_> {
    /// `*(u64 *)(base + off) += v`
    pub fn increment(&mut self, base: Reg, off: i16, v: Src) {
        self.asm.insn(Instruction::loadx64(Reg::R1, base, off));
        self.asm.alu(Alu::Add, Reg::R1, v);
        self.asm.insn(Instruction::storex64(base, off, Reg::R1));
    }

    /// Builds map `map`'s key from `keys` (plus a histogram bucket held in `bucket`) on the stack.
    pub fn key(&mut self, map: MapId, keys: &[TExpr], bucket: Option<Reg>) -> Buf {
        let def = &self.maps[map.index()];
        let size = self.specs[map.index()].key_size;
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
            self.value_to(k, buf.at(at, layout::size(ty)), ty);
            at += layout::size(ty);
        }
        if let Some(b) = bucket {
            self.asm.insn(Instruction::storex64(Reg::R10, (buf.off + at as i32) as i16, b));
        }
        buf
    }

    /// `r0 = helper(map, &key [, &value, flags])` for lookup, update and delete.
    pub fn map_call(&mut self, map: MapId, key: Buf, value: Option<Buf>, helper_id: u32, flags: i32) {
        self.asm.load_map(Reg::R1, map.index());
        self.addr(Reg::R2, key);
        if let Some(v) = value {
            self.addr(Reg::R3, v);
            self.asm.mov(Reg::R4, Src::Imm(flags));
        }
        self.asm.call(helper_id);
    }

    /// One aggregation update: find (or create) the entry, then change it in place. Per-CPU maps need
    /// no atomics.
    pub(super) fn aggregate(&mut self, map: MapId, keys: &[TExpr], value: Option<&TExpr>) {
        let MapKind::Agg(agg) = &self.maps[map.index()].kind else {
            self.missing.get_or_insert_with(|| "an aggregation into a value map".into());
            return;
        };
        let lib = self.lib;
        let Some(entry) = lib.aggregation(&agg.name) else {
            self.missing.get_or_insert_with(|| format!("no aggregation `{}` in the registry", agg.name));
            return;
        };
        let v = value.map(|v| (self.expr(v), v.ty.int().map_or(64, |t| t.bits)));
        // A histogram that keeps sums still sees the value after the register became the bucket: it
        // waits on the stack across the lookup's helper calls.
        let mut kept = None;
        let bucket = match (entry.buckets(agg), v) {
            (Some(_), Some((r, bits))) => {
                if agg.sums {
                    let slot = self.alloc(8);
                    self.asm.insn(Instruction::storex64(Reg::R10, slot.off16(), r));
                    kept = Some(slot);
                }
                entry.bucket(self, agg, r, bits);
                Some(r)
            }
            _ => None,
        };
        let skip = self.asm.label();
        let (base, off) = match self.specs[map.index()].within {
            // A keyless aggregation in the shared value: the prologue's pointer, plus the bucket.
            Some(offset) => match bucket {
                Some(b) => {
                    // The explicit bound lets the verifier accept the computed offset.
                    let last = self.specs[map.index()].max_entries as i32 - 1;
                    self.asm.jump_if(Jmp::IfGreater, b, Src::Imm(last), skip);
                    // Buckets are `value_size` apart (a power of two: 8 or 16 bytes).
                    let stride = self.specs[map.index()].value_size.max(1);
                    self.asm.alu(Alu::Lhs, b, Src::Imm(stride.trailing_zeros() as i32));
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
        let value = match kept {
            // R2: neither a base (r0 or the bucket's register) nor the scratch `increment` uses.
            Some(slot) => {
                self.asm.insn(Instruction::loadx64(Reg::R2, Reg::R10, slot.off16()));
                Some(Reg::R2)
            }
            None => v.map(|(r, _)| r),
        };
        entry.update(self, agg, base, off, value);
        self.asm.bind(skip);
        if let Some((r, _)) = v {
            self.release(r);
        }
    }

    /// `r0 = &value` of map `map`'s entry at `keys` (and `bucket`), creating a keyed entry on first use;
    /// jumps to `skip` when there is none (a full map).
    pub(super) fn entry(&mut self, map: MapId, keys: &[TExpr], bucket: Option<Reg>, skip: Label) {
        let key = self.key(map, keys, bucket);
        self.map_call(map, key, None, helper::MAP_LOOKUP_ELEM, 0);
        if !keys.is_empty() {
            // A new key: insert a zero value, then look it up again (the map may be full).
            let found = self.asm.label();
            self.asm.jump_if(Jmp::IfNotEqual, Reg::R0, Src::Imm(0), found);
            let zero = self.alloc(self.specs[map.index()].value_size);
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
    /// which here is this CPU's first entry; the aggregation says how many bytes of it that is.
    /// Zeroed, it prints as bpftrace's.
    pub(super) fn delete_keyless(&mut self, map: MapId, agg: &Agg) {
        let lib = self.lib;
        let bytes = lib.aggregation(&agg.name).map_or(self.specs[map.index()].value_size, |e| e.deleted_bytes(agg));
        let skip = self.asm.label();
        let (base, off) = match self.specs[map.index()].within {
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
    pub(super) fn count_drop(&mut self, map: MapId) {
        let done = self.asm.label();
        let key = self.alloc(8);
        self.asm.insn(Instruction::store64(Reg::R10, key.off16(), 1 + i64::from(map.0)));
        self.asm.load_map(Reg::R1, self.internal.lost);
        self.addr(Reg::R2, key);
        self.asm.call(helper::MAP_LOOKUP_ELEM);
        self.asm.jump_if(Jmp::IfEqual, Reg::R0, Src::Imm(0), done);
        self.increment(Reg::R0, 0, Src::Imm(1));
        self.asm.bind(done);
    }
}
