//! Property tests over the language layers (the fuzz targets in `fuzz/` explore the same path
//! with libFuzzer): random token soup never panics the parser or the checker, and their diagnostics
//! always render with a `NAME:LINE:COL:` position; structurally valid programs parse and check.
//! (`runtime/tests/reliability_compile.rs` compiles the same valid programs.) The checker needs the
//! registry, so these live beside it.

use lang::provider::Tracefs;
use vt_testkit::prop_gen::*;
use proptest::prelude::*;

fn check_text(source: &str) -> Result<lang::typed::Program, String> {
    let script = lang::parse(source).map_err(|d| lang::render(&d, "p.vt", source))?;
    let opts = lang::check::CheckOptions { params: params(), ..Default::default() };
    library::check(&script, &mut Tracefs::new(TRACEFS), &opts).map_err(|d| lang::render(&d, "p.vt", source))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn token_soup_never_panics(source in token_soup()) {
        if let Err(rendered) = check_text(&source) {
            prop_assert!(has_line_col(&rendered, "p.vt"), "no position in:\n{}", rendered);
        }
    }

    #[test]
    fn arbitrary_text_never_panics(source in "\\PC{0,200}") {
        if let Err(rendered) = check_text(&source) {
            prop_assert!(has_line_col(&rendered, "p.vt"), "no position in:\n{}", rendered);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn valid_programs_check(source in valid_program()) {
        if let Err(rendered) = check_text(&source) {
            prop_assert!(false, "rejected:\n{}\n{}", source, rendered);
        }
    }
}

/// Every input the fuzzers ever crashed on (`fuzz/regressions/`) parses and checks without a
/// panic; the compile half runs in `runtime/tests/reliability_compile.rs`.
#[test]
fn fuzz_regressions() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let bytes = std::fs::read(entry.path()).unwrap();
        let source = String::from_utf8_lossy(&bytes);
        if let Err(rendered) = check_text(&source) {
            assert!(has_line_col(&rendered, "p.vt"), "{}: no position in:\n{rendered}", entry.path().display());
        }
        n += 1;
    }
    eprintln!("{n} regression inputs");
}

/// Deeply nested input: refused with a position (or accepted) in well under a second, never a stack
/// overflow (the tests run on 2 MiB threads) nor time exponential in the depth (`@o[@o[@o[...`).
#[test]
fn deep_nesting_is_refused_quickly() {
    for n in [10, 100, 200, 5_000] {
        for (what, source) in deep_inputs(n) {
            let start = std::time::Instant::now();
            let result = check_text(&source);
            let took = start.elapsed();
            assert!(took.as_secs_f64() < 3.0, "{what} x{n}: {took:?}");
            match result {
                Err(rendered) => assert!(has_line_col(&rendered, "p.vt"), "{what} x{n}: {rendered}"),
                Ok(_) => assert!(n <= 100, "{what} x{n} was accepted"),
            }
        }
    }
}

/// The generators take the registry's names and find out what each needs from the checker: the
/// integer builtins and the one-value aggregations must be the ones the language has.
#[test]
fn generators_derive_their_names_from_the_registry() {
    for b in ["pid", "numaid", "elapsed", "cgroup"] {
        assert!(INT_BUILTINS.contains(&b), "{b} is an integer builtin: {:?}", *INT_BUILTINS);
    }
    for b in ["comm", "probe", "cpid"] {
        assert!(!INT_BUILTINS.contains(&b), "{b} is not usable as an integer here");
    }
    assert!(AGGREGATIONS.contains(&("count", false)) && AGGREGATIONS.contains(&("hist", true)));
    assert_eq!(*OTHER_AGGREGATIONS, vec!["lhist"]);
    assert!(FUNCTIONS.contains(&"bswap") && FUNCTIONS.contains(&"printf"));
}
