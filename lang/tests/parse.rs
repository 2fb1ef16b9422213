//! Golden tests of the parser: source text → S-expression, spans, and rendered syntax errors.

use lang::ast::*;
use lang::print::sexpr;

fn tree(src: &str) -> String {
    match lang::parse(src) {
        Ok(s) => sexpr(&s),
        Err(d) => panic!("parse failed:\n{}", lang::render(&d, "test.vt", src)),
    }
}

fn errors(src: &str) -> String {
    match lang::parse(src) {
        Ok(s) => panic!("parsed but should not have:\n{}", sexpr(&s)),
        Err(d) => lang::render(&d, "test.vt", src),
    }
}

/// Every syntax tree node's span, for comparing trees modulo spans.
fn strip(mut s: Script) -> Script {
    fn span0() -> Span {
        Span::default()
    }
    fn id(i: &mut Ident) {
        i.span = span0();
    }
    fn map(m: &mut MapRef) {
        m.span = span0();
        id(&mut m.name);
        m.keys.iter_mut().for_each(expr);
    }
    fn expr(e: &mut Expr) {
        e.span = span0();
        match &mut e.kind {
            ExprKind::Map(m) => map(m),
            ExprKind::Field { base, field, .. } => {
                expr(base);
                id(field);
            }
            ExprKind::Index { base, index } => {
                expr(base);
                expr(index);
            }
            ExprKind::Call { func, args } => {
                id(func);
                args.iter_mut().for_each(expr);
            }
            ExprKind::Unary { expr: x, .. } | ExprKind::Cast { expr: x, .. } => expr(x),
            ExprKind::Binary { lhs, rhs, .. } => {
                expr(lhs);
                expr(rhs);
            }
            ExprKind::Ternary { cond, then, otherwise } => {
                expr(cond);
                expr(then);
                expr(otherwise);
            }
            ExprKind::Tuple(items) => items.iter_mut().for_each(expr),
            ExprKind::Incr { target, .. } => expr(target),
            _ => {}
        }
        if let ExprKind::Cast { ty, .. } = &mut e.kind {
            id(ty);
        }
    }
    fn stmts(b: &mut [Stmt]) {
        for s in b {
            s.span = span0();
            match &mut s.kind {
                StmtKind::Expr(e) => expr(e),
                StmtKind::MapAssign { map: m, value } | StmtKind::MapCompound { map: m, value, .. } => {
                    map(m);
                    expr(value);
                }
                StmtKind::MapIncr { map: m, .. } | StmtKind::Delete { map: m } => map(m),
                StmtKind::VarAssign { var, value } | StmtKind::VarCompound { var, value, .. } => {
                    id(var);
                    expr(value);
                }
                StmtKind::VarIncr { var, .. } => id(var),
                StmtKind::If { cond, then, otherwise } => {
                    expr(cond);
                    stmts(then);
                    stmts(otherwise);
                }
                StmtKind::Unroll { count, body } => {
                    expr(count);
                    stmts(body);
                }
                StmtKind::For { var, lo, hi, body } => {
                    id(var);
                    expr(lo);
                    expr(hi);
                    stmts(body);
                }
                StmtKind::ForMap { var, map, body } => {
                    id(var);
                    id(map);
                    stmts(body);
                }
                StmtKind::While { cond, body } => {
                    expr(cond);
                    stmts(body);
                }
                StmtKind::Let { var, ty, value } => {
                    id(var);
                    if let Some(t) = ty {
                        id(t);
                    }
                    if let Some(v) = value {
                        expr(v);
                    }
                }
                StmtKind::Return | StmtKind::Break | StmtKind::Continue => {}
            }
        }
    }
    for p in &mut s.probes {
        p.span = span0();
        for sp in &mut p.specs {
            sp.span = span0();
            id(&mut sp.provider);
            sp.parts.iter_mut().for_each(id);
        }
        if let Some(e) = &mut p.predicate {
            expr(e);
        }
        stmts(&mut p.body);
    }
    s
}

const GOLDEN: &[(&str, &str)] = &[
    // The design card, both block forms.
    (
        "tracepoint:vhost_net:vhost_net_rx_end < @rx = hist(args.recv_pkts) >",
        "(probe (tracepoint vhost_net vhost_net_rx_end) (assign (map rx) (call hist (field args recv_pkts))))",
    ),
    (
        "tracepoint:vhost_net:vhost_net_rx_end { @rx = hist(args.recv_pkts) }",
        "(probe (tracepoint vhost_net vhost_net_rx_end) (assign (map rx) (call hist (field args recv_pkts))))",
    ),
    // Precedence and associativity.
    (
        "BEGIN { @ = 1 + 2 * 3 << 1 == 7 && !x || y }",
        "(probe (BEGIN) (assign (map @) (|| (&& (== (<< (+ 1 (* 2 3)) 1) 7) (! x)) y)))",
    ),
    ("BEGIN { @ = a | b ^ c & d }", "(probe (BEGIN) (assign (map @) (| a (^ b (& c d)))))"),
    ("BEGIN { @ = a - b - c }", "(probe (BEGIN) (assign (map @) (- (- a b) c)))"),
    ("BEGIN { @ = a / b % c * d }", "(probe (BEGIN) (assign (map @) (* (% (/ a b) c) d)))"),
    ("BEGIN { @ = a < b == c >= d }", "(probe (BEGIN) (assign (map @) (== (< a b) (>= c d))))"),
    ("BEGIN { @ = a != b > c <= d }", "(probe (BEGIN) (assign (map @) (!= a (<= (> b c) d))))"),
    ("BEGIN { @ = a >> 1 + 2 }", "(probe (BEGIN) (assign (map @) (>> a (+ 1 2))))"),
    ("BEGIN { @ = (1 + 2) * 3 }", "(probe (BEGIN) (assign (map @) (* (+ 1 2) 3)))"),
    ("BEGIN { @ = -~!x - -1 }", "(probe (BEGIN) (assign (map @) (- (- (~ (! x))) (- 1))))"),
    // bpftrace 0.17's while, ++/-- values, 1e6; 0.2x's begin/end, let, break/continue, interval:1s.
    (
        "BEGIN { while ($i < 3) { $i++; if ($i) { continue } break } printf(\"%d\", @x++ + --$y) }",
        "(probe (BEGIN) (while (< $i 3) (++ $i) (if $i (then (continue))) (break)) (call printf \"%d\" (+ (post++ (map x)) (pre-- $y))))",
    ),
    ("begin { let $x: uint8 = 1e3; let $s; }", "(probe (BEGIN) (let $x : uint8 1000) (let $s))"),
    ("end { }", "(probe (END))"),
    ("interval:1s { $t = (1, 2); @ = $t.1 }", "(probe (interval s 1) (assign $t (tuple 1 2)) (assign (map @) (field $t 1)))"),
    // Ternary (right associative, lowest precedence).
    ("BEGIN { $x = a ? b : c ? d : e }", "(probe (BEGIN) (assign $x (? a b (? c d e))))"),
    ("BEGIN { $x = a || b ? 1 + 1 : 2 }", "(probe (BEGIN) (assign $x (? (|| a b) (+ 1 1) 2)))"),
    // Casts bind like unary operators; a parenthesised non-type is an expression.
    (
        "BEGIN { $x = (uint8) args.x + (int64)-1; $y = (u16)$z; $w = (x) + 1 }",
        "(probe (BEGIN) (assign $x (+ (cast uint8 (field args x)) (cast int64 (- 1)))) (assign $y (cast u16 $z)) (assign $w (+ x 1)))",
    ),
    // Tuples and literals: hex, octal, characters, strings with escapes.
    (
        r#"BEGIN { $w = (a, "b", 0x1F, 017, 0, 'a', '\n', 18446744073709551615) }"#,
        r#"(probe (BEGIN) (assign $w (tuple a "b" 31 15 0 97 10 18446744073709551615)))"#,
    ),
    (
        r#"BEGIN { printf("a\tb\\c\"d\0e\x41\101\n", pid) }"#,
        r#"(probe (BEGIN) (call printf "a\tb\\c\"d\x00eAA\n" pid))"#,
    ),
    // Fields, arrows, indexing, maps, variables, positionals, builtins.
    (
        "BEGIN { @x = args->ptr->f; @y = args.arr[2]; @z = $t.0; @w = @m[1][2]; print($1, $#, $name, nsecs) }",
        "(probe (BEGIN) (assign (map x) (arrow (arrow args ptr) f)) (assign (map y) (index (field args arr) 2)) (assign (map z) (field $t 0)) (assign (map w) (index (map m 1) 2)) (call print $1 $# $name nsecs))",
    ),
    // All statement forms.
    (
        "BEGIN { @a = 1; @b[pid, comm] = count(); @ = 2; $v = 3; @a += 1; @a -= 1; @a *= 2; @a /= 2; @a %= 2; \
         @a &= 1; @a |= 1; @a ^= 1; @a <<= 1; @a >>= 1; $v += 1; $v >>= 2; @a++; @a--; ++@a; --@b[1]; $v++; $v--; \
         ++$v; delete(@b[1, 2]); delete(@b, 3); delete(@b, (4, 5)); return; exit(); print(@a); clear(@a) }",
        "(probe (BEGIN) (assign (map a) 1) (assign (map b pid comm) (call count)) (assign (map @) 2) (assign $v 3) \
(+= (map a) 1) (-= (map a) 1) (*= (map a) 2) (/= (map a) 2) (%= (map a) 2) (&= (map a) 1) (|= (map a) 1) \
(^= (map a) 1) (<<= (map a) 1) (>>= (map a) 1) (+= $v 1) (>>= $v 2) (++ (map a)) (-- (map a)) (++ (map a)) \
(-- (map b 1)) (++ $v) (-- $v) (++ $v) (delete (map b 1 2)) (delete (map b 3)) (delete (map b 4 5)) (return) \
(call exit) (call print (map a)) (call clear (map a)))",
    ),
    (
        "BEGIN { if (a) { @x = 1 } else if (b > 1) { @x = 2; } else { @x = 3 } if (c) { exit() } @z = 1 }",
        "(probe (BEGIN) (if a (then (assign (map x) 1)) (else (if (> b 1) (then (assign (map x) 2)) (else (assign (map x) 3))))) (if c (then (call exit))) (assign (map z) 1))",
    ),
    (
        "BEGIN { unroll(3) { $x <<= 2 } for ($i : 0..10) { @[$i] = $i } }",
        "(probe (BEGIN) (unroll 3 (<<= $x 2)) (for $i 0 10 (assign (map @ $i) $i)))",
    ),
    // Empty statements, trailing `;`, empty bodies.
    ("BEGIN { ; ; @x = 1;; ; } END {}", "(probe (BEGIN) (assign (map x) 1))\n(probe (END))"),
    // Comments, a shebang, whitespace and newlines anywhere.
    (
        "#!/usr/bin/env vt\n// counts\nBEGIN /* start */ {\n  @x = // one\n 1 /* two */ + 2;\n}\n/* end */",
        "(probe (BEGIN) (assign (map x) (+ 1 2)))",
    ),
    // Multiple probes, multiple specs, a predicate, wildcards, intervals, paths.
    (
        "kprobe:vfs_read, uprobe:/bin/bash:readline, tracepoint:syscalls:sys_enter_*, t:sched:*, t:sc?ed:x \
         /pid == 1 && comm != \"sh\"/ { @[probe] = count() } interval:ms:100 { print(@) } interval:hz:99 {} i:s:1 {}",
        "(probe (kprobe vfs_read) (uprobe /bin/bash readline) (tracepoint syscalls sys_enter_*) (t sched *) (t sc?ed x) \
(pred (&& (== pid 1) (!= comm \"sh\"))) (assign (map @ probe) (call count)))\n(probe (interval ms 100) (call print (map @)))\n\
(probe (interval hz 99))\n(probe (i s 1))",
    ),
    // Division inside a predicate.
    ("t:a:b /pid / 2 == 1/ { }", "(probe (t a b) (pred (== (/ pid 2) 1)))"),
    // The angle form: `>` is greater-than unless another probe starts after it.
    (
        "BEGIN < @x = a >= b; @y = (a > b); @z = a > b > END { }",
        "(probe (BEGIN) (assign (map x) (>= a b)) (assign (map y) (> a b)) (assign (map z) (> a b)))\n(probe (END))",
    ),
    (
        "BEGIN < @x = a > t:a:b < @y = c ? a > b : d > END < exit() >",
        "(probe (BEGIN) (assign (map x) a))\n(probe (t a b) (assign (map y) (? c (> a b) d)))\n(probe (END) (call exit))",
    ),
    ("t:a:b /pid > 1/ < @[comm] = count() >", "(probe (t a b) (pred (> pid 1)) (assign (map @ comm) (call count)))"),
    // A config block (bpftrace 0.20+), before the probes; `;` between options, optional after the last.
    (
        "config = { missing_probes = ignore; max_strlen = 64 } BEGIN { }",
        "(config (missing_probes ignore) (max_strlen 64))\n(probe (BEGIN))",
    ),
    ("config = {} BEGIN { }", "(probe (BEGIN))"),
];

#[test]
fn golden_trees() {
    let mut failures = String::new();
    for (src, want) in GOLDEN {
        let got = tree(src);
        if got.trim_end() != want.trim_end() {
            failures.push_str(&format!("source: {src}\n  want: {want}\n   got: {}\n", got.trim_end()));
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

#[test]
fn angle_form_is_the_braces_form() {
    let angle = lang::parse("tracepoint:vhost_net:vhost_net_rx_end < @rx = hist(args.recv_pkts) >").unwrap();
    let brace = lang::parse("tracepoint:vhost_net:vhost_net_rx_end { @rx = hist(args.recv_pkts) }").unwrap();
    assert_eq!(strip(angle), strip(brace));
    let angle = lang::parse("BEGIN < @a = 1; if (x) { @b = (y > 2) } >").unwrap();
    let brace = lang::parse("BEGIN { @a = 1; if (x) { @b = (y > 2) } }").unwrap();
    assert_eq!(strip(angle), strip(brace));
}

fn text(src: &str, s: Span) -> &str {
    &src[s.start..s.end]
}

#[test]
fn spans() {
    let src = "tracepoint:vhost_net:vhost_net_rx_end /pid > 1/ < @rx[comm] = hist(args.recv_pkts) >\nBEGIN { $v = (1 + 2) * 3; }";
    let s = lang::parse(src).unwrap();
    let p = &s.probes[0];
    assert_eq!(text(src, p.span), &src[..src.find('\n').unwrap()]);
    assert_eq!(text(src, p.specs[0].span), "tracepoint:vhost_net:vhost_net_rx_end");
    assert_eq!(text(src, p.specs[0].provider.span), "tracepoint");
    assert_eq!(text(src, p.specs[0].parts[1].span), "vhost_net_rx_end");
    assert_eq!(text(src, p.predicate.as_ref().unwrap().span), "pid > 1");
    let StmtKind::MapAssign { map, value } = &p.body[0].kind else { panic!("not a map assignment") };
    assert_eq!(text(src, p.body[0].span), "@rx[comm] = hist(args.recv_pkts)");
    assert_eq!(text(src, map.span), "@rx[comm]");
    assert_eq!(map.name.name, "rx");
    assert_eq!(text(src, map.name.span), "rx");
    assert_eq!(text(src, map.keys[0].span), "comm");
    assert_eq!(text(src, value.span), "hist(args.recv_pkts)");
    let ExprKind::Call { func, args } = &value.kind else { panic!("not a call") };
    assert_eq!(text(src, func.span), "hist");
    assert_eq!(text(src, args[0].span), "args.recv_pkts");
    let ExprKind::Field { base, field, arrow } = &args[0].kind else { panic!("not a field") };
    assert!(!arrow);
    assert_eq!(text(src, base.span), "args");
    assert_eq!(text(src, field.span), "recv_pkts");
    assert_eq!(field.span, Span::new(src.find("recv_pkts").unwrap(), src.find("recv_pkts").unwrap() + 9));

    let StmtKind::VarAssign { var, value } = &s.probes[1].body[0].kind else { panic!("not a var assignment") };
    assert_eq!(var.name, "v");
    assert_eq!(text(src, var.span), "v");
    assert_eq!(text(src, value.span), "(1 + 2) * 3");
    let ExprKind::Binary { lhs, .. } = &value.kind else { panic!("not binary") };
    assert_eq!(text(src, lhs.span), "(1 + 2)");
}

#[test]
fn anonymous_map_has_an_empty_name() {
    let src = "BEGIN { @ = count(); @[1] = 2 }";
    let s = lang::parse(src).unwrap();
    for st in &s.probes[0].body {
        let StmtKind::MapAssign { map, .. } = &st.kind else { panic!() };
        assert_eq!(map.name.name, "");
        assert_eq!(map.name.span.start, map.name.span.end);
    }
}

#[test]
fn error_missing_closing_brace() {
    assert_eq!(
        errors("BEGIN {\n  printf(\"hi\\n\");\n  exit()\n"),
        "\
test.vt:3:9: error: expected `;` or `}`, found end of input
    3 |   exit()
      |         ^ expected `;` or `}`
hint: the `{` at 1:7 is never closed; add `}`
"
    );
    assert_eq!(
        errors("BEGIN { if (x) { exit(); }\n"),
        "\
test.vt:1:27: error: expected a statement, `else` or `}`, found end of input
    1 | BEGIN { if (x) { exit(); }
      |                           ^ expected a statement, `else` or `}`
hint: the `{` at 1:7 is never closed; add `}`
"
    );
}

#[test]
fn error_block_left_open_before_the_next_probe() {
    assert_eq!(
        errors("BEGIN { @x = 1\nEND { }"),
        "\
test.vt:2:1: error: expected `;` or `}`, found `END`
    2 | END { }
      | ^^^ expected `;` or `}`
hint: the `{` at 1:7 is never closed; add `}`
"
    );
}

#[test]
fn error_stray_token() {
    assert_eq!(
        errors("BEGIN { printf(\"hi\") exit() }"),
        "\
test.vt:1:22: error: expected `;` or `}`, found `exit`
    1 | BEGIN { printf(\"hi\") exit() }
      |                      ^^^^ expected `;` or `}`
hint: statements are separated by `;`, as in `{ @c = count(); printf(\"%d\\n\", pid) }`
"
    );
    assert_eq!(
        errors("BEGIN { @x = 1; } }"),
        "\
test.vt:1:19: error: expected a probe or end of input, found `}`
    1 | BEGIN { @x = 1; } }
      |                   ^ expected a probe or end of input
hint: a probe is written `tracepoint:CATEGORY:NAME /predicate/ { statements }`
"
    );
    assert_eq!(
        errors("t:a:b < @x = 1 2 >"),
        "\
test.vt:1:16: error: expected `;` or `>`, found `2`
    1 | t:a:b < @x = 1 2 >
      |                ^ expected `;` or `>`
hint: statements are separated by `;`, as in `{ @c = count(); printf(\"%d\\n\", pid) }`
"
    );
    assert_eq!(
        errors("BEGIN exit()"),
        "\
test.vt:1:7: error: expected a predicate `/.../` or a block `{ ... }`, found `exit`
    1 | BEGIN exit()
      |       ^^^^ expected a predicate `/.../` or a block `{ ... }`
hint: a probe is written `tracepoint:CATEGORY:NAME /predicate/ { statements }`
"
    );
    assert_eq!(
        errors("BEGIN {\n\t@x = ;\n}"),
        "\
test.vt:2:7: error: expected an expression, found `;`
    2 | \t@x = ;
      | \t     ^ expected an expression
hint: an expression is a number, a \"string\", a builtin such as `pid`, `args.FIELD`, `@map[key]`, `$var` or a call `f(...)`
"
    );
    assert_eq!(
        errors("BEGIN { if { } }"),
        "\
test.vt:1:12: error: expected an expression, found `{`
    1 | BEGIN { if { } }
      |            ^ expected an expression
hint: an expression is a number, a \"string\", a builtin such as `pid`, `args.FIELD`, `@map[key]`, `$var` or a call `f(...)`
"
    );
}

#[test]
fn error_unterminated_string() {
    assert_eq!(
        errors("BEGIN {\n  printf(\"hello\n}\n"),
        "\
test.vt:2:10: error: unterminated string
    2 |   printf(\"hello
      |          ^^^^^^ this string has no closing `\"`
hint: add `\"` before the end of the line
"
    );
}

#[test]
fn error_bad_numbers() {
    assert_eq!(
        errors("BEGIN { @x = 12ab; @y = 0x; @z = 018 }"),
        "\
test.vt:1:14: error: invalid number `12ab`
    1 | BEGIN { @x = 12ab; @y = 0x; @z = 018 }
      |              ^^^^ not a decimal number
hint: numbers are decimal (`42`), hexadecimal (`0x2a`) or octal with a leading zero (`052`)
test.vt:1:25: error: invalid number `0x`
    1 | BEGIN { @x = 12ab; @y = 0x; @z = 018 }
      |                         ^^ not a hexadecimal number
hint: numbers are decimal (`42`), hexadecimal (`0x2a`) or octal with a leading zero (`052`)
test.vt:1:34: error: invalid number `018`
    1 | BEGIN { @x = 12ab; @y = 0x; @z = 018 }
      |                                  ^^^ not a octal number
hint: numbers are decimal (`42`), hexadecimal (`0x2a`) or octal with a leading zero (`052`)
"
    );
    assert_eq!(
        errors("BEGIN { @x = 18446744073709551616 }"),
        "\
test.vt:1:14: error: integer literal `18446744073709551616` is too large
    1 | BEGIN { @x = 18446744073709551616 }
      |              ^^^^^^^^^^^^^^^^^^^^ does not fit in 64 bits
hint: the largest integer is 18446744073709551615
"
    );
}

#[test]
fn error_bad_escapes_and_chars() {
    assert_eq!(
        errors("BEGIN { printf(\"a\\qb\"); @c = 'ab' }"),
        "\
test.vt:1:18: error: unknown escape `\\q`
    1 | BEGIN { printf(\"a\\qb\"); @c = 'ab' }
      |                  ^^ unknown escape
hint: known escapes: \\n \\t \\r \\\\ \\\" \\' \\0 \\NNN (octal) \\xNN
test.vt:1:30: error: a character literal holds exactly one ASCII character
    1 | BEGIN { printf(\"a\\qb\"); @c = 'ab' }
      |                              ^^^^ not one character
hint: use double quotes for strings
"
    );
}

#[test]
fn line_col_counts_characters() {
    let src = "ab\nçé x\n";
    assert_eq!(lang::line_col(src, 0), (1, 1));
    assert_eq!(lang::line_col(src, 3), (2, 1));
    assert_eq!(lang::line_col(src, src.find('x').unwrap()), (2, 4));
    assert_eq!(lang::line_col(src, src.len()), (3, 1));
}
