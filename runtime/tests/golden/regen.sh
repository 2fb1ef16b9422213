#!/bin/sh
# Regenerate the golden outputs from real bpftrace 0.17 (needs root):
#   sudo runtime/tests/golden/regen.sh
# Each NAME.bt is run as `bpftrace NAME.bt > NAME.out`; stdout only (stderr holds warnings).
# The tests in runtime/tests/format_golden.rs rebuild the same maps by hand and compare byte for byte.
set -e
cd "$(dirname "$0")"
bpftrace --version | grep -q 'v0.17' || { echo "want bpftrace v0.17, got: $(bpftrace --version)" >&2; exit 1; }
for bt in *.bt; do
  out="${bt%.bt}.out"
  case "$bt" in
    tracepoint.bt) timeout 60 bpftrace "$bt" -c '/bin/sh ./tracepoint_workload.sh' > "$out" 2> /dev/null ;;
    *) timeout 60 bpftrace "$bt" > "$out" 2> /dev/null ;;
  esac
  echo "wrote $out"
done
