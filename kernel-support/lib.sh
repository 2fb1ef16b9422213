# shellcheck shell=bash
# Shared helpers for kernel-support scripts. Source it; do not run it.
#
# Everything the scripts need is installed here, idempotently: Debian build
# and VM packages through apt-get, and the Debian kernel packages (image,
# headers, kbuild, source) downloaded with `apt-get download` and unpacked
# with `dpkg-deb -x` into $KS_CACHE, never installed system-wide.

KS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KS_ROOT="$(cd "$KS_DIR/.." && pwd)"
KS_CACHE="${KS_CACHE:-$KS_DIR/.cache}"

ks_log() { printf '[kernel-support] %s\n' "$*" >&2; }
ks_die() { printf '[kernel-support] error: %s\n' "$*" >&2; exit 1; }

# ks_apt_ensure CMD_OR_PATH:PACKAGE ...  install PACKAGE when CMD_OR_PATH is missing
_KS_APT_UPDATED=
ks_apt_ensure() {
    local missing=() spec probe pkg
    for spec in "$@"; do
        probe="${spec%%:*}" pkg="${spec#*:}"
        if [[ "$probe" == /* ]]; then
            [[ -e "$probe" ]] && continue
        else
            command -v "$probe" >/dev/null 2>&1 && continue
        fi
        missing+=("$pkg")
    done
    ((${#missing[@]})) || return 0
    ks_log "apt-get install ${missing[*]}"
    if [[ -z "$_KS_APT_UPDATED" ]]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || ks_die "apt-get update failed"
        _KS_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
        || ks_die "apt-get install ${missing[*]} failed"
}

ks_apt_cache_ready() {
    # apt-cache needs package lists; fetch them once if there are none.
    if ! apt-cache show linux-image-amd64 >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || ks_die "apt-get update failed"
        _KS_APT_UPDATED=1
    fi
}

# Resolve the pinned kernel ABI and package version.
# KS_ABI (e.g. 6.1.0-57) and KS_KVER (e.g. 6.1.192-3) may be given in the
# environment; otherwise they come from linux-image-amd64's dependency, and
# are then remembered in $KS_CACHE/pin so later runs are offline and stable.
ks_resolve_kernel() {
    mkdir -p "$KS_CACHE"
    if [[ -z "${KS_ABI:-}" && -f "$KS_CACHE/pin" ]]; then
        # shellcheck disable=SC1091
        source "$KS_CACHE/pin"
    fi
    if [[ -z "${KS_ABI:-}" ]]; then
        ks_apt_cache_ready
        local img
        img="$(apt-cache depends linux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -1)"
        [[ -n "$img" ]] || ks_die "cannot resolve linux-image-amd64's dependency"
        KS_ABI="${img#linux-image-}"; KS_ABI="${KS_ABI%-amd64}"
    fi
    if [[ -z "${KS_KVER:-}" ]]; then
        ks_apt_cache_ready
        KS_KVER="$(apt-cache policy "linux-image-$KS_ABI-amd64" | sed -n 's/^ *Candidate: //p')"
        [[ -n "$KS_KVER" && "$KS_KVER" != "(none)" ]] || ks_die "no candidate for linux-image-$KS_ABI-amd64"
    fi
    KS_SERIES="${KS_ABI%%-*}"            # 6.1.0
    KS_SERIES="${KS_SERIES%.*}"          # 6.1
    KS_UNAME="$KS_ABI-amd64"             # uname -r of the image
    KS_KDIR="$KS_CACHE/$KS_KVER"
    printf 'KS_ABI=%s\nKS_KVER=%s\n' "$KS_ABI" "$KS_KVER" >"$KS_CACHE/pin"
    export KS_ABI KS_KVER KS_SERIES KS_UNAME KS_KDIR
}

# Download (apt-get download) and unpack (dpkg-deb -x) one package at the
# pinned version into $KS_KDIR/root. Idempotent: a stamp per package.
# The .deb files go to $KS_DEB_CACHE (default $KS_KDIR/debs): point it at
# another checkout's kernel-support/.cache/<version>/debs to skip downloads.
ks_fetch_pkg() {
    local pkg="$1" ver="${2:-$KS_KVER}"
    local debs="${KS_DEB_CACHE:-$KS_KDIR/debs}" root="$KS_KDIR/root" stamps="$KS_KDIR/stamps"
    mkdir -p "$debs" "$root" "$stamps"
    [[ -f "$stamps/$pkg.unpacked" ]] && return 0
    local deb
    deb="$(ls -t "$debs/${pkg}_${ver//:/%3a}_"*.deb 2>/dev/null | head -1 || true)"
    if [[ -z "$deb" ]]; then
        ks_apt_cache_ready
        ks_log "downloading $pkg=$ver"
        (cd "$debs" && apt-get download -qq -o APT::Sandbox::User=root "$pkg=$ver" >&2) || ks_die "apt-get download $pkg=$ver failed"
        deb="$(ls -t "$debs/${pkg}_"*.deb | head -1)"
    fi
    dpkg-deb -x "$deb" "$root" || ks_die "dpkg-deb -x $deb failed"
    touch "$stamps/$pkg.unpacked"
}

# Image + headers (+ common + kbuild) + source, all at one version.
ks_fetch_kernel() {
    ks_resolve_kernel
    ks_fetch_pkg "linux-image-$KS_UNAME"
    ks_fetch_pkg "linux-headers-$KS_UNAME"
    ks_fetch_pkg "linux-headers-$KS_ABI-common"
    ks_fetch_pkg "linux-kbuild-$KS_SERIES"
    ks_fetch_pkg "linux-source-$KS_SERIES"
    KS_ROOTFS="$KS_KDIR/root"
    KS_VMLINUZ="$KS_ROOTFS/boot/vmlinuz-$KS_UNAME"
    KS_MODDIR="$KS_ROOTFS/lib/modules/$KS_UNAME"
    KS_HDRDIR="$KS_ROOTFS/usr/src/linux-headers-$KS_UNAME"
    KS_SRC_TARBALL="$(ls "$KS_ROOTFS"/usr/src/linux-source-"$KS_SERIES".tar.* 2>/dev/null | head -1)"
    [[ -f "$KS_VMLINUZ" ]] || ks_die "no $KS_VMLINUZ"
    [[ -d "$KS_HDRDIR" ]] || ks_die "no $KS_HDRDIR"
    [[ -n "$KS_SRC_TARBALL" ]] || ks_die "no linux-source tarball"
    export KS_ROOTFS KS_VMLINUZ KS_MODDIR KS_HDRDIR KS_SRC_TARBALL
}

# The uncompressed kernel for QEMU's PVH entry (`-kernel vmlinux`): under TCG
# the bzImage's own xz decompressor costs ~4.5 s of every boot; QEMU loads an
# ELF with a Xen PHYS32_ENTRY note directly. Extracted once into
# $KS_KDIR/vmlinux; prints its path, or the bzImage's when extraction fails.
ks_vmlinux() {
    local out="$KS_KDIR/vmlinux"
    if [[ ! -s "$out" && ! -e "$out.none" ]]; then
        local spec magic cmd off tmp="$out.tmp"
        # xz (Debian's choice), zstd, gzip: the first payload that unpacks to an ELF.
        for spec in '\xfd7zXZ\x00:xz -dc --single-stream' '\x28\xb5\x2f\xfd:zstd -dcq' '\x1f\x8b\x08\x00:gzip -dcq'; do
            magic="${spec%%:*}" cmd="${spec#*:}"
            command -v "${cmd%% *}" >/dev/null 2>&1 || continue
            off="$(LC_ALL=C grep -obUaP "$magic" "$KS_VMLINUZ" 2>/dev/null | head -1 | cut -d: -f1 || true)"
            [[ -n "$off" ]] || continue
            tail -c +"$((off + 1))" "$KS_VMLINUZ" | $cmd >"$tmp" 2>/dev/null || true
            if [[ "$(head -c 4 "$tmp" | od -An -tx1 | tr -d ' ')" == 7f454c46 ]]; then
                mv "$tmp" "$out"; break
            fi
        done
        rm -f "$tmp"
        # PVH needs XEN_ELFNOTE_PHYS32_ENTRY (type 18) among the ELF notes.
        if [[ -s "$out" ]] && ! readelf -n "$out" 2>/dev/null | grep -q '(0x00000012)\|PHYS32_ENTRY'; then
            rm -f "$out"
        fi
        if [[ ! -s "$out" ]]; then
            ks_log "no vmlinux with a PVH entry in $(basename "$KS_VMLINUZ"): booting the bzImage (slower)"
            touch "$out.none"
        fi
    fi
    if [[ -s "$out" ]]; then echo "$out"; else echo "$KS_VMLINUZ"; fi
}

# The headers package's Makefile includes the -common tree by an absolute
# /usr/src path; re-point it (and any absolute symlink) inside the cache.
ks_fix_header_links() {
    local hdr="$KS_HDRDIR" link target
    local common="$KS_ROOTFS/usr/src/linux-headers-$KS_ABI-common"
    printf 'include %s/Makefile\n' "$common" >"$hdr/Makefile"
    while IFS= read -r -d '' link; do
        target="$(readlink "$link")"
        if [[ "$target" == /usr/* || "$target" == /lib/* ]]; then
            ln -sfn "$KS_ROOTFS$target" "$link"
        fi
    done < <(find "$hdr" "$KS_ROOTFS/usr/src" -maxdepth 2 -type l -print0)
}

# Extract selected files of the linux-source tarball into DIR (idempotent).
# ks_extract_source DIR PATH...  (paths relative to the tree root)
ks_extract_source() {
    local dir="$1"; shift
    local top
    top="$(basename "$KS_SRC_TARBALL")"; top="${top%.tar.*}"   # linux-source-6.1
    mkdir -p "$dir"
    local p want=()
    for p in "$@"; do want+=("$top/$p"); done
    tar -xf "$KS_SRC_TARBALL" -C "$dir" --strip-components=1 "${want[@]}" \
        || ks_die "cannot extract ${*} from $KS_SRC_TARBALL"
}
