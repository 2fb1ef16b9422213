//! printf format strings: the parser the checker uses to count arguments and check their kinds.
//!
//! The grammar is C's, restricted to what a tracer can print: `%[flags][width][.precision][length]conv`
//! with flags from `-+ #0`, decimal width and precision, length `hh h l ll z j` and conversions
//! `d i u o x X c s p`, and bpftrace's `r rx rh` for `buf()`; `%%` is a literal `%`. There is no `*` (bpftrace has none either) and no floating
//! point. The input is already escape-decoded. Rendering lives in `runtime::printf`.
//!
//! Where vt differs from bpftrace 0.17 (on purpose): bpftrace prints an unknown conversion such as `%q`
//! or `%f` literally, accepts only the `-` flag, rejects `%i`, and prints `%%` as `%%` when no conversion
//! follows it. vt rejects unknown conversions, takes all of C's flags, and treats `%%` as C does.

use std::fmt;

/// One piece of a parsed format string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Text printed as is (with `%%` already turned into `%`; adjacent text is merged).
    Lit(String),
    /// A conversion that consumes one argument.
    Conv(Spec),
}

/// A conversion specification: `%[flags][width][.precision][length]conv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// The flags given, each at most once, in the order first written: any of `-+ #0`.
    pub flags: String,
    pub width: Option<usize>,
    /// `Some(0)` for a bare `.`, as in C.
    pub precision: Option<usize>,
    pub length: Length,
    pub conv: Conv,
}

/// The length modifier, which says what C type the argument is cast to before it is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    /// `int` (32 bits).
    None,
    /// `char` (8 bits).
    Hh,
    /// `short` (16 bits).
    H,
    /// `long` (64 bits).
    L,
    /// `long long` (64 bits).
    Ll,
    /// `size_t` (64 bits).
    Z,
    /// `intmax_t` (64 bits).
    J,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conv {
    /// `d`, `i`
    Signed,
    /// `u`
    Unsigned,
    /// `o`
    Octal,
    /// `x`
    HexLower,
    /// `X`
    HexUpper,
    /// `c`: an integer printed as one byte.
    Char,
    /// `s`
    Str,
    /// `p`: an integer printed as a pointer (`0x…`, or `(nil)` for 0).
    Pointer,
    /// `r`, `rx`, `rh`: a `buf()`, as bpftrace prints it.
    Buf(BufStyle),
}

/// How `%r` prints a buffer's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BufStyle {
    /// `%r`: printable bytes as they are, the others as `\xNN`.
    Escaped,
    /// `%rx`: every byte as `\xNN`.
    Hex,
    /// `%rh`: every byte as two hex digits, separated by spaces.
    Spaced,
}

impl Spec {
    /// Whether the argument must be a string (`%s`); every other conversion takes an integer.
    pub fn wants_string(&self) -> bool {
        self.conv == Conv::Str
    }

    /// Whether the argument must be a `buf()` (`%r`).
    pub fn wants_buffer(&self) -> bool {
        matches!(self.conv, Conv::Buf(_))
    }

    /// Whether `flag` (one of `-+ #0`) was given.
    pub fn has_flag(&self, flag: char) -> bool {
        self.flags.contains(flag)
    }
}

impl Length {
    /// The width in bits of the C type the argument is cast to (`None` is `int`).
    pub fn bits(self) -> u8 {
        match self {
            Length::None => 32,
            Length::Hh => 8,
            Length::H => 16,
            Length::L | Length::Ll | Length::Z | Length::J => 64,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Length::None => "",
            Length::Hh => "hh",
            Length::H => "h",
            Length::L => "l",
            Length::Ll => "ll",
            Length::Z => "z",
            Length::J => "j",
        }
    }
}

impl Conv {
    fn from_char(c: char) -> Option<Conv> {
        Some(match c {
            'd' | 'i' => Conv::Signed,
            'u' => Conv::Unsigned,
            'o' => Conv::Octal,
            'x' => Conv::HexLower,
            'X' => Conv::HexUpper,
            'c' => Conv::Char,
            's' => Conv::Str,
            'p' => Conv::Pointer,
            _ => return None,
        })
    }

    /// The conversion as written after the length (`d`, `rx`).
    pub fn text(self) -> &'static str {
        match self {
            Conv::Buf(BufStyle::Escaped) => "r",
            Conv::Buf(BufStyle::Hex) => "rx",
            Conv::Buf(BufStyle::Spaced) => "rh",
            Conv::Signed => "d",
            Conv::Unsigned => "u",
            Conv::Octal => "o",
            Conv::HexLower => "x",
            Conv::HexUpper => "X",
            Conv::Char => "c",
            Conv::Str => "s",
            Conv::Pointer => "p",
        }
    }
}

/// Writes the specification back in C syntax (`%-8s`, `%08llx`), for messages such as
/// "`%s` expects a string".
impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}", self.flags)?;
        if let Some(w) = self.width {
            write!(f, "{w}")?;
        }
        if let Some(p) = self.precision {
            write!(f, ".{p}")?;
        }
        write!(f, "{}{}", self.length.as_str(), self.conv.text())
    }
}

/// Parses an (escape-decoded) format string. Errors are short messages without position; the checker
/// attaches the span of the string.
pub fn parse(fmt: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut lit = String::new();
    let mut rest = fmt;
    while let Some(at) = rest.find('%') {
        lit.push_str(&rest[..at]);
        let mut cur = Cursor { text: &rest[at..], pos: 1 };
        if cur.eat('%') {
            lit.push('%');
            rest = &cur.text[cur.pos..];
            continue;
        }
        let spec = cur.spec()?;
        if !lit.is_empty() {
            pieces.push(Piece::Lit(std::mem::take(&mut lit)));
        }
        pieces.push(Piece::Conv(spec));
        rest = &cur.text[cur.pos..];
    }
    lit.push_str(rest);
    if !lit.is_empty() {
        pieces.push(Piece::Lit(lit));
    }
    Ok(pieces)
}

/// Reads one specification; `text` starts at its `%`, `pos` is the byte offset read up to.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, c: char) -> bool {
        let yes = self.peek() == Some(c);
        if yes {
            self.pos += c.len_utf8();
        }
        yes
    }

    fn number(&mut self, what: &str) -> Result<Option<usize>, String> {
        if self.peek() == Some('*') {
            return Err(format!("`*` {what} is not supported; write the {what} as a number"));
        }
        let mut n: Option<usize> = None;
        while let Some(d) = self.peek().and_then(|c| c.to_digit(10)) {
            self.pos += 1;
            n = Some(
                n.unwrap_or(0)
                    .checked_mul(10)
                    .and_then(|n| n.checked_add(d as usize))
                    .filter(|&n| n <= i32::MAX as usize)
                    .ok_or_else(|| format!("{what} too large"))?,
            );
        }
        Ok(n)
    }

    fn spec(&mut self) -> Result<Spec, String> {
        let mut flags = String::new();
        while let Some(c) = self.peek().filter(|c| "-+ #0".contains(*c)) {
            self.pos += 1;
            if !flags.contains(c) {
                flags.push(c);
            }
        }
        let width = self.number("width")?;
        let precision = if self.eat('.') { Some(self.number("precision")?.unwrap_or(0)) } else { None };
        let length = if self.eat('h') {
            if self.eat('h') { Length::Hh } else { Length::H }
        } else if self.eat('l') {
            if self.eat('l') { Length::Ll } else { Length::L }
        } else if self.eat('z') {
            Length::Z
        } else if self.eat('j') {
            Length::J
        } else {
            Length::None
        };
        let Some(c) = self.bump() else {
            return Err("`%` at the end of the format string (write `%%` for a literal `%`)".to_string());
        };
        let conv = if c == 'r' {
            // bpftrace's buffer conversions; it prints `%10r` as text, vt refuses it.
            let style = if self.eat('x') {
                BufStyle::Hex
            } else if self.eat('h') {
                BufStyle::Spaced
            } else {
                BufStyle::Escaped
            };
            if !flags.is_empty() || width.is_some() || precision.is_some() || length != Length::None {
                return Err(format!("`{}` takes no flags, width, precision or length: write `%r`, `%rx` or `%rh`", &self.text[..self.pos]));
            }
            Conv::Buf(style)
        } else {
            match Conv::from_char(c) {
                Some(conv) => conv,
                None => return Err(format!("unknown conversion `{}`", &self.text[..self.pos])),
            }
        };
        if length != Length::None && matches!(conv, Conv::Char | Conv::Str) {
            return Err(format!("length modifier `{}` can't be used with `%{c}`", length.as_str()));
        }
        Ok(Spec { flags, width, precision, length, conv })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(s: &str) -> Spec {
        match parse(s).unwrap().as_slice() {
            [Piece::Conv(spec)] => spec.clone(),
            other => panic!("{s:?} parsed to {other:?}"),
        }
    }

    #[test]
    fn printf_literals_and_percent() {
        assert_eq!(parse("").unwrap(), vec![]);
        assert_eq!(parse("hello\n").unwrap(), vec![Piece::Lit("hello\n".into())]);
        assert_eq!(parse("a%%b%%").unwrap(), vec![Piece::Lit("a%b%".into())]);
        assert_eq!(parse("%%").unwrap(), vec![Piece::Lit("%".into())]);
        assert_eq!(parse("é%%€").unwrap(), vec![Piece::Lit("é%€".into())]);
    }

    #[test]
    fn printf_pieces_in_order() {
        let p = parse("%-8s|%5d|%x\n").unwrap();
        assert_eq!(p.len(), 6);
        assert!(matches!(&p[0], Piece::Conv(s) if s.wants_string() && s.flags == "-" && s.width == Some(8)));
        assert_eq!(p[1], Piece::Lit("|".into()));
        assert!(matches!(&p[2], Piece::Conv(s) if s.conv == Conv::Signed && s.width == Some(5)));
        assert_eq!(p[3], Piece::Lit("|".into()));
        assert!(matches!(&p[4], Piece::Conv(s) if s.conv == Conv::HexLower && !s.wants_string()));
        assert_eq!(p[5], Piece::Lit("\n".into()));
        let convs = parse("%d%d %s").unwrap();
        assert_eq!(convs.iter().filter(|p| matches!(p, Piece::Conv(_))).count(), 3);
    }

    #[test]
    fn printf_spec_fields() {
        let s = spec("%-+ #0012.7llx");
        assert_eq!(s.flags, "-+ #0");
        assert_eq!(s.width, Some(12));
        assert_eq!(s.precision, Some(7));
        assert_eq!(s.length, Length::Ll);
        assert_eq!(s.conv, Conv::HexLower);
        assert_eq!(spec("%00--5d").flags, "0-");
        assert_eq!(spec("%.s").precision, Some(0));
        assert_eq!(spec("%5.s").width, Some(5));
        assert_eq!(spec("%d").width, None);
        assert_eq!(spec("%08x").flags, "0");
        assert_eq!(spec("%08x").width, Some(8));
        for (text, length) in [
            ("%hhd", Length::Hh),
            ("%hd", Length::H),
            ("%ld", Length::L),
            ("%lld", Length::Ll),
            ("%zu", Length::Z),
            ("%jx", Length::J),
            ("%u", Length::None),
        ] {
            assert_eq!(spec(text).length, length, "{text}");
        }
        for (text, conv) in [
            ("%d", Conv::Signed),
            ("%i", Conv::Signed),
            ("%u", Conv::Unsigned),
            ("%o", Conv::Octal),
            ("%x", Conv::HexLower),
            ("%X", Conv::HexUpper),
            ("%c", Conv::Char),
            ("%s", Conv::Str),
            ("%p", Conv::Pointer),
            ("%lp", Conv::Pointer),
        ] {
            assert_eq!(spec(text).conv, conv, "{text}");
        }
    }

    #[test]
    fn printf_display_round_trips() {
        for text in ["%-8s", "%08llx", "%+.3d", "%#o", "%.0s", "%hhX", "%zu", "%p", "%- 5c"] {
            assert_eq!(spec(text).to_string(), text);
        }
        assert_eq!(spec("%i").to_string(), "%d");
        assert_eq!(spec("%--5d").to_string(), "%-5d");
    }

    #[test]
    fn printf_errors() {
        assert_eq!(parse("%q").unwrap_err(), "unknown conversion `%q`");
        assert_eq!(parse("x %-5.2f").unwrap_err(), "unknown conversion `%-5.2f`");
        assert_eq!(parse("%hhh").unwrap_err(), "unknown conversion `%hhh`");
        assert_eq!(parse("%é").unwrap_err(), "unknown conversion `%é`");
        assert_eq!(parse("%lls").unwrap_err(), "length modifier `ll` can't be used with `%s`");
        assert_eq!(parse("%hc").unwrap_err(), "length modifier `h` can't be used with `%c`");
        for s in ["%", "abc%", "%-", "%5", "%.3", "%l", "%d %"] {
            assert!(parse(s).unwrap_err().starts_with("`%` at the end"), "{s}");
        }
        assert!(parse("%*d").unwrap_err().contains("`*` width is not supported"));
        assert!(parse("%.*s").unwrap_err().contains("`*` precision is not supported"));
        assert_eq!(parse("%99999999999999999999d").unwrap_err(), "width too large");
    }
}
