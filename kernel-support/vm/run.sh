#!/usr/bin/env bash
# Boot Debian's 6.1 kernel in QEMU (TCG) with the patched vhost_net.ko, drive
# a known number of packets through /dev/vhost-net, trace them with ftrace
# and with vt, and check that every count agrees.
#
#   kernel-support/vm/run.sh [--tx N] [--rx N] [--size SPEC] [--tx-size SPEC] [--rx-size SPEC]
#                            [--burst SPEC | --rounds] [--ring N] [--zerocopy] [--legacy-hdr] [--no-vt] [--require-vt]
#                            [--script FILE.vt]... [--vt-bin PATH] [--log FILE] [--quiet|--console]
#                            [--bzimage] [--smp N] [--timeout SECONDS]
#
# By default the seed's traffic: 30000 frames each way of 60 bytes to 64 KiB (mostly 8-16 KiB), in
# bursts of mostly one frame, so the vhost worker runs tens of thousands of times (SEED_SIZES and
# SEED_BURST below; --rounds: the driver's old mode, rounds of --ring frames, few worker runs).
# Prints the checks, then scripts/vhost.vt's four histograms as the guest printed them (not with
# --quiet; --console prints the whole guest console too). Exit status: 0 when all checks pass, 1 on
# a mismatch or a failed step. Installs what it needs (apt-get; Rust/cargo must be there) and keeps
# downloads and builds in kernel-support/.cache/ (KS_CACHE=DIR to move it, KS_DEB_CACHE=DIR to share
# the downloaded kernel .debs).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The seed's shape (its rx total_len: 82 % of runs in [8K, 16K), 11 % in [4K, 8K), a few down to 32
# and up to 256K; its recv_pkts: 92 % one packet, 8 % two or three, a few to 31), as vhost-traffic's
# random: specs (a term picked with probability W/sum(W), then a size log-uniformly in A-B).
SEED_SIZES='random:78@8192-16383,11@4096-8191,3@2048-4095,3@1024-2047,2@60-1023,2@16384-32767,1@32768-65535'
SEED_BURST='random:90@1,8@2-3,1@4-7,1@8-32'
TX=30000 RX=30000 TX_SIZE="$SEED_SIZES" RX_SIZE="$SEED_SIZES" BURST="$SEED_BURST" RING=256 ZEROCOPY=0 LEGACY_HDR=0
USE_VT=auto QUIET=0 CONSOLE=0 BZIMAGE=0 SMP=2 LOG= TIMEOUT=180 VT_PREBUILT=
EXTRA_SCRIPTS=()
while (($#)); do
    case "$1" in
        --tx) TX="$2"; shift ;;
        --rx) RX="$2"; shift ;;
        --size) TX_SIZE="$2"; RX_SIZE="$2"; shift ;;
        --tx-size) TX_SIZE="$2"; shift ;;
        --rx-size) RX_SIZE="$2"; shift ;;
        --burst) BURST="$2"; shift ;;
        --rounds) BURST= ;;
        --ring) RING="$2"; shift ;;
        --zerocopy) ZEROCOPY=1 ;;
        --legacy-hdr) LEGACY_HDR=1 ;;
        --no-vt) USE_VT=no ;;
        --require-vt) USE_VT=yes ;;
        --script) EXTRA_SCRIPTS+=("$2"); shift ;;
        --vt-bin) VT_PREBUILT="$2"; shift ;;
        --log) LOG="$2"; shift ;;
        --timeout) TIMEOUT="$2"; shift ;;
        -q|--quiet) QUIET=1 ;;
        --console) CONSOLE=1 ;;
        --bzimage) BZIMAGE=1 ;;
        --smp) SMP="$2"; shift ;;
        -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) ks_die "unknown argument $1 (see --help)" ;;
    esac
    shift
done

t_start=$(date +%s.%N)
ONELINER='tracepoint:vhost_net:vhost_net_rx_end < @rx = hist(args.recv_pkts) >'
ks_vm_tools

# 1. The patched module (also fetches image, headers, source).
KO="$("$KS_DIR/module/build.sh")"
ks_fetch_kernel
if ((BZIMAGE)); then BOOT_KERNEL="$KS_VMLINUZ"; else BOOT_KERNEL="$(ks_vmlinux)"; fi

# 2. Static binaries: the traffic driver, and vt if it builds.
TRAFFIC_BIN="$KS_STATIC_DIR/vhost-traffic"
VT_BIN=
if [[ -n "$VT_PREBUILT" ]]; then
    [[ -x "$VT_PREBUILT" ]] || ks_die "--vt-bin $VT_PREBUILT: not an executable"
    ks_is_static "$VT_PREBUILT" || ks_die "--vt-bin $VT_PREBUILT is not statically linked"
    VT_BIN="$VT_PREBUILT"
fi
if [[ -z "$VT_BIN" && "$USE_VT" != no ]]; then
    # One cargo run for both (its up-to-date check is most of a rebuild-free run's build time).
    ks_log "building vhost-traffic and vt (static)"
    if ks_cargo_static -p vhost-traffic -p runtime --bin vhost-traffic --bin vt >&2; then
        VT_BIN="$KS_STATIC_DIR/vt"
    elif [[ "$USE_VT" == yes ]]; then
        ks_die "vt does not build"
    else
        ks_log "warning: vt does not build yet; running with ftrace only"
    fi
fi
if [[ -z "$VT_BIN" || -n "$VT_PREBUILT" ]]; then
    ks_log "building vhost-traffic (static)"
    ks_cargo_static -p vhost-traffic >&2 || ks_die "vhost-traffic does not build"
fi

# 3. The initramfs.
IRD="$KS_CACHE/initramfs"
ks_initramfs_base "$IRD"
cp "$KS_DIR/vm/init" "$IRD/init"
cp "$TRAFFIC_BIN" "$IRD/bin/vhost-traffic"
cp "$KO" "$IRD/lib/modules/vhost_net.ko"
VT_SCRIPTS= METRICS_SCRIPT=
if [[ -n "$VT_BIN" ]]; then
    cp "$VT_BIN" "$IRD/bin/vt"
    cp "$KS_DIR/vm/accounting.vt" "$IRD/scripts/accounting.vt"
    VT_SCRIPTS="/scripts/accounting.vt"
    if [[ -f "$KS_ROOT/scripts/vhost.vt" ]]; then
        cp "$KS_ROOT/scripts/vhost.vt" "$IRD/scripts/vhost.vt"
        VT_SCRIPTS+=" /scripts/vhost.vt"
        # Run with `vt --metrics` and scraped in the guest (see init).
        METRICS_SCRIPT=/scripts/vhost.vt
    fi
    # The kprobe/kretprobe view of the same workers: calls and time per call.
    if [[ -f "$KS_DIR/vm/vhost-kprobe.vt" ]]; then
        cp "$KS_DIR/vm/vhost-kprobe.vt" "$IRD/scripts/vhost-kprobe.vt"
        VT_SCRIPTS+=" /scripts/vhost-kprobe.vt"
    fi
    # The design card's one-liner, run as `vt -e '...'` (init runs *.e files that way).
    printf '%s\n' "$ONELINER" >"$IRD/scripts/oneliner.e"
    VT_SCRIPTS+=" /scripts/oneliner.e"
    for s in "${EXTRA_SCRIPTS[@]}"; do
        cp "$s" "$IRD/scripts/$(basename "$s")"
        VT_SCRIPTS+=" /scripts/$(basename "$s")"
    done
fi
TRAFFIC_ARGS=
((LEGACY_HDR)) && TRAFFIC_ARGS+=" --legacy-hdr"
cat >"$IRD/etc/vt-ks.conf" <<EOF
TX='$TX'
RX='$RX'
TX_SIZE='$TX_SIZE'
RX_SIZE='$RX_SIZE'
BURST='$BURST'
RING='$RING'
ZEROCOPY='$ZEROCOPY'
TRAFFIC_ARGS='$TRAFFIC_ARGS'
VT_SCRIPTS='$VT_SCRIPTS'
METRICS_SCRIPT='$METRICS_SCRIPT'
EOF
ks_pack "$IRD" "$KS_CACHE/initrd.gz"
t_built=$(date +%s.%N)

# 4. Boot.
LOG="${LOG:-$KS_CACHE/console.log}"
ks_log "booting $KS_UNAME in QEMU (tcg): tx=$TX rx=$RX tx_size=$TX_SIZE rx_size=$RX_SIZE burst=${BURST:-none (rounds)} zerocopy=$ZEROCOPY vt=${VT_BIN:+yes}"
qrc=0
ks_boot "$BOOT_KERNEL" "$KS_CACHE/initrd.gz" "$LOG" "$TIMEOUT" "$SMP" || qrc=$?
t_done=$(date +%s.%N)
((CONSOLE)) && cat "$LOG"

# 5. Check.
section() { awk -v n="$1" '$0 == "=== vt-ks BEGIN " n " ===" {on=1; next} $0 == "=== vt-ks END " n " ===" {on=0} on' "$LOG"; }
field() { sed -n "s/.*[ :]$1=\([0-9-]*\).*/\1/p" | head -1; }
FAILS=0
check() { # name got want
    if [[ "$2" == "$3" ]]; then
        printf 'check: %-34s %12s == %-12s ok\n' "$1" "$2" "$3"
    else
        printf 'check: %-34s %12s != %-12s MISMATCH\n' "$1" "${2:-<none>}" "$3"
        FAILS=$((FAILS + 1))
    fi
}
# sent_pkts and recv_pkts count the worker loop's iterations. An iteration moves one packet, except when
# the ring ran dry, re-enabling notification showed the guest had slipped a buffer in meanwhile, and the
# loop went round again to check (`continue`): such a run counts one more than it moved. So a sum may
# exceed the driver's packets, by at most one per run (it never did by more); bytes are exact.
iterations() { # name got packets runs
    local extra=$(( ${2:-0} - $3 ))
    if [[ -n "$2" ]] && (( extra >= 0 && extra <= $4 )); then
        printf 'check: %-34s %12s == %-12s ok%s\n' "$1" "$2" "$3 + $extra" "$( ((extra)) && echo " ($extra re-check(s) of a dry ring)")"
    else
        printf 'check: %-34s %12s != %-12s MISMATCH\n' "$1" "${2:-<none>}" "$3 + 0..$4"
        FAILS=$((FAILS + 1))
    fi
}
echo "----- kernel-support summary -----"
grep -q '=== vt-ks DONE ===' "$LOG" || { echo "guest did not finish (qemu rc $qrc); log: $LOG"; exit 1; }
grep 'vt-ks: FAIL' "$LOG" && FAILS=$((FAILS + 1))
nfmt=$(section formats | grep -c '^# .*/format$' || true)
check "tracepoint format files" "$nfmt" 2
section formats | grep -q 'field:int sent_pkts;.*offset:8;' && section formats | grep -q 'field:int total_len;.*offset:12;' \
    && echo "check: format fields at offsets 8 and 12       ok" || { echo "check: format fields MISMATCH"; FAILS=$((FAILS + 1)); }

TL="$(section traffic | grep '^traffic: ' || true)"
[[ -n "$TL" ]] || { echo "no traffic line"; section traffic; exit 1; }
echo "$TL"
W_TXP=$(field tx_pkts <<<"$TL") W_TXB=$(field tx_bytes <<<"$TL")
W_RXP=$(field rx_pkts <<<"$TL") W_RXB=$(field rx_bytes <<<"$TL")
check "driver tx packets sent" "$W_TXP" "$TX"
check "driver rx packets received" "$(field rx_seen <<<"$TL")" "$RX"
check "driver tx frames seen by AF_PACKET" "$(field tx_seen <<<"$TL")" "$TX"

# ftrace's events, as the guest sent them (gzip, base64); kept in $KS_CACHE/ftrace.txt.
section ftrace-gz | base64 -d | gunzip >"$KS_CACHE/ftrace.txt" || { echo "ftrace: cannot decode the guest's events"; FAILS=$((FAILS + 1)); }
FT="$(cat "$KS_CACHE/ftrace.txt")"
read -r F_TXN F_TXP F_TXB F_TXZ F_RXN F_RXP F_RXB F_RXZ < <(awk '
    / vhost_net_tx_end: / { n++; for (i=1;i<=NF;i++) { if ($i ~ /^sent_pkts=/) {split($i,a,"="); p+=a[2]; if (a[2]==0) z++} if ($i ~ /^total_len=/) {split($i,a,"="); b+=a[2]} } }
    / vhost_net_rx_end: / { rn++; for (i=1;i<=NF;i++) { if ($i ~ /^recv_pkts=/) {split($i,a,"="); rp+=a[2]; if (a[2]==0) rz++} if ($i ~ /^total_len=/) {split($i,a,"="); rb+=a[2]} } }
    END { printf "%d %d %d %d %d %d %d %d\n", n, p, b, z, rn, rp, rb, rz }' <<<"$FT")
echo "ftrace: tx_runs=$F_TXN (zero-move $F_TXZ) tx_pkts=$F_TXP tx_len=$F_TXB rx_runs=$F_RXN (zero-move $F_RXZ) rx_pkts=$F_RXP rx_len=$F_RXB"
if section ftrace-stats | grep -Eq 'overrun: [1-9]'; then echo "ftrace ring buffer overran"; FAILS=$((FAILS + 1)); fi
iterations "ftrace sum(sent_pkts)" "$F_TXP" "$W_TXP" "$F_TXN"
check "ftrace sum(tx total_len)" "$F_TXB" "$W_TXB"
iterations "ftrace sum(recv_pkts)" "$F_RXP" "$W_RXP" "$F_RXN"
check "ftrace sum(rx total_len)" "$F_RXB" "$W_RXB"

if [[ -n "$VT_BIN" ]]; then
    VA="$(section vt:/scripts/accounting.vt)"
    vt_map() { sed -n "s/^@$1: *\([0-9-]*\)$/\1/p" <<<"$VA" | head -1; }
    check "vt @tx_pkts == ftrace sum" "$(vt_map tx_pkts)" "$F_TXP"
    check "vt @tx_len" "$(vt_map tx_len)" "$W_TXB"
    check "vt @rx_pkts == ftrace sum" "$(vt_map rx_pkts)" "$F_RXP"
    check "vt @rx_len" "$(vt_map rx_len)" "$W_RXB"
    check "vt @tx_runs == ftrace tx runs" "$(vt_map tx_runs)" "$F_TXN"
    check "vt @rx_runs == ftrace rx runs" "$(vt_map rx_runs)" "$F_RXN"
    if grep '^vt_rc=' "$LOG" | grep -vq '^vt_rc=0$'; then echo "a vt process exited non-zero"; FAILS=$((FAILS + 1)); fi
    # vt -l / -lv, run in the guest before tracing.
    if [[ "$(section vt-list | grep -v '^vt_list_rc=' | tr '\n' ' ')" == "tracepoint:vhost_net:vhost_net_rx_end tracepoint:vhost_net:vhost_net_tx_end " ]]; then
        echo "check: vt -l 'tracepoint:vhost_net:*'   lists vhost_net_rx_end, vhost_net_tx_end ok"
    else
        echo "check: vt -l 'tracepoint:vhost_net:*' MISMATCH:"; section vt-list | sed 's/^/    /'; FAILS=$((FAILS + 1))
    fi
    want_lv=$'tracepoint:vhost_net:vhost_net_rx_end\n    int recv_pkts\n    int total_len\ntracepoint:vhost_net:vhost_net_tx_end\n    int sent_pkts\n    int total_len'
    if [[ "$(section vt-listv | grep -v '^vt_list_rc=')" == "$want_lv" ]]; then
        echo "check: vt -lv 'tracepoint:vhost_net:*'  int recv_pkts|sent_pkts, int total_len ok"
    else
        echo "check: vt -lv 'tracepoint:vhost_net:*' MISMATCH:"; section vt-listv | sed 's/^/    /'; FAILS=$((FAILS + 1))
    fi
    { section vt-list; section vt-listv; } | grep '^vt_list_rc=' | grep -vq '^vt_list_rc=0$' && { echo "vt -l exited non-zero"; FAILS=$((FAILS + 1)); }

    # The histograms: every row's count is the number of ftrace values in that row's range.
    # The checkers read each field's values from a file, one a line (tens of thousands: too many for
    # an awk -v argument).
    vals() { # EVENT FIELD: the file of the field's value of each ftrace event
        local f="$KS_CACHE/values.$1.$2"
        awk -v ev="$1" -v f="$2" '$0 ~ " " ev ": " { for (i = 1; i <= NF; i++) if (index($i, f "=") == 1) { v = substr($i, length(f) + 2); sub(/,$/, "", v); print v } }' <<<"$FT" >"$f"
        echo "$f"
    }
    V_TXP="$(vals vhost_net_tx_end sent_pkts)" V_TXB="$(vals vhost_net_tx_end total_len)"
    V_RXP="$(vals vhost_net_rx_end recv_pkts)" V_RXB="$(vals vhost_net_rx_end total_len)"
    hist_check() { # STYLE SECTION NAME VALUEFILE HEADING|MAP [LABEL]
        local out
        if out="$(section "$2" | awk -f "$KS_DIR/vm/hist-check.awk" -v style="$1" -v name="$3" -v valfile="$4" \
                -v heading="$5" -v map="$5" -v label="${6:-}")"; then echo "$out"; else echo "$out"; FAILS=$((FAILS + 1)); fi
    }
    if grep -q '=== vt-ks BEGIN vt:/scripts/vhost.vt ===' "$LOG"; then
        # scripts/vhost.vt: the seed's four tables in BCC's print_log2_hist layout.
        S=vt:/scripts/vhost.vt
        hist_check bcc $S rx_pkts "$V_RXP" 'Vhost-net RX log2 received packets histogram' 'recv pkts'
        hist_check bcc $S rx_len "$V_RXB" 'Vhost-net RX log2 total length histogram' 'total len'
        hist_check bcc $S tx_pkts "$V_TXP" 'Vhost-net TX log2 sent packets histogram' 'sent pkts'
        hist_check bcc $S tx_len "$V_TXB" 'Vhost-net TX log2 total length histogram' 'total len'
        # The same script's /metrics, scraped in the guest before it printed: four Prometheus
        # histograms whose buckets are ftrace's values and the printed rows, and promtool accepts it.
        M="$KS_CACHE/metrics.prom"
        section metrics | grep -v '^metrics_rc=' >"$M"
        P="$KS_CACHE/vhost.printed"
        section $S >"$P"
        check "vt --metrics scrape in the guest" "$(section metrics | sed -n 's/^metrics_rc=//p')" 0
        metrics_check() { # NAME VALUEFILE HEADING
            local out
            if out="$(awk -f "$KS_DIR/vm/metrics-check.awk" -v name="$1" -v valfile="$2" -v heading="$3" "$P" "$M")"; then
                echo "$out"; else echo "$out"; FAILS=$((FAILS + 1)); fi
        }
        metrics_check rx_pkts "$V_RXP" 'Vhost-net RX log2 received packets histogram'
        metrics_check rx_len "$V_RXB" 'Vhost-net RX log2 total length histogram'
        metrics_check tx_pkts "$V_TXP" 'Vhost-net TX log2 sent packets histogram'
        metrics_check tx_len "$V_TXB" 'Vhost-net TX log2 total length histogram'
        if out="$(promtool check metrics <"$M" 2>&1)"; then
            echo "check: promtool check metrics (the guest's exposition)    ok"
        else
            echo "check: promtool check metrics MISMATCH:"; sed 's/^/    /' <<<"$out"; FAILS=$((FAILS + 1))
        fi
    fi
    if grep -q '=== vt-ks BEGIN vt:/scripts/vhost-kprobe.vt ===' "$LOG"; then
        # Every handle_tx/handle_rx call ends in one tracepoint event: the kprobe view counts ftrace's runs.
        VK="$(section vt:/scripts/vhost-kprobe.vt)"
        check "vt kprobe handle_tx calls == ftrace" "$(sed -n 's/^@tx_calls: *\([0-9]*\)$/\1/p' <<<"$VK")" "$F_TXN"
        check "vt kprobe handle_rx calls == ftrace" "$(sed -n 's/^@rx_calls: *\([0-9]*\)$/\1/p' <<<"$VK")" "$F_RXN"
    fi
    # The design card's one-liner: bpftrace's layout.
    hist_check bpftrace vt:/scripts/oneliner.e "@rx(-e)" "$V_RXP" @rx
else
    echo "vt: not run"
fi

up() { sed -n "s/^uptime_$1=//p" "$LOG" | head -1; }
t_end=$(date +%s.%N)
printf 'timing: build+pack %.1fs, qemu wall %.1fs, start to histograms %.1fs; guest uptime at /init %ss, modules %ss, listed %ss, attached %ss, traffic done %ss, ftrace out %ss, all done %ss\n' \
    "$(echo "$t_built - $t_start" | bc)" "$(echo "$t_done - $t_built" | bc)" "$(echo "$t_end - $t_start" | bc)" \
    "$(up init)" "$(up modules)" "$(up listed)" "$(up attached)" "$(up traffic)" "$(up ftrace)" "$(up done)"
echo "console log: $LOG"
if ((!QUIET)) && grep -q '=== vt-ks BEGIN vt:/scripts/vhost.vt ===' "$LOG"; then
    echo
    echo "----- scripts/vhost.vt in the guest: tx=$TX rx=$RX frames${BURST:+ in bursts}, vt -----"
    echo
    section vt:/scripts/vhost.vt | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
    echo
    if [[ -s "$KS_CACHE/metrics.prom" ]]; then
        echo "----- the same vt's /metrics (vt --metrics 127.0.0.1:9464), scraped in the guest: one family of four -----"
        grep '^\(# [A-Z]* \)\{0,1\}vt_rx_pkts' "$KS_CACHE/metrics.prom"
        echo "(all of it: $KS_CACHE/metrics.prom)"
        echo
    fi
    if grep -q '=== vt-ks BEGIN vt:/scripts/vhost-kprobe.vt ===' "$LOG"; then
        echo "----- scripts/vhost-kprobe.vt: handle_tx/handle_rx calls and ns per call (kprobe, kretprobe) -----"
        section vt:/scripts/vhost-kprobe.vt | sed -e '/./,$!d' -e :a -e '/^\n*$/{$d;N;ba' -e '}'
        echo
    fi
    echo "----- the one-liner: vt -e '$ONELINER' -----"
    section vt:/scripts/oneliner.e | sed -e '/./,$!d' -e :a -e '/^\n*$/{$d;N;ba' -e '}'
    echo
fi
if ((FAILS)); then echo "RESULT: FAIL ($FAILS)"; exit 1; fi
echo "RESULT: OK"
