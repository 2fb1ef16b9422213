//! `has_key(@m, k...)`: 1 when the map has an entry at that key, else 0.

use codegen::asm::{helper, Reg, Src};
use codegen::emit::Emitter;
use codegen::registry::{EmitFunction, FnCall};
use bpf_ins::JumpOperation as Jmp;
use lang::ast::{ExprKind, MapRef};
use lang::diag::Diagnostic;
use lang::registry::{Call, Checking, Function};
use lang::typed::{IntTy, TExpr, TExprKind, Ty};

pub struct HasKey;

impl Function for HasKey {
    fn name(&self) -> &'static str {
        "has_key"
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<TExpr> {
        cx.arity(call, 2..=usize::MAX)?;
        let ExprKind::Map(m) = &call.args[0].kind else {
            cx.error(Diagnostic::new(call.args[0].span, "has_key() takes a map first", "not a map"));
            return None;
        };
        let keys = MapRef { name: m.name.clone(), keys: call.args[1..].to_vec(), span: m.span };
        let (map, keys) = cx.map_access(&keys, "has_key")?;
        let kind = TExprKind::Call { func: "has_key", map: Some(map), args: keys };
        Some(TExpr { kind, ty: Ty::Int(IntTy::U64), span: call.span })
    }
}

impl EmitFunction for HasKey {
    fn int(&self, e: &mut Emitter, call: &FnCall) -> Reg {
        let Some(map) = call.map else {
            let r = e.take();
            e.unsupported("has_key without its map", r);
            return r;
        };
        let mark = e.mark();
        let key = e.key(map, call.args, None);
        e.map_call(map, key, None, helper::MAP_LOOKUP_ELEM, 0);
        e.reset(mark);
        let r = e.take();
        e.set_bool(Jmp::IfNotEqual, r, Reg::R0, Src::Imm(0));
        r
    }
}
