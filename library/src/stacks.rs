//! What `kstack`/`ustack` (builtins) and `kstack(..)`/`ustack(..)` (functions) share: the arguments
//! (`mode`, `limit`, `mode, limit`, as bpftrace 0.17 takes them) and the emission. A stack is an id in
//! the stack map of its frame limit (`codegen::Internal::stacks`); a user stack also keeps the pid, whose
//! mappings name its frames. The runtime reads the frames and names them when it prints.

use codegen::asm::{helper, Reg, Src};
use codegen::emit::{Buf, Emitter, CTX};
use codegen::registry::FnCall;
use lang::ast::{Expr, ExprKind, Span};
use lang::diag::Diagnostic;
use lang::registry::{Call, Checking};
use lang::typed::{Render, StackFmt, StackMode, TExpr, TExprKind, Ty, MAX_STACK};

/// bpf_get_stackid's flag for the user stack.
const BPF_F_USER_STACK: i32 = 1 << 8;

/// The typed stack value: a call of the function `name`, whatever was written (the builtin too).
pub fn value(user: bool, fmt: StackFmt, span: Span) -> TExpr {
    let (name, render) = if user { ("ustack", Render::UStack(fmt)) } else { ("kstack", Render::KStack(fmt)) };
    TExpr { kind: TExprKind::Call { func: name, map: None, args: Vec::new() }, ty: Ty::Text(render), span }
}

/// Checks `kstack(..)` or `ustack(..)`'s arguments.
pub fn check(user: bool, cx: &mut dyn Checking, call: &Call) -> Option<TExpr> {
    cx.arity(call, 0..=2)?;
    let mut fmt = StackFmt::DEFAULT;
    let mut args = call.args.iter();
    let mut next = args.next();
    if let Some(a) = next {
        if let ExprKind::Builtin(word) = &a.kind {
            fmt.mode = mode(cx, a, word)?;
            next = args.next();
        }
    }
    if let Some(a) = next {
        fmt.limit = limit(cx, a)?;
        if let Some(extra) = args.next() {
            cx.error(Diagnostic::new(extra.span, "the frame limit comes last", "unexpected argument"));
            return None;
        }
    }
    Some(value(user, fmt, call.span))
}

/// `bpftrace`, `perf` or `raw`.
fn mode(cx: &mut dyn Checking, a: &Expr, word: &str) -> Option<StackMode> {
    match word {
        "bpftrace" => Some(StackMode::Bpftrace),
        "perf" => Some(StackMode::Perf),
        "raw" => Some(StackMode::Raw),
        _ => {
            let d = Diagnostic::new(a.span, format!("`{word}` is not a stack mode"), "unknown stack mode")
                .with_help("the modes are `bpftrace` (the default), `perf` and `raw`");
            cx.error(d);
            None
        }
    }
}

/// The frame limit: an integer literal from 1 to the kernel's perf_event_max_stack.
fn limit(cx: &mut dyn Checking, a: &Expr) -> Option<u32> {
    let n = cx.const_int(a, "a stack's frame limit")?;
    let max = std::fs::read_to_string("/proc/sys/kernel/perf_event_max_stack")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .unwrap_or(MAX_STACK)
        .min(MAX_STACK);
    if n == 0 || n > u64::from(max) {
        let d = Diagnostic::new(a.span, format!("a stack keeps 1 to {max} frames, not {n}"), "frame limit out of range")
            .with_help("the kernel's limit is kernel.perf_event_max_stack; vt keeps at most 127 frames");
        cx.error(d);
        return None;
    }
    Some(n as u32)
}

fn fmt_of(ty: &Ty) -> StackFmt {
    match ty {
        Ty::Text(Render::KStack(f) | Render::UStack(f)) => *f,
        _ => StackFmt::DEFAULT,
    }
}

/// Calls bpf_get_stackid into `r0` for the stack typed `ty` (kernel or user by `user`). A stack whose
/// map is missing (the program stores the stack nowhere vt looked) leaves an error.
fn stackid(e: &mut Emitter, ty: &Ty, user: bool) -> bool {
    let Some(map) = e.internal().stack_map(fmt_of(ty).limit) else {
        let r = e.take();
        e.unsupported("a stack that is stored nowhere", r);
        e.release(r);
        return false;
    };
    e.asm.mov(Reg::R1, Src::Reg(CTX));
    e.asm.load_map(Reg::R2, map);
    e.asm.mov(Reg::R3, Src::Imm(if user { BPF_F_USER_STACK } else { 0 }));
    e.asm.call(helper::GET_STACKID);
    true
}

/// A kernel stack: its id, in a fresh register.
pub fn emit_kernel(e: &mut Emitter, call: &FnCall) -> Reg {
    let ok = stackid(e, call.ty, false);
    let r = e.take();
    if ok {
        e.asm.mov(r, Src::Reg(Reg::R0));
    }
    r
}

/// A user stack: its id, then the pid, into `dst`.
pub fn emit_user(e: &mut Emitter, call: &FnCall, dst: Buf) {
    if !stackid(e, call.ty, true) {
        return;
    }
    e.asm.insn(bpf_ins::Instruction::storex64(Reg::R10, dst.off16(), Reg::R0));
    store_pid(e, dst.off16() + 8);
}

/// The current process's id into the 8 bytes at `r10 + off`.
pub fn store_pid(e: &mut Emitter, off: i16) {
    e.asm.call(helper::GET_CURRENT_PID_TGID);
    e.asm.alu(bpf_ins::ArithmeticOperation::Rhs, Reg::R0, Src::Imm(32));
    e.asm.insn(bpf_ins::Instruction::storex64(Reg::R10, off, Reg::R0));
}
