//! `reg("NAME")`: a register of the probed task as the probe saw it (x86_64's `struct pt_regs`), in
//! probes whose context is those registers: uprobes, and the perf events (whose context starts with
//! them). The table here is also where `arg0…`, `retval` and `func` find their registers.

use codegen::emit::Emitter;
use codegen::registry::{EmitFunction, FnCall};
use lang::ast::ExprKind;
use lang::diag::Diagnostic;
use lang::registry::{Call, Checking, Function};
use lang::typed::{Attach, TExpr, TExprKind, Target, Ty};

pub struct Reg;

/// x86_64's `struct pt_regs`, in order: each register is 8 bytes, the first at offset 0.
const PT_REGS: [&str; 21] = [
    "r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9", "r8", "ax", "cx", "dx", "si", "di", "orig_ax", "ip", "cs",
    "flags", "sp", "ss",
];

/// The byte offset of register `name` in `struct pt_regs`.
pub fn offset(name: &str) -> Option<u32> {
    PT_REGS.iter().position(|r| *r == name).map(|i| i as u32 * 8)
}

/// The value of a register of the context, as a typed expression.
pub fn read(name: &str, ty: Ty, span: lang::ast::Span) -> TExpr {
    TExpr { kind: TExprKind::CtxField { offset: offset(name).unwrap_or(0) }, ty, span }
}

/// Whether the probe's context is a `struct pt_regs` (or starts with one).
pub fn has_regs(attach: &Attach) -> bool {
    matches!(attach.target, Target::Uprobe(_) | Target::Usdt(_) | Target::PerfEvent(_))
}

impl Function for Reg {
    fn name(&self) -> &'static str {
        "reg"
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<TExpr> {
        cx.arity(call, 1..=1)?;
        if !has_regs(cx.attach()) {
            let probe = cx.attach().probe_name();
            cx.error(Diagnostic::new(call.span, format!("reg() reads registers, which {probe} does not have"), "no registers here")
                .with_help("reg() is for uprobe, uretprobe, profile and software probes"));
            return None;
        }
        let ExprKind::Str(name) = &call.args[0].kind else {
            cx.error(Diagnostic::new(call.args[0].span, "reg() takes a register's name as a string literal", "not a string literal")
                .with_help("e.g. `reg(\"ip\")`"));
            return None;
        };
        let Some(_) = offset(name) else {
            cx.error(Diagnostic::new(call.args[0].span, format!("`{name}` is not a register of x86_64's pt_regs"), "unknown register")
                .with_help(format!("registers: {}", PT_REGS.join(", "))));
            return None;
        };
        Some(read(name, Ty::U64, call.span))
    }
}

/// Nothing to emit: the check made it a read of the context.
impl EmitFunction for Reg {
    fn int(&self, e: &mut Emitter, _: &FnCall) -> codegen::asm::Reg {
        let r = e.take();
        e.unsupported("reg()", r);
        r
    }
}
