#!/usr/bin/env bash
# Make a Debian 12 host (root, no systemd) ready for virtkit.virt's tests:
# packages, a running libvirtd answering qemu:///system and lxc:///, a
# cached tiny test guest (kernel + busybox initramfs) and a cached real
# Debian guest (image.sh).
#
# Idempotent: a second run only checks and prints "ready".
# Environment:
#   VIRTKIT_BED_CACHE    guest cache dir            (default /var/cache/virtkit-bed)
#   VIRTKIT_BED_TIMEOUT  seconds to wait for daemon (default 120)
#   VIRTKIT_BED_REBUILD  1 = rebuild the guests even if the cache is current
# See tests/bed/README.md.
set -euo pipefail

BED_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${VIRTKIT_BED_CACHE:-/var/cache/virtkit-bed}
TIMEOUT=${VIRTKIT_BED_TIMEOUT:-120}
REBUILD=${VIRTKIT_BED_REBUILD:-0}

PACKAGES=(
    libvirt-daemon libvirt-clients libvirt-daemon-driver-qemu
    libvirt-daemon-driver-lxc qemu-system-x86 qemu-utils dnsmasq-base
    libvirt-dev pkg-config gcc          # pip install libvirt-python
    libxml2-utils                       # xmllint, used by virt-xml-validate
    iptables                            # network driver: rules even for isolated nets
    busybox-static cpio kmod iproute2   # guest build (kmod: depmod/modprobe)
    xz-utils zstd                       # decompress .ko.xz/.ko.zst modules
    util-linux                          # unshare, flock
    genisoimage                         # cloud-init seed ISOs (smoke.sh, tests)
    sasl2-bin libsasl2-modules          # SASL user for the auth tests (qemu+tcp)
    debootstrap                         # Debian rootfs with python3 for LXC tests
    openssh-server                      # sshd on 127.0.0.1 for the SSH paths
    lvm2 e2fsprogs                      # logical and fs storage pools
    python3-venv python3-dev            # .venv (tests/venv.sh); python3-dev: libvirt-python builds
    shellcheck                          # ansible-test sanity's shellcheck test
    ovmf swtpm swtpm-tools              # UEFI firmware (+ secure boot), emulated TPM 2.0
    fdisk dosfstools mtools             # real guest image: GPT, EFI system partition
    openssh-client                      # ssh into the real guest (smoke.sh, tests)
    golang-go golang-github-vmware-govmomi-dev  # vSphere simulator for the ESX tests (vcsim.sh)
)

# Modules loaded by the guest. Their dependencies are added in load order at
# build time (modprobe --show-depends), e.g. virtio_net pulls in virtio_ring,
# virtio, failover, net_failover. Missing ones are skipped with a note.
GUEST_MODULES=(
    virtio_pci virtio_net virtio_balloon   # NIC, live memory (setmem --live)
    virtio_blk isofs                       # seed ISO as a virtio disk
    ahci sr_mod                            # seed ISO as a SATA cdrom (/dev/sr0)
    button evdev                           # ACPI power button -> acpid
)

# shellcheck source=tests/bed/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[ "$(id -u)" = 0 ] || die "must run as root"

# ---------------------------------------------------------------- packages --
apt_opts=(-y -q -o DPkg::Lock::Timeout=900)

# Another apt/dpkg run (e.g. an install started in the background) holds the
# lists lock, which DPkg::Lock::Timeout does not cover: wait for it, bounded.
wait_for_apt() {
    local start=$SECONDS
    while pgrep -x 'apt|apt-get|dpkg|unattended-upgr' >/dev/null; do
        [ $((SECONDS - start)) -lt 900 ] || die "another apt/dpkg still runs after 900s"
        log "packages: waiting for another apt/dpkg run to finish ($((SECONDS - start))s)"
        sleep 10
    done
}

ensure_packages() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep '^ii' >/dev/null \
            || missing+=("$p")
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        log "packages: all ${#PACKAGES[@]} installed"
        return
    fi
    log "packages: installing ${missing[*]}"
    # libvirtd probes for iptables once and remembers a failure: a daemon that
    # started before iptables was installed can't start networks until restarted.
    if pgrep -x libvirtd >/dev/null; then
        log "WARNING: libvirtd is running; restart it after this install"
    fi
    export DEBIAN_FRONTEND=noninteractive
    wait_for_apt
    apt-get "${apt_opts[@]}" update
    apt-get "${apt_opts[@]}" install --no-install-recommends "${missing[@]}"
}

# ------------------------------------------------------------ libvirt conf --
# set_conf FILE KEY VALUE: make FILE contain exactly one active "KEY = VALUE".
# Echoes "changed" when the file was modified.
set_conf() {
    local file=$1 key=$2 value=$3 line
    line="$key = $value"
    if [ -f "$file" ] && grep -qxF "$line" "$file" \
        && [ "$(grep -cE "^[[:space:]]*${key}[[:space:]]*=" "$file")" = 1 ]; then
        return
    fi
    mkdir -p "$(dirname "$file")"
    touch "$file"
    sed -i -E "/^[[:space:]]*${key}[[:space:]]*=/d" "$file"
    echo "$line" >> "$file"
    echo changed
}

configure_libvirt() {
    # Debian's libvirt-daemon-system (not installed: it needs systemd) would
    # create these. The QEMU driver resolves its compiled-in default user
    # before it reads qemu.conf, so it must exist even though we override it
    # below ("Failed to parse user 'libvirt-qemu'" otherwise).
    getent group kvm >/dev/null || groupadd --system kvm
    getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
    if ! getent passwd libvirt-qemu >/dev/null; then
        log "config: creating system user libvirt-qemu"
        useradd --system --gid libvirt-qemu --groups kvm --home-dir /var/lib/libvirt \
            --no-create-home --shell /usr/sbin/nologin --comment "Libvirt Qemu" libvirt-qemu
    fi
    # qemu.conf also comes from libvirt-daemon-system, so it usually doesn't
    # exist yet. Running QEMU as a non-root user made libvirtd's first
    # capability probe take 22 minutes here; as root it takes seconds.
    local conf=/etc/libvirt/qemu.conf changed=
    changed+=$(set_conf "$conf" user '"root"')
    changed+=$(set_conf "$conf" group '"root"')
    if [ -n "$changed" ]; then
        log "config: wrote user/group = root to $conf"
        if pgrep -x libvirtd >/dev/null; then
            log "WARNING: libvirtd is already running with the old $conf; restart it to apply"
        fi
    else
        log "config: $conf has user/group = root"
    fi
}

# swtpm, the TPM 2.0 emulator: libvirtd (9.0, /var/lib/libvirt/swtpm and
# /var/log/swtpm/libvirt/qemu it makes itself) runs it as the user "tss" if
# that user existed when libvirtd started, else as root. swtpm-tools creates
# tss; a libvirtd started before that install runs swtpm as root, and the
# local CA that swtpm_setup then makes in /var/lib/swtpm-localca is root's
# (signkey.pem mode 0640): after the next libvirtd start, swtpm_setup as tss
# can't read it and every TPM guest fails to start. Give the CA back to tss.
configure_swtpm() {
    getent passwd tss >/dev/null || return 0
    [ -d /var/lib/swtpm-localca ] || return 0
    if [ -n "$(find /var/lib/swtpm-localca ! -user tss -print -quit)" ]; then
        chown -R tss /var/lib/swtpm-localca
        log "config: /var/lib/swtpm-localca given back to tss (swtpm ran as root before)"
    fi
}

# A TCP listener on 127.0.0.1 that asks for a SASL user name and password:
# the only way to prove `auth` (libvirt's openAuth) against a real daemon.
# The credentials are random per machine and stay in a root-only file.
SASL_PORT=16509
configure_sasl() {
    local changed='' conf=/etc/libvirt/libvirtd.conf auth="$CACHE/auth.env"
    changed+=$(set_conf "$conf" listen_tls 0)
    changed+=$(set_conf "$conf" listen_tcp 1)
    changed+=$(set_conf "$conf" listen_addr '"127.0.0.1"')
    changed+=$(set_conf "$conf" tcp_port "\"$SASL_PORT\"")
    changed+=$(set_conf "$conf" auth_tcp '"sasl"')
    mkdir -p /etc/sasl2
    # Plain TCP: libvirt insists on a SASL mechanism that encrypts (SSF >= 56);
    # of those in libsasl2-modules only DIGEST-MD5 does (SCRAM does not).
    if ! grep -qx 'mech_list: digest-md5' /etc/sasl2/libvirt.conf 2>/dev/null; then
        printf 'mech_list: digest-md5\nsasldb_path: /etc/libvirt/passwd.db\n' > /etc/sasl2/libvirt.conf
        changed+=changed
    fi
    local password
    if [ -s "$auth" ]; then
        password=$(sed -n 's/^SASL_PASSWORD=//p' "$auth")
    else
        password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
        (umask 077; printf 'SASL_URI=qemu+tcp://127.0.0.1:%s/system\nSASL_USERNAME=virtkit-test\nSASL_PASSWORD=%s\n' \
            "$SASL_PORT" "$password" > "$auth")
        log "config: SASL user virtkit-test for qemu+tcp://127.0.0.1:$SASL_PORT (credentials in $auth)"
    fi
    # Set every run, from this cache's file: a bed built with another cache
    # directory (VIRTKIT_BED_CACHE) set its own password in the one database.
    printf '%s' "$password" | saslpasswd2 -p -a libvirt -f /etc/libvirt/passwd.db virtkit-test
    [ -z "$changed" ] || log "config: libvirtd listens on 127.0.0.1:$SASL_PORT with SASL auth"
}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$SASL_PORT") 2>/dev/null; }

# ----------------------------------------------------------------- daemons --
# A starting libvirtd accepts the connection but replies only once its drivers
# are initialised (QEMU capability probe): keep each try short so that the
# wait loop below can report progress.
answers() { timeout 5 virsh -q -c "$1" version >/dev/null 2>&1; }

# The host's libvirtd, by its pid file: libvirtds inside test containers
# show up in pgrep too, and are not this machine's daemon.
host_libvirtd() {
    local pid
    pid=$(cat /run/libvirtd.pid 2>/dev/null || true)
    [ -n "$pid" ] && [ -d "/proc/$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = libvirtd ] && echo "$pid"
}

start_daemons() {
    # Directories libvirt-daemon-system would ship. libvirtd does not create
    # the per-driver log dirs: a domain start fails with "Unable to open
    # file: /var/log/libvirt/qemu/NAME.log" without them.
    mkdir -p /var/run/libvirt /var/log/libvirt/qemu /var/log/libvirt/lxc \
        /var/lib/libvirt/images /var/lib/libvirt/boot /var/cache/libvirt
    # The QEMU driver writes each domain's log through virtlogd: without it
    # every start fails, even with a healthy libvirtd.
    if ! pgrep -x virtlogd >/dev/null; then
        log "daemon: starting virtlogd"
        virtlogd -d 9>&-    # 9>&-: daemons must not inherit our lock
    fi
    if answers qemu:///system && ! listening; then
        # Started without --listen (by hand, or by an older bed): restart it
        # so that the SASL listener comes up. Running guests and networks
        # survive a libvirtd restart; only calls in flight fail.
        log "daemon: libvirtd has no TCP listener on 127.0.0.1:$SASL_PORT: restarting it"
        # The host's daemon only (its pid file): libvirtds in test containers are not ours.
        local pid
        pid=$(host_libvirtd || true)
        [ -z "$pid" ] || kill "$pid"
        for _ in $(seq 50); do [ -n "$(host_libvirtd)" ] || break; sleep 0.2; done
    fi
    if answers qemu:///system; then
        log "daemon: libvirtd already answers on qemu:///system"
    else
        if [ -n "$(host_libvirtd)" ]; then
            log "daemon: libvirtd runs (pid $(host_libvirtd)) but does not answer yet"
        else
            # No systemd: start it ourselves. LXC on this hybrid cgroup host
            # fails with "Unable to create directory /sys/fs/cgroup/unified"
            # unless libvirtd lives in a private mount namespace without that
            # mount. Slave propagation: the umount stays private, later host
            # mounts (loop devices of fs pools, ...) still reach the daemon.
            log "daemon: starting libvirtd (log: /var/log/libvirt/libvirtd.log)"
            LIBVIRT_LOG_OUTPUTS="3:file:/var/log/libvirt/libvirtd.log" \
                unshare -m --propagation slave \
                sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec libvirtd -d --listen' 9>&-
        fi
    fi
    wait_for qemu:///system
    wait_for lxc:///
    listening || die "libvirtd does not listen on 127.0.0.1:$SASL_PORT (see /var/log/libvirt/libvirtd.log)"
    check_lxc_namespace
}

# wait_for URI: bounded wait until URI answers, saying what we wait for.
wait_for() {
    local uri=$1 start=$SECONDS next=0
    while ! answers "$uri"; do
        local waited=$((SECONDS - start))
        # A daemon that died won't answer: don't wait the whole timeout.
        if [ "$waited" -ge 3 ] && [ -z "$(host_libvirtd)" ]; then
            tail -n 20 /var/log/libvirt/libvirtd.log 2>/dev/null | sed 's/^/[bed]   /' >&2 || true
            die "libvirtd is not running (it exited?); see /var/log/libvirt/libvirtd.log"
        fi
        if [ "$waited" -ge "$TIMEOUT" ]; then
            tail -n 20 /var/log/libvirt/libvirtd.log 2>/dev/null | sed 's/^/[bed]   /' >&2 || true
            die "libvirtd did not answer on $uri within ${TIMEOUT}s (VIRTKIT_BED_TIMEOUT); \
see /var/log/libvirt/libvirtd.log"
        fi
        if [ "$waited" -ge "$next" ]; then
            log "daemon: waiting for '$uri' to answer (virsh version), ${waited}s of ${TIMEOUT}s"
            next=$((waited + 10))
        fi
        sleep 1
    done
    log "daemon: $uri answers"
}

# A libvirtd started some other way (e.g. by hand, plainly) still sees the
# cgroup2 mount and every LXC start fails: say so, but don't kill it.
check_lxc_namespace() {
    local pid
    grep -q ' /sys/fs/cgroup/unified ' /proc/self/mountinfo || return 0
    for pid in $(host_libvirtd); do
        if grep -q ' /sys/fs/cgroup/unified ' "/proc/$pid/mountinfo" 2>/dev/null; then
            log "WARNING: libvirtd (pid $pid) sees /sys/fs/cgroup/unified: LXC starts will fail."
            log "WARNING: stop it and rerun this script to start it in its own mount namespace."
        fi
    done
}

# ------------------------------------------------------------- test guest --
# The recipe hash covers the guest files, the module list and the build code,
# so editing any of them rebuilds the guest on the next run.
recipe_hash() {
    {
        echo "recipe-v1"
        printf '%s\n' "${GUEST_MODULES[@]}"
        declare -f build_guest resolve_kernel_package build_initrd
        cat "$BED_DIR/guest/init" "$BED_DIR/guest/udhcpc.script" "$BED_DIR/guest/acpi-power"
    } | sha256sum | cut -d' ' -f1
}

resolve_kernel_package() {
    # linux-image-amd64 is a metapackage; its candidate depends on the real
    # linux-image-<abi>-amd64 package that holds vmlinuz and the modules.
    local pkg
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null \
        | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
    if [ -z "$pkg" ]; then
        log "guest: no package lists, running apt-get update" >&2
        wait_for_apt >&2
        apt-get "${apt_opts[@]}" update >&2
        pkg=$(apt-cache depends linux-image-amd64 2>/dev/null \
            | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
    fi
    [ -n "$pkg" ] || die "cannot resolve the kernel package behind linux-image-amd64"
    echo "$pkg"
}

# build_initrd KROOT KVER OUT: busybox initramfs with the modules of KROOT.
build_initrd() {
    local kroot=$1 kver=$2 out=$3 root m f
    root=$(mktemp -d "$CACHE/.initrd.XXXXXX")
    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc/acpi/PWRF,lib/modules,proc,sys,dev,run,tmp,mnt}
    cp /bin/busybox "$root/bin/busybox"
    for f in $(/bin/busybox --list-full); do
        [ -e "$root/$f" ] || ln -s /bin/busybox "$root/$f"
    done
    install -m 755 "$BED_DIR/guest/init" "$root/init"
    install -m 755 "$BED_DIR/guest/udhcpc.script" "$root/etc/udhcpc.script"
    install -m 755 "$BED_DIR/guest/acpi-power" "$root/etc/acpi/PWRF/00000080"
    # modules.dep is made by the package's postinst, which we don't run.
    depmod -b "$kroot" "$kver"
    : > "$root/etc/modules.load"
    for m in "${GUEST_MODULES[@]}"; do
        local deps
        if ! deps=$(modprobe -d "$kroot" -S "$kver" --show-depends "$m" 2>/dev/null); then
            log "guest: module $m not found in $kver, skipped"
            continue
        fi
        # "insmod /path/x.ko[.xz|.zst] [params]" lines, dependencies first;
        # "builtin x" lines need nothing.
        while read -r kind path _; do
            [ "$kind" = insmod ] || continue
            local name base
            base=$(basename "$path")
            name=${base%%.ko*}
            [ -e "$root/lib/modules/$name.ko" ] && continue
            # busybox insmod can't read compressed modules: unpack them here.
            case "$path" in
                *.ko) cp "$path" "$root/lib/modules/$name.ko" ;;
                *.ko.xz) xz -dc "$path" > "$root/lib/modules/$name.ko" ;;
                *.ko.zst) zstd -qdc "$path" > "$root/lib/modules/$name.ko" ;;
                *.ko.gz) gzip -dc "$path" > "$root/lib/modules/$name.ko" ;;
                *) die "unknown module format: $path" ;;
            esac
            echo "$name" >> "$root/etc/modules.load"
        done <<< "$deps"
    done
    (cd "$root" && find . -print0 | LC_ALL=C sort -z \
        | cpio --null -o -H newc --owner=0:0 --quiet) | gzip -9 > "$out"
    rm -rf "$root"
}

build_guest() {
    local hash=$1 pkg kver='' deb='' kroot tmp f
    pkg=$(resolve_kernel_package)
    log "guest: building from $pkg into $CACHE"
    mkdir -p "$CACHE/debs"
    rm -rf "$CACHE"/.build.* "$CACHE"/.initrd.*   # left by an interrupted run
    # Keep the .deb: a recipe change then rebuilds without downloading again.
    # APT::Sandbox::User=root: _apt can't write to our cache dir.
    for f in "$CACHE/debs/${pkg}"_*_amd64.deb; do [ -f "$f" ] && deb=$f; done
    if [ -z "$deb" ]; then
        rm -f "$CACHE"/debs/*.deb
        (cd "$CACHE/debs" && apt-get -q -o APT::Sandbox::User=root download "$pkg")
        for f in "$CACHE/debs/${pkg}"_*_amd64.deb; do [ -f "$f" ] && deb=$f; done
        [ -n "$deb" ] || die "apt-get download $pkg left no .deb in $CACHE/debs"
    fi
    tmp=$(mktemp -d "$CACHE/.build.XXXXXX")
    kroot=$tmp/kernel
    dpkg-deb -x "$deb" "$kroot"
    for f in "$kroot"/lib/modules/*/; do kver=$(basename "$f"); done
    if [ -z "$kver" ] || [ ! -f "$kroot/boot/vmlinuz-$kver" ]; then
        die "no lib/modules/<ver> with boot/vmlinuz-<ver> in $deb"
    fi
    cp "$kroot/boot/vmlinuz-$kver" "$tmp/vmlinuz"
    build_initrd "$kroot" "$kver" "$tmp/initrd.img"
    # Publish: files first, the stamp last, so an interrupted build rebuilds.
    rm -f "$CACHE/recipe.sha256"
    mv -f "$tmp/vmlinuz" "$CACHE/vmlinuz"
    mv -f "$tmp/initrd.img" "$CACHE/initrd.img"
    cat > "$CACHE/guest.env" <<EOF
# virtkit test guest, made by tests/bed/setup.sh. Shell syntax: source it.
KERNEL=$CACHE/vmlinuz
INITRD=$CACHE/initrd.img
KVER=$kver
KERNEL_PACKAGE=$(basename "$deb" .deb)
CMDLINE='console=ttyS0'
EOF
    rm -rf "$tmp"
    echo "$hash" > "$CACHE/recipe.sha256"
    log "guest: built $CACHE/vmlinuz ($kver) and $CACHE/initrd.img ($(du -h "$CACHE/initrd.img" | cut -f1))"
}

ensure_guest() {
    local hash
    mkdir -p "$CACHE"
    hash=$(recipe_hash)
    if [ "$REBUILD" != 1 ] && [ -f "$CACHE/vmlinuz" ] && [ -f "$CACHE/initrd.img" ] \
        && [ -f "$CACHE/guest.env" ] && [ "$(cat "$CACHE/recipe.sha256" 2>/dev/null)" = "$hash" ]; then
        log "guest: cache is current ($CACHE)"
        return
    fi
    build_guest "$hash"
}

# A Debian rootfs with python3 for LXC containers that Ansible manages with
# ordinary modules (59 s and 261 MB here): built once, then reused. Tests copy
# or bind it; they never change the cached tree.
ROOTFS_STAMP="bookworm minbase python3 v1"
ensure_rootfs() {
    local dir="$CACHE/rootfs-python"
    if [ "$(cat "$dir.stamp" 2>/dev/null)" = "$ROOTFS_STAMP" ] && [ -x "$dir/usr/bin/python3" ]; then
        log "rootfs: cache is current ($dir)"
        return
    fi
    log "rootfs: debootstrap bookworm (minbase + python3) into $dir"
    rm -rf "$dir" "$dir.tmp" "$dir.stamp"
    debootstrap --variant=minbase --include=python3 bookworm "$dir.tmp" "$(mirror)" \
        > "$CACHE/rootfs-debootstrap.log" 2>&1 \
        || { tail -n 20 "$CACHE/rootfs-debootstrap.log" >&2; die "debootstrap failed (log: $CACHE/rootfs-debootstrap.log)"; }
    rm -rf "$dir.tmp/var/cache/apt/archives/"*.deb
    mv "$dir.tmp" "$dir"
    echo "$ROOTFS_STAMP" > "$dir.stamp"
    echo "ROOTFS_PYTHON=$dir" > "$CACHE/rootfs.env"
}

# -------------------------------------------------------------------- main --
main() {
    mkdir -p "$CACHE"
    # Serialize concurrent runs (parallel test jobs) on the same cache.
    exec 9>"$CACHE/.lock"
    flock 9

    ensure_packages
    configure_libvirt
    configure_sasl
    configure_swtpm
    start_daemons
    ensure_guest
    ensure_rootfs
    # The real Debian guest (cloud-init, sshd, guest agent, UEFI-bootable):
    # its own script, run under our lock.
    VIRTKIT_BED_CACHE=$CACHE VIRTKIT_BED_REBUILD=$REBUILD VIRTKIT_BED_LOCKED=1 \
        bash "$BED_DIR/image.sh"
    VIRTKIT_BED_CACHE=$CACHE bash "$BED_DIR/vcsim.sh"
    VIRTKIT_BED_CACHE=$CACHE VIRTKIT_BED_REBUILD=$REBUILD bash "$BED_DIR/rootfs-libvirt.sh"  # migration's second host

    local KERNEL INITRD KVER DEBIAN_IMAGE DEBIAN_KVER
    # shellcheck source=/dev/null
    . "$CACHE/guest.env"
    # shellcheck source=/dev/null
    . "$CACHE/debian.env"
    echo
    local v
    v=$(virsh -c qemu:///system version --daemon)
    echo "libvirt:  daemon $(sed -n 's/^Running against daemon: *//p' <<< "$v"), \
$(sed -n 's/^Running hypervisor: *//p' <<< "$v")"
    echo "answers:  qemu:///system lxc:///"
    echo "kernel:   $KERNEL ($KVER)"
    echo "initrd:   $INITRD"
    echo "env:      $CACHE/guest.env"
    echo "rootfs:   $CACHE/rootfs-python (Debian bookworm minbase + python3)"
    echo "debian:   $DEBIAN_IMAGE ($DEBIAN_KVER; env: $CACHE/debian.env)"
    echo "ready"
}

main "$@"
