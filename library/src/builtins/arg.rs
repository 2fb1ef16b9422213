//! `arg0` … `arg9`: a uprobe's (or kprobe's, up to arg5) function arguments, by x86_64's calling convention: the first six in
//! registers (rdi, rsi, rdx, rcx, r8, r9, read from the probe's saved registers), the others on the
//! stack above the return address (read from user memory; 0 if unreadable).

use crate::functions::reg;
use codegen::asm::{helper, Reg, Src};
use codegen::emit::Emitter;
use codegen::registry::EmitBuiltin;
use lang::diag::Diagnostic;
use lang::registry::{Builtin, BuiltinCx};
use lang::typed::{TExpr, TExprKind, Target, Ty};

pub struct Arg(usize);

pub static ARGS: [Arg; 10] = [Arg(0), Arg(1), Arg(2), Arg(3), Arg(4), Arg(5), Arg(6), Arg(7), Arg(8), Arg(9)];

const NAMES: [&str; 10] = ["arg0", "arg1", "arg2", "arg3", "arg4", "arg5", "arg6", "arg7", "arg8", "arg9"];
/// The registers of the first six integer arguments.
const IN_REGS: [&str; 6] = ["di", "si", "dx", "cx", "r8", "r9"];

impl Builtin for Arg {
    fn name(&self) -> &'static str {
        NAMES[self.0]
    }
    fn check(&self, cx: &BuiltinCx) -> Result<TExpr, Diagnostic> {
        let name = self.name();
        match &cx.attach.target {
            Target::Uprobe(u) if !u.ret => {}
            // Past the sixth, a kernel function's arguments are on the kernel stack, which this entry's
            // emission (a user-memory read) does not read.
            Target::Kprobe(k) if !k.ret && self.0 < IN_REGS.len() => {}
            Target::Kprobe(k) if !k.ret => {
                return Err(Diagnostic::new(cx.span, format!("{name} is on the kernel stack, which vt does not read yet"), "arguments past the sixth")
                    .with_help("arg0 … arg5 are read from registers"))
            }
            Target::Uprobe(_) | Target::Kprobe(_) => {
                return Err(Diagnostic::new(cx.span, format!("{name} is not known on a function's return"), "on a return probe")
                    .with_help("read the arguments on the function's entry (uprobe, kprobe) and save them in a map keyed by tid"))
            }
            _ => {
                return Err(Diagnostic::new(cx.span, format!("{name} is only for uprobes and kprobes (the probe's function arguments)"), "no arguments here")
                    .with_help("a tracepoint's arguments are `args.NAME`"))
            }
        }
        Ok(match IN_REGS.get(self.0) {
            Some(r) => reg::read(r, Ty::U64, cx.span),
            None => TExpr { kind: TExprKind::Builtin(name), ty: Ty::U64, span: cx.span },
        })
    }
}

/// Arguments past the sixth: 8 bytes at `sp + 8 * (n - 5)` of user memory (`sp` points at the return
/// address when the function starts).
impl EmitBuiltin for Arg {
    fn int(&self, e: &mut Emitter, dst: Reg) {
        let buf = e.alloc(8);
        e.zero(buf.off, 8);
        e.addr(Reg::R1, buf);
        e.asm.mov(Reg::R2, Src::Imm(8));
        let sp = reg::offset("sp").unwrap_or(0);
        e.asm.insn(bpf_ins::Instruction::loadx64(Reg::R3, codegen::emit::CTX, sp as i16));
        e.asm.alu(bpf_ins::ArithmeticOperation::Add, Reg::R3, Src::Imm(8 * (self.0 as i32 - 5)));
        e.asm.call(helper::PROBE_READ_USER);
        e.asm.insn(bpf_ins::Instruction::loadx64(dst, Reg::R10, buf.off16()));
    }
}
