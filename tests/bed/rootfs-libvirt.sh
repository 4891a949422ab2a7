#!/usr/bin/env bash
# Build once, and cache, a Debian 12 root filesystem with libvirt's QEMU
# driver installed: the second host of the migration tests
# (tests/integration/test_migrate.py starts a libvirtd from a copy of it in an
# LXC container). apt inside a fresh container takes minutes; a copy of this
# tree takes seconds.
#
# Called by setup.sh under its lock. Rebuilt only when the recipe (package
# list + the build function) changes. Output: $CACHE/rootfs-libvirt/ (never
# changed by the tests: they copy it), $CACHE/rootfs-libvirt.stamp, and
# ROOTFS_LIBVIRT=... in $CACHE/rootfs-libvirt.env.
# Environment: VIRTKIT_BED_CACHE, VIRTKIT_BED_REBUILD (as setup.sh).
set -euo pipefail

CACHE=${VIRTKIT_BED_CACHE:-/var/cache/virtkit-bed}
REBUILD=${VIRTKIT_BED_REBUILD:-0}
DIR=$CACHE/rootfs-libvirt
STAMP=$DIR.stamp
ENV_FILE=$CACHE/rootfs-libvirt.env
SUITE=bookworm

# debootstrap --include (dependencies follow; recommends do not).
PACKAGES=(
    libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
    qemu-system-x86 qemu-utils
    dnsmasq-base iptables           # the network driver needs iptables even for isolated networks
    sasl2-bin libsasl2-modules      # the daemon's SASL user (DIGEST-MD5), as on the host's listener
    python3                         # so that Ansible can manage it like any host
)

# shellcheck source=tests/bed/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[ "$(id -u)" = 0 ] || die "must run as root"

recipe_hash() {
    {
        echo "rootfs-libvirt-v1 $SUITE"
        printf '%s\n' "${PACKAGES[@]}"
        declare -f build
    } | sha256sum | cut -d' ' -f1
}

build() {
    local tmp=$DIR.tmp include debs=$CACHE/debs-libvirt
    include=$(IFS=,; echo "${PACKAGES[*]}")
    mkdir -p "$debs"
    rm -rf "$tmp"
    debootstrap --variant=minbase --cache-dir="$debs" --include="$include" \
        "$SUITE" "$tmp" "$(mirror)" > "$CACHE/rootfs-libvirt-debootstrap.log" 2>&1 \
        || { tail -n 20 "$CACHE/rootfs-libvirt-debootstrap.log" >&2
             die "debootstrap failed (log: $CACHE/rootfs-libvirt-debootstrap.log)"; }
    # What libvirt-daemon-system (it needs systemd) would make: the QEMU
    # driver resolves its default user before it reads qemu.conf.
    chroot "$tmp" sh -c 'getent group kvm >/dev/null || groupadd --system kvm
        getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
        getent passwd libvirt-qemu >/dev/null || useradd --system --gid libvirt-qemu --groups kvm \
            --home-dir /var/lib/libvirt --no-create-home --shell /usr/sbin/nologin libvirt-qemu'
    mkdir -p "$tmp"/var/log/libvirt/qemu "$tmp"/var/lib/libvirt/images "$tmp"/var/cache/libvirt "$tmp"/run/libvirt
    # The tests write the daemon's configuration into their copy; a stock
    # machine-id would be the host's twin only by accident, never by copy.
    : > "$tmp/etc/machine-id"
    rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*
}

main() {
    local hash
    hash=$(recipe_hash)
    if [ "$REBUILD" != 1 ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$hash" ] && [ -x "$DIR/usr/sbin/libvirtd" ]; then
        log "rootfs-libvirt: cache is current ($DIR)"
        return
    fi
    log "rootfs-libvirt: debootstrap $SUITE with libvirt and QEMU into $DIR (about 2-3 minutes)"
    rm -f "$STAMP"
    rm -rf "$DIR"
    build
    mv "$DIR.tmp" "$DIR"
    echo "ROOTFS_LIBVIRT=$DIR" > "$ENV_FILE"
    echo "$hash" > "$STAMP"     # last: an interrupted build is rebuilt
    log "rootfs-libvirt: built $DIR ($(du -sh "$DIR" | cut -f1))"
}

main "$@"
