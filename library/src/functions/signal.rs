//! `signal(SIG)`: sends a signal to the current process (`bpf_send_signal`), as bpftrace does. SIG is
//! a name (`"KILL"` or `"SIGKILL"`) or a number (1–64). It changes the system, so it needs `--unsafe`;
//! it is a statement of its own, and only where an event has a task to signal (not BEGIN, END or
//! `interval`, which run in whatever task the clock interrupts).

use codegen::asm::{helper, Reg, Src};
use codegen::emit::Emitter;
use codegen::registry::{EmitFunction, FnCall};
use lang::ast::ExprKind;
use lang::diag::Diagnostic;
use lang::registry::{Call, Checking, Function};
use lang::typed::{IntTy, TExpr, TExprKind, Target, Ty};

pub struct Signal;

/// Linux's signal numbers (x86-64 and most others) by name, without `SIG`.
const NAMES: &[(&str, u64)] = &[
    ("HUP", 1), ("INT", 2), ("QUIT", 3), ("ILL", 4), ("TRAP", 5), ("ABRT", 6), ("BUS", 7), ("FPE", 8),
    ("KILL", 9), ("USR1", 10), ("SEGV", 11), ("USR2", 12), ("PIPE", 13), ("ALRM", 14), ("TERM", 15),
    ("STKFLT", 16), ("CHLD", 17), ("CONT", 18), ("STOP", 19), ("TSTP", 20), ("TTIN", 21), ("TTOU", 22),
    ("URG", 23), ("XCPU", 24), ("XFSZ", 25), ("VTALRM", 26), ("PROF", 27), ("WINCH", 28), ("IO", 29),
    ("PWR", 30), ("SYS", 31),
];

impl Function for Signal {
    fn name(&self) -> &'static str {
        "signal"
    }
    fn statement(&self) -> bool {
        true
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<TExpr> {
        cx.arity(call, 1..=1)?;
        if !cx.unsafe_allowed() {
            let d = Diagnostic::new(call.span, "signal() changes the system and needs --unsafe", "unsafe")
                .with_help("run vt with --unsafe to allow it, as bpftrace does");
            cx.error(d);
            return None;
        }
        let taskless = match &cx.attach().target {
            Target::Begin | Target::End => true,
            Target::PerfEvent(e) => e.cpu.is_some(),
            _ => false,
        };
        if taskless {
            let msg = format!("signal() has no process to signal in {}", cx.attach().probe_name());
            cx.error(Diagnostic::new(call.span, msg, "no task here").with_help("use it in a tracepoint, uprobe or profile probe"));
            return None;
        }
        let arg = &call.args[0];
        let sig = match &arg.kind {
            ExprKind::Str(name) => {
                let bare = name.strip_prefix("SIG").unwrap_or(name);
                match NAMES.iter().find(|(n, _)| *n == bare) {
                    Some(&(_, n)) => TExpr { kind: TExprKind::Const(n), ty: Ty::Int(IntTy::U64), span: arg.span },
                    None => {
                        cx.error(Diagnostic::new(arg.span, format!("unknown signal `{name}`"), "no such signal")
                            .with_help("a name such as \"SIGKILL\" or \"TERM\", or a number from 1 to 64"));
                        return None;
                    }
                }
            }
            ExprKind::Int(n) if !(1..=64).contains(n) => {
                cx.error(Diagnostic::new(arg.span, format!("{n} is not a signal number"), "out of range").with_help("signals are numbered 1 to 64"));
                return None;
            }
            _ => cx.int_expr(arg)?,
        };
        Some(TExpr { kind: TExprKind::Call { func: "signal", map: None, args: vec![sig] }, ty: Ty::Int(IntTy::I64), span: call.span })
    }
}

impl EmitFunction for Signal {
    fn int(&self, e: &mut Emitter, call: &FnCall) -> Reg {
        let r = e.expr(&call.args[0]);
        e.asm.mov(Reg::R1, Src::Reg(r));
        e.asm.call(helper::SEND_SIGNAL);
        e.asm.mov(r, Src::Reg(Reg::R0));
        r
    }
}
