//! What the REPL needs to know about half-typed input without parsing it: whether a block is still
//! open (so Enter continues the entry on a new line) and which probe the cursor is in (for `args.`
//! completion). Strings and comments are skipped; the angle form `< ... >` is told by where its `<`
//! stands: at the top level, after a probe's head and outside its predicate.

/// The state at the end of a piece of input.
#[derive(Debug, Default, PartialEq)]
pub struct Scan {
    /// `{` not yet closed, counting those inside an angle block.
    pub depth: usize,
    /// Inside an angle block `< ... >` whose end the scanner cannot tell from a greater-than.
    pub angle: bool,
    pub in_string: bool,
    pub in_comment: bool,
    /// Inside a top-level predicate `/ ... /`.
    pub in_predicate: bool,
    /// Where the current probe's text starts (after the last top-level block closed).
    pub probe_start: usize,
    /// The current probe's head (specs, predicate) when the input is inside its block.
    pub head: Option<(usize, usize)>,
    /// A `}` with no `{`.
    pub unbalanced: bool,
}

pub fn scan(text: &str) -> Scan {
    let b = text.as_bytes();
    let mut s = Scan::default();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if s.in_string {
            match c {
                b'\\' => i += 1,
                b'"' => s.in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if s.in_comment {
            if text[i..].starts_with("*/") {
                s.in_comment = false;
                i += 1;
            }
            i += 1;
            continue;
        }
        if text[i..].starts_with("//") {
            i = text[i..].find('\n').map_or(b.len(), |n| i + n);
            continue;
        }
        if text[i..].starts_with("/*") {
            s.in_comment = true;
            i += 2;
            continue;
        }
        let top = s.depth == 0 && !s.angle;
        match c {
            b'"' => s.in_string = true,
            b'/' if top => s.in_predicate = !s.in_predicate,
            b'{' => {
                if top {
                    s.head = Some((s.probe_start, i));
                    s.in_predicate = false;
                }
                s.depth += 1;
            }
            b'}' => {
                if s.depth == 0 {
                    s.unbalanced = true;
                } else {
                    s.depth -= 1;
                    if s.depth == 0 && !s.angle {
                        s.head = None;
                        s.probe_start = i + 1;
                    }
                }
            }
            b'<' if top && !s.in_predicate && !text[s.probe_start..i].trim().is_empty() => {
                s.head = Some((s.probe_start, i));
                s.angle = true;
            }
            _ => {}
        }
        i += 1;
    }
    s
}

/// Whether Enter should continue the entry on a new line instead of running it.
pub fn incomplete(text: &str) -> bool {
    if text.trim_start().starts_with(':') {
        return false;
    }
    let s = scan(text);
    if s.unbalanced {
        return false;
    }
    if s.depth > 0 || s.in_string || s.in_comment {
        return true;
    }
    if s.angle {
        // The parser tells whether the angle block is closed: an error at the very end means it wants more.
        if let Err(diags) = lang::parse(text) {
            let end = text.trim_end().len();
            return diags.iter().any(|d| d.span.start >= end);
        }
    }
    false
}

/// The specs of a probe head: `tracepoint:a:b, t:c:d /pred/` gives `["tracepoint:a:b", "t:c:d"]`.
pub fn head_specs(head: &str) -> Vec<String> {
    let specs = head.split('/').next().unwrap_or("");
    specs.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_blocks_continue() {
        assert!(incomplete("tracepoint:syscalls:sys_enter_read {"));
        assert!(incomplete("BEGIN { if (1) { printf(\"}\"); }"));
        assert!(!incomplete("BEGIN { printf(\"{\"); }"));
        assert!(incomplete("BEGIN { printf(\"x"));
        assert!(!incomplete("BEGIN { } // {"));
        assert!(incomplete("BEGIN { /* } */"));
        assert!(!incomplete("BEGIN }"));
        assert!(!incomplete(":print @x {"));
        assert!(!incomplete("tracepoint:x:y /pid < 3/ { @ = count(); }"));
    }

    #[test]
    fn angle_blocks() {
        assert!(incomplete("BEGIN < @x = 1;"));
        assert!(!incomplete("BEGIN < @x = 1; >"));
        assert!(!incomplete("tracepoint:x:y /pid < 3/ @"), "a `<` inside the predicate opens nothing");
    }

    #[test]
    fn current_head() {
        let text = "BEGIN { } tracepoint:a:b, t:c:d /pid == 1/ { @x = args.";
        let s = scan(text);
        let (a, b) = s.head.unwrap();
        assert_eq!(head_specs(&text[a..b]), vec!["tracepoint:a:b", "t:c:d"]);
        let s = scan("BEGIN { } tracepoint:a:b /args.");
        assert!(s.in_predicate && s.head.is_none());
        assert_eq!(&"BEGIN { } tracepoint:a:b /args."[s.probe_start..], " tracepoint:a:b /args.");
    }
}
