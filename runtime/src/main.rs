//! `vt`: the command line front end (see `runtime::cli`).

fn main() -> std::process::ExitCode {
    runtime::cli::main()
}
