# shellcheck shell=bash
# The pieces run.sh (the vhost demo) and guest.sh (any command in the guest) share: the host tools,
# static builds of the workspace's binaries, the initramfs's base and the QEMU boot. Source it after
# ../lib.sh; do not run it.

# Host tools: QEMU, cpio, a static busybox for the initramfs, and rustup's cargo.
ks_vm_tools() {
    ks_apt_ensure qemu-system-x86_64:qemu-system-x86 cpio:cpio gzip:gzip bc:bc xz:xz-utils readelf:binutils \
        cc:gcc /usr/lib/x86_64-linux-gnu/libc.a:libc6-dev promtool:prometheus
    # Rust is not Debian's (the workspace wants 1.95): rustup's cargo, also when run through sudo.
    command -v cargo >/dev/null 2>&1 || { [[ -x "$HOME/.cargo/bin/cargo" ]] && PATH="$HOME/.cargo/bin:$PATH"; }
    command -v cargo >/dev/null 2>&1 || ks_die "cargo not found: install Rust >= 1.95 with rustup (https://rustup.rs)"
    if [[ ! -x /bin/busybox ]] || ! ks_is_static /bin/busybox; then
        ks_log "apt-get install busybox-static"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >&2 || ks_die "cannot install busybox-static"
    fi
}

ks_is_static() { ! ldd "$1" 2>&1 | grep -q '=>'; }

# Static release builds of workspace binaries, in $KS_CACHE/target; KS_STATIC_DIR is where they land.
export CARGO_TARGET_DIR="$KS_CACHE/target"
KS_TRIPLE=x86_64-unknown-linux-gnu
KS_STATIC_DIR="$CARGO_TARGET_DIR/$KS_TRIPLE/release"
ks_cargo_static() {
    RUSTFLAGS='-C target-feature=+crt-static' \
        cargo build --quiet --release --target "$KS_TRIPLE" --manifest-path "$KS_ROOT/Cargo.toml" "$@"
}

# ks_initramfs_base DIR: an empty tree with busybox and its applets, and the modules vhost_net needs
# (tun, tap, vhost_iotlb, vhost: the kernel package's) in DIR/lib/modules.
ks_initramfs_base() {
    local ird="$1" a m
    rm -rf "$ird" && mkdir -p "$ird"/{bin,sbin,etc,proc,sys,dev,tmp,lib/modules,scripts}
    cp /bin/busybox "$ird/bin/busybox"
    for a in $("$ird/bin/busybox" --list); do
        [[ "$a" == busybox ]] || ln -sf busybox "$ird/bin/$a"
    done
    for m in kernel/drivers/net/tun.ko kernel/drivers/net/tap.ko \
             kernel/drivers/vhost/vhost_iotlb.ko kernel/drivers/vhost/vhost.ko; do
        cp "$KS_MODDIR/$m" "$ird/lib/modules/"
    done
}

# ks_pack DIR OUT: the initramfs image of DIR.
ks_pack() {
    (cd "$1" && find . | cpio -o -H newc --quiet | gzip -1) >"$2"
}

# ks_boot KERNEL INITRD LOG TIMEOUT SMP: boots the guest (TCG, no network, no reboot) with the guest's
# console in LOG; returns QEMU's (or timeout's) status.
ks_boot() {
    local rc
    set +e
    timeout "$4" qemu-system-x86_64 -accel tcg -m 1024 -smp "$5" -nographic -no-reboot -nic none \
        -kernel "$1" -initrd "$2" -append "console=ttyS0 panic=-1 quiet" </dev/null 2>&1 | tr -d '\r' >"$3"
    rc=${PIPESTATUS[0]}
    set -e
    return "$rc"
}
