//! `vt`: the command line front end.

use clap::{CommandFactory, Parser};
use lang::provider::Tracefs;
use runtime::child::{Child, PidFd};
use runtime::session::{Output, Session};
use runtime::signals::{self, Signals};
use runtime::output::{json, text, Format, HistStyle};
use runtime::vto;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// A declarative eBPF tracer with bpftrace's language: no LLVM, one static binary.
#[derive(Parser, Debug)]
#[command(
    name = "vt",
    version,
    about,
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  vt -e 'tracepoint:syscalls:sys_enter_getppid { @c = count(); }'\n  vt scripts/vhost.vt\n  vt -d -e 'tracepoint:syscalls:sys_enter_read { @h = hist(args.count); }'\n  vt -c 'sleep 1' -e 'tracepoint:syscalls:sys_enter_nanosleep /pid == cpid/ { @n = count(); }'\n  vt -f json -e 'interval:s:1 { @x = count(); print(@x); clear(@x); }'\n  vt build script.vt -o script.vto && vt script.vto"
)]
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

    /// Trace only this process (tracepoint probes get an implicit `pid == PID` filter) and exit when it
    /// exits.
    #[arg(short = 'p', value_name = "PID", conflicts_with = "child")]
    pid: Option<u32>,

    /// Run CMD (held until the probes are attached; `cpid` is its pid) and exit when it exits. As in
    /// bpftrace, probes are not filtered to it: write `/pid == cpid/` for that.
    #[arg(short = 'c', value_name = "CMD", id = "child")]
    child: Option<String>,

    /// Write the output (printf, print, the maps at exit) to FILE instead of stdout.
    #[arg(short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,

    /// Quiet: no `Attaching N probes...`.
    #[arg(short = 'q')]
    quiet: bool,

    /// Output format: bpftrace's text, or newline-delimited JSON as bpftrace's `-f json` writes it.
    #[arg(short = 'f', value_name = "FORMAT", value_enum, default_value_t = OutputFormat::Text)]
    format: OutputFormat,

    /// How histograms print: bpftrace's `@` bars or BCC's `print_log2_hist` table.
    #[arg(long, value_name = "STYLE", value_enum, default_value_t = Style::Bpftrace)]
    hist_style: Style,

    /// Read tracepoint formats from this directory (laid out like tracefs) instead of the kernel's.
    #[arg(long, value_name = "DIR")]
    tracefs: Option<PathBuf>,

    /// The script file, or a `.vto` built by `vt build` (omit it with -e; then every positional
    /// argument is a parameter).
    #[arg(value_name = "FILE", required_unless_present_any = ["program", "list"])]
    file: Option<PathBuf>,

    /// Positional parameters, `$1`, `$2`, ... in the script.
    #[arg(value_name = "ARGS", trailing_var_arg = true, allow_hyphen_values = true)]
    params: Vec<String>,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// An interactive session: probes typed at the prompt attach at once and keep running.
    Repl,
    /// Compile a script once into a `.vto` that `vt FILE.vto` runs without compiling, on any host whose
    /// tracepoints have the same layouts.
    Build {
        /// The program text, instead of a script file.
        #[arg(short = 'e', value_name = "PROGRAM")]
        program: Option<String>,
        /// Where to write the compiled object.
        #[arg(short = 'o', value_name = "OUT", required = true)]
        output: PathBuf,
        /// Compile in the `-p PID` filter.
        #[arg(short = 'p', value_name = "PID")]
        pid: Option<u32>,
        /// Read tracepoint formats from this directory (laid out like tracefs) instead of the kernel's.
        #[arg(long, value_name = "DIR")]
        tracefs: Option<PathBuf>,
        /// The script file (omit it with -e).
        #[arg(value_name = "FILE", required_unless_present = "program")]
        file: Option<PathBuf>,
        /// Positional parameters, fixed at build time.
        #[arg(value_name = "ARGS", trailing_var_arg = true, allow_hyphen_values = true)]
        params: Vec<String>,
    },
    /// Print a shell completion script for SHELL.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print vt's man page (roff).
    Man,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Style {
    Bpftrace,
    Bcc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum OutputFormat {
    Text,
    Json,
}

/// Why vt stopped early, with the exit status that tells the kinds apart.
struct Failure {
    code: u8,
    message: String,
}

/// Exit statuses. Usage errors exit 1, as script errors (and as in bpftrace).
mod status {
    /// The script is wrong: syntax, types, unknown probes or fields (a spanned message).
    pub const SCRIPT: u8 = 1;
    /// The script file cannot be read.
    pub const UNREADABLE: u8 = 2;
    /// This user may not trace: not root (tracefs unreadable, BPF not permitted).
    pub const PERMISSION: u8 = 3;
    /// The kernel's verifier refused a program.
    pub const REFUSED: u8 = 4;
    /// The machine cannot run it: no tracefs, a tracepoint that vanished, a failed load or attach.
    pub const ENVIRONMENT: u8 = 5;
}

impl Failure {
    fn new(code: u8, message: impl Into<String>) -> Self {
        Failure { code, message: message.into() }
    }
}

/// Plain messages are script (or usage) errors.
impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure::new(status::SCRIPT, message)
    }
}

/// A session error as a failure: its message and the status its kind calls for.
fn session_failure(e: runtime::session::Error, verbose: bool, at: &str) -> Failure {
    use runtime::session::Error;
    match e {
        Error::Verify { ref log, .. } => {
            let log = if verbose { format!("\n{log}") } else { String::new() };
            Failure::new(status::REFUSED, format!("vt: {at}{e}{log}"))
        }
        Error::Permission(_) => Failure::new(status::PERMISSION, format!("vt: {e}")),
        e => Failure::new(status::ENVIRONMENT, format!("vt: {e}")),
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version print to stdout and succeed; usage errors go to stderr with exit status
        // 1, as every other error (and as bpftrace's).
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::FAILURE } else { ExitCode::SUCCESS };
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if !f.message.is_empty() {
                eprintln!("{}", f.message.trim_end());
            }
            ExitCode::from(f.code)
        }
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn tracefs_at(dir: &Option<PathBuf>) -> Result<PathBuf, Failure> {
    match dir {
        Some(dir) => Ok(dir.clone()),
        None => runtime::tracefs::locate().map_err(|e| {
            let code = if is_root() { status::ENVIRONMENT } else { status::PERMISSION };
            Failure::new(code, format!("vt: {e}"))
        }),
    }
}

/// `vt -l [GLOB]` (and `-lv`).
fn list(cli: &Cli, pattern: &str) -> Result<(), Failure> {
    let mut tracefs = Tracefs::new(tracefs_at(&cli.tracefs)?);
    let pattern = match pattern.split_once(':') {
        Some(("t", rest)) => format!("tracepoint:{rest}"),
        _ if !pattern.contains(':') && !pattern.contains('*') => format!("*{pattern}*"),
        _ => pattern.to_string(),
    };
    // Where the kernel says which events exist, list only those (as bpftrace does): the `ftrace`
    // category's directories, for one, are not tracepoints a program can attach to.
    let available: Option<std::collections::HashSet<String>> = std::fs::read_to_string(tracefs.root().join("available_events"))
        .ok()
        .map(|text| text.lines().map(|l| format!("tracepoint:{}", l.trim())).collect());
    let mut out = String::new();
    for name in lang::provider::list(&tracefs, &pattern) {
        if let (Some(events), true) = (&available, name.starts_with("tracepoint:")) {
            if !events.contains(&name) {
                continue;
            }
        }
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

/// A script's name (for messages) and text, from `-e` or a file; with -e, what clap took for a file is
/// the first parameter.
fn source(program: &Option<String>, file: &Option<PathBuf>, params: &mut Vec<String>) -> Result<(String, String), Failure> {
    match (program, file) {
        (Some(p), file) => {
            if let Some(f) = file {
                params.insert(0, f.display().to_string());
            }
            Ok(("-e".to_string(), p.clone()))
        }
        (None, Some(f)) => {
            let text = std::fs::read_to_string(f)
                .map_err(|e| Failure::new(status::UNREADABLE, format!("vt: cannot read {}: {e}", f.display())))?;
            Ok((f.display().to_string(), text))
        }
        (None, None) => Err(Failure::from("vt: give a script FILE or -e 'PROGRAM' (see vt --help)".to_string())),
    }
}

/// Parses, checks and compiles a script.
fn compile(name: &str, source: &str, tracefs: &mut Tracefs, opts: &lang::check::CheckOptions) -> Result<codegen::Object, Failure> {
    let render = |d: Vec<lang::Diagnostic>| lang::diag::render(&d, name, source);
    let script = lang::parse::parse(source).map_err(render)?;
    let traces = script.probes.iter().flat_map(|p| &p.specs).any(|s| matches!(s.provider.name.as_str(), "tracepoint" | "t"));
    let events = tracefs.root().join("events");
    if traces && !events.is_dir() {
        return Err(Failure::new(
            status::ENVIRONMENT,
            format!(
                "vt: no tracepoints: {} does not exist (mount tracefs: `mount -t tracefs nodev /sys/kernel/tracing`)",
                events.display()
            ),
        ));
    }
    let program = lang::check::check_with(&script, tracefs, opts).map_err(render)?;
    Ok(codegen::compile(&program).map_err(|d| render(vec![d]))?)
}

fn is_vto_file(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic)).is_ok() && vto::is_vto(&magic)
}

fn run(cli: Cli) -> Result<(), Failure> {
    match &cli.command {
        Some(Command::Repl) => return Ok(runtime::repl::run(tracefs_at(&cli.tracefs)?)?),
        Some(Command::Build { program, output, pid, tracefs, file, params }) => {
            let mut params = params.clone();
            let (name, text) = source(program, file, &mut params)?;
            let mut tracefs = Tracefs::new(tracefs_at(tracefs)?);
            let opts = lang::check::CheckOptions { params, pid: *pid, cpid: None };
            let object = compile(&name, &text, &mut tracefs, &opts)?;
            let bytes = vto::write(&object, &name);
            return Ok(std::fs::write(output, bytes).map_err(|e| format!("vt: cannot write {}: {e}", output.display()))?);
        }
        Some(Command::Completions { shell }) => {
            clap_complete::generate(*shell, &mut Cli::command(), "vt", &mut std::io::stdout());
            return Ok(());
        }
        Some(Command::Man) => {
            return Ok(clap_mangen::Man::new(Cli::command())
                .render(&mut std::io::stdout())
                .map_err(|e| format!("vt: cannot write the man page: {e}"))?);
        }
        None => {}
    }
    if cli.list {
        let pattern = cli.file.as_ref().map_or("*".to_string(), |p| p.display().to_string());
        return list(&cli, &pattern);
    }
    let precompiled = cli.program.is_none() && cli.file.as_deref().is_some_and(is_vto_file);
    // The script's name and text, to place a verifier refusal in it (a .vto has none).
    let mut script: Option<(String, String)> = None;
    // The child is forked (and held) first: its pid is `cpid`, a constant in the compiled code.
    let mut child = match &cli.child {
        Some(cmd) => Some(Child::spawn(cmd).map_err(|e| format!("vt: cannot run the -c command: {e}"))?),
        None => None,
    };
    let object = if precompiled {
        let path = cli.file.as_ref().unwrap();
        let shown = path.display().to_string();
        if !cli.params.is_empty() {
            return Err(format!("vt: {shown} was compiled with its parameters; give them to `vt build`").into());
        }
        if cli.pid.is_some() {
            return Err(format!("vt: -p filters the probes as they are compiled; give it to `vt build` for {shown}").into());
        }
        let bytes = std::fs::read(path).map_err(|e| Failure::new(status::UNREADABLE, format!("vt: cannot read {shown}: {e}")))?;
        let header = vto::read(&bytes).map_err(|e| format!("vt: cannot run {shown}: {e}"))?;
        let mut tracefs = Tracefs::new(tracefs_at(&cli.tracefs)?);
        vto::check_layouts(&header.object, &mut tracefs, &shown)?;
        header.object
    } else {
        let mut params = cli.params.clone();
        let (name, text) = source(&cli.program, &cli.file, &mut params)?;
        let mut tracefs = Tracefs::new(tracefs_at(&cli.tracefs)?);
        let opts = lang::check::CheckOptions { params, pid: cli.pid, cpid: child.as_ref().map(Child::pid) };
        let object = compile(&name, &text, &mut tracefs, &opts)?;
        script = Some((name, text));
        object
    };
    if cli.dump || cli.emit.is_some() {
        print!("{}", object.listing());
        return Ok(());
    }
    let watched = match cli.pid {
        Some(pid) => Some(PidFd::open(pid).map_err(|e| format!("vt: cannot trace process {pid}: {e}"))?),
        None => None,
    };
    let out: Box<dyn Write> = match &cli.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).map_err(|e| format!("vt: cannot write {}: {e}", path.display()))?,
        )),
        None => Box::new(std::io::stdout()),
    };
    let style = match cli.hist_style {
        Style::Bpftrace => HistStyle::Bpftrace,
        Style::Bcc => HistStyle::Bcc,
    };
    let format = if cli.format == OutputFormat::Json { Format::Json } else { Format::Text(style) };
    let mut sink = Sink { out, format, to_file: cli.output.is_some() };
    let opts = TraceOptions { verbose: cli.verbose, quiet: cli.quiet, script };
    let result = trace(object, &opts, &mut sink, child.as_mut(), watched.as_ref());
    let _ = sink.out.flush();
    result
}

/// Where the output goes, and as what.
struct Sink {
    out: Box<dyn Write>,
    format: Format,
    /// With -o, bpftrace still writes its exit preamble to stdout.
    to_file: bool,
}

impl Sink {
    fn write(&mut self, bytes: &[u8]) {
        let _ = self.out.write_all(bytes);
    }

    fn outputs(&mut self, outputs: Vec<Output>) {
        for o in outputs {
            let bytes = self.format.output(&o);
            self.write(&bytes);
        }
        let _ = self.out.flush();
    }

    /// What bpftrace prints at exit: two newlines, then the maps.
    fn exit(&mut self, session: &Session) -> Result<(), Failure> {
        let maps = session.dump().map_err(|e| format!("vt: {e}"))?;
        if self.to_file {
            print!("{}", text::EXIT_PREAMBLE);
        } else {
            self.write(text::EXIT_PREAMBLE.as_bytes());
        }
        let text = self.format.maps(&maps);
        self.write(text.as_bytes());
        Ok(())
    }
}

struct TraceOptions {
    verbose: bool,
    quiet: bool,
    script: Option<(String, String)>,
}

impl TraceOptions {
    /// `FILE:LINE:COL: ` of a place in the script, when there is a script.
    fn place(&self, span: lang::ast::Span) -> String {
        match &self.script {
            Some((name, text)) => {
                let (line, col) = lang::line_col(text, span.start);
                format!("{name}:{line}:{col}: ")
            }
            None => String::new(),
        }
    }
}

/// Loads, attaches, releases the -c child, waits for Ctrl-C, SIGTERM, `exit()` or the end of the
/// followed process, then prints the maps.
fn trace(object: codegen::Object, opts: &TraceOptions, sink: &mut Sink, mut child: Option<&mut Child>, watched: Option<&PidFd>) -> Result<(), Failure> {
    // Block the signals before anything is attached: a Ctrl-C during attach ends the run cleanly.
    let signals = Signals::block().map_err(|e| format!("vt: cannot set up signal handling: {e}"))?;
    let mut session = Session::load(object).map_err(|e| {
        let at = match &e {
            runtime::session::Error::Verify { span, .. } => opts.place(*span),
            _ => String::new(),
        };
        session_failure(e, opts.verbose, &at)
    })?;
    let n = session.probe_count();
    if !opts.quiet {
        if sink.format == Format::Json {
            sink.write(json::attached(n).as_bytes());
        } else {
            // On stderr, so that stdout holds only what the script prints (bpftrace puts it on stdout).
            eprintln!("Attaching {n} probe{}...", if n == 1 { "" } else { "s" });
        }
    }
    let fail = |e: runtime::session::Error| session_failure(e, opts.verbose, "");
    // BEGIN runs before the other probes are attached, as in bpftrace: no event sees the maps as they
    // were before it, and after a BEGIN that calls exit() nothing else fires at all. What it prints
    // shows once they are attached (so a BEGIN printf tells a watcher the probes are live).
    session.run_begin().map_err(fail)?;
    let outputs = session.drain_outputs().map_err(fail)?;
    if !session.exit_requested() {
        session.attach().map_err(fail)?;
    }
    sink.outputs(outputs);
    if let Some(c) = child.as_deref_mut() {
        c.release();
    }
    let mut fds = vec![signals.as_raw_fd(), session.events_fd()];
    fds.extend(child.as_deref().map(|c| c.pidfd().as_raw_fd()));
    fds.extend(watched.map(|w| w.as_raw_fd()));
    while !session.exit_requested() {
        let ready = signals::wait(&fds).map_err(|e| format!("vt: {e}"))?;
        if ready[1] {
            let outputs = session.drain_outputs().map_err(fail)?;
            sink.outputs(outputs);
        }
        if ready[0] && signals.take() {
            break;
        }
        if ready.len() > 2 && ready[2] {
            // The followed process exited.
            if let Some(c) = child.as_deref_mut() {
                c.try_wait();
            }
            break;
        }
    }
    // One write stops every program; the detaching, for which the kernel makes close(2) wait, is left
    // to a child process that outlives vt (see `closer`).
    session.stop().map_err(fail)?;
    session.run_end().map_err(fail)?;
    let outputs = session.drain_outputs().map_err(fail)?;
    sink.outputs(outputs);
    sink.exit(&session)?;
    let lost = session.lost_events();
    if lost > 0 {
        if sink.format == Format::Json {
            sink.write(json::lost_events(lost).as_bytes());
        } else {
            eprintln!("Lost {lost} events");
        }
    }
    for (name, n, max) in session.dropped_updates() {
        eprintln!("{}", text::dropped_warning(&name, n, max));
    }
    let _ = sink.out.flush();
    runtime::closer::outlive(session);
    Ok(())
}
