#!/usr/bin/env bash
# Boot the test guest (Debian's kernel under QEMU TCG, the patched vhost_net loaded) and run one
# command there, with vt, vhost-traffic and shapes (the test kit's workload) on its PATH, each
# `--with FILE` copied onto that PATH too. Prints the command's output (stdout and stderr, merged by
# the console) and exits with its status.
#
#   kernel-support/vm/guest.sh [--kernel 6.1] [--with FILE]... [--vt-bin PATH] [--smp N]
#                              [--timeout SECONDS] [--console] [--boot FILE] -- COMMAND [ARG]...
#
# --boot FILE boots another kernel image (a bzImage, e.g. Debian's 6.12 for kprobe_multi, which its
# 6.1 lacks): the patched vhost_net is still 6.1's and does not load there.
#
# Builds the static binaries into kernel-support/.cache/target (as run.sh does) unless --vt-bin
# gives vt. Exit status: COMMAND's, or 125 when the guest could not run it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KERNEL=6.1 SMP=2 TIMEOUT=300 CONSOLE=0 VT_PREBUILT= BOOT_IMAGE=
WITH=()
while (($#)); do
    case "$1" in
        --kernel) KERNEL="$2"; shift ;;
        --with) WITH+=("$2"); shift ;;
        --vt-bin) VT_PREBUILT="$2"; shift ;;
        --smp) SMP="$2"; shift ;;
        --timeout) TIMEOUT="$2"; shift ;;
        --console) CONSOLE=1 ;;
        --boot) BOOT_IMAGE="$2"; shift ;;
        -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        --) shift; break ;;
        *) ks_die "unknown argument $1 (see --help)" ;;
    esac
    shift
done
(($#)) || ks_die "no command (usage: guest.sh [OPTIONS] -- COMMAND [ARG]...)"
# Debian's 6.1 is the one kernel packaged for now (its ABI is pinned in $KS_CACHE/pin).
[[ "$KERNEL" == 6.1 ]] || ks_die "--kernel $KERNEL: only 6.1 is available"
for f in "${WITH[@]}"; do [[ -f "$f" ]] || ks_die "--with $f: no such file"; done

ks_vm_tools
KO="$("$KS_DIR/module/build.sh")"
ks_fetch_kernel
BOOT_KERNEL="${BOOT_IMAGE:-$(ks_vmlinux)}"

if [[ -n "$VT_PREBUILT" ]]; then
    ks_is_static "$VT_PREBUILT" || ks_die "--vt-bin $VT_PREBUILT is not statically linked"
    VT_BIN="$VT_PREBUILT"
    ks_cargo_static -p vhost-traffic --bin vhost-traffic >&2 || ks_die "vhost-traffic does not build"
else
    # The same set as run.sh builds, so that the two share their build.
    ks_cargo_static -p vhost-traffic -p runtime --bin vhost-traffic --bin vt >&2 || ks_die "vt does not build"
    VT_BIN="$KS_STATIC_DIR/vt"
fi
ks_cargo_static -p vt-testkit --bin shapes >&2 || ks_die "shapes does not build"

IRD="$KS_CACHE/guest-initramfs"
ks_initramfs_base "$IRD"
cp "$KO" "$IRD/lib/modules/vhost_net.ko"
cp "$KS_DIR/vm/guest-init" "$IRD/init" && chmod +x "$IRD/init"
cp "$VT_BIN" "$IRD/bin/vt"
cp "$KS_STATIC_DIR/vhost-traffic" "$KS_STATIC_DIR/shapes" "$IRD/bin/"
for f in "${WITH[@]}"; do
    cp "$f" "$IRD/bin/" && chmod +x "$IRD/bin/$(basename "$f")"
done
# The command, each word single-quoted for the guest's sh.
for a in "$@"; do printf "'%s' " "${a//\'/\'\\\'\'}"; done >"$IRD/etc/guest-cmd"
echo >>"$IRD/etc/guest-cmd"
ks_pack "$IRD" "$KS_CACHE/guest-initrd.gz"

LOG="$KS_CACHE/guest-console.log"
qrc=0
ks_boot "$BOOT_KERNEL" "$KS_CACHE/guest-initrd.gz" "$LOG" "$TIMEOUT" "$SMP" || qrc=$?
if ((CONSOLE)); then cat "$LOG"; fi
status="$(sed -n 's/^=== guest: status \([0-9]*\) ===$/\1/p' "$LOG" | tail -1)"
if [[ -z "$status" ]]; then
    ((CONSOLE)) || tail -20 "$LOG" >&2
    ks_log "the guest did not finish the command (qemu status $qrc); console: $LOG"
    exit 125
fi
((CONSOLE)) || awk '/=== guest: command ===$/ {on=1; next} /^=== guest: status [0-9]+ ===$/ {on=0} on' "$LOG"
exit "$status"
