#!/usr/bin/env bash
# What every bed script needs, sourced by setup.sh, image.sh,
# rootfs-libvirt.sh and vcsim.sh. No recipe hash covers these functions:
# changing them rebuilds nothing.

log() { echo "[bed] $*"; }
die() { echo "[bed] ERROR: $*" >&2; exit 1; }

# The Debian mirror this machine's apt uses (debootstrap fetches from it), or deb.debian.org.
mirror() {
    local m
    m=$(sed -n 's/^URIs: *//p; s/^deb  *\(http[^ ]*\) .*/\1/p' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
        | grep -v security | head -n 1 || true)
    echo "${m:-http://deb.debian.org/debian}"
}
