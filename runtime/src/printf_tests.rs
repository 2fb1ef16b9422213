//! Tests of `printf.rs` (kept apart to keep that file short).

use super::*;

/// An argument written as in a bpftrace script: `"text"`, `42`, `-1`, `0x141`, `(uint16)-1`.
/// Integer literals are int64, as in bpftrace.
fn arg(text: &str) -> Arg {
    if let Some(s) = text.strip_prefix('"') {
        return Arg::Str(s.strip_suffix('"').unwrap().to_string());
    }
    let (signed, bits, lit) = match text.strip_prefix('(') {
        Some(rest) => {
            let (ty, lit) = rest.split_once(')').unwrap();
            let (signed, n) = match ty.strip_prefix('u') {
                Some(n) => (false, n),
                None => (true, ty),
            };
            (signed, n.strip_prefix("int").unwrap().parse().unwrap(), lit)
        }
        None => (true, 64, text),
    };
    let (neg, digits) = match lit.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, lit),
    };
    let magnitude = match digits.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).unwrap(),
        None => digits.parse::<u64>().unwrap(),
    };
    let value = if neg { magnitude.wrapping_neg() } else { magnitude };
    // Hold the value as the runtime would: sign- or zero-extended from its width.
    Arg::Int { value: extend(value, bits, signed), signed, bits }
}

fn run(fmt: &str, args: &[&str]) -> String {
    let pieces = lang::printf::parse(fmt).unwrap_or_else(|e| panic!("{fmt:?}: {e}"));
    render(&pieces, &args.iter().map(|a| arg(a)).collect::<Vec<_>>())
}

// Each expected string below was printed by bpftrace v0.17.0 on this machine: the script that
// `printf_bpftrace_script` prints (one `printf(fmt, args); printf("\n");` per case, so that a
// trailing literal isn't subject to bpftrace's `%%` quirk) was run with `bpftrace all.bt` and its
// output pasted here. A C program that passes every integer as a 64-bit `long long` to glibc's
// printf, as bpftrace does, printed the same 78 lines.
const BPFTRACE: &[(&str, &[&str], &str)] = &[
    ("[%d]", &["42"], "[42]"),
    ("[%d]", &["-42"], "[-42]"),
    ("[%d]", &["-9223372036854775807"], "[1]"),
    ("[%ld]", &["-9223372036854775807"], "[-9223372036854775807]"),
    ("[%lld]", &["-5000000000"], "[-5000000000]"),
    ("[%d]", &["5000000000"], "[705032704]"),
    ("[%u %x %d]", &["-1", "-1", "-1"], "[4294967295 ffffffff -1]"),
    ("[%u]", &["(int32)-1"], "[4294967295]"),
    ("[%lu]", &["(int32)-1"], "[18446744073709551615]"),
    ("[%lu]", &["(uint16)-1"], "[65535]"),
    ("[%d]", &["(uint32)-1"], "[-1]"),
    ("[%d]", &["(int8)-1"], "[-1]"),
    ("[%lu]", &["-1"], "[18446744073709551615]"),
    ("[%llu]", &["-1"], "[18446744073709551615]"),
    ("[%zu]", &["-1"], "[18446744073709551615]"),
    ("[%jd]", &["-8"], "[-8]"),
    ("[%hhx]", &["-1"], "[ff]"),
    ("[%hhx]", &["3054"], "[ee]"),
    ("[%hhd]", &["200"], "[-56]"),
    ("[%hhu]", &["-1"], "[255]"),
    ("[%hd]", &["40000"], "[-25536]"),
    ("[%hu]", &["-1"], "[65535]"),
    ("[%x]", &["255"], "[ff]"),
    ("[%X]", &["255"], "[FF]"),
    ("[%lx]", &["-1"], "[ffffffffffffffff]"),
    ("[%lX]", &["3054"], "[BEE]"),
    ("[%x]", &["0"], "[0]"),
    ("[%o]", &["8"], "[10]"),
    ("[%o]", &["-1"], "[37777777777]"),
    ("[%lo]", &["-1"], "[1777777777777777777777]"),
    ("[%-6o]", &["8"], "[10    ]"),
    ("[%08x]", &["255"], "[000000ff]"),
    ("[%-08x]", &["255"], "[ff      ]"),
    ("[%5d]", &["42"], "[   42]"),
    ("[%-5d]", &["42"], "[42   ]"),
    ("[%05d]", &["-42"], "[-0042]"),
    ("[%.5d]", &["42"], "[00042]"),
    ("[%.5d]", &["-42"], "[-00042]"),
    ("[%8.5d]", &["42"], "[   00042]"),
    ("[%08.5d]", &["42"], "[   00042]"),
    ("[%-8.5x]", &["255"], "[000ff   ]"),
    ("[%5.3u]", &["7"], "[  007]"),
    ("[%.0d]", &["0"], "[]"),
    ("[%.0x]", &["0"], "[]"),
    ("[%5.0d]", &["0"], "[     ]"),
    ("[%2d]", &["12345"], "[12345]"),
    ("[%s]", &["\"ab\""], "[ab]"),
    ("[%s]", &["\"\""], "[]"),
    ("[%-16s]", &["\"comm\""], "[comm            ]"),
    ("[%5s]", &["\"ab\""], "[   ab]"),
    ("[%5s]", &["\"abcdef\""], "[abcdef]"),
    ("[%-5s]", &["\"ab\""], "[ab   ]"),
    ("[%.3s]", &["\"abcdef\""], "[abc]"),
    ("[%.0s]", &["\"abcdef\""], "[]"),
    ("[%.10s]", &["\"abc\""], "[abc]"),
    ("[%8.3s]", &["\"abcdef\""], "[     abc]"),
    ("[%-8.3s]", &["\"abcdef\""], "[abc     ]"),
    ("[%05s]", &["\"ab\""], "[   ab]"),
    ("[%c]", &["65"], "[A]"),
    ("[%c]", &["0x141"], "[A]"),
    ("[%5c]", &["66"], "[    B]"),
    ("[%-5c]", &["67"], "[C    ]"),
    ("[%05c]", &["65"], "[    A]"),
    ("[%.3c]", &["65"], "[A]"),
    ("[%p]", &["0"], "[(nil)]"),
    ("[%p]", &["255"], "[0xff]"),
    ("[%p]", &["-1"], "[0xffffffffffffffff]"),
    ("[%lp]", &["65"], "[0x41]"),
    ("[%10p]", &["255"], "[      0xff]"),
    ("[%-10p]", &["0"], "[(nil)     ]"),
    ("[%010p]", &["255"], "[0x000000ff]"),
    ("[%010p]", &["0"], "[     (nil)]"),
    ("[%.8p]", &["255"], "[0x000000ff]"),
    ("[%.3p]", &["0"], "[(nil)]"),
    ("[%%] [%d]", &["5"], "[%] [5]"),
    ("%d%%%s", &["50", "\"x\""], "50%x"),
    ("%-8s|%5d|%x", &["\"ab\"", "42", "255"], "ab      |   42|ff"),
    ("[%s:%d]", &["\"pid\"", "1234"], "[pid:1234]"),
];

// Flags and forms bpftrace 0.17 rejects (it takes only `-`, needs digits after `.`, has no `%i`) but vt
// accepts: expected strings printed by glibc's printf from the same C program.
const GLIBC: &[(&str, &[&str], &str)] = &[
    ("[%.d]", &["7"], "[7]"),
    ("[%+d]", &["5"], "[+5]"),
    ("[%+d]", &["-5"], "[-5]"),
    ("[% d]", &["5"], "[ 5]"),
    ("[% d]", &["-5"], "[-5]"),
    ("[%+ d]", &["5"], "[+5]"),
    ("[%+05d]", &["42"], "[+0042]"),
    ("[%-+5d]", &["42"], "[+42  ]"),
    ("[% 05d]", &["42"], "[ 0042]"),
    ("[%+.0d]", &["0"], "[+]"),
    ("[%+u]", &["5"], "[5]"),
    ("[% x]", &["255"], "[ff]"),
    ("[%#x]", &["255"], "[0xff]"),
    ("[%#X]", &["255"], "[0XFF]"),
    ("[%#x]", &["0"], "[0]"),
    ("[%#08x]", &["255"], "[0x0000ff]"),
    ("[%-#8x]", &["255"], "[0xff    ]"),
    ("[%#.5x]", &["255"], "[0x000ff]"),
    ("[%#o]", &["8"], "[010]"),
    ("[%#o]", &["0"], "[0]"),
    ("[%#.0o]", &["0"], "[0]"),
    ("[%#.5o]", &["8"], "[00010]"),
    ("[%#3o]", &["8"], "[010]"),
    ("[%#d]", &["5"], "[5]"),
    ("[%#s]", &["\"ab\""], "[ab]"),
    ("[%+p]", &["255"], "[+0xff]"),
    ("[% p]", &["255"], "[ 0xff]"),
    ("[%+p]", &["0"], "[(nil)]"),
    ("[%#p]", &["255"], "[0xff]"),
    ("[%i]", &["-3"], "[-3]"),
    ("[%-05d]", &["7"], "[7    ]"),
    ("[%+c]", &["65"], "[A]"),
    ("[%+s]", &["\"ab\""], "[ab]"),
];

#[test]
fn printf_matches_bpftrace() {
    for (fmt, args, want) in BPFTRACE.iter().chain(GLIBC) {
        assert_eq!(run(fmt, args), *want, "printf({fmt:?}, {args:?})");
    }
}

/// Prints the bpftrace script for the `BPFTRACE` table, to check it again:
/// `cargo test -q -p runtime --lib printf_bpftrace_script -- --ignored --nocapture | grep -E '^(BEGIN|printf|exit)'`.
#[test]
#[ignore]
fn printf_bpftrace_script() {
    println!("BEGIN {{");
    for (fmt, args, _) in BPFTRACE {
        let mut line = format!("printf(\"{}\"", fmt.replace('\\', "\\\\").replace('"', "\\\""));
        for a in *args {
            line += ", ";
            line += a;
        }
        println!("{line}); printf(\"\\n\");");
    }
    println!("exit(); }}");
}

#[test]
fn printf_bytes_as_c_writes_them() {
    let p = |f: &str| lang::printf::parse(f).unwrap();
    let int = |v: u64| Arg::Int { value: v, signed: true, bits: 64 };
    // Checked with bpftrace 0.17 through `od -c`.
    assert_eq!(render_bytes(&p("[%c]"), &[int(200)]), b"[\xc8]");
    assert_eq!(render(&p("[%c]"), &[int(200)]), "[\u{fffd}]");
    assert_eq!(render(&p("[%.2s]"), &[Arg::Str("é€".into())]), "[é]");
    assert_eq!(render(&p("[%5s]"), &[Arg::Str("é".into())]), "[   é]");
    // A NUL from %c ends that conversion's output (bpftrace: `[]|[  ]|` for these).
    assert_eq!(render(&p("[%c]|%d"), &[int(0), int(5)]), "[]|5");
    assert_eq!(render(&p("[%-3c]|[%3c]|"), &[int(0), int(0)]), "[]|[  ]|");
    // A string ends at its NUL, as in C.
    assert_eq!(render(&p("[%s]"), &[Arg::Str("ab\0cd".into())]), "[ab]");
}

#[test]
fn printf_value_is_read_from_its_width() {
    let p = lang::printf::parse("%ld %lu").unwrap();
    // Only the low `bits` bits count, whether or not the caller extended them.
    let a = Arg::Int { value: 0xffff_ffff, signed: true, bits: 32 };
    let b = Arg::Int { value: u64::MAX, signed: false, bits: 16 };
    assert_eq!(render(&p, &[a, b]), "-1 65535");
}

#[test]
fn printf_bad_arguments_render_empty() {
    let p = lang::printf::parse("[%d|%s|%5x]").unwrap();
    let s = Arg::Str("x".into());
    let i = Arg::Int { value: 1, signed: false, bits: 64 };
    assert_eq!(render(&p, &[]), "[||]");
    assert_eq!(render(&p, &[s.clone(), i.clone(), i.clone(), i.clone()]), "[||    1]");
    assert_eq!(render(&p, &[i.clone(), s.clone()]), "[1|x|]");
    let big = lang::printf::parse("%ld").unwrap();
    assert_eq!(render(&big, &[Arg::Int { value: 5, signed: true, bits: 0 }]), "5");
    assert_eq!(render(&big, &[Arg::Int { value: 5, signed: true, bits: 200 }]), "5");
}

#[test]
fn printf_strftime() {
    // 2026-12-01 07:27:41.767591 UTC, in a fixed zone so the test doesn't depend on the machine's.
    // (Setting TZ affects the whole process; no other test reads local time.)
    std::env::set_var("TZ", "UTC");
    let t = 1_796_110_061_767_591_123u128;
    assert_eq!(strftime("%H:%M:%S\n", t), "07:27:41\n");
    assert_eq!(strftime("%Y-%m-%d %Z %%|%q|", t), "2026-12-01 UTC %|%q|");
    // time() in bpftrace 0.17 has no %f; glibc leaves it as written.
    assert_eq!(strftime("%S.%f", t), "41.%f");
    assert_eq!(strftime("", t), "");
    assert_eq!(strftime("%", t), "%");
    assert_eq!(strftime("a\0b", t), "a");
    let long = "%Y".repeat(1000);
    assert_eq!(strftime(&long, t), "2026".repeat(1000));
    // The strftime() builtin's %f.
    assert_eq!(strftime_micros("%H:%M:%S.%f", t), "07:27:41.767591");
    assert_eq!(strftime_micros("[%%f] [%%%f] [%f%f]", t), "[%f] [%767591] [767591767591]");
    assert_eq!(strftime_micros("%S.%f", 41_000_123_000), "41.000123");
}
