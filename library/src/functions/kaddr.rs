//! `kaddr("symbol")`: a kernel symbol's address, from /proc/kallsyms at check time (a constant).

use codegen::registry::EmitFunction;
use lang::ast::ExprKind;
use lang::diag::Diagnostic;
use lang::registry::{Call, Checking, Function};
use lang::typed::{TExpr, TExprKind, Ty};

pub struct Kaddr;

/// The address /proc/kallsyms gives `name` (its first entry), if any and if it is readable (not 0).
fn lookup(name: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/kallsyms").ok()?;
    text.lines().find_map(|l| {
        let mut f = l.split_whitespace();
        let addr = f.next()?;
        let _kind = f.next()?;
        (f.next()? == name).then(|| u64::from_str_radix(addr, 16).ok()).flatten()
    })
}

impl Function for Kaddr {
    fn name(&self) -> &'static str {
        "kaddr"
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<TExpr> {
        cx.arity(call, 1..=1)?;
        let arg = &call.args[0];
        let ExprKind::Str(name) = &arg.kind else {
            cx.error(Diagnostic::new(arg.span, "kaddr() takes a symbol name in a string literal", "not a string literal"));
            return None;
        };
        match lookup(name) {
            Some(addr) if addr != 0 => Some(TExpr { kind: TExprKind::Const(addr), ty: Ty::U64, span: call.span }),
            Some(_) => {
                cx.error(Diagnostic::new(arg.span, "/proc/kallsyms shows kernel addresses as 0 to this user", "address hidden")
                    .with_help("run as root (kptr_restrict hides addresses from others)"));
                None
            }
            None => {
                cx.error(Diagnostic::new(arg.span, format!("kernel symbol `{name}` is not in /proc/kallsyms"), "unknown symbol"));
                None
            }
        }
    }
}

/// Never emitted: the checker leaves a constant.
impl EmitFunction for Kaddr {}
