//! Any text: the parser returns a script or diagnostics, never panics; diagnostics render with a
//! `NAME:LINE:COL:` position.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let source = String::from_utf8_lossy(data);
    match lang::parse(&source) {
        Ok(script) => {
            let _ = lang::print::sexpr(&script);
        }
        Err(diags) => {
            assert!(!diags.is_empty(), "a failed parse reports something");
            let text = lang::render(&diags, "f", &source);
            assert!(text.starts_with("f:"), "{text}");
        }
    }
});
