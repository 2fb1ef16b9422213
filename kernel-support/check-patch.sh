#!/usr/bin/env bash
# Check that the 6.1 tracepoint patch applies to Debian's linux-source-6.1
# (the version pinned from linux-image-amd64), with `patch -p1 --dry-run`,
# and that the mainline patch is well formed (`git apply --check` against a
# mainline drivers/vhost/net.c when one is given).
#
#   kernel-support/check-patch.sh [--mainline-net-c PATH]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MAINLINE_NETC=
while (($#)); do
    case "$1" in
        --mainline-net-c) MAINLINE_NETC="$2"; shift ;;
        -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) ks_die "unknown argument $1" ;;
    esac
    shift
done

ks_apt_ensure patch:patch xz:xz-utils git:git
ks_fetch_kernel
tree="$KS_KDIR/check-tree"
rm -rf "$tree"
ks_extract_source "$tree" drivers/vhost/net.c drivers/vhost/vhost.h
rc=0
for p in "$KS_DIR"/patches/6.1/*.patch; do
    if out="$(patch -p1 --dry-run -d "$tree" <"$p" 2>&1)"; then
        echo "ok: $(basename "$p") applies to linux-source-$KS_SERIES $KS_KVER"
        sed 's/^/    /' <<<"$out"
        if grep -qiE 'offset|fuzz' <<<"$out"; then echo "    (with offset/fuzz)"; fi
    else
        echo "FAIL: $(basename "$p") does not apply to linux-source-$KS_SERIES $KS_KVER"
        sed 's/^/    /' <<<"$out"
        rc=1
    fi
done

for p in "$KS_DIR"/patches/mainline/*.patch; do
    [[ -f "$p" ]] || continue
    if [[ -n "$MAINLINE_NETC" ]]; then
        m="$KS_KDIR/check-mainline"
        rm -rf "$m" && mkdir -p "$m/drivers/vhost"
        cp "$MAINLINE_NETC" "$m/drivers/vhost/net.c"
        if git -C "$m" apply --check "$p" 2>&1; then
            echo "ok: $(basename "$p") applies to $MAINLINE_NETC"
        else
            echo "FAIL: $(basename "$p") does not apply to $MAINLINE_NETC"; rc=1
        fi
    else
        # Without a mainline tree: the patch must at least parse.
        if git apply --stat "$p" >/dev/null; then
            echo "ok: $(basename "$p") parses (pass --mainline-net-c to check it applies)"
        else
            echo "FAIL: $(basename "$p") is malformed"; rc=1
        fi
    fi
done
exit $rc
