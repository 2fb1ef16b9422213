//! `vt`: the command line front end.

use clap::Parser;
use lang::provider::Tracefs;
use runtime::session::Session;
use runtime::signals::{self, Signals};
use std::os::fd::AsRawFd;
use std::process::ExitCode;

/// A declarative eBPF tracer with bpftrace's language: no LLVM, one static binary.
#[derive(Parser, Debug)]
#[command(name = "vt", version, about, args_conflicts_with_subcommands = true, after_help = "Examples:\n  vt -e 'tracepoint:syscalls:sys_enter_getppid { @c = count(); }'\n  vt scripts/vhost.vt\n  vt -d -e 'tracepoint:syscalls:sys_enter_read { @h = hist(args.count); }'")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// The program text, instead of a script file.
    #[arg(short = 'e', value_name = "PROGRAM")]
    program: Option<String>,

    /// Print each program's BPF listing and exit without loading anything (same as `--emit asm`).
    #[arg(short = 'd')]
    dump: bool,

    /// What to emit instead of running: `asm` prints the BPF listing.
    #[arg(long, value_name = "WHAT", value_parser = ["asm"])]
    emit: Option<String>,

    /// List the probes matching the glob given in place of FILE (all without one) and exit; with -v,
    /// each tracepoint's arguments.
    #[arg(short = 'l')]
    list: bool,

    /// Verbose: with -l, show tracepoint arguments; on a verifier error, the verifier's whole log.
    #[arg(short = 'v')]
    verbose: bool,

    /// How histograms print: bpftrace's `@` bars or BCC's `print_log2_hist` table.
    #[arg(long, value_name = "STYLE", value_enum, default_value_t = Style::Bpftrace)]
    hist_style: Style,

    /// Read tracepoint formats from this directory (laid out like tracefs) instead of the kernel's.
    #[arg(long, value_name = "DIR")]
    tracefs: Option<std::path::PathBuf>,

    /// The script file (omit it with -e; then every positional argument is a parameter).
    #[arg(value_name = "FILE", required_unless_present_any = ["program", "list"])]
    file: Option<std::path::PathBuf>,

    /// Positional parameters, `$1`, `$2`, ... in the script.
    #[arg(value_name = "ARGS", trailing_var_arg = true, allow_hyphen_values = true)]
    params: Vec<String>,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// An interactive session: probes typed at the prompt attach at once and keep running.
    Repl,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Style {
    Bpftrace,
    Bcc,
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

fn tracefs_root(cli: &Cli) -> Result<std::path::PathBuf, String> {
    match &cli.tracefs {
        Some(dir) => Ok(dir.clone()),
        None => runtime::tracefs::locate().map_err(|e| format!("vt: {e}")),
    }
}

/// `vt -l [GLOB]` (and `-lv`).
fn list(cli: &Cli, pattern: &str) -> Result<(), String> {
    let mut tracefs = Tracefs::new(tracefs_root(cli)?);
    let pattern = match pattern.split_once(':') {
        Some(("t", rest)) => format!("tracepoint:{rest}"),
        _ if !pattern.contains(':') && !pattern.contains('*') => format!("*{pattern}*"),
        _ => pattern.to_string(),
    };
    let mut out = String::new();
    for name in lang::provider::list(&tracefs, &pattern) {
        out += &name;
        out.push('\n');
        if let (true, Some(tp)) = (cli.verbose, name.strip_prefix("tracepoint:")) {
            let (category, event) = tp.split_once(':').unwrap();
            if let Ok(format) = tracefs.format(category, event) {
                for f in &format.fields {
                    out += &format!("    {}\n", f.declaration());
                }
            }
        }
    }
    print!("{out}");
    Ok(())
}

fn run(cli: Cli) -> Result<(), String> {
    if let Some(Command::Repl) = cli.command {
        return runtime::repl::run(tracefs_root(&cli)?);
    }
    if cli.list {
        let pattern = cli.file.as_ref().map_or("*".to_string(), |p| p.display().to_string());
        return list(&cli, &pattern);
    }
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
    let mut tracefs = Tracefs::new(tracefs_root(&cli)?);
    let render = |d: Vec<lang::Diagnostic>| lang::diag::render(&d, &name, &source);
    let program = lang::check::check(&script, &mut tracefs, &params).map_err(render)?;
    let object = codegen::compile(&program).map_err(|d| render(vec![d]))?;
    if cli.dump || cli.emit.is_some() {
        print!("{}", object.listing());
        return Ok(());
    }
    let style = match cli.hist_style {
        Style::Bpftrace => runtime::format::HistStyle::Bpftrace,
        Style::Bcc => runtime::format::HistStyle::Bcc,
    };
    trace(object, style, cli.verbose)
}

/// Loads, attaches, waits for Ctrl-C, SIGTERM or `exit()`, then prints the maps.
fn trace(object: codegen::Object, style: runtime::format::HistStyle, verbose: bool) -> Result<(), String> {
    // Block the signals before anything is attached: a Ctrl-C during attach ends the run cleanly.
    let signals = Signals::block().map_err(|e| format!("vt: cannot set up signal handling: {e}"))?;
    let mut session = Session::load(object).map_err(|e| match e {
        runtime::session::Error::Verify { ref log, .. } if verbose => format!("vt: {e}\n{log}"),
        e => format!("vt: {e}"),
    })?;
    session.hist_style = style;
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
    print!("{}", session.exit_text().map_err(fail)?);
    let lost = session.lost_events();
    if lost > 0 {
        eprintln!("Lost {lost} events");
    }
    Ok(())
}
