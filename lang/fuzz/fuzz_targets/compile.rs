//! Any text that checks compiles to an ELF object, or codegen refuses it with a spanned diagnostic.
#![no_main]
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::compiled(data);
});
