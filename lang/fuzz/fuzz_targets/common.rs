//! What the check and compile targets share: parse, check against the saved formats in `../tracefs`,
//! and render every diagnostic (which must name a line and a column).

use lang::provider::Tracefs;

pub const TRACEFS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tracefs");
pub const PARAMS: &[&str] = &["7", "str"];

fn rendered(diags: &[lang::Diagnostic], source: &str) {
    assert!(!diags.is_empty(), "a failure reports something");
    let text = lang::render(diags, "f", source);
    for line in text.lines().filter(|l| l.starts_with("f:")) {
        let mut parts = line.splitn(4, ':');
        parts.next();
        let (l, c) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        assert!(l.parse::<usize>().is_ok() && c.parse::<usize>().is_ok(), "no LINE:COL in {line:?}");
    }
}

/// The checked program, or None when the text has errors (rendered and checked).
pub fn checked(data: &[u8]) -> Option<(lang::typed::Program, String)> {
    let source = String::from_utf8_lossy(data).into_owned();
    let script = match lang::parse(&source) {
        Ok(s) => s,
        Err(d) => {
            rendered(&d, &source);
            return None;
        }
    };
    let mut tracefs = Tracefs::new(TRACEFS);
    let params: Vec<String> = PARAMS.iter().map(|s| s.to_string()).collect();
    match lang::check::check(&script, &mut tracefs, &params) {
        Ok(p) => Some((p, source)),
        Err(d) => {
            rendered(&d, &source);
            None
        }
    }
}

#[allow(dead_code)]
pub fn compiled(data: &[u8]) {
    let Some((program, source)) = checked(data) else { return };
    match codegen::compile(&program) {
        Ok(object) => {
            let _ = codegen::elf::write(&object);
            let _ = object.listing();
        }
        Err(d) => rendered(&[d], &source),
    }
}
