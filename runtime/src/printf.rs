//! printf rendering, the way bpftrace 0.17 prints: C's printf, with each argument passed as a 64-bit
//! value (sign- or zero-extended from its own type) and then read as the type the length modifier names
//! (`int` when there is none, so `%d` and `%x` see the low 32 bits). Implemented here rather than by
//! calling libc's variadic printf with a user's format. Also `time()`'s strftime.
//!
//! Output is bytes, as C's is: `%c` of 200 writes the byte 0xC8 and `%.1s` may cut a UTF-8 sequence in
//! two. `render_bytes` keeps them; `render` is the same, lossily decoded.

use lang::printf::{BufStyle, Conv, Piece, Spec};

/// One printf argument as the event carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// An integer of `bits` bits (8, 16, 32 or 64); only the low `bits` bits of `value` are read.
    Int { value: u64, signed: bool, bits: u8 },
    /// A string; like C, it ends at its first NUL.
    Str(String),
    /// A `buf()`'s bytes (for `%r`).
    Bytes(Vec<u8>),
}

/// Renders a parsed format with its arguments. An argument that is missing or of the wrong kind (which
/// the checker rules out) renders as nothing.
pub fn render(pieces: &[Piece], args: &[Arg]) -> String {
    String::from_utf8_lossy(&render_bytes(pieces, args)).into_owned()
}

/// [`render`], without decoding: exactly the bytes bpftrace writes.
pub fn render_bytes(pieces: &[Piece], args: &[Arg]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut args = args.iter();
    for piece in pieces {
        match piece {
            Piece::Lit(text) => out.extend_from_slice(text.as_bytes()),
            Piece::Conv(spec) => match (args.next(), spec.conv) {
                (Some(Arg::Str(s)), Conv::Str) => string(&mut out, spec, s.as_bytes()),
                (Some(Arg::Bytes(b)), Conv::Buf(style)) => out.extend_from_slice(buffer(b, style).as_bytes()),
                (Some(&Arg::Int { value, signed, bits }), conv) if !matches!(conv, Conv::Str | Conv::Buf(_)) => {
                    integer(&mut out, spec, extend(value, bits, signed))
                }
                _ => {}
            },
        }
    }
    out
}

/// The low `bits` bits of `value`, sign- or zero-extended to 64 bits.
fn extend(value: u64, bits: u8, signed: bool) -> u64 {
    if bits == 0 || bits >= 64 {
        return value;
    }
    let shift = 64 - u32::from(bits);
    if signed {
        (((value << shift) as i64) >> shift) as u64
    } else {
        (value << shift) >> shift
    }
}

fn pad(out: &mut Vec<u8>, byte: u8, n: usize) {
    out.resize(out.len() + n, byte);
}

/// Writes `body` padded with spaces to the width (on the right for `-`).
fn justify(out: &mut Vec<u8>, spec: &Spec, body: &[u8]) {
    let fill = spec.width.unwrap_or(0).saturating_sub(body.len());
    let left = spec.has_flag('-');
    if !left {
        pad(out, b' ', fill);
    }
    out.extend_from_slice(body);
    if left {
        pad(out, b' ', fill);
    }
}

fn string(out: &mut Vec<u8>, spec: &Spec, s: &[u8]) {
    let s = &s[..s.iter().position(|&b| b == 0).unwrap_or(s.len())];
    let s = &s[..spec.precision.map_or(s.len(), |p| p.min(s.len()))];
    justify(out, spec, s);
}

/// Every conversion but `%s`; `v` is the argument as a 64-bit value.
fn integer(out: &mut Vec<u8>, spec: &Spec, v: u64) {
    let bits = spec.length.bits();
    let (base, upper) = match spec.conv {
        Conv::Char => {
            let byte = v as u8;
            if byte == 0 {
                // bpftrace prints each conversion (with the text before it) through snprintf and appends
                // the result as a C string, so a NUL ends it: only the padding before the NUL remains.
                if !spec.has_flag('-') {
                    pad(out, b' ', spec.width.unwrap_or(0).saturating_sub(1));
                }
                return;
            }
            return justify(out, spec, &[byte]);
        }
        Conv::Pointer if v == 0 => {
            // glibc prints a null pointer as a string, and never cuts it short.
            return justify(out, spec, b"(nil)");
        }
        Conv::Signed | Conv::Unsigned => (10, false),
        Conv::Octal => (8, false),
        Conv::HexLower | Conv::Pointer => (16, false),
        Conv::HexUpper => (16, true),
        Conv::Str | Conv::Buf(_) => return,
    };
    // The sign and the magnitude, as C sees the argument.
    let (negative, magnitude) = match spec.conv {
        Conv::Signed => {
            let n = extend(v, bits, true) as i64;
            (n < 0, n.unsigned_abs())
        }
        Conv::Pointer => (false, v),
        _ => (false, extend(v, bits, false)),
    };
    // glibc applies `+` and ` ` to `%p` too (it prints a pointer through its signed path).
    let signed = matches!(spec.conv, Conv::Signed | Conv::Pointer);
    let sign: &[u8] = if negative {
        b"-"
    } else if signed && spec.has_flag('+') {
        b"+"
    } else if signed && spec.has_flag(' ') {
        b" "
    } else {
        b""
    };
    let alt = spec.has_flag('#') || spec.conv == Conv::Pointer;
    let prefix: &[u8] = match (alt && magnitude != 0, base, upper) {
        (true, 16, false) => b"0x",
        (true, 16, true) => b"0X",
        _ => b"",
    };

    let mut digits = Vec::new();
    if !(spec.precision == Some(0) && magnitude == 0) {
        let mut m = magnitude;
        loop {
            let d = (m % base) as u8;
            digits.push(match d {
                0..=9 => b'0' + d,
                _ if upper => b'A' + d - 10,
                _ => b'a' + d - 10,
            });
            m /= base;
            if m == 0 {
                break;
            }
        }
        digits.reverse();
    }
    let precision = spec.precision.unwrap_or(1);
    // `#` with `o` makes the first digit a 0 (by raising the precision if needed).
    if alt && base == 8 && digits.first() != Some(&b'0') && precision <= digits.len() {
        digits.insert(0, b'0');
    }
    let zeros = precision.saturating_sub(digits.len());

    let len = sign.len() + prefix.len() + zeros + digits.len();
    let fill = spec.width.unwrap_or(0).saturating_sub(len);
    let left = spec.has_flag('-');
    // `0` pads with zeros after the sign and prefix, unless `-` or a precision is given.
    let zero_fill = !left && spec.has_flag('0') && spec.precision.is_none();
    if !left && !zero_fill {
        pad(out, b' ', fill);
    }
    out.extend_from_slice(sign);
    out.extend_from_slice(prefix);
    pad(out, b'0', zeros + if zero_fill { fill } else { 0 });
    out.extend_from_slice(&digits);
    if left {
        pad(out, b' ', fill);
    }
}

/// A buffer's bytes as bpftrace prints them: `%r` keeps printable ASCII and writes the other bytes as
/// `\xNN`, `%rx` writes every byte as `\xNN`, `%rh` as `NN` separated by spaces.
pub fn buffer(bytes: &[u8], style: BufStyle) -> String {
    let mut out = String::new();
    for (i, &b) in bytes.iter().enumerate() {
        match style {
            BufStyle::Escaped if (0x20..0x7f).contains(&b) => out.push(b as char),
            BufStyle::Escaped | BufStyle::Hex => out.push_str(&format!("\\x{b:02x}")),
            BufStyle::Spaced => {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(&format!("{b:02x}"));
            }
        }
    }
    out
}

/// `time(fmt)`: the local time `unix_nanos` (nanoseconds since the epoch) through libc's strftime, as
/// bpftrace 0.17's `time()` does (default format `"%H:%M:%S\n"`). Its `time()` has no `%f`: strftime
/// leaves it as written. An empty result (an empty format, or a time localtime can't represent) is "".
pub fn strftime(fmt: &str, unix_nanos: u128) -> String {
    let secs = (unix_nanos / 1_000_000_000).min(i64::MAX as u128) as libc::time_t;
    // SAFETY: an all-zero `tm` is a valid value (integers, and a null `tm_zone` pointer).
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: tzset takes nothing and reads TZ (as localtime does; localtime_r needn't). Both pointers
    // are to live locals; localtime_r writes only `tm`.
    if unsafe {
        tzset();
        libc::localtime_r(&secs, &mut tm)
    }
    .is_null()
    {
        return String::new();
    }
    // A trailing byte that strftime copies as is tells "empty output" from "buffer too small" (both 0).
    let mut cfmt: Vec<u8> = fmt.bytes().take_while(|&b| b != 0).collect();
    cfmt.extend_from_slice(b"|\0");
    let mut cap = 256;
    while cap <= 1 << 20 {
        let mut buf = vec![0u8; cap];
        // SAFETY: `buf` has `cap` writable bytes, `cfmt` is NUL-terminated, `tm` was filled above.
        let n = unsafe { libc::strftime(buf.as_mut_ptr().cast(), cap, cfmt.as_ptr().cast(), &tm) };
        if n > 0 {
            buf.truncate(n - 1);
            return String::from_utf8_lossy(&buf).into_owned();
        }
        cap *= 8;
    }
    String::new()
}

extern "C" {
    // POSIX, in every libc; the libc crate doesn't declare it.
    fn tzset();
}

/// bpftrace's `strftime(fmt, nsecs)` builtin (not `time()`), which adds `%f`: the microseconds, six
/// digits. `%%f` stays a literal `%f`. Here `unix_nanos` is already wall-clock time.
pub fn strftime_micros(fmt: &str, unix_nanos: u128) -> String {
    let micros = format!("{:06}", (unix_nanos / 1000) % 1_000_000);
    let mut expanded = String::with_capacity(fmt.len());
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            expanded.push(c);
            continue;
        }
        match chars.next() {
            Some('f') => expanded.push_str(&micros),
            Some(n) => {
                expanded.push('%');
                expanded.push(n);
            }
            None => expanded.push('%'),
        }
    }
    strftime(&expanded, unix_nanos)
}

#[cfg(test)]
#[path = "printf_tests.rs"]
mod tests;
