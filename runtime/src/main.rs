//! `vt`: the command line front end.

use clap::Parser;
use lang::provider::Tracefs;
use runtime::session::Session;
use runtime::signals::{self, Signals};
use std::os::fd::AsRawFd;
use std::process::ExitCode;

/// A declarative eBPF tracer with bpftrace's language: no LLVM, one static binary.
#[derive(Parser, Debug)]
#[command(name = "vt", version, about, after_help = "Examples:\n  vt -e 'tracepoint:syscalls:sys_enter_getppid { @c = count(); }'\n  vt scripts/vhost.vt\n  vt -d -e 'tracepoint:syscalls:sys_enter_read { @h = hist(args.count); }'")]
struct Cli {
    /// The program text, instead of a script file.
    #[arg(short = 'e', value_name = "PROGRAM")]
    program: Option<String>,

    /// Print each program's BPF listing and exit without loading anything (same as `--emit asm`).
    #[arg(short = 'd')]
    dump: bool,

    /// What to emit instead of running: `asm` prints the BPF listing.
    #[arg(long, value_name = "WHAT", value_parser = ["asm"])]
    emit: Option<String>,

    /// Read tracepoint formats from this directory (laid out like tracefs) instead of the kernel's.
    #[arg(long, value_name = "DIR")]
    tracefs: Option<std::path::PathBuf>,

    /// The script file (omit it with -e; then every positional argument is a parameter).
    #[arg(value_name = "FILE")]
    file: Option<std::path::PathBuf>,

    /// Positional parameters, `$1`, `$2`, ... in the script.
    #[arg(value_name = "ARGS", trailing_var_arg = true, allow_hyphen_values = true)]
    params: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("{}", msg.trim_end());
            }
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let mut params = cli.params.clone();
    let (name, source) = match (&cli.program, &cli.file) {
        (Some(p), file) => {
            // With -e, what clap took for a file is the first parameter.
            if let Some(f) = file {
                params.insert(0, f.display().to_string());
            }
            ("-e".to_string(), p.clone())
        }
        (None, Some(f)) => {
            let text = std::fs::read_to_string(f).map_err(|e| format!("vt: cannot read {}: {e}", f.display()))?;
            (f.display().to_string(), text)
        }
        (None, None) => return Err("vt: give a script FILE or -e 'PROGRAM' (see vt --help)".into()),
    };
    let script = lang::parse::parse(&source).map_err(|d| lang::diag::render(&d, &name, &source))?;
    let root = match &cli.tracefs {
        Some(dir) => dir.clone(),
        None => runtime::tracefs::locate().map_err(|e| format!("vt: {e}"))?,
    };
    let mut tracefs = Tracefs::new(root);
    let render = |d: Vec<lang::Diagnostic>| lang::diag::render(&d, &name, &source);
    let program = lang::check::check(&script, &mut tracefs, &params).map_err(render)?;
    let object = codegen::compile(&program).map_err(|d| render(vec![d]))?;
    if cli.dump || cli.emit.is_some() {
        print!("{}", object.listing());
        return Ok(());
    }
    trace(object)
}

/// Loads, attaches, waits for Ctrl-C, SIGTERM or `exit()`, then prints the maps.
fn trace(object: codegen::Object) -> Result<(), String> {
    // Block the signals before anything is attached: a Ctrl-C during attach ends the run cleanly.
    let signals = Signals::block().map_err(|e| format!("vt: cannot set up signal handling: {e}"))?;
    let mut session = Session::load(object).map_err(|e| format!("vt: {e}"))?;
    let n = session.probe_count();
    eprintln!("Attaching {n} probe{}...", if n == 1 { "" } else { "s" });
    session.attach().map_err(|e| format!("vt: {e}"))?;
    let out = &mut std::io::stdout();
    let fail = |e: runtime::session::Error| format!("vt: {e}");
    session.run_begin().map_err(fail)?;
    session.drain_events(out).map_err(fail)?;
    let fds = [signals.as_raw_fd(), session.events_fd()];
    while !session.exit_requested() {
        let ready = signals::wait(&fds).map_err(|e| format!("vt: {e}"))?;
        if ready[1] {
            session.drain_events(out).map_err(fail)?;
        }
        if ready[0] && signals.take() {
            break;
        }
    }
    session.detach();
    session.run_end().map_err(fail)?;
    session.drain_events(out).map_err(fail)?;
    let maps = session.dump().map_err(fail)?;
    print!("{}", runtime::format::exit_text(&maps));
    let lost = session.lost_events();
    if lost > 0 {
        eprintln!("Lost {lost} events");
    }
    Ok(())
}
