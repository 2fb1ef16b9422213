//! A real Prometheus (Debian's `prometheus`, installed by tests/run.sh) scrapes `vt --metrics`
//! tracing a workload of known shape — 100 writes of 1, 2, …, 100 bytes — and its HTTP API answers:
//! the counter equals the events caused, the histogram's buckets equal vt's own printed histogram,
//! `_sum` and `_count` are exact, and `histogram_quantile` falls in the right bucket. And
//! deploy/prometheus.yml's relabeling turns the cgroup paths of pods' containers into pod_uid and
//! container_id.

#[allow(dead_code)]
mod metrics_common;

use metrics_common::{free_port, raw, Served, TestCgroup};
use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use vt_testkit::*;

struct Prometheus {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Prometheus {
    fn start(bin: &std::path::Path, target_port: u16) -> Prometheus {
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: vt\n    static_configs:\n      - targets: ['127.0.0.1:{target_port}']\n"
        );
        Prometheus::start_with(bin, target_port, &config)
    }

    fn start_with(bin: &std::path::Path, target_port: u16, config: &str) -> Prometheus {
        let dir = std::env::temp_dir().join(format!("vt-prometheus-{}-{target_port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("prometheus.yml"), config).unwrap();
        let port = free_port();
        let child = Command::new(bin)
            .arg(format!("--config.file={}", dir.join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus starts");
        Prometheus { child, port, _dir: TempDir(dir) }
    }

    /// An instant query's result vector: (labels, value).
    fn query(&self, q: &str) -> Vec<(BTreeMap<String, String>, f64)> {
        let encoded: String = q
            .bytes()
            .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect();
        let (head, body) = raw(self.port, &format!("GET /api/v1/query?query={encoded} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
        if !head.starts_with("HTTP/1.1 200") {
            return Vec::new();
        }
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        v["data"]["result"]
            .as_array()
            .map(|rs| {
                rs.iter()
                    .map(|r| {
                        let labels = r["metric"].as_object().map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string())).collect()).unwrap_or_default();
                        let value = r["value"][1].as_str().and_then(|s| s.parse().ok()).unwrap_or(f64::NAN);
                        (labels, value)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Waits until `q` answers exactly one sample equal to `want`.
    fn wait_for(&self, q: &str, want: f64) {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            // The API may not be up yet: a refused connection is a retry.
            let got = std::panic::catch_unwind(|| self.query(q)).unwrap_or_default();
            if got.len() == 1 && got[0].1 == want {
                return;
            }
            assert!(Instant::now() < deadline, "Prometheus never answered {q} = {want}: {got:?}");
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

/// vt's printed histogram (`[lo, hi)  count |@@@|` lines) as cumulative counts at each integer upper
/// bound `hi - 1` (`[0]` → 0, `[1]` → 1).
fn printed_cumulative(text: &str) -> BTreeMap<i64, u64> {
    let mut out = BTreeMap::new();
    let mut total = 0;
    for line in text.lines().filter(|l| l.starts_with('[')) {
        let (range, rest) = line.split_once(']').or_else(|| line.split_once(')')).unwrap();
        let count: u64 = rest.trim_start_matches(')').split_whitespace().next().unwrap().parse().unwrap();
        let range = range.trim_start_matches('[');
        let le = match range.split_once(", ") {
            Some((_, hi)) => parse_si(hi.trim_end_matches(')')) - 1,
            None => range.parse().unwrap(),
        };
        total += count;
        out.insert(le, total);
    }
    out
}

fn parse_si(s: &str) -> i64 {
    let (n, mult) = match s.chars().last() {
        Some('K') => (&s[..s.len() - 1], 1 << 10),
        Some('M') => (&s[..s.len() - 1], 1 << 20),
        Some('G') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    n.parse::<i64>().unwrap() * mult
}

#[test]
fn prometheus_scrapes_exact_counts_buckets_and_quantiles() {
    if !bpf_ready("prometheus_scrapes_exact_counts_buckets_and_quantiles") {
        return;
    }
    let Some(bin) = on_path("prometheus") else {
        skip("prometheus_scrapes_exact_counts_buckets_and_quantiles", "prometheus is not installed (tests/run.sh installs Debian's prometheus)");
        return;
    };
    let mut work = Workload::start("writes 100");
    let script = format!(
        "tracepoint:syscalls:sys_enter_write /pid == {}/ {{ @writes = count(); @bytes = hist(args.count); }} BEGIN {{ printf(\"ready\\n\"); }}",
        work.pid()
    );
    let served = Served::start(&script);
    work.release_and_wait();
    let prom = Prometheus::start(&bin, served.port);
    prom.wait_for("vt_writes_total", 100.0);
    prom.wait_for("vt_bytes_count", 100.0);
    prom.wait_for("vt_bytes_sum", 5050.0);
    let buckets: BTreeMap<String, f64> = prom.query("vt_bytes_bucket").into_iter().map(|(l, v)| (l["le"].clone(), v)).collect();
    let q = prom.query("histogram_quantile(0.5, vt_bytes_bucket)");
    let (out, _) = served.stop();
    // vt's own histogram, as printed at exit: each of its buckets is a Prometheus bucket.
    let printed = printed_cumulative(out.split("@bytes:").nth(1).expect("@bytes printed"));
    assert_eq!(printed.get(&127), Some(&100), "{out}");
    for (le, cumulative) in &printed {
        assert_eq!(buckets.get(&le.to_string()), Some(&(*cumulative as f64)), "le={le}: {buckets:?}\n{out}");
    }
    assert_eq!(buckets.get("+Inf"), Some(&100.0));
    // 1..=100: the 50th value lies in [32, 64), the bucket le=63.
    assert_eq!(q.len(), 1, "{q:?}");
    assert!(q[0].1 > 31.0 && q[0].1 <= 63.0, "median {q:?}");
}

/// deploy/prometheus.yml, as shipped but for its targets and interval, scrapes a map keyed by
/// `cgroup_path(cgroup, "unified")` for workloads in cgroups named as the kubelet names them (systemd
/// and cgroupfs drivers): each sample gets the pod's UID and the container's ID.
#[test]
fn deploy_relabeling_gives_pod_uid_and_container_id() {
    let test = "deploy_relabeling_gives_pod_uid_and_container_id";
    if !bpf_ready(test) {
        return;
    }
    let Some(bin) = on_path("prometheus") else {
        skip(test, "prometheus is not installed (tests/run.sh installs Debian's prometheus)");
        return;
    };
    let id_a = "0123456789abcdef".repeat(4);
    let id_b = "fedcba9876543210".repeat(4);
    let top = format!("vt-test-relabel-{}", std::process::id());
    let systemd = format!(
        "{top}/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0123abcd_4567_89ab_cdef_0123456789ab.slice/cri-containerd-{id_a}.scope"
    );
    let cgroupfs = format!("{top}/kubepods/besteffort/podfedcba98-7654-3210-fedc-ba9876543210/{id_b}");
    let (Some(a), Some(b)) = (TestCgroup::make(&systemd), TestCgroup::make(&cgroupfs)) else {
        skip(test, "no cgroup2 mount where cgroups can be made");
        return;
    };
    let mut wa = Workload::start("getppid 3");
    let mut wb = Workload::start("getppid 5");
    a.enter(wa.pid());
    b.enter(wb.pid());
    let script = format!(
        "tracepoint:syscalls:sys_enter_getppid /pid == {} || pid == {}/ {{ @calls[cgroup_path(cgroup, \"unified\")] = count(); }} BEGIN {{ printf(\"ready\\n\"); }}",
        wa.pid(),
        wb.pid()
    );
    let served = Served::start(&script);
    wa.release_and_wait();
    wb.release_and_wait();
    let shipped = std::fs::read_to_string(workspace_root().join("deploy/prometheus.yml")).unwrap();
    let config = shipped
        .replace("scrape_interval: 15s", "scrape_interval: 1s\n  scrape_timeout: 1s")
        .replace("[\"host-a:9464\", \"host-b:9464\"]", &format!("[\"127.0.0.1:{}\"]", served.port));
    assert_ne!(config, shipped, "deploy/prometheus.yml no longer has the lines this test replaces");
    let prom = Prometheus::start_with(&bin, served.port, &config);
    prom.wait_for("count(vt_calls_total)", 2.0);
    let mut got: Vec<(String, String, f64)> = prom
        .query("vt_calls_total")
        .into_iter()
        .map(|(l, v)| (l.get("pod_uid").cloned().unwrap_or_default(), l.get("container_id").cloned().unwrap_or_default(), v))
        .collect();
    got.sort_by(|x, y| x.0.cmp(&y.0));
    served.stop();
    assert_eq!(
        got,
        vec![
            ("0123abcd-4567-89ab-cdef-0123456789ab".to_string(), id_a.clone(), 3.0),
            ("fedcba98-7654-3210-fedc-ba9876543210".to_string(), id_b.clone(), 5.0),
        ]
    );
}
