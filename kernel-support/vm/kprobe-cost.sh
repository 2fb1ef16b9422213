#!/bin/sh
# Per-event cost of a kprobe, fentry and fexit in the guest (guest.sh --with this file --
# kprobe-cost.sh [N]): N getppid calls with nothing attached, then under each of the programs below;
# prints ns per call and the extra cost per event as a ratio of the bare syscall's (TCG: compare
# ratios, not absolute times). __x64_sys_getppid and __do_sys_getppid are one function in 6.1
# (kallsyms has the wrapper's name, BTF the body's).
N=${1:-200000}
# Nanoseconds (busybox's date has no %N): the kernel's clock as /proc/timer_list shows it.
now() { awk '/^now at/ { print $3; exit }' /proc/timer_list; }
run() { # LABEL [PROGRAM]: ns per getppid call, best of 3
    if [ -n "$2" ]; then
        vt -e "$2" >/dev/null 2>/tmp/cost.err &
        V=$!
        until [ "$(ls -l /proc/$V/fd 2>/dev/null | grep -c 'bpf_link\|perf_event')" -ge 1 ]; do
            kill -0 $V 2>/dev/null || { cat /tmp/cost.err; return; }
            sleep 0.05
        done
    fi
    best=
    for i in 1 2 3; do
        t0=$(now); shapes --now getppid $N; t1=$(now)
        ns=$(( (t1 - t0) / N ))
        [ -z "$best" ] || [ $ns -lt $best ] && best=$ns
    done
    [ -n "$2" ] && { kill -INT $V; wait $V; }
    echo "$best"
}
base=$(run none)
echo "cost: $N getppid calls, best of 3, ns per call (TCG)"
echo "cost: nothing attached                      $base"
for p in 'kprobe:__x64_sys_getppid { }' \
         'kprobe:__x64_sys_getppid { @ = count(); }' \
         'kretprobe:__x64_sys_getppid { @ = count(); }' \
         'fentry:__do_sys_getppid { }' \
         'fentry:__do_sys_getppid { @ = count(); }' \
         'fexit:__do_sys_getppid { @ = count(); }' \
         'tracepoint:syscalls:sys_enter_getppid { @ = count(); }'; do
    t=$(run x "$p")
    printf 'cost: %-42s %s (+%s ns, %s x the bare call)\n' "$p" "$t" $((t - base)) "$(awk -v a=$((t - base)) -v b=$base 'BEGIN { printf "%.2f", a / b }')"
done
