//! `pton("1.2.3.4")` / `pton("fe80::1")`: an address's bytes in network order, a byte array of 4
//! (IPv4) or 16 (IPv6) bytes (`Render::Bytes`), as bpftrace 0.17 has it: printed `[1,2,3,4]`,
//! indexed `$a[0]`, `sizeof` 4 or 16, and readable by `ntop`. The text is parsed at check time.

use codegen::asm::Reg;
use codegen::emit::{Buf, Emitter};
use codegen::registry::{EmitFunction, FnCall};
use bpf_ins::Instruction;
use lang::ast::ExprKind;
use lang::diag::Diagnostic;
use lang::registry::{Call, Checking, Function};
use lang::typed::{Render, TExpr, TExprKind, Ty};
use std::net::{Ipv4Addr, Ipv6Addr};

pub struct Pton;

/// The bytes of an address written as text, or None.
fn parse(text: &str) -> Option<Vec<u8>> {
    if let Ok(a) = text.parse::<Ipv4Addr>() {
        return Some(a.octets().to_vec());
    }
    text.parse::<Ipv6Addr>().ok().map(|a| a.octets().to_vec())
}

impl Function for Pton {
    fn name(&self) -> &'static str {
        "pton"
    }
    fn check(&self, cx: &mut dyn Checking, call: &Call) -> Option<TExpr> {
        cx.arity(call, 1..=1)?;
        let arg = &call.args[0];
        let ExprKind::Str(text) = &arg.kind else {
            cx.error(
                Diagnostic::new(arg.span, "pton() takes an address as a string literal", "not a string literal")
                    .with_help("write `pton(\"127.0.0.1\")` or `pton(\"::1\")`"),
            );
            return None;
        };
        let Some(bytes) = parse(text) else {
            cx.error(
                Diagnostic::new(arg.span, format!("`{text}` is not an IPv4 or IPv6 address"), "not an address")
                    .with_help("write `1.2.3.4` or `fe80::1`"),
            );
            return None;
        };
        let ty = Ty::Text(Render::Bytes(bytes.len() as u32));
        let text = TExpr { kind: TExprKind::StrConst(text.clone()), ty: Ty::Str(text.len() as u32 + 1), span: arg.span };
        Some(TExpr { kind: TExprKind::Call { func: "pton", map: None, args: vec![text] }, ty, span: call.span })
    }
}

impl EmitFunction for Pton {
    /// The address's bytes, then zeros to the end of `dst`.
    fn string(&self, e: &mut Emitter, call: &FnCall, dst: Buf) {
        let TExprKind::StrConst(text) = &call.args[0].kind else {
            return e.unsupported_string("pton() of a non-literal", dst);
        };
        let mut bytes = parse(text).unwrap_or_default();
        bytes.resize(dst.size as usize, 0);
        for (i, chunk) in bytes.chunks(4).enumerate() {
            let word = i32::from_le_bytes(chunk.try_into().unwrap_or([0; 4]));
            e.asm.insn(Instruction::store32(Reg::R10, (dst.off + 4 * i as i32) as i16, word));
        }
    }
}
