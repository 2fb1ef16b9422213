#!/usr/bin/env bash
# Boot Debian's 6.1 kernel in QEMU (TCG) with the patched vhost_net.ko, drive
# a known number of packets through /dev/vhost-net, trace them with ftrace
# and with vt, and check that every count agrees.
#
#   kernel-support/vm/run.sh [--tx N] [--rx N] [--size SPEC] [--tx-size SPEC] [--rx-size SPEC]
#                            [--ring N] [--zerocopy] [--legacy-hdr] [--no-vt] [--require-vt]
#                            [--script FILE.vt]... [--vt-bin PATH] [--log FILE] [--quiet]
#
# Exit status: 0 when all checks pass, 1 on a mismatch or a failed step.
# Installs what it needs (apt-get) and keeps downloads and builds in
# kernel-support/.cache/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

TX=100 RX=50 TX_SIZE=256 RX_SIZE=256 RING=256 ZEROCOPY=0 LEGACY_HDR=0
USE_VT=auto QUIET=0 LOG= TIMEOUT=180 VT_PREBUILT=
EXTRA_SCRIPTS=()
while (($#)); do
    case "$1" in
        --tx) TX="$2"; shift ;;
        --rx) RX="$2"; shift ;;
        --size) TX_SIZE="$2"; RX_SIZE="$2"; shift ;;
        --tx-size) TX_SIZE="$2"; shift ;;
        --rx-size) RX_SIZE="$2"; shift ;;
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
        -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) ks_die "unknown argument $1 (see --help)" ;;
    esac
    shift
done

t_start=$(date +%s.%N)
ks_apt_ensure qemu-system-x86_64:qemu-system-x86 cpio:cpio gzip:gzip bc:bc
# The initramfs needs a statically linked busybox (package busybox-static).
is_static() { ! ldd "$1" 2>&1 | grep -q '=>'; }
if [[ ! -x /bin/busybox ]] || ! is_static /bin/busybox; then
    ks_log "apt-get install busybox-static"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >&2 || ks_die "cannot install busybox-static"
fi

# 1. The patched module (also fetches image, headers, source).
KO="$("$KS_DIR/module/build.sh")"
ks_fetch_kernel

# 2. Static binaries: the traffic driver, and vt if it builds.
export CARGO_TARGET_DIR="$KS_CACHE/target"
TRIPLE=x86_64-unknown-linux-gnu
cargo_static() {
    RUSTFLAGS='-C target-feature=+crt-static' \
        cargo build --quiet --release --target "$TRIPLE" --manifest-path "$KS_ROOT/Cargo.toml" "$@"
}
ks_log "building vhost-traffic (static)"
cargo_static -p vhost-traffic >&2 || ks_die "vhost-traffic does not build"
TRAFFIC_BIN="$CARGO_TARGET_DIR/$TRIPLE/release/vhost-traffic"
VT_BIN=
if [[ -n "$VT_PREBUILT" ]]; then
    [[ -x "$VT_PREBUILT" ]] || ks_die "--vt-bin $VT_PREBUILT: not an executable"
    is_static "$VT_PREBUILT" || ks_die "--vt-bin $VT_PREBUILT is not statically linked"
    VT_BIN="$VT_PREBUILT"
elif [[ "$USE_VT" != no ]]; then
    ks_log "building vt (static)"
    if cargo_static -p runtime --bin vt >&2; then
        VT_BIN="$CARGO_TARGET_DIR/$TRIPLE/release/vt"
    elif [[ "$USE_VT" == yes ]]; then
        ks_die "vt does not build"
    else
        ks_log "warning: vt does not build yet; running with ftrace only"
    fi
fi

# 3. The initramfs.
IRD="$KS_CACHE/initramfs"
rm -rf "$IRD" && mkdir -p "$IRD"/{bin,sbin,etc,proc,sys,dev,tmp,lib/modules,scripts}
cp /bin/busybox "$IRD/bin/busybox"
for a in $("$IRD/bin/busybox" --list); do
    [[ "$a" == busybox ]] || ln -sf busybox "$IRD/bin/$a"
done
cp "$KS_DIR/vm/init" "$IRD/init"
cp "$TRAFFIC_BIN" "$IRD/bin/vhost-traffic"
for m in kernel/drivers/net/tun.ko kernel/drivers/net/tap.ko \
         kernel/drivers/vhost/vhost_iotlb.ko kernel/drivers/vhost/vhost.ko; do
    cp "$KS_MODDIR/$m" "$IRD/lib/modules/"
done
cp "$KO" "$IRD/lib/modules/vhost_net.ko"
VT_SCRIPTS=
if [[ -n "$VT_BIN" ]]; then
    cp "$VT_BIN" "$IRD/bin/vt"
    cp "$KS_DIR/vm/accounting.vt" "$IRD/scripts/accounting.vt"
    VT_SCRIPTS="/scripts/accounting.vt"
    if [[ -f "$KS_ROOT/scripts/vhost.vt" ]]; then
        cp "$KS_ROOT/scripts/vhost.vt" "$IRD/scripts/vhost.vt"
        VT_SCRIPTS+=" /scripts/vhost.vt"
    fi
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
RING='$RING'
ZEROCOPY='$ZEROCOPY'
TRAFFIC_ARGS='$TRAFFIC_ARGS'
VT_SCRIPTS='$VT_SCRIPTS'
EOF
(cd "$IRD" && find . | cpio -o -H newc --quiet | gzip -1) >"$KS_CACHE/initrd.gz"
t_built=$(date +%s.%N)

# 4. Boot.
LOG="${LOG:-$KS_CACHE/console.log}"
ks_log "booting $KS_UNAME in QEMU (tcg): tx=$TX rx=$RX tx_size=$TX_SIZE rx_size=$RX_SIZE zerocopy=$ZEROCOPY vt=${VT_BIN:+yes}"
set +e
timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -m 1024 -smp 2 -nographic -no-reboot \
    -kernel "$KS_VMLINUZ" -initrd "$KS_CACHE/initrd.gz" \
    -append "console=ttyS0 panic=-1 quiet" </dev/null 2>&1 | tr -d '\r' >"$LOG"
qrc=${PIPESTATUS[0]}
set -e
t_done=$(date +%s.%N)
((QUIET)) || cat "$LOG"

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

FT="$(section ftrace)"
read -r F_TXN F_TXP F_TXB F_TXZ F_RXN F_RXP F_RXB F_RXZ < <(awk '
    / vhost_net_tx_end: / { n++; for (i=1;i<=NF;i++) { if ($i ~ /^sent_pkts=/) {split($i,a,"="); p+=a[2]; if (a[2]==0) z++} if ($i ~ /^total_len=/) {split($i,a,"="); b+=a[2]} } }
    / vhost_net_rx_end: / { rn++; for (i=1;i<=NF;i++) { if ($i ~ /^recv_pkts=/) {split($i,a,"="); rp+=a[2]; if (a[2]==0) rz++} if ($i ~ /^total_len=/) {split($i,a,"="); rb+=a[2]} } }
    END { printf "%d %d %d %d %d %d %d %d\n", n, p, b, z, rn, rp, rb, rz }' <<<"$FT")
echo "ftrace: tx_runs=$F_TXN (zero-move $F_TXZ) tx_pkts=$F_TXP tx_len=$F_TXB rx_runs=$F_RXN (zero-move $F_RXZ) rx_pkts=$F_RXP rx_len=$F_RXB"
if section ftrace-stats | grep -Eq 'overrun: [1-9]'; then echo "ftrace ring buffer overran"; FAILS=$((FAILS + 1)); fi
check "ftrace sum(sent_pkts)" "$F_TXP" "$W_TXP"
check "ftrace sum(tx total_len)" "$F_TXB" "$W_TXB"
check "ftrace sum(recv_pkts)" "$F_RXP" "$W_RXP"
check "ftrace sum(rx total_len)" "$F_RXB" "$W_RXB"

if [[ -n "$VT_BIN" ]]; then
    VA="$(section vt:/scripts/accounting.vt)"
    vt_map() { sed -n "s/^@$1: *\([0-9-]*\)$/\1/p" <<<"$VA" | head -1; }
    check "vt @tx_pkts" "$(vt_map tx_pkts)" "$W_TXP"
    check "vt @tx_len" "$(vt_map tx_len)" "$W_TXB"
    check "vt @rx_pkts" "$(vt_map rx_pkts)" "$W_RXP"
    check "vt @rx_len" "$(vt_map rx_len)" "$W_RXB"
    check "vt @tx_runs == ftrace tx runs" "$(vt_map tx_runs)" "$F_TXN"
    check "vt @rx_runs == ftrace rx runs" "$(vt_map rx_runs)" "$F_RXN"
    if grep '^vt_rc=' "$LOG" | grep -vq '^vt_rc=0$'; then echo "a vt process exited non-zero"; FAILS=$((FAILS + 1)); fi
    if grep -q '=== vt-ks BEGIN vt:/scripts/vhost.vt ===' "$LOG"; then
        # scripts/vhost.vt: each histogram holds one count per worker run.
        VH="$(section vt:/scripts/vhost.vt)"
        hist_total() { awk -v m="@$1:" '$1 == m {on=1; next} on && /^[[(]/ {l = $0; sub(/^[^])]*[])] */, "", l); split(l, f, " "); t += f[1]} on && !/^[[(]/ && t {exit} END {print t+0}' <<<"$VH"; }
        check "vhost.vt @tx_pkts hist count" "$(hist_total tx_pkts)" "$F_TXN"
        check "vhost.vt @tx_len hist count" "$(hist_total tx_len)" "$F_TXN"
        check "vhost.vt @rx_pkts hist count" "$(hist_total rx_pkts)" "$F_RXN"
        check "vhost.vt @rx_len hist count" "$(hist_total rx_len)" "$F_RXN"
    fi
else
    echo "vt: not run"
fi

up() { sed -n "s/^uptime_$1=//p" "$LOG" | head -1; }
printf 'timing: build+pack %.1fs, qemu wall %.1fs; guest uptime at /init %ss, modules %ss, attached %ss, traffic done %ss, all done %ss\n' \
    "$(echo "$t_built - $t_start" | bc)" "$(echo "$t_done - $t_built" | bc)" \
    "$(up init)" "$(up modules)" "$(up attached)" "$(up traffic)" "$(up done)"
echo "console log: $LOG"
if ((FAILS)); then echo "RESULT: FAIL ($FAILS)"; exit 1; fi
echo "RESULT: OK"
