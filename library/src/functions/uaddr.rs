//! `uaddr("symbol")`: the address of a symbol of the file a uprobe or USDT probe is attached to, from
//! its ELF symbols at check time (a constant). As in bpftrace it is a pointer to an integer of the
//! symbol's size (1, 2, 4 or 8 bytes; 8 otherwise), so `*uaddr("x")` reads the variable: the call keeps
//! that size as its second argument for the checker's C-types pass (lang/src/check/kernel.rs). bpftrace 0.17 gives the symbol's link-time address even
//! in a position-independent file, where the process has it somewhere else; vt refuses those files
//! rather than read the wrong memory.

use codegen::asm::Reg;
use codegen::emit::Emitter;
use codegen::registry::{EmitFunction, FnCall};
use lang::ast::ExprKind;
use lang::diag::Diagnostic;
use lang::registry::{Call, Checking, Function};
use lang::typed::{TExpr, TExprKind, Target, Ty};
use object::{Object, ObjectSymbol};

pub struct Uaddr;

/// What a file says of `name`: its address and size, or why there is none to give.
fn lookup(path: &str, name: &str) -> Result<(u64, u64), (String, Option<&'static str>)> {
    let data = std::fs::read(path).map_err(|e| (format!("cannot read {path}: {e}"), None))?;
    let file = object::File::parse(&*data).map_err(|e| (format!("{path} is not an ELF file vt can read: {e}"), None))?;
    if file.kind() != object::ObjectKind::Executable {
        let msg = format!("`{path}` is position-independent: where `{name}` is depends on where each process loads it");
        return Err((msg, Some("uaddr() takes symbols of executables linked at fixed addresses (-no-pie)")));
    }
    let found = file
        .symbols()
        .chain(file.dynamic_symbols())
        .find(|s| !s.is_undefined() && s.address() != 0 && s.name() == Ok(name));
    found.map(|s| (s.address(), s.size())).ok_or_else(|| (format!("`{path}` has no symbol `{name}`"), None))
}

impl Function for Uaddr {
    fn name(&self) -> &'static str {
        "uaddr"
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<TExpr> {
        cx.arity(call, 1..=1)?;
        let arg = &call.args[0];
        let ExprKind::Str(name) = &arg.kind else {
            cx.error(Diagnostic::new(arg.span, "uaddr() takes a symbol name in a string literal", "not a string literal"));
            return None;
        };
        let path = match &cx.attach().target {
            Target::Uprobe(u) => u.path.clone(),
            Target::Usdt(u) => u.path.clone(),
            _ => {
                let d = Diagnostic::new(call.span, "uaddr() names a symbol of the probed file", "not in a uprobe")
                    .with_help("use it in uprobe, uretprobe or usdt probes, as bpftrace does");
                cx.error(d);
                return None;
            }
        };
        match lookup(&path, name) {
            Ok((addr, size)) => {
                let pointee = if matches!(size, 1 | 2 | 4 | 8) { size } else { 8 };
                let c = |v| TExpr { kind: TExprKind::Const(v), ty: Ty::U64, span: call.span };
                let kind = TExprKind::Call { func: "uaddr", map: None, args: vec![c(addr), c(pointee)] };
                Some(TExpr { kind, ty: Ty::U64, span: call.span })
            }
            Err((msg, help)) => {
                let mut d = Diagnostic::new(arg.span, msg, "no address");
                if let Some(h) = help {
                    d = d.with_help(h);
                }
                cx.error(d);
                None
            }
        }
    }
}

/// The address (the size is the checker's).
impl EmitFunction for Uaddr {
    fn int(&self, e: &mut Emitter, call: &FnCall) -> Reg {
        e.expr(&call.args[0])
    }
}
