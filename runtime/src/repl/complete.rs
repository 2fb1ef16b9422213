//! Tab completion and the multi-line rule, as a rustyline helper: probe kinds, tracepoint categories and
//! names (read from tracefs), the `args.` fields of the probe being typed, builtins, functions, the
//! session's map names, and the REPL's commands and their arguments.

use lang::registry::Kind;
use super::input;
use lang::provider::Tracefs;
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::Context;
use std::cell::RefCell;

pub const COMMANDS: &[&str] = &[
    ":help", ":probes", ":detach", ":attach", ":maps", ":print", ":clear", ":list", ":format", ":style", ":watch", ":save",
    ":load", ":resume", ":quit",
];

const INTERVAL_UNITS: &[&str] = &["s:", "ms:", "us:", "hz:"];
const KEYWORDS: &[&str] = &["else", "for", "if", "return", "unroll"];

/// The probe kinds, as typed at the start of a probe: `tracepoint:`, `BEGIN` (from the registry).
fn kinds() -> Vec<String> {
    let names = library::all_names(Kind::Probe);
    // BEGIN and END stand alone; `U` (usdt) is an alias that takes parts.
    names.iter().map(|n| if n.len() > 1 && n.chars().all(|c| c.is_ascii_uppercase()) { n.to_string() } else { format!("{n}:") }).collect()
}

/// Builtins (with the language's own `args`), functions, aggregations and statement calls, sorted:
/// the registry's one list of names.
fn value_names() -> Vec<&'static str> {
    let mut names = vec!["args"];
    for kind in [Kind::Builtin, Kind::Function, Kind::Aggregation, Kind::Statement] {
        names.extend(library::all_names(kind));
    }
    names.sort_unstable();
    names
}

pub struct Helper {
    tracefs: RefCell<Tracefs>,
    /// Map names of the running session, without `@`.
    pub maps: Vec<String>,
    /// Ids of the session's probes, for `:detach`.
    pub ids: Vec<String>,
    files: FilenameCompleter,
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | ':' | '.' | '@' | '$' | '*' | '?')
}

fn starting(prefix: &str, names: impl IntoIterator<Item = impl Into<String>>) -> Vec<String> {
    let mut out: Vec<String> = names.into_iter().map(Into::into).filter(|n: &String| n.starts_with(prefix)).collect();
    out.sort();
    out.dedup();
    out
}

impl Helper {
    pub fn new(tracefs: &std::path::Path) -> Helper {
        Helper {
            tracefs: RefCell::new(Tracefs::new(tracefs)),
            maps: Vec::new(),
            ids: Vec::new(),
            files: FilenameCompleter::new(),
        }
    }

    /// Where the replaced text starts and what may replace it, for the text before `pos`.
    pub fn candidates(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        let before = &line[..pos];
        let start = before.char_indices().rev().find(|&(_, c)| !is_word(c)).map_or(0, |(i, c)| i + c.len_utf8());
        let word = &before[start..];
        if before.trim_start().starts_with(':') {
            return self.command(before, start, word);
        }
        let s = input::scan(before);
        if s.in_string || s.in_comment {
            return (pos, Vec::new());
        }
        let head = match s.head {
            Some((a, b)) => Some(&before[a..b]),
            None if s.in_predicate => Some(&before[s.probe_start..]),
            None => None,
        };
        match head {
            None => self.probe_spec(start, word),
            Some(head) => self.body(before, start, word, head),
        }
    }

    /// `:cmd ARG`: the command's name, then what that command takes.
    fn command(&self, before: &str, start: usize, word: &str) -> (usize, Vec<String>) {
        let trimmed = before.trim_start();
        let Some((cmd, _)) = trimmed.split_once(char::is_whitespace) else {
            return (start, starting(word, COMMANDS.iter().copied()));
        };
        let maps = || starting(word, self.maps.iter().map(|m| format!("@{m}")));
        match cmd {
            ":print" | ":clear" | ":watch" => (start, maps()),
            ":detach" => (start, starting(word, self.ids.iter().cloned().chain(["all".to_string()]))),
            ":attach" => (start, starting(word, self.ids.iter().cloned())),
            ":style" => (start, starting(word, ["bpftrace", "bcc"])),
            ":format" => {
                // CAT:NAME, completed like a tracepoint spec without its provider.
                let (offset, names) = self.tracepoint_parts(&format!("tracepoint:{word}"));
                (start + offset.saturating_sub("tracepoint:".len()), names)
            }
            ":list" => {
                let (offset, names) = self.probe_spec(0, word);
                (start + offset, names)
            }
            _ => (start, Vec::new()),
        }
    }

    /// A probe's head outside any block: kinds, then tracepoint categories and names, interval units.
    fn probe_spec(&self, start: usize, word: &str) -> (usize, Vec<String>) {
        if !word.contains(':') {
            return (start, starting(word, kinds()));
        }
        let (provider, rest) = word.split_once(':').unwrap();
        match provider {
            "tracepoint" | "t" => {
                let (offset, names) = self.tracepoint_parts(word);
                (start + offset, names)
            }
            "interval" | "i" if !rest.contains(':') => {
                (start + provider.len() + 1, starting(rest, INTERVAL_UNITS.iter().copied()))
            }
            _ => (start, Vec::new()),
        }
    }

    /// `tracepoint:CAT` or `tracepoint:CAT:NAME`: the offset in `word` of the part being typed and its
    /// candidates.
    fn tracepoint_parts(&self, word: &str) -> (usize, Vec<String>) {
        let tracefs = self.tracefs.borrow();
        let parts: Vec<&str> = word.splitn(3, ':').collect();
        match parts.as_slice() {
            [p, cat] => (p.len() + 1, starting(cat, tracefs.categories().into_iter().map(|c| c + ":"))),
            [p, cat, name] => (p.len() + cat.len() + 2, starting(name, tracefs.events_of(cat))),
            _ => (0, Vec::new()),
        }
    }

    /// Inside a predicate or a block: `@maps`, `args.FIELD`, builtins, functions, keywords.
    fn body(&self, before: &str, start: usize, word: &str, head: &str) -> (usize, Vec<String>) {
        if let Some(prefix) = word.strip_prefix('@') {
            let mut names: Vec<String> = self.maps.clone();
            // Maps named earlier in this entry count too.
            let mut rest = before;
            while let Some(at) = rest.find('@') {
                rest = &rest[at + 1..];
                let n: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if !n.is_empty() && rest.len() > n.len() {
                    names.push(n);
                }
            }
            return (start + 1, starting(prefix, names));
        }
        if let Some(prefix) = word.strip_prefix("args.") {
            return (start + 5, starting(prefix, self.fields(head)));
        }
        if word.contains(['.', ':', '$']) {
            return (start, Vec::new());
        }
        let names = value_names().into_iter().chain(KEYWORDS.iter().copied());
        (start, starting(word, names))
    }

    /// The fields `args` has in the probe `head`: those of its first tracepoint (wildcards allowed).
    fn fields(&self, head: &str) -> Vec<String> {
        let mut tracefs = self.tracefs.borrow_mut();
        for spec in input::head_specs(head) {
            let mut parts = spec.splitn(3, ':');
            let (Some("tracepoint" | "t"), Some(cat), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
                continue;
            };
            let found = library::list(&tracefs, &format!("tracepoint:{cat}:{name}"));
            for probe in found {
                let mut p = probe.splitn(3, ':').skip(1);
                let (Some(c), Some(n)) = (p.next(), p.next()) else {
                    continue;
                };
                if let Ok(format) = tracefs.format(c, n) {
                    return format.fields.iter().map(|f| f.name.clone()).collect();
                }
            }
        }
        Vec::new()
    }
}

impl Completer for Helper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, ctx: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let t = line[..pos].trim_start();
        if t.starts_with(":save ") || t.starts_with(":load ") {
            return self.files.complete(line, pos, ctx);
        }
        let (start, names) = self.candidates(line, pos);
        Ok((start, names.into_iter().map(|n| Pair { display: n.clone(), replacement: n }).collect()))
    }
}

impl Validator for Helper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        Ok(if input::incomplete(ctx.input()) { ValidationResult::Incomplete } else { ValidationResult::Valid(None) })
    }
}

impl Hinter for Helper {
    type Hint = String;
}

impl Highlighter for Helper {}

impl rustyline::Helper for Helper {}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tracefs laid out in a temporary directory with two categories.
    fn helper() -> (Helper, std::path::PathBuf) {
        let root = std::env::temp_dir().join(format!("vt-complete-{}", std::process::id()));
        let format = "name: x\nID: 1\nformat:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
\tfield:int pid;\toffset:8;\tsize:4;\tsigned:1;\n\tfield:int sig;\toffset:12;\tsize:4;\tsigned:1;\n";
        for (c, n) in [("syscalls", "sys_enter_kill"), ("syscalls", "sys_enter_getppid"), ("sched", "sched_switch")] {
            let dir = root.join("events").join(c).join(n);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("format"), format).unwrap();
        }
        (Helper::new(&root), root)
    }

    fn complete(h: &Helper, line: &str) -> (String, Vec<String>) {
        let (start, names) = h.candidates(line, line.len());
        (line[..start].to_string(), names)
    }

    #[test]
    fn completes_probes_fields_maps_and_commands() {
        let (mut h, root) = helper();
        h.maps = vec!["count".into(), "bytes".into()];
        assert_eq!(complete(&h, "tracepoint:sysc"), ("tracepoint:".into(), vec!["syscalls:".into()]));
        assert_eq!(
            complete(&h, "t:syscalls:sys_enter_"),
            ("t:syscalls:".into(), vec!["sys_enter_getppid".into(), "sys_enter_kill".into()])
        );
        assert_eq!(complete(&h, "BEGIN { } tr").1, vec!["tracepoint:"]);
        assert_eq!(complete(&h, "interval:").1, vec!["hz:", "ms:", "s:", "us:"]);
        let (prefix, fields) = complete(&h, "tracepoint:syscalls:sys_enter_kill { printf(\"%d\", args.");
        assert!(prefix.ends_with("args."));
        assert_eq!(fields, vec!["pid", "sig"]);
        assert_eq!(complete(&h, "t:syscalls:sys_enter_k* /args.s").1, vec!["sig"]);
        assert_eq!(complete(&h, "BEGIN { @c").1, vec!["count"]);
        assert_eq!(complete(&h, "BEGIN { @new = 1; @n").1, vec!["new"]);
        assert_eq!(complete(&h, "BEGIN { pr").1, vec!["print", "printf", "probe"]);
        // The registry's names, new entries included.
        assert_eq!(complete(&h, "BEGIN { @n = nu").1, vec!["numaid"]);
        assert_eq!(complete(&h, "BEGIN { @n = bs").1, vec!["bswap"]);
        assert_eq!(complete(&h, "BEGIN { } in").1, vec!["interval:"]);
        assert_eq!(complete(&h, "E").1, vec!["END"]);
        assert_eq!(complete(&h, ":pr").1, vec![":print", ":probes"]);
        assert_eq!(complete(&h, ":watch @b").1, vec!["@bytes"]);
        assert_eq!(complete(&h, ":format sched:sch"), (":format sched:".into(), vec!["sched_switch".into()]));
        assert_eq!(complete(&h, ":style b").1, vec!["bcc", "bpftrace"]);
        std::fs::remove_dir_all(root).unwrap();
    }
}
