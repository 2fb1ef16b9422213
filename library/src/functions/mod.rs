//! Functions that yield a value: one file each.

pub mod bswap;
pub mod has_key;
pub mod reg;
pub mod str;

/// The registered entries: one line per file of this folder.
pub static LIST: &[&dyn FunctionEntry] = &[&str::Str, &has_key::HasKey, &bswap::Bswap, &reg::Reg];

use codegen::registry::EmitFunction;
use lang::registry::Function;

/// A function with both sides: the checker's and the emitter's.
pub trait FunctionEntry: Function + EmitFunction {}
impl<T: Function + EmitFunction> FunctionEntry for T {}
