//! Goldens of the checked program (`lang::checked::dump`) beside the parse trees and the BPF listings:
//! what the checker decided, through the registry, for scripts that use every kind of entry.
//! `VT_BLESS=1 cargo test -p library --test checked` rewrites them; review `git diff testkit/golden`.

use lang::check::CheckOptions;
use lang::tracefs::Tracefs;
use vt_testkit::fixtures::TRACEFS;

fn checked(script: &str, params: &[&str]) -> String {
    let ast = lang::parse(script).unwrap_or_else(|d| panic!("{}", lang::render(&d, "t.vt", script)));
    let opts = CheckOptions { params: params.iter().map(|s| s.to_string()).collect(), named: Vec::new(), pid: Some(42), cpid: Some(7), bucket_sums: false, unsafe_allowed: false, cmd: None, kprobe_multi: false };
    let program = library::check(&ast, &mut Tracefs::new(TRACEFS), &opts).unwrap_or_else(|d| panic!("{}", lang::render(&d, "t.vt", script)));
    lang::checked::dump(&program)
}

fn golden(name: &str, actual: &str) {
    vt_testkit::golden::check(&vt_testkit::kit_dir().join("golden").join(name), actual);
}

/// Every aggregation, keyed and keyless; map reads and stores; a `-p` filter on the tracepoint only.
#[test]
fn aggregations_and_maps() {
    let script = r#"BEGIN { @start = nsecs; }
tracepoint:syscalls:sys_enter_write /args.count > 10/ {
  @c = count(); @s[comm] = sum(args.count); @neg = sum(-1); @mn = min(args.fd); @mx = max(args.fd);
  @a = avg(args.count); @st[pid, tid] = stats(args.count); @h = hist(args.count); @l = lhist(args.count, 0, 100, 10);
  @v[args.fd] = @v[args.fd] + 1; delete(@v[0]); print(@h, "bytes"); clear(@c); zero(@st);
}
interval:s:1 { print(@s, 5, 2); exit(); }"#;
    golden("aggregations_and_maps.checked", &checked(script, &[]));
}

/// Builtins and functions of the registry, variables, control flow, strings, tuples, casts,
/// positional parameters and the constants the checker folds (`probe`, `cpid`, `$#`).
#[test]
fn builtins_functions_and_statements() {
    let script = r#"tracepoint:syscalls:sys_enter_getppid, tracepoint:syscalls:sys_enter_write {
  $t = (comm, numaid, bswap((uint16)cpu)); $s = str($2); $n = $1 + $#;
  if ($s == "x" && has_key(@m, pid)) { @m[pid] = $t; } else { @m[pid] = ("y", 1, 2); }
  for ($i : 0..3) { $n += $i; } unroll(2) { $n++; }
  printf("%s %d %d %s %d\n", probe, cpid, elapsed / 1000, $s, (int8)$n > 0 ? uid : gid);
  time(); print($n); return;
}"#;
    golden("builtins_functions_and_statements.checked", &checked(script, &["3", "x"]));
}
