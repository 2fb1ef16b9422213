#!/usr/bin/env bash
# The project's test command (README "Quick start"): installs what the tests need, then runs them all.
# As root the end-to-end tests load real BPF programs; elsewhere they skip with a loud message.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v bpftrace >/dev/null || need+=(bpftrace)
command -v bpftool >/dev/null || need+=(bpftool)
# prometheus and promtool: the --metrics tests scrape vt with a real Prometheus and lint the exposition.
command -v prometheus >/dev/null && command -v promtool >/dev/null || need+=(prometheus)
# <sys/sdt.h>: the workload's USDT probes (testkit/csrc/, built by testkit/build.rs with cc and ar).
echo '#include <sys/sdt.h>' | cc -E -x c - >/dev/null 2>&1 || need+=(systemtap-sdt-dev)
command -v cc >/dev/null && command -v ar >/dev/null && command -v nm >/dev/null || need+=(gcc binutils)
# The kernel's UAPI headers: lang/src/headers.rs's tests check its macro table against them.
[ -f /usr/include/linux/sched.h ] || need+=(linux-libc-dev)
# g++: the C++ program whose functions uprobes name by their demangled names (testkit/tests/demangle.rs).
command -v g++ >/dev/null || need+=(g++)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        echo "tests/run.sh: installing ${need[*]}" >&2
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    else
        echo "tests/run.sh: ${need[*]} missing and not root: the tests that need them will skip" >&2
    fi
fi

# kubernetes-validate (PyPI): deploy/validate.sh checks the DaemonSet against the Kubernetes schemas.
# (Debian's own pip3 refuses system-wide installs without --break-system-packages: PEP 668.)
command -v kubernetes-validate >/dev/null || { command -v pip3 >/dev/null &&
    { pip3 install -q kubernetes-validate || pip3 install -q --break-system-packages kubernetes-validate; }; } ||
    echo "tests/run.sh: kubernetes-validate missing: the deploy test will skip" >&2

cargo build --locked -p runtime --bin vt
cargo test --locked --workspace
