//! `vt`: the command line front end. `args` is what clap reads, `trace` runs a compiled script; here
//! is what each command does and the exit status of each kind of failure.

mod args;
mod trace;

use crate::child::{Child, PidFd};
use crate::compile;
use crate::output::{Format, HistStyle};
use crate::vto;
use args::{Cli, Command, OutputFormat, Style};
use clap::{CommandFactory, Parser};
use lang::provider::Tracefs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use trace::{Sink, TraceOptions};

/// Why vt stopped early, with the exit status that tells the kinds apart.
pub struct Failure {
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

    /// A session error: its message and the status its kind calls for; `at` places a verifier refusal
    /// in the script.
    fn session(e: crate::session::Error, verbose: bool, at: &str) -> Failure {
        use crate::session::Error;
        match e {
            Error::Verify { ref log, .. } => {
                let log = if verbose { format!("\n{log}") } else { String::new() };
                Failure::new(status::REFUSED, format!("vt: {at}{e}{log}"))
            }
            Error::Permission(_) => Failure::new(status::PERMISSION, format!("vt: {e}")),
            e => Failure::new(status::ENVIRONMENT, format!("vt: {e}")),
        }
    }

    /// A script that did not compile.
    fn compile(e: compile::Error, name: &str, source: &str) -> Failure {
        let code = match e {
            compile::Error::Script(_) => status::SCRIPT,
            compile::Error::NoTracepoints(_) => status::ENVIRONMENT,
        };
        Failure::new(code, e.render(name, source))
    }
}

/// Plain messages are script (or usage) errors.
impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure::new(status::SCRIPT, message)
    }
}

/// Runs the command line; the exit status tells how it went.
pub fn main() -> ExitCode {
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
        None => crate::tracefs::locate().map_err(|e| {
            let code = if is_root() { status::ENVIRONMENT } else { status::PERMISSION };
            Failure::new(code, format!("vt: {e}"))
        }),
    }
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
    compile::compile(source, tracefs, opts).map_err(|e| Failure::compile(e, name, source))
}

fn is_vto_file(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic)).is_ok() && vto::is_vto(&magic)
}

/// Binds the `--metrics` address (before anything loads, so that a taken port fails early) and
/// describes the maps as metric families.
fn metrics_listener(
    addr: &str,
    object: &codegen::Object,
    script: Option<&(String, String)>,
) -> Result<trace::Metrics, Failure> {
    let at = crate::metrics::parse_addr(addr)?;
    let tree = script.and_then(|(_, text)| lang::parse(text).ok().map(|t| (text.as_str(), t)));
    let families = crate::metrics::describe::families(&object.user_maps, tree.as_ref().map(|(text, t)| (*text, t)));
    crate::metrics::check_names(&families)?;
    let listener = std::net::TcpListener::bind(at)
        .map_err(|e| Failure::new(status::ENVIRONMENT, format!("vt: --metrics: cannot listen on {at}: {e}")))?;
    Ok((listener, families))
}

fn run(cli: Cli) -> Result<(), Failure> {
    match &cli.command {
        Some(Command::Repl) => return Ok(crate::repl::run(tracefs_at(&cli.tracefs)?)?),
        Some(Command::Build { program, output, pid, tracefs, file, params }) => {
            let mut params = params.clone();
            let (name, text) = source(program, file, &mut params)?;
            let mut tracefs = Tracefs::new(tracefs_at(tracefs)?);
            // The object is the script's program as a plain run compiles it: its histograms keep no
            // sums, so served with `--metrics` they have no `_sum`.
            let (params, named) = lang::check::split_params(params);
            let opts = lang::check::CheckOptions { params, named, pid: *pid, ..Default::default() };
            let object = compile(&name, &text, &mut tracefs, &opts)?;
            // The .vto format has no place for callbacks (the bodies of `for` over a map) yet.
            if let Some(p) = object.programs.iter().find(|p| !p.code.callbacks.is_empty()) {
                let what = p.attach.probe_name();
                return Err(format!("vt: {name}: `vt build` cannot save {what}: its `for` over a map is not in the .vto format yet; run the script itself").into());
            }
            let bytes = vto::write(&object, &name).map_err(|e| format!("vt: {e}"))?;
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
        // `vt -l [GLOB]` (and `-lv`).
        let pattern = cli.file.as_ref().map_or("*".to_string(), |p| p.display().to_string());
        let mut tracefs = Tracefs::new(tracefs_at(&cli.tracefs)?);
        print!("{}", crate::list::probes(&mut tracefs, &pattern, cli.verbose));
        return Ok(());
    }
    let precompiled = cli.program.is_none() && cli.file.as_deref().is_some_and(is_vto_file);
    // The script's name and text, to place a verifier refusal in it (a .vto has none).
    let mut script: Option<(String, String)> = None;
    // The child is forked (and held) first: its pid is `cpid`, a constant in the compiled code.
    let mut child = match &cli.child {
        Some(cmd) => Some(Child::spawn(cmd).map_err(|e| format!("vt: cannot run the -c command: {e}"))?),
        None => None,
    };
    let mut object = if let (true, Some(path)) = (precompiled, cli.file.as_ref()) {
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
        let (params, named) = lang::check::split_params(params);
        let opts = lang::check::CheckOptions {
            params,
            named,
            pid: cli.pid,
            cpid: child.as_ref().map(Child::pid),
            bucket_sums: cli.metrics.is_some(),
            unsafe_allowed: cli.unsafe_allowed,
            cmd: child.as_ref().map(|c| c.program().to_path_buf()),
            // Probed only for a script whose wildcard kprobes could use it.
            kprobe_multi: wildcard_kprobes(&text) && crate::attach::kprobe_multi::available(),
        };
        let object = compile(&name, &text, &mut tracefs, &opts)?;
        script = Some((name, text));
        object
    };
    if let Some(n) = cli.map_keys {
        object.set_map_keys(n);
    }
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
    let metrics = match &cli.metrics {
        Some(addr) => Some(metrics_listener(addr, &object, script.as_ref())?),
        None => None,
    };
    let opts = TraceOptions { verbose: cli.verbose, quiet: cli.quiet, script, exit_maps: !cli.no_exit_maps };
    let result = trace::trace(object, &opts, metrics, &mut sink, child.as_mut(), watched.as_ref());
    sink.flush();
    result
}

/// Whether a script may have a kprobe or kretprobe wildcard (a cheap look at its text, so that
/// other scripts do not pay for the kprobe_multi feature probe).
fn wildcard_kprobes(text: &str) -> bool {
    (text.contains("kprobe:") || text.contains("k:") || text.contains("kr:")) && (text.contains('*') || text.contains('?'))
}
