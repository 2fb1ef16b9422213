//! `arg0` … `arg9`: a uprobe's (or kprobe's, up to arg5) function arguments, by x86_64's calling convention: the first six in
//! registers (rdi, rsi, rdx, rcx, r8, r9, read from the probe's saved registers), the others on the
//! stack above the return address (read from user memory; 0 if unreadable). In a USDT probe, the
//! probe's own arguments as its note describes them; in a raw tracepoint, the tracepoint's arguments.

use crate::functions::reg;
use codegen::asm::{helper, Reg, Src};
use codegen::emit::Emitter;
use codegen::registry::EmitBuiltin;
use lang::diag::Diagnostic;
use lang::registry::{Builtin, BuiltinCx};
use lang::ast::BinOp;
use lang::typed::{IntTy, TExpr, TExprKind, Target, Ty, Usdt, UsdtLoc};

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
            Target::Usdt(u) => return usdt(u, self.0, cx),
            // The context is the tracepoint's arguments, 8 bytes each.
            Target::RawTracepoint { .. } => return Ok(TExpr { kind: TExprKind::CtxField { offset: 8 * self.0 as u32 }, ty: Ty::U64, span: cx.span }),
            // Past the sixth, a kernel function's arguments are on the kernel stack, which this entry's
            // emission (a user-memory read) does not read.
            Target::Kprobe(k) if !k.ret && self.0 < IN_REGS.len() => {}
            Target::Kprobe(k) if !k.ret => {
                return Err(Diagnostic::new(cx.span, format!("{name} is on the kernel stack, which vt does not read yet"), "arguments past the sixth")
                    .with_help("arg0 … arg5 are read from registers"))
            }
            Target::Kprobe(_) => {
                return Err(Diagnostic::new(cx.span, format!("{name} is not known on a function's return"), "on a return probe")
                    .with_help("read the arguments on the function's entry (uprobe, kprobe) and save them in a map keyed by tid"))
            }
            Target::Fentry(_) => {
                let names: Vec<&str> = cx.attach.args.iter().flat_map(|f| &f.fields).map(|f| f.name.as_str()).filter(|n| !n.starts_with('$')).collect();
                let help = match names.as_slice() {
                    [] => "this function takes no arguments".to_string(),
                    [first, ..] => format!("e.g. `args.{first}` (its parameters: {})", names.join(", ")),
                };
                return Err(Diagnostic::new(cx.span, format!("{name} is not available in {}: its arguments are `args.NAME`, by name", cx.attach.probe), "use args.NAME")
                    .with_help(help))
            }
            Target::Uprobe(_) => {
                return Err(Diagnostic::new(cx.span, format!("{name} is not known on a function's return"), "not in a uretprobe")
                    .with_help("read the arguments in a uprobe on the same function (save them in a map keyed by tid)"))
            }
            _ => {
                return Err(Diagnostic::new(cx.span, format!("{name} is only for uprobes, kprobes, USDT probes and raw tracepoints"), "no arguments here")
                    .with_help("a tracepoint's arguments are `args.NAME`"))
            }
        }
        Ok(match IN_REGS.get(self.0) {
            Some(r) => reg::read(r, Ty::U64, cx.span),
            None => TExpr { kind: TExprKind::Builtin(name), ty: Ty::U64, span: cx.span },
        })
    }
}

/// A USDT argument, typed as its note says: a constant, a register's low bytes, or user memory at a
/// register plus a displacement.
fn usdt(u: &Usdt, n: usize, cx: &BuiltinCx) -> Result<TExpr, Diagnostic> {
    let span = cx.span;
    let Some(arg) = u.args.get(n) else {
        let count = u.args.len();
        return Err(Diagnostic::new(span, format!("usdt:{}:{} has {count} argument{}", u.provider, u.name, if count == 1 { "" } else { "s" }), "no such argument")
            .with_help(if count == 0 { "this probe passes no arguments".to_string() } else { format!("its arguments are arg0 to arg{}", count - 1) }));
    };
    let ty = Ty::Int(arg.ty);
    let kind = match &arg.loc {
        UsdtLoc::Const(v) => TExprKind::Const(*v as u64),
        UsdtLoc::Reg { offset } => TExprKind::CtxField { offset: *offset },
        UsdtLoc::Unknown(spec) => {
            return Err(Diagnostic::new(span, format!("vt cannot read argument {n} of usdt:{}:{}, given as `{spec}`", u.provider, u.name), "unreadable argument")
                .with_help("vt reads registers (`%edi`), constants (`$5`) and memory at a register (`-16(%rbp)`)"))
        }
        UsdtLoc::Mem { offset, disp } => {
            let base = TExpr { kind: TExprKind::CtxField { offset: *offset }, ty: Ty::U64, span };
            let disp = TExpr { kind: TExprKind::Const(*disp as u64), ty: Ty::U64, span };
            TExprKind::UserInt { addr: Box::new(TExpr { kind: TExprKind::Binary(BinOp::Add, Box::new(base), Box::new(disp)), ty: Ty::U64, span }) }
        }
    };
    // A constant is given its type's value: `-4@$-1` is -1, `4@$-1` is 4294967295.
    let kind = match kind {
        TExprKind::Const(v) => TExprKind::Const(truncate(v, arg.ty)),
        k => k,
    };
    Ok(TExpr { kind, ty, span })
}

/// `v` as an integer of type `ty` held in 64 bits.
fn truncate(v: u64, ty: IntTy) -> u64 {
    if ty.bits >= 64 {
        return v;
    }
    let shift = 64 - ty.bits as u32;
    match ty.signed {
        true => (((v << shift) as i64) >> shift) as u64,
        false => (v << shift) >> shift,
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
