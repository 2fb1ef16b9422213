#!/usr/bin/env bash
# Build the patched vhost_net.ko out of tree against Debian's
# linux-headers-<abi>-amd64, with net.c/vhost.h from the same version's
# linux-source-6.1 and patches/6.1/*.patch applied.
#
#   kernel-support/module/build.sh          -> prints the path of vhost_net.ko
#
# Idempotent: rebuilds only when the patch, Kbuild or this script changed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

ks_apt_ensure gcc-12:gcc-12 make:make bc:bc flex:flex bison:bison patch:patch \
    xz:xz-utils /usr/include/libelf.h:libelf-dev /usr/include/openssl/ssl.h:libssl-dev
ks_fetch_kernel
ks_fix_header_links

out="$KS_KDIR/module"
ko="$out/vhost_net.ko"
here="$KS_DIR/module"
stamp_src=("$KS_DIR"/patches/6.1/*.patch "$here/Kbuild" "$here/build.sh")
stamp="$(cat "${stamp_src[@]}" | sha256sum | cut -c1-16)"
if [[ -f "$ko" && -f "$out/.stamp" && "$(cat "$out/.stamp")" == "$stamp" ]]; then
    echo "$ko"; exit 0
fi

rm -rf "$out" && mkdir -p "$out/tree"
ks_log "extracting drivers/vhost/{net.c,vhost.h} from $(basename "$KS_SRC_TARBALL")"
ks_extract_source "$out/tree" drivers/vhost/net.c drivers/vhost/vhost.h
for p in "$KS_DIR"/patches/6.1/*.patch; do
    patch -s -p1 -d "$out/tree" <"$p" || ks_die "patch $p does not apply"
done

# Flatten: net.c, vhost.h and the trace header side by side. The in-tree
# header is found as <trace/events/vhost_net.h>; out of tree it is
# "vhost_net.h" with TRACE_INCLUDE_PATH . so define_trace.h finds it again.
cp "$out/tree/drivers/vhost/net.c" "$out/tree/drivers/vhost/vhost.h" "$here/Kbuild" "$out/"
sed -i 's|#include <trace/events/vhost_net.h>|#include "vhost_net.h"|' "$out/net.c"
grep -q '#include "vhost_net.h"' "$out/net.c" || ks_die "net.c does not include the trace header"
awk '/^#include <trace\/define_trace.h>/ { print "#undef TRACE_INCLUDE_PATH"; print "#define TRACE_INCLUDE_PATH ." }
     { print }' "$out/tree/include/trace/events/vhost_net.h" >"$out/vhost_net.h"

ks_log "building vhost_net.ko against linux-headers-$KS_UNAME"
make -s -C "$KS_HDRDIR" M="$out" -j"$(nproc)" modules >&2 || ks_die "module build failed"
[[ -f "$ko" ]] || ks_die "no $ko"
# The module's BTF (what `fentry:vhost_net:FUNC` reads: split BTF on top of the kernel's). Kbuild
# makes it only beside a vmlinux, which the headers package lacks; pahole makes it the same way from
# the kernel's own BTF (the .BTF of the vmlinux ks_vmlinux extracts), with the kernel's pahole flags.
# Without it (or if the kernel finds it inconsistent: Debian allows the mismatch) the module loads
# as before, without BTF.
ks_apt_ensure pahole:dwarves
if objcopy --dump-section .BTF="$out/vmlinux.btf" "$(ks_vmlinux)" 2>/dev/null; then
    flags="$(PAHOLE=pahole sh "$KS_HDRDIR/scripts/pahole-flags.sh" 2>/dev/null || true)"
    LLVM_OBJCOPY=objcopy pahole -J $flags --btf_base "$out/vmlinux.btf" "$ko" >&2 || ks_log "vhost_net.ko: no BTF (pahole failed)"
else
    ks_log "vhost_net.ko: no BTF (no vmlinux BTF to build it on)"
fi
echo "$stamp" >"$out/.stamp"
echo "$ko"
