#!/usr/bin/env bash
# Boot the cached test guest once with plain virsh and check what tests rely
# on: console markers, DHCP lease (net-dhcp-leases, domifaddr), reading a seed
# ISO, live balloon, ACPI shutdown. Everything it creates is removed on exit.
#
#   tests/bed/smoke.sh [virtio|cdrom|lxc|debian...]
#     virtio  seed ISO as a virtio disk (default)
#     cdrom   seed ISO as a SATA cdrom
#     lxc     instead: start a busybox LXC container (cgroup namespace check)
#     debian, debian-bios-disk, debian-uefi, debian-uefi-kernel, debian-secboot, debian-tpm:
#             the real Debian guest instead, see smoke-debian.sh
# Env: VIRTKIT_BED_CACHE, VIRTKIT_SMOKE_OCTET (third octet of 192.168.X.0/24,
# default random 200-249), VIRTKIT_SMOKE_KEEP=1 keeps the work dir,
# VIRTKIT_SMOKE_CMDLINE_EXTRA more kernel arguments (e.g. quiet).
# Needs tests/bed/setup.sh to have run.
set -euo pipefail

MODE=${1:-virtio}
case "$MODE" in
    debian*) exec bash "$(dirname "${BASH_SOURCE[0]}")/smoke-debian.sh" "$MODE" ;;
esac
CACHE=${VIRTKIT_BED_CACHE:-/var/cache/virtkit-bed}
URI=qemu:///system
# shellcheck source=/dev/null
. "$CACHE/guest.env"

id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
NET=vkbed-$id
BRIDGE=vkbr-$id            # <= 15 chars
DOM=vkbed-$id
OCTET=${VIRTKIT_SMOKE_OCTET:-$((200 + RANDOM % 50))}
WORK=$(mktemp -d /tmp/vkbed-smoke.XXXXXX)
LOG=$WORK/console.log

log() { echo "[smoke] $*"; }
fail() { echo "[smoke] FAIL: $*" >&2; exit 1; }

cleanup() {
    local rc=$?
    if [ "$MODE" = lxc ]; then
        virsh -q -c lxc:/// destroy "$DOM" >/dev/null 2>&1 || true
        virsh -q -c lxc:/// undefine "$DOM" >/dev/null 2>&1 || true
    fi
    virsh -q -c "$URI" destroy "$DOM" >/dev/null 2>&1 || true
    virsh -q -c "$URI" undefine "$DOM" >/dev/null 2>&1 || true
    virsh -q -c "$URI" net-destroy "$NET" >/dev/null 2>&1 || true
    virsh -q -c "$URI" net-undefine "$NET" >/dev/null 2>&1 || true
    # libvirt 9.0 leaves the dnsmasq pid file and a ports/ dir of a destroyed
    # network behind: remove ours once the network is gone.
    if ! virsh -q -c "$URI" net-info "$NET" >/dev/null 2>&1; then
        rm -rf "/var/run/libvirt/network/$NET" "/var/run/libvirt/network/$NET.pid"
    fi
    if [ "$rc" != 0 ] && [ -f "$LOG" ]; then
        echo "[smoke] console log:" >&2
        sed 's/^/[smoke]   /' "$LOG" >&2
    fi
    if [ "${VIRTKIT_SMOKE_KEEP:-0}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
    exit "$rc"
}
trap cleanup EXIT INT TERM

# A container needs no kernel: a directory with a static busybox is a root fs.
# No <interface>: it shares the host's network namespace and sends nothing.
if [ "$MODE" = lxc ]; then
    mkdir -p "$WORK/rootfs/bin"
    cp /bin/busybox "$WORK/rootfs/bin/busybox"
    ln -s busybox "$WORK/rootfs/bin/sh"
    ln -s busybox "$WORK/rootfs/bin/sleep"
    cat > "$WORK/ct.xml" <<EOF
<domain type='lxc'>
  <name>$DOM</name>
  <memory unit='MiB'>64</memory>
  <os>
    <type>exe</type>
    <init>/bin/sh</init>
    <initarg>-c</initarg>
    <initarg>echo VIRTKIT-CT-READY; exec sleep 600</initarg>
  </os>
  <devices>
    <filesystem type='mount'>
      <source dir='$WORK/rootfs'/>
      <target dir='/'/>
    </filesystem>
    <console type='pty'/>
  </devices>
</domain>
EOF
    virt-xml-validate "$WORK/ct.xml" domain >/dev/null 2>&1 || virt-xml-validate "$WORK/ct.xml" domain
    virsh -q -c lxc:/// define "$WORK/ct.xml" >/dev/null
    t0=$(date +%s.%N)
    virsh -q -c lxc:/// start "$DOM" >/dev/null
    [ "$(virsh -c lxc:/// domstate "$DOM")" = running ] || fail "container not running"
    log "LXC container $DOM running after \
$(echo "$(date +%s.%N) $t0" | awk '{ printf "%.1f", $1 - $2 }') s"
    virsh -q -c lxc:/// destroy "$DOM" >/dev/null
    log "PASS (lxc)"
    exit 0
fi

# Our own guest subnet only: refuse one that is already routed here.
if ip -4 route show | grep "^192\.168\.$OCTET\." >/dev/null; then
    fail "192.168.$OCTET.0/24 is already in use on this host"
fi

cat > "$WORK/net.xml" <<EOF
<network>
  <name>$NET</name>
  <bridge name='$BRIDGE' stp='off' delay='0'/>
  <ip address='192.168.$OCTET.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.$OCTET.100' end='192.168.$OCTET.199'/>
    </dhcp>
  </ip>
</network>
EOF

# Seed ISO in cloud-init NoCloud layout (volume id cidata).
mkdir -p "$WORK/seed"
printf '#cloud-config\nhostname: %s\n' "$DOM" > "$WORK/seed/user-data"
printf 'instance-id: %s\n' "$DOM" > "$WORK/seed/meta-data"
genisoimage -quiet -output "$WORK/seed.iso" -volid cidata -joliet -rock \
    "$WORK/seed/user-data" "$WORK/seed/meta-data"

case "$MODE" in
    virtio)
        seed_dev=/dev/vda
        seed_disk="<disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$WORK/seed.iso'/>
      <target dev='vda' bus='virtio'/>
      <readonly/>
    </disk>" ;;
    cdrom)
        seed_dev=/dev/sr0
        seed_disk="<disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='$WORK/seed.iso'/>
      <target dev='sda' bus='sata'/>
      <readonly/>
    </disk>" ;;
    *) fail "unknown mode $MODE (virtio|cdrom)" ;;
esac

# type='qemu': TCG. Never kvm here, a nested KVM guest hangs on this host.
cat > "$WORK/dom.xml" <<EOF
<domain type='qemu'>
  <name>$DOM</name>
  <memory unit='MiB'>256</memory>
  <currentMemory unit='MiB'>256</currentMemory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$KERNEL</kernel>
    <initrd>$INITRD</initrd>
    <cmdline>console=ttyS0 virtkit.cat=$seed_dev${VIRTKIT_SMOKE_CMDLINE_EXTRA:+ $VIRTKIT_SMOKE_CMDLINE_EXTRA}</cmdline>
  </os>
  <features>
    <acpi/>
  </features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    $seed_disk
    <interface type='network'>
      <source network='$NET'/>
      <model type='virtio'/>
    </interface>
    <serial type='file'>
      <source path='$LOG'/>
      <target port='0'/>
    </serial>
    <memballoon model='virtio'/>
  </devices>
</domain>
EOF

virt-xml-validate "$WORK/net.xml" network >/dev/null 2>&1 || virt-xml-validate "$WORK/net.xml" network
virt-xml-validate "$WORK/dom.xml" domain >/dev/null 2>&1 || virt-xml-validate "$WORK/dom.xml" domain

virsh -q -c "$URI" net-define "$WORK/net.xml" >/dev/null
virsh -q -c "$URI" net-start "$NET" >/dev/null
virsh -q -c "$URI" define "$WORK/dom.xml" >/dev/null
t0=$(date +%s.%N)
virsh -q -c "$URI" start "$DOM" >/dev/null
elapsed() { echo "$(date +%s.%N) $t0" | awk '{ printf "%.1f", $1 - $2 }'; }
log "started $DOM on $NET (192.168.$OCTET.0/24), seed as $MODE $seed_dev"

# wait_log REGEX SECONDS: wait for a console line.
wait_log() {
    local end=$((SECONDS + $2))
    until grep -qE "$1" "$LOG" 2>/dev/null; do
        [ "$SECONDS" -lt "$end" ] || return 1
        sleep 0.2
    done
}

wait_log '^VIRTKIT-GUEST-READY' 60 || fail "no VIRTKIT-GUEST-READY within 60 s"
log "VIRTKIT-GUEST-READY after $(elapsed) s"

wait_log '^VIRTKIT-USERDATA-END' 30 || fail "no VIRTKIT-USERDATA-END"
# The guest's tty writes CRLF line ends into the log: strip the CRs.
userdata=$(tr -d '\r' < "$LOG" | sed -n '/^VIRTKIT-USERDATA-BEGIN/,/^VIRTKIT-USERDATA-END/p' | sed '1d;$d')
[ "$userdata" = "$(cat "$WORK/seed/user-data")" ] \
    || fail "user-data read back differs: $userdata"
log "user-data read back from $seed_dev after $(elapsed) s"

wait_log '^VIRTKIT-IP ' 90 || fail "no VIRTKIT-IP within 90 s"
ip=$(sed -n 's/^VIRTKIT-IP \([0-9.]*\).*/\1/p' "$LOG" | tail -n 1)
log "VIRTKIT-IP $ip after $(elapsed) s"

end=$((SECONDS + 90))
# Not "grep -q" after a pipe: it may exit before virsh has written everything,
# virsh dies of SIGPIPE and pipefail turns a match into a failure.
until virsh -q -c "$URI" net-dhcp-leases "$NET" | grep "$ip/" >/dev/null; do
    [ "$SECONDS" -lt "$end" ] || fail "no lease for $ip in net-dhcp-leases"
    sleep 0.5
done
log "net-dhcp-leases shows $ip after $(elapsed) s:"
virsh -q -c "$URI" net-dhcp-leases "$NET" | sed 's/^/[smoke]   /'
virsh -q -c "$URI" domifaddr "$DOM" | grep "$ip/" >/dev/null || fail "domifaddr lacks $ip"
log "domifaddr (source lease):"
virsh -q -c "$URI" domifaddr "$DOM" | sed 's/^/[smoke]   /'
if out=$(virsh -q -c "$URI" domifaddr "$DOM" --source arp 2>&1); then
    log "domifaddr --source arp: ${out:-<empty>}"
else
    log "domifaddr --source arp failed (expected here): $out"
fi

# Live balloon: visible only because the guest loaded virtio_balloon.
virsh -q -c "$URI" setmem "$DOM" 200M --live
end=$((SECONDS + 20))
until virsh -c "$URI" dominfo "$DOM" | grep -E '^Used memory: +204800 KiB' >/dev/null; do
    [ "$SECONDS" -lt "$end" ] || fail "setmem --live not applied: $(virsh -c "$URI" dominfo "$DOM" | grep 'Used memory')"
    sleep 0.5
done
log "setmem --live 200M applied ($(virsh -c "$URI" dominfo "$DOM" | grep 'Used memory' | tr -s ' '))"

# Graceful shutdown: ACPI power button -> acpid -> poweroff -f.
t1=$(date +%s.%N)
virsh -q -c "$URI" shutdown "$DOM" >/dev/null
end=$((SECONDS + 30))
until [ "$(virsh -c "$URI" domstate "$DOM")" = "shut off" ]; do
    [ "$SECONDS" -lt "$end" ] || fail "virsh shutdown did not power the guest off within 30 s"
    sleep 0.5
done
log "virsh shutdown: shut off after $(echo "$(date +%s.%N) $t1" | awk '{ printf "%.1f", $1 - $2 }') s \
($(grep -c '^VIRTKIT-POWEROFF' "$LOG") VIRTKIT-POWEROFF line)"

log "console markers:"
grep '^VIRTKIT-' "$LOG" | sed 's/^/[smoke]   /'
log "PASS ($MODE)"
