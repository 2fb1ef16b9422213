//! The command line, as clap reads it.

use clap::Parser;
use std::path::PathBuf;

/// A declarative eBPF tracer with bpftrace's language: no LLVM, one static binary.
#[derive(Parser, Debug)]
#[command(
    name = "vt",
    version,
    about,
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  vt -e 'tracepoint:syscalls:sys_enter_getppid { @c = count(); }'\n  vt scripts/vhost.vt\n  vt -d -e 'tracepoint:syscalls:sys_enter_read { @h = hist(args.count); }'\n  vt -c 'sleep 1' -e 'tracepoint:syscalls:sys_enter_nanosleep /pid == cpid/ { @n = count(); }'\n  vt -f json -e 'interval:s:1 { @x = count(); print(@x); clear(@x); }'\n  vt build script.vt -o script.vto && vt script.vto"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// The program text, instead of a script file.
    #[arg(short = 'e', value_name = "PROGRAM")]
    pub program: Option<String>,

    /// Print each program's BPF listing and exit without loading anything (same as `--emit asm`).
    #[arg(short = 'd')]
    pub dump: bool,

    /// What to emit instead of running: `asm` prints the BPF listing.
    #[arg(long, value_name = "WHAT", value_parser = ["asm"])]
    pub emit: Option<String>,

    /// List the probes matching the glob given in place of FILE (all without one) and exit; with -v,
    /// each tracepoint's arguments.
    #[arg(short = 'l')]
    pub list: bool,

    /// Verbose: with -l, show tracepoint arguments; on a verifier error, the verifier's whole log.
    #[arg(short = 'v')]
    pub verbose: bool,

    /// Trace only this process (tracepoint probes get an implicit `pid == PID` filter) and exit when it
    /// exits.
    #[arg(short = 'p', value_name = "PID", conflicts_with = "child")]
    pub pid: Option<u32>,

    /// Run CMD (held until the probes are attached; `cpid` is its pid) and exit when it exits. As in
    /// bpftrace, probes are not filtered to it: write `/pid == cpid/` for that.
    #[arg(short = 'c', value_name = "CMD", id = "child")]
    pub child: Option<String>,

    /// Write the output (printf, print, the maps at exit) to FILE instead of stdout.
    #[arg(short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Allow functions that change the system (`signal`), as bpftrace's `--unsafe`.
    #[arg(long = "unsafe")]
    pub unsafe_allowed: bool,

    /// Quiet: no `Attaching N probes...`.
    #[arg(short = 'q')]
    pub quiet: bool,

    /// Output format: bpftrace's text, or newline-delimited JSON as bpftrace's `-f json` writes it.
    #[arg(short = 'f', value_name = "FORMAT", value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,

    /// How histograms print: bpftrace's `@` bars or BCC's `print_log2_hist` table.
    #[arg(long, value_name = "STYLE", value_enum, default_value_t = Style::Bpftrace)]
    pub hist_style: Style,

    /// Read tracepoint formats from this directory (laid out like tracefs) instead of the kernel's.
    #[arg(long, value_name = "DIR")]
    pub tracefs: Option<PathBuf>,

    /// Serve the maps as Prometheus/OpenMetrics metrics on http://[ADDR:]PORT/metrics while the
    /// script runs (a bare PORT binds 127.0.0.1). See docs/METRICS.md.
    #[arg(long, value_name = "[ADDR:]PORT")]
    pub metrics: Option<String>,

    /// Do not print the maps at exit (with --metrics, where a scraper reads them).
    #[arg(long)]
    pub no_exit_maps: bool,

    /// Entries each keyed map holds (default 4096, as bpftrace's BPFTRACE_MAP_KEYS_MAX); updates
    /// beyond are dropped and counted.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=16_777_216))]
    pub map_keys: Option<u32>,

    /// The script file, or a `.vto` built by `vt build` (omit it with -e; then every positional
    /// argument is a parameter).
    #[arg(value_name = "FILE", required_unless_present_any = ["program", "list"])]
    pub file: Option<PathBuf>,

    /// Positional parameters, `$1`, `$2`, ... in the script.
    #[arg(value_name = "ARGS", trailing_var_arg = true, allow_hyphen_values = true)]
    pub params: Vec<String>,
}

#[derive(clap::Subcommand, Debug)]
pub enum Command {
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
pub enum Style {
    Bpftrace,
    Bcc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}
