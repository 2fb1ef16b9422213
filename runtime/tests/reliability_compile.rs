//! Compile half of the property tests of `lang/tests/prop.rs`: every structurally valid program checks
//! and compiles to an ELF object (codegen never panics; when it refuses, the diagnostic names a line and
//! a column); every input the fuzzers crashed on (`fuzz/regressions/`) goes through the whole path.

use lang::provider::Tracefs;
use vt_testkit::prop_gen::*;
use proptest::prelude::*;

/// Parse, check and compile; the rendered diagnostics when a layer refuses.
fn compile(source: &str) -> Result<codegen::Object, String> {
    let render = |d: &[lang::Diagnostic]| lang::render(d, "p.vt", source);
    let script = lang::parse(source).map_err(|d| render(&d))?;
    let opts = lang::check::CheckOptions { params: params(), ..Default::default() };
    let program = library::check(&script, &mut Tracefs::new(TRACEFS), &opts).map_err(|d| render(&d))?;
    let object = library::compile(&program).map_err(|d| render(&[d]))?;
    if let Err(e) = codegen::elf::write(&object) {
        panic!("the ELF writer refused a compiled object: {e}");
    }
    let _ = object.listing();
    Ok(object)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn valid_programs_compile(source in valid_program()) {
        match compile(&source) {
            Ok(object) => prop_assert!(!object.programs.is_empty()),
            Err(rendered) => prop_assert!(false, "refused:\n{}\n{}", source, rendered),
        }
    }

    #[test]
    fn token_soup_never_panics_codegen(source in token_soup()) {
        if let Err(rendered) = compile(&source) {
            prop_assert!(has_line_col(&rendered, "p.vt"), "no position in:\n{}", rendered);
        }
    }
}

#[test]
fn fuzz_regressions_compile() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/regressions");
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let bytes = std::fs::read(entry.path()).unwrap();
        if let Err(rendered) = compile(&String::from_utf8_lossy(&bytes)) {
            assert!(has_line_col(&rendered, "p.vt"), "{}: no position in:\n{rendered}", entry.path().display());
        }
    }
}

/// The deepest nesting the parser accepts checks and compiles on a test thread's 2 MiB stack; deeper
/// nesting is refused with a position.
#[test]
fn deep_nesting_compiles_or_is_refused() {
    for n in [lang::parse::MAX_DEPTH / 2 - 2, lang::parse::MAX_DEPTH + 1, 5_000] {
        for (what, source) in deep_inputs(n) {
            if let Err(rendered) = compile(&source) {
                assert!(has_line_col(&rendered, "p.vt"), "{what} x{n}: {rendered}");
            }
        }
    }
}
