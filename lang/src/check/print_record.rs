//! `print(s)` of a whole struct or union, as bpftrace prints it: `{ .a = 1, .name = bash, .arr = [1,2],
//! .inner = { .x = 0 } }`, members of anonymous structs and unions inline, pointers as signed
//! integers. The checker turns it into one printf whose arguments are the members' reads.

use super::kernel::CVal;
use super::{Checker, Ctx};
use crate::ast::{Expr, Span};
use crate::ctype::CType;
use crate::diag::Diagnostic;
use crate::typed::{EventStmt, TExpr};

/// More values than this would not fit one event on the BPF stack.
const MAX_VALUES: usize = 24;

impl Checker<'_> {
    /// `print(e)` where `e` has a C type: a whole record becomes a printf, anything else its value.
    pub(super) fn print_c(&mut self, e: &Expr, cx: &mut Ctx) -> Option<EventStmt> {
        let v = self.c_expr(e, cx)?;
        if !v.is_record_in_memory() {
            let value = self.load_c(v, e.span)?;
            let format = self.add_format(String::new(), vec![value.ty.clone()]);
            return Some(EventStmt::PrintValue { format, value });
        }
        let (mut text, mut args) = (String::new(), Vec::new());
        self.record_text(v, e.span, &mut text, &mut args)?;
        if args.len() > MAX_VALUES {
            let msg = format!("printing this struct takes {} values; vt prints at most {MAX_VALUES}", args.len());
            return self.fail(Diagnostic::new(e.span, msg, "too large to print").with_help("print the members you need"));
        }
        text.push('\n');
        let format = self.add_format(text, args.iter().map(|a: &TExpr| a.ty.clone()).collect());
        Some(EventStmt::Printf { format, args })
    }

    fn record_text(&mut self, v: CVal, span: Span, text: &mut String, args: &mut Vec<TExpr>) -> Option<()> {
        match v.ty().clone() {
            CType::Record { .. } => {
                let names = v.ty().member_names();
                text.push_str("{ ");
                for (i, name) in names.iter().enumerate() {
                    if i > 0 {
                        text.push_str(", ");
                    }
                    text.push_str(&format!(".{name} = "));
                    let m = self.member(&v, name, span)?;
                    self.record_text(m, span, text, args)?;
                    if args.len() > MAX_VALUES {
                        return Some(());
                    }
                }
                text.push_str(" }");
            }
            // A `char` array is a string; others (`unsigned char`, `u8`) are arrays, as bpftrace prints them.
            CType::Array { elem, len } if !matches!(*elem, CType::Int { size: 1, signed: true }) => {
                text.push('[');
                for i in 0..len {
                    if i > 0 {
                        text.push(',');
                    }
                    let e = v.element(i, &elem);
                    self.record_text(e, span, text, args)?;
                    if args.len() > MAX_VALUES {
                        return Some(());
                    }
                }
                text.push(']');
            }
            ty => {
                let value = self.load_c(v, span)?;
                let conv = match (&ty, value.ty.int()) {
                    (CType::Array { .. }, _) => "%s",
                    // bpftrace prints a pointer member as a signed 64-bit integer.
                    (CType::Ptr(_), _) => "%lld",
                    (_, Some(t)) if t.signed => "%lld",
                    _ => "%llu",
                };
                text.push_str(conv);
                args.push(value);
            }
        }
        Some(())
    }
}
