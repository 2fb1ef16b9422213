//! `vt`: the command line front end.

use clap::Parser;
use lang::provider::Tracefs;
use runtime::session::{Event, Session};
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

    /// The script file.
    #[arg(value_name = "FILE", required_unless_present = "program")]
    file: Option<std::path::PathBuf>,
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
    let (name, source) = match (&cli.program, &cli.file) {
        (Some(p), _) => ("-e".to_string(), p.clone()),
        (None, Some(f)) => {
            let text = std::fs::read_to_string(f).map_err(|e| format!("vt: cannot read {}: {e}", f.display()))?;
            (f.display().to_string(), text)
        }
        (None, None) => unreachable!("clap requires one of them"),
    };
    let script = lang::parse::parse(&source).map_err(|d| lang::diag::render(&d, &name, &source))?;
    let root = match &cli.tracefs {
        Some(dir) => dir.clone(),
        None => runtime::tracefs::locate().map_err(|e| format!("vt: {e}"))?,
    };
    let mut tracefs = Tracefs::new(root);
    let program = lang::check::check(&script, &mut tracefs).map_err(|d| lang::diag::render(&d, &name, &source))?;
    let object = codegen::compile(&program);
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
    session.run_begin().map_err(|e| format!("vt: {e}"))?;
    let mut stop = session.drain_events().contains(&Event::Exit);
    let mut fds = vec![signals.as_raw_fd()];
    fds.extend(session.events_fd());
    while !stop {
        let ready = signals::wait(&fds).map_err(|e| format!("vt: {e}"))?;
        stop = ready[0] && signals.take();
        if ready.get(1) == Some(&true) {
            stop |= session.drain_events().contains(&Event::Exit);
        }
    }
    session.detach();
    session.run_end().map_err(|e| format!("vt: {e}"))?;
    let maps = session.dump().map_err(|e| format!("vt: {e}"))?;
    print!("{}", runtime::format::exit_text(&maps));
    Ok(())
}
