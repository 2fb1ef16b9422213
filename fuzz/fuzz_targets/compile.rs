//! Any text: the whole path vt takes with a script, through the ELF writer and aya's reading of the
//! ELF (`common::whole_path`); a layer refuses it with a positioned diagnostic or it loads as compiled.
#![no_main]
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let _ = common::whole_path(data);
});
