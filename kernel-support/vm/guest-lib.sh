#!/bin/sh
# Shared by the guest's check scripts (kprobe-test.sh, fentry-test.sh), which source it from PATH
# (guest.sh --with this file): exact checks, and vt started until its probes are live.
fails=0
check() { # NAME GOT WANT
    if [ "$2" = "$3" ]; then echo "check: $1: $2 ok"; else echo "check: $1: got '$2', want '$3' MISMATCH"; fails=$((fails+1)); fi
}
links() { ls -l /proc/$1/fd 2>/dev/null | grep -c 'bpf_link\|perf_event'; }
start() { # OUT N SCRIPT: vt running SCRIPT in the background until its N probes are attached.
    # A BEGIN printf shows once every probe is attached (vt runs BEGIN first and prints its output
    # after attaching): counting link fds alone let a workload start before the last probe was on.
    vt -e "$3
BEGIN { printf(\"vt-ready\\n\"); }" >/tmp/$1.out 2>/tmp/$1.err &
    VT=$!
    n=0
    until [ "$(links $VT)" -ge "$2" ] && grep -q "^vt-ready$" /tmp/$1.out; do
        n=$((n+1))
        if [ $n -gt 1200 ] || ! kill -0 $VT 2>/dev/null; then echo "vt did not attach:"; cat /tmp/$1.err; fails=$((fails+1)); return 1; fi
        sleep 0.05
    done
}
stop() { kill -INT $VT; wait $VT; echo "vt_rc=$?" >>/tmp/$1.err; }
val() { sed -n "s|^$2: *||p" /tmp/$1.out | head -1; }
ok_rc() { grep -q '^vt_rc=0$' /tmp/$1.err || { echo "vt failed:"; cat /tmp/$1.err; fails=$((fails+1)); }; }
# refused NAME PROGRAM WANTED-START-OF-THE-ERROR-LINE: vt refuses PROGRAM with one error whose first
# line starts so, a failure status and no panic.
refused() {
    vt -e "$2" >/tmp/r.out 2>/tmp/r.err
    rc=$?
    check "$1 (exit status)" "$([ $rc -ge 1 ] && [ $rc -lt 128 ] && echo failure || echo $rc)" failure
    line="$(grep -v '^Attaching' /tmp/r.err | head -1)"
    case "$line" in
        "$3"*) echo "check: $1: $line ok" ;;
        *) echo "check: $1: got '$line', want '$3...' MISMATCH"; cat /tmp/r.err; fails=$((fails+1)) ;;
    esac
    ! grep -q 'panick' /tmp/r.err || { echo "vt panicked"; fails=$((fails+1)); }
}
