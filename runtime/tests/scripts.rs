//! Every shipped script in scripts/ parses, checks against saved tracepoint formats (testkit/fixtures) and
//! compiles; its BPF listing is compared with a golden file (`VT_BLESS=1 cargo test` rewrites them).

use lang::provider::Tracefs;
use std::path::Path;

fn compile_listing(path: &Path) -> String {
    let src = std::fs::read_to_string(path).unwrap();
    let name = path.display().to_string();
    let script = lang::parse(&src).unwrap_or_else(|d| panic!("{}", lang::render(&d, &name, &src)));
    let mut tracefs = Tracefs::new(vt_testkit::fixtures::TRACEFS);
    let program = library::check(&script, &mut tracefs, &Default::default()).unwrap_or_else(|d| panic!("{}", lang::render(&d, &name, &src)));
    library::compile(&program).unwrap_or_else(|d| panic!("{}", lang::render(&[d], &name, &src))).listing()
}

#[test]
fn shipped_scripts_compile_to_their_golden_listings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut scripts: Vec<_> = std::fs::read_dir(root.join("scripts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "vt"))
        .collect();
    scripts.sort();
    assert!(!scripts.is_empty());
    for script in scripts {
        let listing = compile_listing(&script);
        let file = script.file_name().unwrap().to_string_lossy().to_string();
        let golden = vt_testkit::kit_dir().join("golden").join(format!("{file}.asm"));
        vt_testkit::golden::check(&golden, &listing);
    }
}
