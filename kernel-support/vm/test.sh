#!/usr/bin/env bash
# Non-interactive check for CI: the 6.1 patch applies, and several VM runs
# (copy and zerocopy TX, one round and many, mixed sizes, 12- and 10-byte
# vnet headers, and the seed demo's tens of thousands of worker runs) account exactly: driver ==
# ftrace (== vt when vt builds); then one guest.sh run of kprobe-test.sh and fentry-test.sh (kprobes,
# kretprobes, fentry, fexit: exact).
#
#   kernel-support/vm/test.sh [--require-vt] [--no-vt]
# Exits non-zero on any mismatch or failed step.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pass=("$@")
fails=0
# One vt for every scenario: the first run builds it from the tree, the others boot that same
# binary (--vt-bin), so the scenarios agree even if the tree changes meanwhile.
reuse_vt=1
for a in "$@"; do [[ "$a" == --no-vt || "$a" == --vt-bin ]] && reuse_vt=0; done
cache="${KS_CACHE:-$here/../.cache}"
VT_COPY="$cache/vt.test"
SECONDS=0
run() {
    local name="$1"; shift
    echo "=== test: $name ($*)"
    local log
    log="$(mktemp)"
    if "$here/run.sh" -q "${pass[@]}" "$@" >"$log" 2>&1; then
        sed -n '/^----- kernel-support summary/,$p' "$log" | grep -E '^(traffic|ftrace|hist|metrics|timing|RESULT|vt):'
        if ((reuse_vt)) && grep -q '^check: vt @tx_pkts' "$log"; then
            cp "$cache/target/x86_64-unknown-linux-gnu/release/vt" "$VT_COPY" && pass+=(--vt-bin "$VT_COPY")
            reuse_vt=0
        fi
    else
        cat "$log"
        echo "=== test: $name FAILED"
        fails=$((fails + 1))
    fi
    rm -f "$log"
}
echo "=== test: check-patch"
"$here/../check-patch.sh" || fails=$((fails + 1))
run "one round, 256-byte frames" --tx 100 --rx 50 --size 256 --rounds
run "rounds, sizes spread 60..1514" --tx 1000 --rx 700 --size 60-1514 --rounds
run "zerocopy TX, size list" --tx 600 --rx 100 --size 64,300,1514 --zerocopy --rounds
run "10-byte legacy vnet header" --tx 50 --rx 30 --tx-size 128 --rx-size 1000 --legacy-hdr --rounds
# The Quick start's demo as it is: 30000 frames each way, 60 B..64 KiB, tens of thousands of runs.
run "the seed demo (run.sh's defaults)"
# Kprobes and kretprobes in one guest (kprobe-test.sh checks them there), with the scenarios' vt.
if [[ " ${pass[*]} " != *" --no-vt "* ]]; then
    echo "=== test: kprobes (guest.sh -- kprobe-test.sh)"
    t=$SECONDS
    vt_args=()
    for ((i = 0; i + 1 < ${#pass[@]}; i++)); do
        [[ "${pass[i]}" == --vt-bin ]] && vt_args=(--vt-bin "${pass[i + 1]}")
    done
    # bpftrace 0.17's kprobe tools (testkit/fixtures/tools), run unchanged in the same guest.
    for tool in vfsstat vfscount capable swapin biolatency xfsdist biostacks tcpconnect tcpaccept tcplife; do
        vt_args+=(--with "$here/../../testkit/fixtures/tools/$tool.bt")
    done
    log="$(mktemp)"
    # fentry-test.sh (fentry/fexit, kfunc/kretfunc, module BTF) runs in the same boot.
    if "$here/guest.sh" "${vt_args[@]}" --timeout 600 --with "$here/guest-lib.sh" --with "$here/kprobe-test.sh" --with "$here/fentry-test.sh" \
        -- sh -c 'kprobe-test.sh; k=$?; fentry-test.sh; exit $((k + $?))' >"$log" 2>&1; then
        grep -E '^(check|kprobe tests|fentry tests):' "$log" | grep -v ' ok$' || true
        echo "kprobes: $(grep -c '^check:.* ok$' "$log") checks ok ($((SECONDS - t))s)"
    else
        cat "$log"
        echo "=== test: kprobes FAILED"
        fails=$((fails + 1))
    fi
    rm -f "$log"
fi
if ((fails)); then echo "kernel-support tests: $fails FAILED (${SECONDS}s)"; exit 1; fi
echo "kernel-support tests: all passed (${SECONDS}s)"
