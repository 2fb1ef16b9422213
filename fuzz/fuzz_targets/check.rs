//! Any text, checked against the saved tracepoint formats: a program or spanned diagnostics, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let _ = common::checked(data);
});
