#!/usr/bin/env bash
# Build once, and cache, a real Debian 12 guest for virtkit.virt's tests:
# systemd, cloud-init (NoCloud), sshd, qemu-guest-agent, ACPI shutdown.
# Only Debian packages: no cloud image can be downloaded on the CI machines.
#
# One qcow2 disk, GPT:
#   p1  EFI system partition: shim and grub, both signed (from Debian's
#       shim-signed and grub-efi-amd64-signed), so UEFI boots it from the
#       disk, with or without secure boot; and, for a BIOS, SYSLINUX with a
#       copy of the kernel and initrd (the partition is marked legacy BIOS
#       bootable; syslinux's GPT MBR boots it), as a cloud image boots
#       either way
#   p2  ext4 root, label virtkit-root
# The kernel and initrd are also copied out for direct kernel boot (BIOS or
# UEFI).
#
# Called by setup.sh under its lock. Rebuilt only when the recipe (package
# lists + the build functions below) changes. Output: $CACHE/debian/, named
# by $CACHE/debian.env (shell syntax, source it). See tests/bed/README.md.
# Environment: VIRTKIT_BED_CACHE, VIRTKIT_BED_REBUILD (as setup.sh).
set -euo pipefail

CACHE=${VIRTKIT_BED_CACHE:-/var/cache/virtkit-bed}
REBUILD=${VIRTKIT_BED_REBUILD:-0}
OUT=$CACHE/debian
ENV_FILE=$CACHE/debian.env
STAMP=$OUT/recipe.sha256

SUITE=bookworm
LABEL=virtkit-root
DISK_MIB=2048           # virtual size; cloud-init grows the root partition
ESP_MIB=48              # shim + grub + grub.cfg about 6 MB; SYSLINUX's kernel + initrd about 21 MB
CMDLINE="root=LABEL=$LABEL rw console=ttyS0"

# In the image (debootstrap --include). The comments say why each is there.
IMAGE_PACKAGES=(
    linux-image-cloud-amd64     # virtio built for clouds; no AHCI (SATA) driver
    systemd-sysv udev
    dbus                        # hostnamectl: cloud-init sets the hostname through it
    cloud-init
    python3-cffi-backend        # debootstrap fails on cloud-init's dependencies without it
    cloud-guest-utils           # growpart: the root partition follows a bigger volume
    openssh-server sudo
    qemu-guest-agent
    ifupdown isc-dhcp-client    # the network configuration cloud-init writes (interfaces.d)
    iproute2 netbase kmod procps
    python3                     # Ansible's modules
)
# Only unpacked on the host; their signed EFI binaries go into the ESP.
EFI_PACKAGES=(shim-signed grub-efi-amd64-signed)
# Only unpacked on the host: the installer (mtools-based: no mount) and the GPT MBR.
BIOS_PACKAGES=(syslinux syslinux-common)

# Units the tests don't need; under TCG each costs boot time or CPU later.
# Masked, not disabled: the first boot (empty machine-id) runs
# "systemctl preset-all", which would enable disabled units again.
MASKED_UNITS=(
    apt-daily.timer apt-daily-upgrade.timer   # no mirror reachable from test guests
    dpkg-db-backup.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer
    getty@tty1.service                        # no display; ttyS0 has its getty
)

# shellcheck source=tests/bed/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[ "$(id -u)" = 0 ] || die "must run as root"

recipe_hash() {
    {
        echo "debian-image-v1 $SUITE $LABEL $DISK_MIB $ESP_MIB $CMDLINE"
        printf '%s\n' "${IMAGE_PACKAGES[@]}" -- "${EFI_PACKAGES[@]}" -- "${BIOS_PACKAGES[@]}" -- "${MASKED_UNITS[@]}"
        declare -f bootstrap configure_root unpack_debs efi_binaries assemble_disk build
    } | sha256sum | cut -d' ' -f1
}

# bootstrap ROOT: debootstrap the packages. The .debs stay in
# $CACHE/debs-debian, so a recipe change rebuilds without downloading them.
bootstrap() {
    local root=$1 debs=$CACHE/debs-debian include
    mkdir -p "$debs"
    include=$(IFS=,; echo "${IMAGE_PACKAGES[*]}")
    debootstrap --variant=minbase --cache-dir="$debs" --include="$include" \
        "$SUITE" "$root" "$(mirror)" > "$CACHE/debian-debootstrap.log" 2>&1 \
        || { tail -n 20 "$CACHE/debian-debootstrap.log" >&2
             die "debootstrap failed (log: $CACHE/debian-debootstrap.log)"; }
    # Keep exactly this build's packages: older versions would pile up.
    find "$debs" -name '*.deb' -delete
    mv "$root"/var/cache/apt/archives/*.deb "$debs"/
}

# configure_root ROOT: make the tree a guest that cloud-init personalises.
configure_root() {
    local root=$1 unit
    cat > "$root/etc/fstab" <<EOF
LABEL=$LABEL / ext4 rw,errors=remount-ro 0 1
EOF
    cat > "$root/etc/network/interfaces" <<'EOF'
# cloud-init writes the interfaces' configuration into interfaces.d.
source /etc/network/interfaces.d/*

auto lo
iface lo inet loopback
EOF
    cat > "$root/etc/cloud/cloud.cfg.d/90-virtkit.cfg" <<'EOF'
# virtkit test image: a NoCloud seed (label cidata) or nothing at all.
datasource_list: [ NoCloud, None ]
# Debian's locale-gen ignores its arguments: cloud-init's default locale
# (en_US.UTF-8) ends in "update-locale: Error: invalid locale settings" and
# "cloud-init status: error". C.UTF-8 needs no generation.
locale: C.UTF-8
# Under TCG every step costs seconds: one host key type, no key dump on
# the console (3 s), no grub-pc debconf probe (5 s: there is no grub-pc),
# the sources.list debootstrap wrote (3.5 s; test guests reach no mirror).
ssh_genkeytypes: [ ed25519 ]
ssh_quiet_keygen: true
ssh:
  emit_keys_to_console: false
grub_dpkg:
  enabled: false
apt:
  preserve_sources_list: true
EOF
    echo LANG=C.UTF-8 > "$root/etc/default/locale"
    # Identity comes at first boot: no machine-id, no SSH host keys (cloud-init
    # makes them), no hostname or resolver of the build host.
    : > "$root/etc/machine-id"
    rm -f "$root/var/lib/dbus/machine-id" "$root"/etc/ssh/ssh_host_*
    echo localhost > "$root/etc/hostname"
    printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' > "$root/etc/hosts"
    rm -f "$root/etc/resolv.conf"
    for unit in "${MASKED_UNITS[@]}"; do
        ln -sfn /dev/null "$root/etc/systemd/system/$unit"
        rm -f "$root"/etc/systemd/system/*.wants/"$unit"
    done
    # A small initramfs: only what finds the root file system (ext4 is built
    # in), instead of MODULES=most. Smaller is faster to unpack under TCG.
    printf '%s\n' virtio_pci virtio_blk virtio_scsi sd_mod > "$root/etc/initramfs-tools/modules"
    sed -i 's/^MODULES=.*/MODULES=list/' "$root/etc/initramfs-tools/initramfs.conf"
    echo RESUME=none > "$root/etc/initramfs-tools/conf.d/resume"
    chroot "$root" update-initramfs -u -k all > /dev/null 2>&1 \
        || die "update-initramfs failed in the image (run: chroot $root update-initramfs -u -k all)"
    # Smaller: no package lists (no mirror for test guests), debs, docs, logs.
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/log/bootstrap.log \
        "$root"/usr/share/man/* "$root"/usr/share/locale/* "$root"/tmp/* "$root"/var/tmp/*
    find "$root/usr/share/doc" -type f ! -name copyright -delete
}

# unpack_debs DIR PACKAGE...: the packages' files under DIR/pkg, unpacked
# from their .debs (kept in $CACHE/debs-efi), not installed.
unpack_debs() {
    local dir=$1 debs=$CACHE/debs-efi p f
    shift
    mkdir -p "$debs"
    for p in "$@"; do
        f=$(find "$debs" -name "${p}_*.deb" | head -n 1)
        if [ -z "$f" ]; then
            (cd "$debs" && apt-get -q -o APT::Sandbox::User=root download "$p" > /dev/null) \
                || die "apt-get download $p failed"
            f=$(find "$debs" -name "${p}_*.deb" | head -n 1)
        fi
        dpkg-deb -x "$f" "$dir/pkg"
    done
}

# efi_binaries DIR: shimx64.efi and grubx64.efi, signed by Microsoft and
# Debian; the SYSLINUX installer and GPT MBR for a BIOS.
efi_binaries() {
    local dir=$1
    unpack_debs "$dir" "${EFI_PACKAGES[@]}" "${BIOS_PACKAGES[@]}"
    cp "$dir/pkg/usr/lib/shim/shimx64.efi.signed" "$dir/shimx64.efi"
    cp "$dir/pkg/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed" "$dir/grubx64.efi"
    cp "$dir/pkg/usr/bin/syslinux" "$dir/syslinux"
    cp "$dir/pkg/usr/lib/syslinux/mbr/gptmbr.bin" "$dir/gptmbr.bin"
    rm -rf "$dir/pkg"
}

# assemble_disk ROOT EFIDIR RAW KERNEL INITRD: GPT disk image with the ESP
# and the root fs.
assemble_disk() {
    local root=$1 efi=$2 raw=$3 kernel=$4 initrd=$5 start sectors
    truncate -s "${DISK_MIB}M" "$raw"
    sfdisk --quiet "$raw" <<EOF
label: gpt
start=1MiB, size=${ESP_MIB}MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI system", attrs="LegacyBIOSBootable"
start=$((1 + ESP_MIB))MiB, type=4F68BCE3-E8CD-4C20-A7BA-BDA1A17ED36D, name="root"
EOF
    # The removable-media path: shim finds grubx64.efi next to itself, and
    # Debian's signed grub reads grub.cfg next to itself (its $cmdpath).
    # shim (Debian's key built in) checks grub and the kernel: secure boot works.
    mkfs.fat -C "$raw.esp" $((ESP_MIB * 1024)) > /dev/null
    mmd -i "$raw.esp" ::/EFI ::/EFI/BOOT
    mcopy -i "$raw.esp" "$efi/shimx64.efi" ::/EFI/BOOT/BOOTX64.EFI
    mcopy -i "$raw.esp" "$efi/grubx64.efi" ::/EFI/BOOT/grubx64.efi
    cat > "$efi/grub.cfg" <<EOF
set timeout=0
search --no-floppy --label $LABEL --set=root
linux /vmlinuz $CMDLINE
initrd /initrd.img
boot
EOF
    mcopy -i "$raw.esp" "$efi/grub.cfg" ::/EFI/BOOT/grub.cfg
    # A BIOS: the MBR boots the partition marked legacy BIOS bootable (the ESP),
    # whose boot sector and ldlinux.sys SYSLINUX installs; it reads the kernel from the ESP.
    mcopy -i "$raw.esp" "$kernel" ::/vmlinuz
    mcopy -i "$raw.esp" "$initrd" ::/initrd.img
    cat > "$efi/syslinux.cfg" <<EOF
DEFAULT debian
TIMEOUT 0
LABEL debian
  KERNEL /vmlinuz
  INITRD /initrd.img
  APPEND $CMDLINE
EOF
    mcopy -i "$raw.esp" "$efi/syslinux.cfg" ::/syslinux.cfg
    "$efi/syslinux" --install "$raw.esp" || die "syslinux --install failed"
    dd if="$efi/gptmbr.bin" of="$raw" bs=440 count=1 conv=notrunc status=none
    dd if="$raw.esp" of="$raw" bs=1M seek=1 conv=notrunc,sparse status=none
    rm -f "$raw.esp"
    read -r start sectors < <(partx -g -n 2 -o START,SECTORS "$raw")
    truncate -s $((sectors * 512)) "$raw.root"
    mkfs.ext4 -q -m 1 -L "$LABEL" -d "$root" "$raw.root" \
        || die "mkfs.ext4 -d $root failed"
    dd if="$raw.root" of="$raw" bs=1M seek=$((start / 2048)) conv=notrunc,sparse status=none
    rm -f "$raw.root"
}

# Build trees left by an interrupted run. debootstrap mounts proc and sys in
# its target: unmount what is still mounted there before removing anything.
remove_old_builds() {
    local m
    awk -v p="$CACHE/.debian." 'index($2, p) == 1 { print $2 }' /proc/mounts | sort -r \
        | while read -r m; do umount -l "$m" || true; done
    rm -rf --one-file-system "$CACHE"/.debian.*
}

build() {
    local hash=$1 tmp kver='' f t0=$SECONDS
    remove_old_builds
    tmp=$(mktemp -d "$CACHE/.debian.XXXXXX")
    mkdir "$tmp/out" "$tmp/efi"
    log "debian: debootstrap $SUITE with ${#IMAGE_PACKAGES[@]} packages (about 2 minutes)"
    bootstrap "$tmp/root"
    for f in "$tmp"/root/boot/vmlinuz-*; do kver=${f##*/vmlinuz-}; done
    if [ -z "$kver" ] || [ ! -f "$tmp/root/boot/initrd.img-$kver" ]; then die "no kernel in the image's /boot"; fi
    log "debian: configuring (kernel $kver), $((SECONDS - t0))s"
    configure_root "$tmp/root"
    cp "$tmp/root/boot/vmlinuz-$kver" "$tmp/out/vmlinuz"
    cp "$tmp/root/boot/initrd.img-$kver" "$tmp/out/initrd.img"
    efi_binaries "$tmp/efi"
    log "debian: writing the disk image, $((SECONDS - t0))s"
    assemble_disk "$tmp/root" "$tmp/efi" "$tmp/disk.raw" "$tmp/out/vmlinuz" "$tmp/out/initrd.img"
    qemu-img convert -f raw -O qcow2 -c -o compression_type=zstd "$tmp/disk.raw" "$tmp/out/debian-12.qcow2"
    # Publish: the stamp goes first and comes back last, so an interrupted
    # publish rebuilds. Guests still running keep the old files open.
    rm -f "$STAMP"
    rm -rf "$OUT.old"
    [ ! -d "$OUT" ] || mv "$OUT" "$OUT.old"
    mv "$tmp/out" "$OUT"
    cat > "$ENV_FILE" <<EOF
# Real Debian 12 guest, made by tests/bed/image.sh. Shell syntax: source it.
# GPT: p1 ESP (shim + grub, signed; SYSLINUX for a BIOS), p2 ext4 root (LABEL=$LABEL).
DEBIAN_IMAGE=$OUT/debian-12.qcow2
DEBIAN_IMAGE_FORMAT=qcow2
DEBIAN_KERNEL=$OUT/vmlinuz
DEBIAN_INITRD=$OUT/initrd.img
DEBIAN_KVER=$kver
DEBIAN_CMDLINE='$CMDLINE'
# UEFI (package ovmf); libvirt also picks these itself from <os firmware='efi'>.
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
OVMF_CODE_SECBOOT=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd
OVMF_VARS_SECBOOT=/usr/share/OVMF/OVMF_VARS_4M.ms.fd
EOF
    echo "$hash" > "$STAMP"
    rm -rf "$OUT.old" "$tmp"
    log "debian: built $OUT/debian-12.qcow2 ($(du -m "$OUT/debian-12.qcow2" | cut -f1) MB) in $((SECONDS - t0))s"
}

main() {
    local hash tool missing=()
    for tool in debootstrap chroot sfdisk partx mkfs.fat mmd mcopy mkfs.ext4 qemu-img apt-get dpkg-deb; do
        command -v "$tool" >/dev/null || missing+=("$tool")
    done
    [ "${#missing[@]}" = 0 ] || die "missing ${missing[*]}: run tests/bed/setup.sh, it installs them"
    mkdir -p "$CACHE"
    # setup.sh holds the cache lock already; alone, take it here.
    if [ -z "${VIRTKIT_BED_LOCKED:-}" ]; then
        exec 9>"$CACHE/.lock"
        flock 9
    fi
    hash=$(recipe_hash)
    if [ "$REBUILD" != 1 ] && [ -f "$ENV_FILE" ] && [ -f "$OUT/debian-12.qcow2" ] \
        && [ "$(cat "$STAMP" 2>/dev/null)" = "$hash" ]; then
        log "debian: cache is current ($OUT)"
        return
    fi
    build "$hash"
}

# Sourced (to try a function by hand), it only defines them.
[ "${BASH_SOURCE[0]}" != "$0" ] || main "$@"
