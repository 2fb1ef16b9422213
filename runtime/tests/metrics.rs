//! `vt --metrics`: the exposition of each aggregation (goldens in `golden/metrics/`, each accepted by
//! `promtool check metrics`), the HTTP edge (400, 404, 405, HEAD, slow and vanished clients,
//! concurrent scrapes that lose no event) and memory over 10,000 scrapes. The real Prometheus
//! scraping vt is `metrics_prometheus.rs`.

#[allow(dead_code)]
mod metrics_common;

use metrics_common::{raw, Served, OM};
use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use vt_testkit::*;

/// The exposition without vt's per-program statistics, which appear while any process holds the
/// kernel's BPF statistics on.
fn stable(body: &str) -> String {
    body.lines().filter(|l| !l.contains("vt_program_")).map(|l| format!("{l}\n")).collect()
}

/// `promtool check metrics` accepts `text` (lint included); skipped loudly without promtool.
pub fn promtool_accepts(test: &str, text: &str) {
    let Some(promtool) = on_path("promtool") else {
        skip(test, "promtool is not installed (tests/run.sh installs Debian's prometheus)");
        return;
    };
    let mut c = Command::new(promtool).args(["check", "metrics"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    c.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = c.wait_with_output().unwrap();
    assert!(out.status.success(), "promtool refuses:\n{}{}\n{text}", text_of(&out.stdout), text_of(&out.stderr));
}

fn text_of(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// One golden pair (`.prom`, `.om`) per aggregation, from a real vt whose BEGIN fills the maps.
const CASES: &[(&str, &str)] = &[
    ("count", "@calls = count(); @calls = count(); @calls = count(); @by_key[\"a\", 7] = count(); @by_key[\"b\", 7] = count(); @by_key[\"b\", 7] = count();"),
    ("sum", "@bytes = sum((uint64)5); @bytes = sum((uint64)7); @balance = sum(-3); @cleared = sum((uint64)1); clear(@cleared); @cleared = sum((uint64)2);"),
    ("min_max", "@lowest = min(-4); @lowest = min(9); @highest = max(-4); @highest = max(9);"),
    ("avg_stats", "@mean = avg((uint64)4); @mean = avg((uint64)8); @drift = avg(-6); @drift = avg(2); @spread = stats((uint64)10); @spread = stats((uint64)20);"),
    ("hist", "@sizes = hist((uint64)0); @sizes = hist((uint64)1); @sizes = hist((uint64)5); @sizes = hist((uint64)100); @delta = hist(-2); @delta = hist(3); @by_cpu[\"x\"] = hist((uint64)9);"),
    ("lhist", "@pct = lhist((uint64)3, 0, 10, 2); @pct = lhist((uint64)30, 0, 10, 2); @pct = lhist((uint64)7, 0, 10, 2); @temp = lhist(-20, -10, 10, 5); @temp = lhist(4, -10, 10, 5);"),
    ("values", "@level = 5; @offset = -5; @name[\"x\"] = \"vt\"; @pair = (1, \"a\"); @quoted[\"a\\\"b\\\\c\"] = 1;"),
];

#[test]
fn each_aggregation_has_a_golden_exposition_promtool_accepts() {
    if !bpf_ready("each_aggregation_has_a_golden_exposition_promtool_accepts") {
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/metrics");
    for (name, body) in CASES {
        let served = Served::start(&format!("BEGIN {{ {body} printf(\"ready\\n\"); }}"));
        let (head, prom) = served.get(None);
        assert!(head.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"), "{head}");
        let (head, om) = served.get(Some(OM));
        assert!(head.contains("Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8"), "{head}");
        assert!(om.ends_with("# EOF\n"), "{om}");
        let (_, err) = served.stop();
        assert!(err.starts_with("Attaching 1 probe"), "{err}");
        promtool_accepts("each_aggregation_has_a_golden_exposition_promtool_accepts", &prom);
        golden::check(&dir.join(format!("{name}.prom")), &stable(&prom));
        golden::check(&dir.join(format!("{name}.om")), &stable(&om));
    }
}

#[test]
fn bad_requests_get_400_404_405_and_head_gets_no_body() {
    if !bpf_ready("bad_requests_get_400_404_405_and_head_gets_no_body") {
        return;
    }
    let served = Served::start("BEGIN { @c = count(); printf(\"ready\\n\"); }");
    let p = served.port;
    assert!(raw(p, "GET / HTTP/1.1\r\n\r\n").0.starts_with("HTTP/1.1 404"));
    let (head, _) = raw(p, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 405") && head.contains("Allow: GET, HEAD"), "{head}");
    assert!(raw(p, "garbage\r\n\r\n").0.starts_with("HTTP/1.1 400"));
    assert!(raw(p, "GET /metrics HTTP/1.1\r\nbad header\r\n\r\n").0.starts_with("HTTP/1.1 400"));
    assert!(raw(p, &format!("GET /metrics HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(20_000))).0.starts_with("HTTP/1.1 400"));
    let (head, body) = raw(p, "HEAD /metrics HTTP/1.1\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 200") && body.is_empty(), "{head}");
    let (out, _) = served.stop();
    assert_eq!(out, "ready\n\n\n@c: 1\n");
}

/// Concurrent scrapes, a client that sends nothing, and clients that vanish mid-request do not stall
/// tracing: every call the workload makes is counted, in the exposition and in the exit print.
#[test]
fn scrapes_concurrent_slow_or_vanished_lose_no_event() {
    if !bpf_ready("scrapes_concurrent_slow_or_vanished_lose_no_event") {
        return;
    }
    let mut work = Workload::start("getppid 20000");
    let script = format!("tracepoint:syscalls:sys_enter_getppid /pid == {}/ {{ @calls = count(); }} BEGIN {{ printf(\"ready\\n\"); }}", work.pid());
    let served = Served::start(&script);
    let port = served.port;
    // Sends nothing and holds the connection.
    let _slow = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut half = TcpStream::connect(("127.0.0.1", port)).unwrap();
    half.write_all(b"GET /metr").unwrap();
    let scrapers: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(move || {
                for i in 0..50 {
                    if i % 10 == 0 {
                        // Asks, then vanishes before the answer.
                        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                        s.write_all(b"GET /metrics HTTP/1.1\r\n\r\n").unwrap();
                        continue;
                    }
                    let (head, body) = raw(port, "GET /metrics HTTP/1.1\r\n\r\n");
                    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
                    assert!(body.contains("vt_probes_attached 2"), "{body}");
                }
            })
        })
        .collect();
    work.release_and_wait();
    for s in scrapers {
        s.join().unwrap();
    }
    let (_, body) = served.get(None);
    assert!(body.contains("vt_calls_total 20000\n"), "{body}");
    assert!(body.contains("vt_lost_events_total 0\n"), "{body}");
    drop(half);
    let (out, _) = served.stop();
    assert_eq!(out, "ready\n\n\n@calls: 20000\n");
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok()).unwrap_or(0)
}

/// Memory stays flat: the resident size after 10,000 scrapes is within 4 MiB of that after 1,000.
#[test]
fn memory_stays_flat_over_ten_thousand_scrapes() {
    if !bpf_ready("memory_stays_flat_over_ten_thousand_scrapes") {
        return;
    }
    let served = Served::start("BEGIN { @h[1] = hist(5); @h[2] = hist(500); @c[\"x\"] = count(); printf(\"ready\\n\"); }");
    let pid = served.child.id();
    let mut after_1000 = 0;
    for i in 1..=10_000 {
        let accept = if i % 2 == 0 { Some(OM) } else { None };
        served.get(accept);
        if i == 1_000 {
            after_1000 = rss_kib(pid);
        }
    }
    let after = rss_kib(pid);
    served.stop();
    assert!(after_1000 > 0 && after <= after_1000 + 4096, "RSS {after_1000} KiB after 1,000 scrapes, {after} KiB after 10,000");
}

/// `--map-keys 10000`: a map of 10,000 keys is served and printed whole; with the default 4,096 the
/// updates beyond are dropped and counted.
#[test]
fn map_keys_holds_ten_thousand_keys() {
    if !bpf_ready("map_keys_holds_ten_thousand_keys") {
        return;
    }
    for (args, kept) in [(&["--map-keys", "10000"][..], 10_000), (&[][..], 4096)] {
        let mut work = Workload::start("getppid 10000");
        let script = format!(
            "tracepoint:syscalls:sys_enter_getppid /pid == {}/ {{ @i = @i + 1; @m[@i] = @i; }} BEGIN {{ printf(\"ready\\n\"); }}",
            work.pid()
        );
        let served = Served::start_with(args, &script);
        work.release_and_wait();
        let (_, body) = served.get(None);
        assert_eq!(body.lines().filter(|l| l.starts_with("vt_m{")).count(), kept, "{args:?}");
        let dropped = format!("vt_dropped_updates_total{{map=\"@m\"}} {}\n", 10_000 - kept);
        assert!(kept == 10_000 || body.contains(&dropped), "no {dropped} in the exposition");
        let (out, _) = served.stop();
        assert_eq!(out.lines().filter(|l| l.starts_with("@m[")).count(), kept, "{args:?}");
    }
}
