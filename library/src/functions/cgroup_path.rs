//! `cgroup_path(id[, filter])`: a cgroup id (`cgroup`, or any integer) shown as the cgroup's path in
//! each mounted cgroup hierarchy, `unified:/a/b,cpu:/a,...` as bpftrace prints it. `filter` is a
//! string literal with `*` wildcards naming the hierarchies wanted (`"unified"`: only cgroup2). The
//! program keeps the id; the runtime finds the path when it prints (`Render::CgroupPath`), so the
//! path is that of the cgroup when the map is read or the event printed.

use codegen::asm::Reg;
use codegen::emit::Emitter;
use codegen::registry::{EmitFunction, FnCall};
use lang::ast::ExprKind;
use lang::diag::Diagnostic;
use lang::registry::{Call, Checking, Function};
use lang::typed::{Render, TExpr, TExprKind, Ty};

pub struct CgroupPath;

impl Function for CgroupPath {
    fn name(&self) -> &'static str {
        "cgroup_path"
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<TExpr> {
        cx.arity(call, 1..=2)?;
        let filter = match call.args.get(1).map(|a| (&a.kind, a.span)) {
            None => "*".to_string(),
            Some((ExprKind::Str(f), _)) => f.clone(),
            Some((_, span)) => {
                let d = Diagnostic::new(span, "cgroup_path()'s filter must be a string literal", "not a string literal");
                cx.error(d.with_help("name the hierarchies wanted, with `*` wildcards: \"unified\", \"cpu*\""));
                return None;
            }
        };
        let id = cx.int_expr(&call.args[0])?;
        let ty = Ty::Text(Render::CgroupPath(filter));
        Some(TExpr { kind: TExprKind::Call { func: "cgroup_path", map: None, args: vec![id] }, ty, span: call.span })
    }
}

impl EmitFunction for CgroupPath {
    fn int(&self, e: &mut Emitter, call: &FnCall) -> Reg {
        e.expr(&call.args[0])
    }
}
