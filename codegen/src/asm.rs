//! An assembler over bpf-ins: instructions, labels with forward (and backward) jumps, and map references
//! that become `R_BPF_64_64` relocations in the ELF.

use bpf_ins::{ArithmeticOperation as Alu, Instruction, JumpOperation as Jmp, MemoryOpLoadType, MemoryOpSize, Register};
use std::fmt::Write as _;

pub use bpf_ins::Register as Reg;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Label(usize);

/// The right-hand operand of an ALU or jump instruction.
#[derive(Clone, Copy, Debug)]
pub enum Src {
    Reg(Reg),
    Imm(i32),
}

#[derive(Clone, Debug)]
enum Item {
    Insn(Instruction),
    /// A conditional (or, with `Jmp::Absolute`, unconditional) jump to a label, patched at the end.
    Jump { op: Jmp, dst: Reg, src: Src, to: Label },
    /// `ld_imm64 dst, map` with a relocation against map number `map`; with `value`, the address of
    /// the map's (one) value instead of the map.
    LoadMap { dst: Reg, map: usize, value: bool },
    /// `ld_imm64 dst, callback`: the address of the program's callback number `func`
    /// (`BPF_PSEUDO_FUNC`), relocated against the callback's symbol.
    LoadFunc { dst: Reg, func: usize },
}

#[derive(Default)]
pub struct Asm {
    items: Vec<Item>,
    /// Item index each label is bound to.
    labels: Vec<Option<usize>>,
}

/// A relocation: instruction slot `insn` (in 8-byte units) loads the address of map number `map`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MapReloc {
    pub insn: usize,
    pub map: usize,
}

/// A callback reference: instruction slot `insn` loads the address of callback number `func`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FuncReloc {
    pub insn: usize,
    pub func: usize,
}

/// Finished code: raw instruction words and the map relocations within them; for a program, also the
/// callbacks it passes to helpers (`bpf_for_each_map_elem`), each a subprogram of its own.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Code {
    pub words: Vec<u64>,
    pub relocs: Vec<MapReloc>,
    #[serde(default)]
    pub funcs: Vec<FuncReloc>,
    #[serde(default)]
    pub callbacks: Vec<Code>,
}

/// `src_reg` of an `ld_imm64` that loads a subprogram's address.
pub const BPF_PSEUDO_FUNC: u8 = 4;

/// Helpers called by generated code (numbers from `enum bpf_func_id`).
pub mod helper {
    pub const MAP_LOOKUP_ELEM: u32 = 1;
    pub const MAP_UPDATE_ELEM: u32 = 2;
    pub const MAP_DELETE_ELEM: u32 = 3;
    pub const KTIME_GET_NS: u32 = 5;
    pub const GET_PRANDOM_U32: u32 = 7;
    pub const GET_SMP_PROCESSOR_ID: u32 = 8;
    pub const GET_CURRENT_PID_TGID: u32 = 14;
    pub const GET_CURRENT_UID_GID: u32 = 15;
    pub const GET_STACKID: u32 = 27;
    pub const GET_CURRENT_COMM: u32 = 16;
    pub const GET_CURRENT_TASK: u32 = 35;
    pub const GET_NUMA_NODE_ID: u32 = 42;
    pub const PROBE_READ_STR: u32 = 45;
    pub const GET_CURRENT_CGROUP_ID: u32 = 80;
    pub const PROBE_READ_USER: u32 = 112;
    pub const PROBE_READ_KERNEL: u32 = 113;
    pub const PROBE_READ_KERNEL_STR: u32 = 115;
    pub const JIFFIES64: u32 = 118;
    pub const RINGBUF_OUTPUT: u32 = 130;
    pub const RINGBUF_RESERVE: u32 = 131;
    pub const RINGBUF_SUBMIT: u32 = 132;
    pub const PROBE_READ: u32 = 4;
    pub const SEND_SIGNAL: u32 = 109;
    pub const OVERRIDE_RETURN: u32 = 58;
    pub const FOR_EACH_MAP_ELEM: u32 = 164;
    pub const GET_FUNC_IP: u32 = 173;

    /// The kernel's name of each helper above, for listings.
    pub const NAMES: &[(u32, &str)] = &[
        (MAP_LOOKUP_ELEM, "bpf_map_lookup_elem"),
        (MAP_UPDATE_ELEM, "bpf_map_update_elem"),
        (MAP_DELETE_ELEM, "bpf_map_delete_elem"),
        (KTIME_GET_NS, "bpf_ktime_get_ns"),
        (GET_PRANDOM_U32, "bpf_get_prandom_u32"),
        (GET_SMP_PROCESSOR_ID, "bpf_get_smp_processor_id"),
        (GET_CURRENT_PID_TGID, "bpf_get_current_pid_tgid"),
        (GET_CURRENT_UID_GID, "bpf_get_current_uid_gid"),
        (GET_STACKID, "bpf_get_stackid"),
        (OVERRIDE_RETURN, "bpf_override_return"),
        (GET_CURRENT_COMM, "bpf_get_current_comm"),
        (GET_CURRENT_TASK, "bpf_get_current_task"),
        (GET_NUMA_NODE_ID, "bpf_get_numa_node_id"),
        (PROBE_READ_STR, "bpf_probe_read_str"),
        (GET_CURRENT_CGROUP_ID, "bpf_get_current_cgroup_id"),
        (PROBE_READ_USER, "bpf_probe_read_user"),
        (PROBE_READ_KERNEL, "bpf_probe_read_kernel"),
        (PROBE_READ_KERNEL_STR, "bpf_probe_read_kernel_str"),
        (JIFFIES64, "bpf_jiffies64"),
        (RINGBUF_OUTPUT, "bpf_ringbuf_output"),
        (RINGBUF_RESERVE, "bpf_ringbuf_reserve"),
        (RINGBUF_SUBMIT, "bpf_ringbuf_submit"),
        (PROBE_READ, "bpf_probe_read"),
        (SEND_SIGNAL, "bpf_send_signal"),
        (FOR_EACH_MAP_ELEM, "bpf_for_each_map_elem"),
        (GET_FUNC_IP, "bpf_get_func_ip"),
    ];
}

impl Asm {
    pub fn insn(&mut self, i: Instruction) {
        self.items.push(Item::Insn(i));
    }

    pub fn label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() - 1)
    }

    pub fn bind(&mut self, l: Label) {
        debug_assert!(self.labels[l.0].is_none(), "label bound twice");
        self.labels[l.0] = Some(self.items.len());
    }

    /// Whether some jump goes to `l`.
    pub fn jumps_to(&self, l: Label) -> bool {
        self.items.iter().any(|i| matches!(i, Item::Jump { to, .. } if *to == l))
    }

    pub fn jump(&mut self, to: Label) {
        self.items.push(Item::Jump { op: Jmp::Absolute, dst: Reg::R0, src: Src::Imm(0), to });
    }

    /// `if dst OP src goto to`
    pub fn jump_if(&mut self, op: Jmp, dst: Reg, src: Src, to: Label) {
        self.items.push(Item::Jump { op, dst, src, to });
    }

    pub fn load_map(&mut self, dst: Reg, map: usize) {
        self.items.push(Item::LoadMap { dst, map, value: false });
    }

    /// `dst = &callback` for the program's callback number `func`.
    pub fn load_func(&mut self, dst: Reg, func: usize) {
        self.items.push(Item::LoadFunc { dst, func });
    }

    /// `dst = &map[0]`: a global variable's address (the map is an ELF data section).
    pub fn load_map_value(&mut self, dst: Reg, map: usize) {
        self.items.push(Item::LoadMap { dst, map, value: true });
    }

    pub fn mov(&mut self, dst: Reg, src: Src) {
        self.alu(Alu::Mov, dst, src);
    }

    pub fn alu(&mut self, op: Alu, dst: Reg, src: Src) {
        self.insn(match src {
            Src::Reg(s) => Instruction::alux64(dst, s, op),
            Src::Imm(i) => Instruction::alu64(dst, i, op),
        });
    }

    /// `dst = imm` for any 64-bit constant (one instruction where it fits in 32 bits).
    pub fn mov_const(&mut self, dst: Reg, v: u64) {
        match i32::try_from(v as i64) {
            Ok(i) => self.mov(dst, Src::Imm(i)),
            Err(_) => self.insn(Instruction::load(dst, v as i64, MemoryOpSize::DoubleWord)),
        }
    }

    pub fn call(&mut self, helper: u32) {
        self.insn(Instruction::call(helper));
    }

    pub fn exit(&mut self) {
        self.insn(Instruction::exit());
    }

    /// Resolves labels and returns the encoded program.
    pub fn finish(self) -> Code {
        self.try_finish().unwrap_or_else(|n| panic!("jump out of range in a program of {n} instructions"))
    }

    /// Resolves labels and returns the encoded program, or the program's length in instructions when a
    /// jump does not fit its 16-bit offset.
    pub fn try_finish(self) -> Result<Code, usize> {
        // Slot (8-byte unit) at which each item starts; ld_imm64 takes two slots.
        let mut slot = Vec::with_capacity(self.items.len() + 1);
        let mut n = 0;
        for item in &self.items {
            slot.push(n);
            n += match item {
                Item::LoadMap { .. } | Item::LoadFunc { .. } => 2,
                Item::Insn(i) if i.is_wide() => 2,
                _ => 1,
            };
        }
        slot.push(n);
        let mut words = Vec::with_capacity(n);
        let mut relocs = Vec::new();
        let mut funcs = Vec::new();
        for (idx, item) in self.items.iter().enumerate() {
            let ins = match item {
                Item::Insn(i) => *i,
                Item::Jump { op, dst, src, to } => {
                    let target = slot[self.labels[to.0].expect("jump to an unbound label")];
                    let off = target as i64 - slot[idx + 1] as i64;
                    let off = i16::try_from(off).map_err(|_| n)?;
                    match (op, src) {
                        (Jmp::Absolute, _) => Instruction::jmp_abs(off),
                        (_, Src::Reg(s)) => Instruction::jmp_ifx(*dst, *op, *s, off),
                        (_, Src::Imm(i)) => Instruction::jmp_if(*dst, *op, *i as i64, off),
                    }
                }
                Item::LoadMap { dst, map, value } => {
                    relocs.push(MapReloc { insn: slot[idx], map: *map });
                    let kind = if *value { MemoryOpLoadType::MapValue } else { MemoryOpLoadType::Map };
                    Instruction::loadtype(*dst, 0, kind)
                }
                Item::LoadFunc { dst, func } => {
                    funcs.push(FuncReloc { insn: slot[idx], func: *func });
                    let (lo, hi) = Instruction::load(*dst, 0, MemoryOpSize::DoubleWord).encode();
                    // src_reg is the high nibble of the second byte.
                    words.push(lo | (u64::from(BPF_PSEUDO_FUNC) << 12));
                    words.extend(hi);
                    continue;
                }
            };
            let (lo, hi) = ins.encode();
            words.push(lo);
            words.extend(hi);
        }
        Ok(Code { words, relocs, funcs, callbacks: Vec::new() })
    }
}

impl Code {
    /// Whether the program calls helper `id` (`call` with no source register: a helper, not a
    /// BPF-to-BPF call). The runtime asks before loading, for helpers the kernel allows only in
    /// some places (bpf_override_return).
    pub fn calls(&self, id: u32) -> bool {
        const CALL: u64 = 0x85; // BPF_JMP | BPF_CALL
        const LD_IMM64: u64 = 0x18; // BPF_LD | BPF_IMM | BPF_DW: two slots
        let mut i = 0;
        while i < self.words.len() {
            let w = self.words[i];
            if w & 0xff == CALL && (w >> 12) & 0xf == 0 && (w >> 32) as u32 == id {
                return true;
            }
            i += if w & 0xff == LD_IMM64 { 2 } else { 1 };
        }
        false
    }
}

/// A bpftool-like listing of encoded instructions, one per line: `  3: r1 = *(u32 *)(r6 + 8)`.
/// Map loads are shown with the map's name.
pub fn listing(code: &Code, map_name: impl Fn(usize) -> String) -> String {
    listing_of(code, &map_name)
}

fn listing_of(code: &Code, map_name: &dyn Fn(usize) -> String) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < code.words.len() {
        let ins = Instruction::decode(&code.words[i..]).expect("we only list what we encoded");
        let func = code.funcs.iter().find(|f| f.insn == i);
        let text = match code.relocs.iter().find(|r| r.insn == i) {
            _ if func.is_some() => format!("{} = callback {}", reg(ins.get_dst_reg()), func.map_or(0, |f| f.func)),
            // src_reg 2 is BPF_PSEUDO_MAP_VALUE: the address of the map's value, as bpftool shows it.
            Some(r) if ins.get_src_reg().as_num() == 2 => {
                format!("{} = map[{}][0]+0 ll", reg(ins.get_dst_reg()), map_name(r.map))
            }
            Some(r) => format!("{} = map[{}] ll", reg(ins.get_dst_reg()), map_name(r.map)),
            None => describe(&ins),
        };
        let _ = writeln!(out, "{i:4}: {text}");
        i += if ins.is_wide() { 2 } else { 1 };
    }
    for (n, cb) in code.callbacks.iter().enumerate() {
        let _ = writeln!(out, "callback {n}:");
        out += &listing_of(cb, map_name);
    }
    out
}

fn reg(r: Register) -> String {
    format!("r{}", r.as_num())
}

/// One instruction in the notation of the kernel verifier and bpftool.
fn describe(ins: &Instruction) -> String {
    use bpf_ins::{Opcode, OpcodeClass, SourceOperand};
    // bpf-ins decodes a 32-bit immediate zero-extended; the kernel sign-extends it.
    let imm = if ins.is_wide() { ins.get_imm() } else { ins.get_imm() as i32 as i64 };
    let (d, s, off) = (reg(ins.get_dst_reg()), reg(ins.get_src_reg()), ins.get_offset());
    match ins.get_opcode() {
        Opcode::Arithmetic(a) => {
            let w = if matches!(a.get_class(), OpcodeClass::Arithmetic) { "w" } else { "r" };
            let d = format!("{w}{}", ins.get_dst_reg().as_num());
            let src = match a.get_source() {
                SourceOperand::Register => format!("{w}{}", ins.get_src_reg().as_num()),
                _ => imm.to_string(),
            };
            let op = match a.get_operation() {
                Alu::Mov => return format!("{d} = {src}"),
                Alu::Neg => return format!("{d} = -{d}"),
                Alu::Add => "+=",
                Alu::Sub => "-=",
                Alu::Mul => "*=",
                Alu::Div => "/=",
                Alu::Mod => "%=",
                Alu::Or => "|=",
                Alu::And => "&=",
                Alu::Xor => "^=",
                Alu::Lhs => "<<=",
                Alu::Rhs => ">>=",
                Alu::Ash => "s>>=",
                // The byte swap of the low `imm` bits (to big endian on this little-endian machine).
                Alu::End => {
                    let r = reg(ins.get_dst_reg());
                    return format!("{r} = bswap{}({r})", ins.get_imm());
                }
            };
            format!("{d} {op} {src}")
        }
        Opcode::Jump(j) => {
            let src = match j.get_source() {
                SourceOperand::Register => s,
                _ => imm.to_string(),
            };
            let op = match j.get_operation() {
                Jmp::Absolute => return format!("goto {off:+}"),
                Jmp::Call => return format!("call {}", helper_name(imm as u32)),
                Jmp::Exit => return "exit".into(),
                Jmp::IfEqual => "==",
                Jmp::IfNotEqual => "!=",
                Jmp::IfGreater => ">",
                Jmp::IfGreaterOrEqual => ">=",
                Jmp::IfLessThan => "<",
                Jmp::IfLessThanOrEqual => "<=",
                Jmp::IfSignedGreater => "s>",
                Jmp::IfSignedGreaterOrEqual => "s>=",
                Jmp::IfSignedLessThan => "s<",
                Jmp::IfSignedLessThanOrEqual => "s<=",
                Jmp::IfAnd => "&",
            };
            format!("if {d} {op} {src} goto {off:+}")
        }
        Opcode::Memory(m) => {
            let size = match m.get_size() {
                MemoryOpSize::Byte => "u8",
                MemoryOpSize::HalfWord => "u16",
                MemoryOpSize::Word => "u32",
                MemoryOpSize::DoubleWord => "u64",
            };
            match m.get_class() {
                OpcodeClass::Load => format!("{d} = {imm:#x} ll"),
                OpcodeClass::LoadReg => format!("{d} = *({size} *)({s} {off:+})"),
                OpcodeClass::Store => format!("*({size} *)({d} {off:+}) = {imm}"),
                _ => format!("*({size} *)({d} {off:+}) = {s}"),
            }
        }
    }
}

fn helper_name(id: u32) -> String {
    match helper::NAMES.iter().find(|(n, _)| *n == id) {
        Some((_, name)) => name.to_string(),
        None => format!("#{id}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_and_backward_jumps_and_wide_loads() {
        let mut a = Asm::default();
        let (top, end) = (a.label(), a.label());
        a.bind(top);
        a.jump_if(Jmp::IfEqual, Reg::R1, Src::Imm(0), end);
        a.mov_const(Reg::R2, 1 << 40); // two slots
        a.load_map(Reg::R1, 3); // two slots
        a.jump(top);
        a.bind(end);
        a.exit();
        let code = a.finish();
        assert_eq!(code.relocs, vec![MapReloc { insn: 3, map: 3 }]);
        let text = listing(&code, |m| format!("m{m}"));
        assert_eq!(
            text,
            "   0: if r1 == 0 goto +5\n   1: r2 = 0x10000000000 ll\n   3: r1 = map[m3] ll\n   5: goto -6\n   6: exit\n"
        );
    }

    #[test]
    fn calls_finds_helpers_but_not_ld_imm64_halves() {
        let mut a = Asm::default();
        // A wide load whose second half looks like `call 58` to a naive scan.
        a.mov_const(Reg::R2, 58u64 << 32 | 0x85);
        a.call(helper::KTIME_GET_NS);
        a.exit();
        let code = a.finish();
        assert!(code.calls(helper::KTIME_GET_NS));
        assert!(!code.calls(helper::OVERRIDE_RETURN));
        let mut a = Asm::default();
        a.call(helper::OVERRIDE_RETURN);
        a.exit();
        let code = a.finish();
        assert!(code.calls(helper::OVERRIDE_RETURN));
        assert_eq!(listing(&code, |m| format!("m{m}")), "   0: call bpf_override_return\n   1: exit\n");
    }
}
