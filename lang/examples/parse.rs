//! `cargo run -p lang --example parse -- FILE` (or stdin): print the tree as S-expressions, or the errors.
use std::io::Read;

fn main() {
    let arg = std::env::args().nth(1);
    let (name, src) = match &arg {
        Some(f) => (f.clone(), std::fs::read_to_string(f).expect("read file")),
        None => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).expect("read stdin");
            ("stdin".to_string(), s)
        }
    };
    match lang::parse(&src) {
        Ok(script) => print!("{}", lang::print::sexpr(&script)),
        Err(diags) => {
            eprint!("{}", lang::render(&diags, &name, &src));
            std::process::exit(1);
        }
    }
}
