//! The checker: resolves probes through the registry's probe kinds, gives every map one kind and one key
//! type, types every expression with bpftrace's rules, and reports each problem as a spanned diagnostic
//! (all of them, not just the first).
//!
//! Maps may be read in a probe that comes before the one that assigns them, so checking runs twice: a
//! first pass only learns the maps' kinds (and reports nothing), the second checks for real.
//!
//! The passes: `stmt` (statements and the event statements), `expr` (expressions, builtins, calls and
//! `args` fields), `maps` (map definitions and access), `services` (what registry entries may ask).

mod expr;
mod for_map;
mod kernel;
mod maps;
mod print_record;
mod services;
mod stmt;

use crate::ast::*;
use crate::diag::Diagnostic;
use crate::tracefs::{closest, did_you_mean, Tracefs};
use crate::registry::{Kind, Registry};
use crate::typed::*;
use std::collections::HashMap;

/// bpftrace's default for `str()` and for string maps: 64 bytes including the NUL.
pub const STRLEN: u32 = 64;
/// Statements an `unroll` (nested ones multiplied) may expand to.
const MAX_UNROLLED: usize = 10_000;

/// What the command line adds to a script.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// The positional parameters (`$1` is `params[0]`).
    pub params: Vec<String>,
    /// Named parameters (`--name=value`, `--flag`: `getopt`), see `split_params`.
    pub named: Vec<(String, Option<String>)>,
    /// `-p PID`: every tracepoint program is filtered to this process (an implicit `pid == PID &&`
    /// before its predicate). BEGIN, END and interval programs are not: they do not run in the
    /// traced process's context.
    pub pid: Option<u32>,
    /// `-c CMD`: the child's pid, the value of `cpid` (an error without it).
    pub cpid: Option<u32>,
    /// Histograms keep each bucket's sum (`Agg::sums`), for `--metrics`.
    pub bucket_sums: bool,
    /// `--unsafe`: functions that change the system (`signal`) are allowed.
    pub unsafe_allowed: bool,
    /// `-c CMD`: the program it runs (whose functions `watchpoint:FUNC+argN` names).
    pub cmd: Option<std::path::PathBuf>,
    /// The kernel attaches one program to many functions at once (kprobe_multi links): a kprobe
    /// wildcard whose block reads nothing particular to one function may be one program.
    pub kprobe_multi: bool,
}

/// The command line's script arguments as positional parameters and named ones: an argument
/// `--name=value` or `--name` (a letter after the dashes) is named, as bpftrace takes those after `--`.
pub fn split_params(args: Vec<String>) -> (Vec<String>, Vec<(String, Option<String>)>) {
    let (mut positional, mut named) = (Vec::new(), Vec::new());
    for a in args {
        match a.strip_prefix("--").filter(|r| r.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')) {
            Some(rest) => match rest.split_once('=') {
                Some((n, v)) => named.push((n.to_string(), Some(v.to_string()))),
                None => named.push((rest.to_string(), None)),
            },
            None => positional.push(a),
        }
    }
    (positional, named)
}

/// Checks `script` against the registry's entries and the tracepoints of `tracefs`.
pub fn check_with(script: &Script, tracefs: &mut Tracefs, opts: &CheckOptions, reg: &dyn Registry) -> Result<Program, Vec<Diagnostic>> {
    if script.probes.is_empty() {
        // bpftrace refuses an empty script too; without the check vt would wait, attached to nothing.
        let d = Diagnostic::new(Span::new(0, 0), "the script has no probes", "a probe block goes here")
            .with_help("write one, e.g. `tracepoint:syscalls:sys_enter_getppid { @calls = count(); }`");
        return Err(vec![d]);
    }
    crate::ctype::define(&script.types, &script.typedefs)?;
    crate::cenum::define(&script.enums)?;
    crate::headers::define(script.includes.iter().map(|i| i.name.as_str()));
    // A kprobe wildcard made one kprobe_multi program has an address for `func`, where a program of
    // one function has its name: a map that both fill, say, cannot hold both. Such a script is checked
    // again as if the kernel had no kprobe_multi (one program per function), and its errors are that
    // check's: it runs, or fails, the same on every kernel.
    match check_probes(script, tracefs, opts, reg, opts.kprobe_multi) {
        Err(_) if opts.kprobe_multi => check_probes(script, tracefs, opts, reg, false),
        checked => checked,
    }
}

/// The probes' attach points and programs (`shared`: a kprobe wildcard may be one program).
fn check_probes(script: &Script, tracefs: &mut Tracefs, opts: &CheckOptions, reg: &dyn Registry, shared: bool) -> Result<Program, Vec<Diagnostic>> {
    let params = opts.params.as_slice();
    let mut attaches = Vec::new();
    let mut errors = Vec::new();
    let ignore_missing = config(&script.config, &mut errors);
    // Maps assigned in probes that did not resolve: their reads elsewhere are not errors of their own
    // (one unknown tracepoint gives one error, not one more per map its block fills).
    let mut unresolved_maps = std::collections::HashSet::new();
    for probe in &script.probes {
        let before = errors.len();
        let mut dropped = false;
        for spec in &probe.specs {
            let Some(kind) = reg.probe_kind(&spec.provider.name) else {
                let names = reg.names(Kind::Probe);
                let mut d = Diagnostic::new(
                    spec.provider.span,
                    format!("unknown probe type `{}`", spec.provider.name),
                    "no such probe type",
                );
                d.help = did_you_mean(&closest(&spec.provider.name, names));
                errors.push(d);
                continue;
            };
            let spec = match positional_parts(spec, params) {
                Ok(s) => s,
                Err(d) => {
                    errors.push(d);
                    continue;
                }
            };
            let shared = shared && shareable(&probe.body);
            match kind.resolve(&spec, &mut crate::registry::Resolve { tracefs: &mut *tracefs, pid: opts.pid, cpid: opts.cpid, cmd: opts.cmd.as_deref(), shared }) {
                Ok(list) => attaches.extend(list.into_iter().map(|a| (probe, a))),
                // `missing_probes = ignore`: an attach point this machine lacks is left out.
                Err(d) if ignore_missing && missing(&d) => dropped = true,
                Err(d) => errors.push(d),
            }
        }
        if errors.len() > before || dropped {
            assigned_maps(&probe.body, &mut unresolved_maps);
        }
    }
    if attaches.is_empty() && errors.is_empty() {
        let d = Diagnostic::new(script.probes[0].span, "none of the script's probes exists on this machine", "nothing to attach")
            .with_help("`missing_probes = ignore` left every probe out");
        return Err(vec![d]);
    }
    let mut cx = Checker { reg, maps: Vec::new(), formats: Vec::new(), errors: Vec::new(), params, cpid: opts.cpid, unsafe_allowed: opts.unsafe_allowed, named: &opts.named, learning: true, incr: false, learned: HashMap::new(), pre: Vec::new(), hoist: false, incrs: 0 };
    for (probe, attach) in &attaches {
        cx.probe(probe, attach.clone());
    }
    cx.learning = false;
    cx.errors.clear();
    cx.formats.clear();
    let mut probes: Vec<ProbeProgram> = attaches.into_iter().map(|(p, a)| cx.probe(p, a)).collect();
    // A watchpoint's setup program arms the program after it.
    for (i, p) in probes.iter_mut().enumerate() {
        if let [TStmt::Event(EventStmt::Watch { program, .. })] = p.body.as_mut_slice() {
            *program = i + 1;
        }
    }
    if let Some(pid) = opts.pid {
        for p in probes.iter_mut().filter(|p| p.attach.target.runs_in_tasks()) {
            p.predicate = Some(pid_filter(pid, p.predicate.take(), p.span));
        }
    }
    cx.errors.retain(|d| !unresolved_maps.iter().any(|m| d.message == format!("@{m} is never assigned")));
    errors.append(&mut cx.errors);
    if errors.is_empty() {
        let mut maps = cx.maps;
        for m in &mut maps {
            if let MapKind::Agg(a) = &mut m.kind {
                a.sums = opts.bucket_sums;
            }
        }
        Ok(Program { maps, probes, formats: cx.formats })
    } else {
        // One error per place: a block attached to many tracepoints reports each problem once.
        let mut seen = std::collections::HashSet::new();
        errors.retain(|d| seen.insert((d.span, d.message.clone())));
        Err(errors)
    }
}

struct Checker<'p> {
    reg: &'p dyn Registry,
    maps: Vec<MapDef>,
    formats: Vec<PrintfFormat>,
    errors: Vec<Diagnostic>,
    params: &'p [String],
    named: &'p [(String, Option<String>)],
    cpid: Option<u32>,
    unsafe_allowed: bool,
    /// The first pass: define maps, report nothing.
    learning: bool,
    /// Checking `@m++` / `@m--`, which (as in bpftrace) defines a new map as signed.
    incr: bool,
    /// Variable types the first pass widened (a string variable takes the longest string assigned
    /// anywhere in its probe), by the probe's and the declaration's span starts.
    learned: HashMap<(usize, usize), Ty>,
    /// Statements that must run before the one being checked: the changes `++`/`--` make when used as
    /// values (`printf("%d", @x++)`).
    pre: Vec<TStmt>,
    /// Whether an expression checked now may put statements in `pre`: not in a predicate, a loop
    /// condition, or a part of an expression that may not run (`&&`, `||`, `?:` branches).
    hoist: bool,
    /// `++`/`--` values so far, to name their hidden variables.
    incrs: u32,
}

/// The variables of one probe program.
#[derive(Default)]
struct Scope {
    vars: HashMap<String, (VarId, Ty)>,
    /// The C pointer types of variables that hold one (and user memory, for syscall arguments).
    ctypes: HashMap<String, (crate::ctype::CType, bool)>,
    /// Per block being checked, the names its `let`s bound and what those names meant before.
    frames: Vec<Vec<(String, Option<(VarId, Ty)>)>>,
    /// Loops around the statement being checked (`break` and `continue` need one).
    loops: u32,
    /// Whether the statement being checked is inside a `for ($kv : @map)` (which does not nest).
    in_for_map: bool,
    list: Vec<Ty>,
    /// Where each variable (by `VarId`) was declared.
    decl: Vec<Span>,
    /// Variables whose first assignment was refused: a later use is not a second error.
    refused: std::collections::HashSet<String>,
}

struct Ctx<'a> {
    attach: &'a Attach,
    /// The probe block being checked.
    probe: Span,
    scope: Scope,
    /// The call being checked is a statement of its own (see `Function::statement`).
    statement: bool,
}

fn unsupported(span: Span, what: &str) -> Diagnostic {
    Diagnostic::new(span, format!("{what} is not supported by vt yet"), "not supported")
}

fn int(kind: TExprKind, ty: IntTy, span: Span) -> TExpr {
    TExpr { kind, ty: Ty::Int(ty), span }
}

impl Checker<'_> {
    fn err(&mut self, d: Diagnostic) {
        self.errors.push(d);
    }

    fn fail<T>(&mut self, d: Diagnostic) -> Option<T> {
        self.err(d);
        None
    }

    fn probe(&mut self, probe: &Probe, attach: Attach) -> ProbeProgram {
        let mut cx = Ctx { attach: &attach, probe: probe.span, scope: Scope::default(), statement: false };
        if let Target::Uprobe(Uprobe { watch: Some(w), .. }) = &attach.target {
            // A watchpoint's setup: not the block's statements, only "watch argument N".
            let arg = Expr { kind: ExprKind::Builtin(format!("arg{}", w.arg)), span: probe.span };
            let body = self.expr(&arg, &mut cx).map(|addr| TStmt::Event(EventStmt::Watch { program: 0, addr, stop: w.stop }));
            let (span, vars) = (probe.span, std::mem::take(&mut cx.scope.list));
            return ProbeProgram { attach, span, predicate: None, body: body.into_iter().collect(), vars };
        }
        self.hoist = false;
        let predicate = probe.predicate.as_ref().and_then(|e| self.cond(e, &mut cx));
        let body = self.block(&probe.body, &mut cx);
        let vars = std::mem::take(&mut cx.scope.list);
        ProbeProgram { attach, span: probe.span, predicate, body, vars }
    }

    fn block(&mut self, stmts: &[Stmt], cx: &mut Ctx) -> Vec<TStmt> {
        let outer = std::mem::take(&mut self.pre);
        cx.scope.frames.push(Vec::new());
        let mut out = Vec::new();
        for s in stmts {
            self.hoist = true;
            let t = self.stmt(s, cx);
            self.hoist = false;
            out.append(&mut self.pre);
            if let Some(t) = t {
                out.push(t);
            }
        }
        // What the block's `let`s bound goes out of scope.
        for (name, before) in cx.scope.frames.pop().unwrap_or_default().into_iter().rev() {
            match before {
                Some(b) => cx.scope.vars.insert(name, b),
                None => cx.scope.vars.remove(&name),
            };
        }
        self.pre = outer;
        out
    }

    /// Checks `e` where statements may not be put before it (see `hoist`).
    fn unhoisted<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        let was = std::mem::replace(&mut self.hoist, false);
        let t = f(self);
        self.hoist = was;
        t
    }

    fn arity(&mut self, func: &Ident, args: &[Expr], want: std::ops::RangeInclusive<usize>, span: Span) -> Option<()> {
        if want.contains(&args.len()) {
            return Some(());
        }
        let expected = match (*want.start(), *want.end()) {
            (a, b) if a == b => format!("{a}"),
            (a, usize::MAX) => format!("at least {a}"),
            (a, b) => format!("{a} to {b}"),
        };
        self.fail(Diagnostic::new(
            span,
            format!("{}() takes {expected} argument(s), {} given", func.name, args.len()),
            "wrong number of arguments",
        ))
    }

    /// An integer known at check time (a literal, or a positional parameter).
    fn const_int(&mut self, e: &Expr, what: &str) -> Option<u64> {
        match &e.kind {
            ExprKind::Int(v) => Some(*v),
            // An enum's name or a macro (`ntop(AF_INET, ...)`, as tcplife.bt writes it) is a number.
            ExprKind::Builtin(name) if self.reg.builtin(name).is_none() => match crate::cenum::value(name) {
                Some(v) => Some(v as u64),
                None => match expr::not_a_value(name, e.span) {
                    Some(d) => self.fail(d),
                    None => self.fail(Diagnostic::new(e.span, format!("{what} must be an integer literal"), "not a constant")),
                },
            },
            ExprKind::Unary { op: UnOp::Neg, expr } => self.const_int(expr, what).map(|v| (v as i64).wrapping_neg() as u64),
            ExprKind::Positional(n) => match self.param(*n, e.span)? {
                TExprKind::Const(v) => Some(v),
                _ => self.fail(Diagnostic::new(e.span, format!("{what} must be an integer"), "not an integer")),
            },
            _ => self.fail(Diagnostic::new(e.span, format!("{what} must be an integer literal"), "not a constant")),
        }
    }

    /// The text of positional parameter `n` as given (`""` when it is missing), for `str($n)`.
    fn param_text(&self, n: u32) -> String {
        self.params.get((n as usize).wrapping_sub(1)).cloned().unwrap_or_default()
    }

    fn param(&mut self, n: u32, span: Span) -> Option<TExprKind> {
        // bpftrace: a missing positional parameter is 0 (or "" when used as a string).
        let text = self.params.get((n as usize).wrapping_sub(1)).map(String::as_str).unwrap_or("0");
        Some(match parse_int(text) {
            Some(v) => TExprKind::Const(v),
            None if n as usize <= self.params.len() => TExprKind::StrConst(text.to_string()),
            None => return self.fail(Diagnostic::new(span, format!("no parameter ${n}"), "missing")),
        })
    }
}

/// `i:ms:$1`: the spec with each `$N` in its parts replaced by that positional parameter's text.
fn positional_parts(spec: &ProbeSpec, params: &[String]) -> Result<ProbeSpec, Diagnostic> {
    let mut out = spec.clone();
    for part in &mut out.parts {
        let Some(at) = part.name.find('$') else { continue };
        let digits: String = part.name[at + 1..].chars().take_while(char::is_ascii_digit).collect();
        let n: usize = digits.parse().unwrap_or(0);
        let Some(text) = params.get(n.wrapping_sub(1)) else {
            let msg = format!("`{}` names no positional parameter (there are {})", &part.name[at..], params.len());
            return Err(Diagnostic::new(part.span, msg, "no such parameter"));
        };
        part.name = format!("{}{}{}", &part.name[..at], text, &part.name[at + 1 + digits.len()..]);
    }
    Ok(out)
}

/// The names of the maps `stmts` assign.
fn assigned_maps(stmts: &[Stmt], out: &mut std::collections::HashSet<String>) {
    for s in stmts {
        match &s.kind {
            StmtKind::MapAssign { map, .. } | StmtKind::MapCompound { map, .. } | StmtKind::MapIncr { map, .. } => {
                out.insert(map.name.name.clone());
            }
            StmtKind::If { then, otherwise, .. } => {
                assigned_maps(then, out);
                assigned_maps(otherwise, out);
            }
            StmtKind::Unroll { body, .. } | StmtKind::For { body, .. } | StmtKind::While { body, .. } => assigned_maps(body, out),
            StmtKind::ForMap { body, .. } => assigned_maps(body, out),
            _ => {}
        }
    }
}

/// Whether one program can serve every attach point of a probe block: the block reads nothing that
/// only a program of its own attach point knows — `probe` (its name, as bpftrace expands a wildcard
/// that reads `probe` into one program per match), `args` (the function's own types) or
/// `override()` (checked per function). Read from the block's syntax tree, where a builtin is
/// `Builtin("NAME")` and a call names its function.
fn shareable(body: &[Stmt]) -> bool {
    let tree = format!("{body:?}");
    !["Builtin(\"probe\")", "Builtin(\"args\")", "name: \"override\""].iter().any(|s| tree.contains(s))
}

/// Statements in `stmts`, counting those inside `if` and `for` bodies.
fn stmt_count(stmts: &[TStmt]) -> usize {
    stmts
        .iter()
        .map(|s| match s {
            TStmt::If { then, otherwise, .. } => 1 + stmt_count(then) + stmt_count(otherwise),
            TStmt::For { body, .. } | TStmt::While { body, .. } | TStmt::ForMap { body, .. } => 1 + stmt_count(body),
            _ => 1,
        })
        .sum()
}

/// The span of a `$var` or `@map` name with its sigil (an `Ident`'s span leaves it out), as bpftrace
/// underlines it.
fn sigiled(name: Span) -> Span {
    Span::new(name.start.saturating_sub(1), name.end)
}

/// `pid == PID && (predicate)`, the filter `-p PID` puts on a tracepoint program.
fn pid_filter(pid: u32, predicate: Option<TExpr>, span: Span) -> TExpr {
    let own = int(TExprKind::Builtin("pid"), IntTy::U64, span);
    let target = int(TExprKind::Const(u64::from(pid)), IntTy::U64, span);
    let eq = int(TExprKind::Binary(BinOp::Eq, Box::new(own), Box::new(target)), IntTy::U64, span);
    match predicate {
        None => eq,
        Some(p) => int(TExprKind::Binary(BinOp::And, Box::new(eq), Box::new(p)), IntTy::U64, span),
    }
}

/// A positional parameter's number, read as C's `strtoll(s, NULL, 0)` reads it and bpftrace takes it:
/// `0x1f` is hexadecimal, `0775` octal, `-5` negative; anything left over (`08`, `5abc`) makes it
/// a string.
pub fn parse_int(s: &str) -> Option<u64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (digits, radix) = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        (h, 16)
    } else if body.len() > 1 && body.starts_with('0') {
        (&body[1..], 8)
    } else {
        (body, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = u64::from_str_radix(digits, radix).ok()?;
    if neg {
        // strtoll's range: down to i64::MIN.
        if v > i64::MAX as u64 + 1 {
            return None;
        }
        Some(v.wrapping_neg())
    } else {
        Some(v)
    }
}

/// Checks a `config` block; returns whether `missing_probes = ignore` was asked for. vt takes only
/// `missing_probes` (`error`, its default, or `ignore`); bpftrace's other options are refused.
fn config(items: &[ConfigItem], errors: &mut Vec<Diagnostic>) -> bool {
    let mut ignore = false;
    for item in items {
        match (item.key.name.as_str(), item.value.name.as_str()) {
            ("missing_probes", "error") => ignore = false,
            ("missing_probes", "ignore") => ignore = true,
            ("missing_probes", v) => {
                let msg = format!("vt does not take `missing_probes = {v}`");
                errors.push(Diagnostic::new(item.value.span, msg, "not supported").with_help("vt takes `error` (the default) or `ignore`"))
            }
            (k, _) => {
                let msg = format!("vt does not take the config option `{k}`");
                errors.push(Diagnostic::new(item.key.span, msg, "not supported").with_help("vt's config block takes `missing_probes` only"))
            }
        }
    }
    ignore
}

/// Whether a probe's error says the machine lacks it (a tracepoint, a file, a function).
fn missing(d: &Diagnostic) -> bool {
    d.label.starts_with("no such") || d.label == "no match"
}
