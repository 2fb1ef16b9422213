//! The emitter core: turns a checked probe program into BPF instructions. The constructs live in
//! `stmt`, `expr`, `value` (strings, tuples, copies), `map` (keys, lookups, aggregation updates) and
//! `event` (the ring buffer, the run switch); builtins, functions and aggregations emit themselves
//! (their registry entries), through the public methods here.
//!
//! Registers: `r6` holds the context for the whole program; `r7`–`r9` (callee-saved, so they survive
//! helper calls) hold integer temporaries; when an expression needs more, the left operand is spilled
//! to the stack. `r0`–`r5` are scratch between helper calls.
//!
//! Stack: variables live at the top of the frame (zeroed in the prologue); below them each statement
//! takes what it needs for keys, strings and event records, given back when the statement ends.
//! Strings, tuples and keys are built in stack buffers, integers in registers.

mod event;
mod expr;
mod foreach;
mod map;
mod stmt;
mod value;

use crate::asm::{Asm, Code, Label, Reg, Src};
use crate::layout::{self, Slot, MAX_VARS_BYTES, STACK_LIMIT};
use crate::registry::Emitters;
use crate::{Internal, MapSpec};
use bpf_ins::{ArithmeticOperation as Alu, Instruction, JumpOperation as Jmp, MemoryOpSize};
use lang::diag::Diagnostic;
use lang::typed::*;

/// The register holding the program's context (the probe's record).
pub const CTX: Reg = Reg::R6;
const TEMPS: [Reg; 3] = [Reg::R9, Reg::R8, Reg::R7];
/// Holds the pointer to the shared value of keyless aggregations, in programs that use one.
const SCALARS: Reg = Reg::R9;

pub fn program(p: &ProbeProgram, maps: &[MapDef], specs: &[MapSpec], internal: &Internal, lib: &dyn Emitters) -> Result<Code, Diagnostic> {
    let (slots, vars_size) = layout::var_slots(&p.vars);
    if vars_size > MAX_VARS_BYTES {
        return Err(Diagnostic::new(
            p.span,
            format!("this probe's variables need {vars_size} bytes of stack; at most {MAX_VARS_BYTES} fit"),
            "too many variables",
        ));
    }
    let vars = vars_size.div_ceil(8) as i32 * 8;
    let shared = uses_shared(&p.body, specs);
    let mut e = Emitter {
        asm: Asm::default(),
        // The shared aggregation pointer takes one temporary for the whole program.
        free: TEMPS.iter().copied().filter(|&r| !(shared && r == SCALARS)).collect(),
        frame: -vars,
        deepest: -vars,
        vars_base: -vars,
        slots,
        maps,
        specs,
        internal,
        lib,
        done: Label::default(),
        missing: None,
        loops: Vec::new(),
        shared,
        callbacks: Vec::new(),
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
    let switched = !p.attach.is_special() && !p.body.is_empty();
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
    if let Some(what) = e.missing {
        return Err(Diagnostic::new(p.span, format!("{what}: vt cannot compile this probe"), "internal error"));
    }
    let callbacks = std::mem::take(&mut e.callbacks);
    // The kernel counts a callback's frame on top of its caller's (each rounded up to 32 bytes).
    let frame = |depth: i32| ((-depth).max(1) as u32).div_ceil(32) as i32 * 32;
    let deepest_callback = callbacks.iter().map(|c| c.1).max();
    if let Some(cb) = deepest_callback.filter(|&cb| frame(e.deepest) + frame(cb) > STACK_LIMIT) {
        return Err(Diagnostic::new(
            p.span,
            format!(
                "{} needs {} bytes of BPF stack with its `for` over a map ({} in the loop's body); the kernel allows {STACK_LIMIT}",
                p.attach.probe_name(),
                frame(e.deepest) + frame(cb),
                frame(cb)
            ),
            "too much stack",
        )
        .with_help("the body of a `for` over a map keeps its own copy of the probe's variables: use fewer or shorter ones"));
    }
    if -e.deepest > STACK_LIMIT {
        return Err(Diagnostic::new(
            p.span,
            format!("{} needs {} bytes of BPF stack; the kernel allows {STACK_LIMIT}", p.attach.probe_name(), -e.deepest),
            "too much stack",
        )
        .with_help("use shorter strings (`str(p, 32)`), fewer variables or fewer printf arguments"));
    }
    let mut code = e.asm.try_finish().map_err(|n| {
        Diagnostic::new(
            p.span,
            format!("{} compiles to {n} BPF instructions: too many for its jumps to reach", p.attach.probe_name()),
            "program too large",
        )
        .with_help(format!("a BPF jump reaches at most {} instructions; use smaller unroll counts", i16::MAX))
    })?;
    code.callbacks = callbacks.into_iter().map(|c| c.0).collect();
    Ok(code)
}

/// The emitter's state while one program is emitted. Registry entries use its public methods.
pub struct Emitter<'a> {
    pub asm: Asm,
    /// Temporaries not in use, taken from the end.
    free: Vec<Reg>,
    /// Lowest stack offset in use.
    frame: i32,
    /// Lowest stack offset ever used.
    deepest: i32,
    vars_base: i32,
    slots: Vec<Slot>,
    maps: &'a [MapDef],
    specs: &'a [MapSpec],
    internal: &'a Internal,
    lib: &'a dyn Emitters,
    /// The program's exit.
    done: Label,
    /// What could not be emitted (an entry missing from the registry), reported when the program ends.
    missing: Option<String>,
    /// The loops around the statement being emitted: where `continue` and `break` jump.
    loops: Vec<(Label, Label)>,
    /// Whether `SCALARS` holds the shared aggregation pointer.
    shared: bool,
    /// The callbacks emitted so far (`for` over a map), with the lowest stack offset each uses.
    callbacks: Vec<(crate::asm::Code, i32)>,
}

/// A stack buffer: `size` bytes at `r10 + off`.
#[derive(Clone, Copy, Debug)]
pub struct Buf {
    pub off: i32,
    pub size: u32,
}

impl Buf {
    pub fn at(self, delta: u32, size: u32) -> Buf {
        Buf { off: self.off + delta as i32, size }
    }
    pub fn off16(self) -> i16 {
        // Within the 512-byte frame (checked at the end of the program) offsets fit; clamp meanwhile.
        self.off.max(-(i16::MAX as i32)) as i16
    }
}

/// A point in the statement's stack use, to give back what was taken after it.
#[derive(Clone, Copy, Debug)]
pub struct StackMark(i32);

impl<'a> Emitter<'a> {
    pub fn take(&mut self) -> Reg {
        match self.free.pop() {
            Some(r) => r,
            None => {
                // The spilling in `binary` keeps at most three temporaries live; this is a bug guard.
                self.missing.get_or_insert_with(|| "an expression needs more registers than vt has".into());
                Reg::R1
            }
        }
    }

    pub fn release(&mut self, r: Reg) {
        debug_assert!(!self.free.contains(&r));
        self.free.push(r);
    }

    /// Reserves `size` bytes (rounded up to 8) of stack until the current statement ends.
    pub fn alloc(&mut self, size: u32) -> Buf {
        let size = size.div_ceil(8) * 8;
        self.frame -= size as i32;
        self.deepest = self.deepest.min(self.frame);
        Buf { off: self.frame, size }
    }

    /// Where the stack stands now (see `reset`).
    pub fn mark(&self) -> StackMark {
        StackMark(self.frame)
    }

    /// Gives back the stack taken since `mark`.
    pub fn reset(&mut self, mark: StackMark) {
        self.frame = mark.0;
    }

    /// The internal maps (events, lost counters, session start, run switch).
    pub fn internal(&self) -> &Internal {
        self.internal
    }

    fn var(&self, id: VarId) -> Buf {
        let slot = self.slots.get(id.0 as usize).copied().unwrap_or(Slot { offset: 0, size: 8 });
        Buf { off: self.vars_base + slot.offset as i32, size: slot.size }
    }

    /// `r = r10 + off`
    pub fn addr(&mut self, r: Reg, b: Buf) {
        self.asm.mov(r, Src::Reg(Reg::R10));
        self.asm.alu(Alu::Add, r, Src::Imm(b.off));
    }

    /// Zeroes `size` bytes (a multiple of 8) at `off`.
    pub fn zero(&mut self, off: i32, size: u32) {
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

    /// Records an entry the emitter asked for something it does not provide (a registry mismatch),
    /// and leaves 0 in `dst` so that emission can go on to the report.
    pub fn unsupported(&mut self, what: &str, dst: Reg) {
        self.missing.get_or_insert_with(|| format!("a registry entry cannot give {what}"));
        self.asm.mov(dst, Src::Imm(0));
    }

    /// As `unsupported`, for a string: leaves the empty string in `dst`.
    pub fn unsupported_string(&mut self, what: &str, dst: Buf) {
        self.missing.get_or_insert_with(|| format!("a registry entry cannot give {what}"));
        self.zero(dst.off, dst.size);
    }
}

/// The layout a value takes in a slot of `size` bytes: a string of the slot's size, else its own type.
fn storage_of(ty: &Ty, size: u32) -> Ty {
    match ty {
        Ty::Str(_) => Ty::Str(size),
        Ty::Text(_) => ty.clone(),
        Ty::Int(_) => Ty::I64,
        other => other.clone(),
    }
}

/// The load or store size of a `bits`-bit integer.
pub fn mem_size(bits: u8) -> MemoryOpSize {
    match bits {
        8 => MemoryOpSize::Byte,
        16 => MemoryOpSize::HalfWord,
        32 => MemoryOpSize::Word,
        _ => MemoryOpSize::DoubleWord,
    }
}

/// Whether any statement updates or deletes a keyless aggregation kept in the shared value.
fn uses_shared(stmts: &[TStmt], specs: &[MapSpec]) -> bool {
    stmts.iter().any(|s| match s {
        TStmt::Aggregate { map, .. } | TStmt::MapDelete { map, .. } => specs[map.index()].within.is_some(),
        TStmt::If { then, otherwise, .. } => uses_shared(then, specs) || uses_shared(otherwise, specs),
        TStmt::For { body, .. } | TStmt::While { body, .. } | TStmt::ForMap { body, .. } => uses_shared(body, specs),
        _ => false,
    })
}

/// Whether a block always leaves the program (its last statement is exit() or return, or an if/else
/// whose branches both do): nothing may be emitted after it, since unreachable code fails verification.
fn terminates(stmts: &[TStmt]) -> bool {
    match stmts.last() {
        Some(TStmt::Exit(_) | TStmt::Return | TStmt::Break | TStmt::Continue) => true,
        Some(TStmt::If { then, otherwise, .. }) => terminates(then) && terminates(otherwise),
        _ => false,
    }
}
