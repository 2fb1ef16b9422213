//! The registry as the emitter sees it: each builtin, function and aggregation entry of the `library`
//! crate emits its own instructions against the emitter core (`emit::Emitter`). The checker's side of
//! the same entries is `lang::registry`.

use crate::asm::Reg;
use crate::emit::{Buf, Emitter};
use lang::typed::{Agg, MapId, TExpr, Ty};

/// Finds the emitting side of an entry by the name the checker recorded.
pub trait Emitters: Sync {
    fn builtin(&self, name: &str) -> Option<&dyn EmitBuiltin>;
    fn function(&self, name: &str) -> Option<&dyn EmitFunction>;
    fn aggregation(&self, name: &str) -> Option<&dyn EmitAggregation>;
}

/// A builtin's value.
pub trait EmitBuiltin: Sync {
    /// An integer builtin: leaves its 64-bit value in `dst`.
    fn int(&self, e: &mut Emitter, dst: Reg) {
        e.unsupported("an integer", dst);
    }
    /// A string builtin: writes its NUL-padded bytes into the stack buffer `dst`.
    fn string(&self, e: &mut Emitter, dst: Buf) {
        e.unsupported_string("a string", dst);
    }
}

/// A checked call of a value function.
pub struct FnCall<'a> {
    /// The map taken first (`has_key(@m, k)`).
    pub map: Option<MapId>,
    pub args: &'a [TExpr],
    /// The call's result type.
    pub ty: &'a Ty,
}

/// A value function's result.
pub trait EmitFunction: Sync {
    /// An integer result in a fresh temporary register (the function takes it when it suits its
    /// register use).
    fn int(&self, e: &mut Emitter, call: &FnCall) -> Reg {
        let _ = call;
        let r = e.take();
        e.unsupported("an integer", r);
        r
    }
    /// A string result written into the stack buffer `dst`.
    fn string(&self, e: &mut Emitter, call: &FnCall, dst: Buf) {
        let _ = call;
        e.unsupported_string("a string", dst);
    }
}

/// An aggregation's layout and per-event update. Its map holds one value per key (per CPU); a
/// histogram's bucket index is part of the key.
pub trait EmitAggregation: Sync {
    /// Bytes of one per-CPU value.
    fn value_size(&self, agg: &Agg) -> u32;
    /// How many buckets a histogram has; None for the others.
    fn buckets(&self, agg: &Agg) -> Option<u32> {
        let _ = agg;
        None
    }
    /// Replaces the value in `v` (a `bits`-bit integer) by its bucket index. Only for histograms.
    fn bucket(&self, e: &mut Emitter, agg: &Agg, v: Reg, bits: u8) {
        let _ = (e, agg, v, bits);
    }
    /// Bytes of the value `delete(@)` of a keyless map zeroes: what bpftrace 0.17 keeps under the
    /// array's key 0 (all of it, unless the aggregation spreads over more keys there).
    fn deleted_bytes(&self, agg: &Agg) -> u32 {
        self.value_size(agg)
    }
    /// Updates the value at `base + off` with the value in `v` (None when the aggregation takes none).
    /// A histogram's `v` holds the value itself, not its bucket (in a scratch register: use it before
    /// any helper call).
    fn update(&self, e: &mut Emitter, agg: &Agg, base: Reg, off: i16, v: Option<Reg>);
}
