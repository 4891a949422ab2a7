#!/usr/bin/env bash
# Boot the cached real Debian guest (tests/bed/image.sh) once with plain
# virsh and prove what the tests rely on: DHCP lease, guest agent, SSH with a
# key seeded by cloud-init (NoCloud), runcmd, hostname, cloud-init done, ACPI
# shutdown; with UEFI: NVRAM created and removed with the domain; with a TPM:
# /dev/tpm0 in the guest, its state removed with the domain.
# Everything it creates is removed on exit, also on failure.
#
#   tests/bed/smoke-debian.sh MODE    (or: tests/bed/smoke.sh MODE)
#     debian              BIOS (machine pc), direct kernel boot
#     debian-bios-disk    BIOS (machine pc), boots the disk (SYSLINUX on the ESP)
#     debian-uefi         UEFI (q35, OVMF without secure boot), boots the disk (shim + grub)
#     debian-uefi-kernel  UEFI, direct kernel boot
#     debian-secboot      UEFI secure boot (enrolled keys, SMM), boots the disk
#     debian-tpm          UEFI, boots the disk, emulated TPM 2.0 (swtpm)
# Env: VIRTKIT_BED_CACHE, VIRTKIT_SMOKE_OCTET (third octet of
# 192.168.X.0/24, default random 128-255), VIRTKIT_SMOKE_KEEP=1 keeps the
# work dir, VIRTKIT_SMOKE_TIMEOUT (seconds per phase, default 420),
# VIRTKIT_SMOKE_ANALYZE=1 prints systemd-analyze and cloud-init analyze,
# VIRTKIT_SMOKE_SEED=virtio (read-only virtio disk, default), scsi-cdrom,
# ide-cdrom (machine pc only) or sata-cdrom (fails: the kernel has no AHCI),
# VIRTKIT_SMOKE_CPU=MODE adds <cpu mode='MODE'/> (e.g. maximum; default: QEMU's qemu64),
# VIRTKIT_SMOKE_RESTART=1 boots the guest a second time (lease, SSH again),
# VIRTKIT_SMOKE_HOLD=FILE keeps the guest running while FILE exists (to log in).
# Needs tests/bed/setup.sh to have run.
set -euo pipefail

MODE=${1:-debian}
CACHE=${VIRTKIT_BED_CACHE:-/var/cache/virtkit-bed}
URI=qemu:///system
PHASE_TIMEOUT=${VIRTKIT_SMOKE_TIMEOUT:-420}
[ -f "$CACHE/debian.env" ] || { echo "[smoke] no $CACHE/debian.env: run tests/bed/setup.sh" >&2; exit 1; }
# shellcheck source=/dev/null
. "$CACHE/debian.env"

# machine, firmware (bios|efi|secboot), boot (kernel|disk), tpm (0|1)
case "$MODE" in
    debian)             set -- pc  bios    kernel 0 ;;
    debian-bios-disk)   set -- pc  bios    disk   0 ;;
    debian-uefi)        set -- q35 efi     disk   0 ;;
    debian-uefi-kernel) set -- q35 efi     kernel 0 ;;
    debian-secboot)     set -- q35 secboot disk   0 ;;
    debian-tpm)         set -- q35 efi     disk   1 ;;
    *) echo "[smoke] unknown mode $MODE" >&2; exit 2 ;;
esac
MACHINE=$1 FIRMWARE=$2 BOOT=$3 TPM=$4

id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
DOM=vkimg-$id
NET=vkimg-$id
BRIDGE=vkimg-$id           # <= 15 chars
USER_NAME=vktest
MARKER=virtkit-runcmd-$id
WORK=$(mktemp -d /tmp/vkimg-smoke.XXXXXX)
LOG=$WORK/console.log
UUID=

log() { echo "[smoke] $*"; }
fail() { echo "[smoke] FAIL: $*" >&2; exit 1; }
now() { date +%s.%N; }
since() { echo "$(now) $1" | awk '{ printf "%.1f", $1 - $2 }'; }

cleanup() {
    local rc=$?
    virsh -q -c "$URI" destroy "$DOM" >/dev/null 2>&1 || true
    virsh -q -c "$URI" undefine "$DOM" --nvram --tpm >/dev/null 2>&1 || true
    rm -f "/var/lib/libvirt/qemu/nvram/${DOM}_VARS.fd"
    [ -z "$UUID" ] || rm -rf "/var/lib/libvirt/swtpm/$UUID" "/var/log/swtpm/libvirt/qemu/$DOM-swtpm.log"
    virsh -q -c "$URI" net-destroy "$NET" >/dev/null 2>&1 || true
    virsh -q -c "$URI" net-undefine "$NET" >/dev/null 2>&1 || true
    if ! virsh -q -c "$URI" net-info "$NET" >/dev/null 2>&1; then
        rm -rf "/var/run/libvirt/network/$NET" "/var/run/libvirt/network/$NET.pid"
    fi
    if [ "$rc" != 0 ] && [ -f "$LOG" ]; then
        echo "[smoke] console log (last 60 lines):" >&2
        tail -n 60 "$LOG" | tr -d '\r' | sed 's/^/[smoke]   /' >&2
    fi
    if [ "${VIRTKIT_SMOKE_KEEP:-0}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
    exit "$rc"
}
trap cleanup EXIT INT TERM

# ------------------------------------------------------------ network --
# An isolated network (no <forward>) in 192.168.128.0/17, on a subnet not
# routed here; a subnet another test's network took makes net-start fail:
# then another one.
start_network() {
    local try out
    for try in 1 2 3 4 5 6 7 8; do
        OCTET=${VIRTKIT_SMOKE_OCTET:-$((128 + RANDOM % 128))}
        if ip -4 route show | grep "^192\.168\.$OCTET\." >/dev/null; then
            [ -z "${VIRTKIT_SMOKE_OCTET:-}" ] || fail "192.168.$OCTET.0/24 is already in use on this host"
            continue
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
        virt-xml-validate "$WORK/net.xml" network >/dev/null 2>&1 || virt-xml-validate "$WORK/net.xml" network
        virsh -q -c "$URI" net-define "$WORK/net.xml" >/dev/null
        out=$(virsh -q -c "$URI" net-start "$NET" 2>&1) && return 0
        log "net-start on 192.168.$OCTET.0/24 failed ($out), try $try"
        virsh -q -c "$URI" net-undefine "$NET" >/dev/null
        [ -z "${VIRTKIT_SMOKE_OCTET:-}" ] || fail "net-start: $out"
    done
    fail "no free subnet in 192.168.128.0/17 after 8 tries"
}

# --------------------------------------------------------------- seed --
ssh-keygen -q -t ed25519 -N '' -C "$DOM" -f "$WORK/id_ed25519"
mkdir "$WORK/seed"
cat > "$WORK/seed/user-data" <<EOF
#cloud-config
users:
  - name: $USER_NAME
    shell: /bin/bash
    sudo: ALL=(ALL) NOPASSWD:ALL
    ssh_authorized_keys:
      - $(cat "$WORK/id_ed25519.pub")
runcmd:
  - [ sh, -c, 'echo $MARKER > /var/tmp/virtkit-runcmd' ]
EOF
printf 'instance-id: iid-%s\nlocal-hostname: %s\n' "$DOM" "$DOM" > "$WORK/seed/meta-data"
genisoimage -quiet -output "$WORK/seed.iso" -volid cidata -joliet -rock \
    "$WORK/seed/user-data" "$WORK/seed/meta-data"

# -------------------------------------------------------------- domain --
# Bigger than the image (2 GiB): cloud-init grows the root partition and fs.
qemu-img create -q -f qcow2 -F "$DEBIAN_IMAGE_FORMAT" -b "$DEBIAN_IMAGE" "$WORK/disk.qcow2" 3G

os_attrs='' firmware='' features='<acpi/>' boot='' tpm=''
case "$FIRMWARE" in
    efi)
        # Without the feature, libvirt 9.0 picks the first firmware descriptor
        # that fits q35: Debian's 40-edk2-x86_64-secure-enrolled.json.
        os_attrs=" firmware='efi'"
        firmware="<firmware><feature enabled='no' name='secure-boot'/></firmware>" ;;
    secboot)
        os_attrs=" firmware='efi'"
        firmware="<firmware>
      <feature enabled='yes' name='secure-boot'/>
      <feature enabled='yes' name='enrolled-keys'/>
    </firmware>
    <loader secure='yes'/>"
        features="<acpi/>
    <smm state='on'/>" ;;
esac
if [ "$BOOT" = kernel ]; then
    boot="<kernel>$DEBIAN_KERNEL</kernel>
    <initrd>$DEBIAN_INITRD</initrd>
    <cmdline>$DEBIAN_CMDLINE</cmdline>"
else
    boot="<boot dev='hd'/>"
fi
# No <cpu> element unless asked: QEMU's default model (qemu64).
cpu=
if [ -n "${VIRTKIT_SMOKE_CPU:-}" ]; then
    cpu="<cpu mode='$VIRTKIT_SMOKE_CPU'/>"
fi
if [ "$TPM" = 1 ]; then
    tpm="<tpm model='tpm-crb'>
      <backend type='emulator' version='2.0'/>
    </tpm>"
fi

# The seed: Debian's cloud kernel has no AHCI driver, so a cdrom on SATA
# (libvirt's default bus for a q35 cdrom) stays invisible to it.
case "${VIRTKIT_SMOKE_SEED:-virtio}" in
    virtio)
        seed_disk="<disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$WORK/seed.iso'/>
      <target dev='vdb' bus='virtio'/>
      <readonly/>
    </disk>" ;;
    scsi-cdrom)
        seed_disk="<controller type='scsi' model='virtio-scsi'/>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='$WORK/seed.iso'/>
      <target dev='sda' bus='scsi'/>
      <readonly/>
    </disk>" ;;
    ide-cdrom|sata-cdrom)
        # sata-cdrom is expected to fail: cloud-init finds no seed (DataSourceNone).
        seed_disk="<disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='$WORK/seed.iso'/>
      <target dev='sda' bus='${VIRTKIT_SMOKE_SEED%-cdrom}'/>
      <readonly/>
    </disk>" ;;
    *) fail "VIRTKIT_SMOKE_SEED: virtio, scsi-cdrom, ide-cdrom (pc only) or sata-cdrom, not ${VIRTKIT_SMOKE_SEED}" ;;
esac

# type='qemu': TCG. Never kvm here, a nested KVM guest hangs on this host.
# shellcheck disable=SC2016  # in a here-document the quotes in ${VIRTKIT_SMOKE_CPU:+...} are text; it expands
cat > "$WORK/dom.xml" <<EOF
<domain type='qemu'>
  <name>$DOM</name>
  <memory unit='MiB'>1024</memory>
  <vcpu>2</vcpu>
  <os$os_attrs>
    <type arch='x86_64' machine='$MACHINE'>hvm</type>
    $firmware
    $boot
  </os>
  <features>
    $features
  </features>
  $cpu
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$WORK/disk.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    $seed_disk
    <interface type='network'>
      <source network='$NET'/>
      <model type='virtio'/>
    </interface>
    <serial type='file'>
      <source path='$LOG'/>
      <target port='0'/>
    </serial>
    <channel type='unix'>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>
    $tpm
  </devices>
</domain>
EOF

virt-xml-validate "$WORK/dom.xml" domain >/dev/null 2>&1 || virt-xml-validate "$WORK/dom.xml" domain

start_network
virsh -q -c "$URI" define "$WORK/dom.xml" >/dev/null
UUID=$(virsh -q -c "$URI" domuuid "$DOM")
MAC=$(virsh -q -c "$URI" domiflist "$DOM" | awk '{ print $5; exit }')
t0=$(now)
virsh -q -c "$URI" start "$DOM" >/dev/null
log "started $DOM ($MODE: machine $MACHINE, firmware $FIRMWARE, boot from $BOOT, tpm $TPM) on $NET (192.168.$OCTET.0/24)"
# libvirt picks the firmware and the NVRAM path at start, not at define:
# only the live XML names them.
NVRAM=$(virsh -q -c "$URI" dumpxml "$DOM" | sed -n 's|.*<nvram[^>]*>\(.*\)</nvram>.*|\1|p')
if [ "$FIRMWARE" != bios ]; then
    [ -n "$NVRAM" ] || fail "UEFI guest without <nvram> in its live XML"
    log "firmware: $(virsh -q -c "$URI" dumpxml "$DOM" | grep -E '<loader|<nvram|<smm' | sed 's/^ *//' | tr '\n' ' ')"
fi

# until_ok WHAT CMD...: run CMD until it succeeds, within PHASE_TIMEOUT.
until_ok() {
    local what=$1 end=$((SECONDS + PHASE_TIMEOUT))
    shift
    until "$@" >/dev/null 2>&1; do
        [ "$(virsh -c "$URI" domstate "$DOM" 2>/dev/null)" = running ] || fail "$what: the guest is not running"
        [ "$SECONDS" -lt "$end" ] || fail "$what: not within ${PHASE_TIMEOUT}s"
        sleep 1
    done
}

# Not "grep -q" after a pipe: it may exit before virsh has written
# everything, virsh dies of SIGPIPE and pipefail turns a match into a failure.
has_lease() { virsh -q -c "$URI" net-dhcp-leases "$NET" --mac "$MAC" | grep ipv4 >/dev/null; }
until_ok "DHCP lease" has_lease
IP=$(virsh -q -c "$URI" net-dhcp-leases "$NET" --mac "$MAC" | awk '{ sub("/.*", "", $5); print $5; exit }')
log "lease $IP after $(since "$t0") s"

agent_ping() { virsh -q -c "$URI" qemu-agent-command "$DOM" '{"execute":"guest-ping"}'; }
until_ok "guest agent" agent_ping
agent_addr=$(virsh -q -c "$URI" domifaddr "$DOM" --source agent)
grep -F "$IP/" <<< "$agent_addr" >/dev/null || fail "domifaddr --source agent lacks $IP: $agent_addr"
log "guest agent answers, domifaddr --source agent has $IP, after $(since "$t0") s"

SSH=(ssh -q -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes
     -o ConnectTimeout=5 -i "$WORK/id_ed25519" "$USER_NAME@$IP")
until_ok "SSH as $USER_NAME" "${SSH[@]}" true
log "SSH as $USER_NAME with the seeded key after $(since "$t0") s"

status=$(timeout "$PHASE_TIMEOUT" "${SSH[@]}" cloud-init status --wait) || fail "cloud-init status --wait: $status"
grep -x 'status: done' <<< "$(tr -d '.\r' <<< "$status" | sed '/^$/d')" >/dev/null \
    || fail "cloud-init status --wait: $status"
log "cloud-init status --wait: done after $(since "$t0") s"

got=$("${SSH[@]}" cat /var/tmp/virtkit-runcmd) || true
[ "$got" = "$MARKER" ] || fail "runcmd marker: got '$got', want '$MARKER'"
got=$("${SSH[@]}" hostname)
[ "$got" = "$DOM" ] || fail "hostname: got '$got', want '$DOM'"
log "runcmd marker and hostname $DOM are there"
root_kib=$("${SSH[@]}" df -k --output=size / | tail -n 1 | tr -d ' ')
[ "$root_kib" -gt $((2560 * 1024)) ] || fail "root fs not grown to the 3 GiB volume: ${root_kib} KiB"
log "root fs grown to the volume: $((root_kib / 1024)) MiB"
log "datasource: $("${SSH[@]}" 'cloud-init query subplatform 2>/dev/null || sudo cloud-init query subplatform')"
log "guest: $("${SSH[@]}" 'uname -r; cat /proc/cmdline' | tr '\n' ' ')"

if [ "$FIRMWARE" != bios ]; then
    "${SSH[@]}" test -d /sys/firmware/efi || fail "the guest has no /sys/firmware/efi: not booted by UEFI"
    # EFI variable: 4 bytes of attributes, then the value.
    sb=$("${SSH[@]}" "od -An -tu1 /sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c" | awk '{ print $NF }')
    want=0; [ "$FIRMWARE" = secboot ] && want=1
    [ "$sb" = "$want" ] || fail "SecureBoot EFI variable is '$sb', want $want"
    log "UEFI: /sys/firmware/efi present, SecureBoot=$sb"
    if [ "$FIRMWARE" = secboot ]; then
        log "guest kernel: $("${SSH[@]}" 'sudo dmesg' | grep -iE 'secure ?boot|lockdown' | head -n 3 | tr '\n' ' ')"
    fi
fi
if [ "$TPM" = 1 ]; then
    ver=$("${SSH[@]}" 'ls /dev/tpm0 /dev/tpmrm0 >/dev/null && cat /sys/class/tpm/tpm0/tpm_version_major') \
        || fail "the guest has no /dev/tpm0"
    [ "$ver" = 2 ] || fail "guest TPM version is '$ver', want 2"
    log "TPM: the guest has /dev/tpm0 and /dev/tpmrm0, TPM version $ver"
fi

if [ -n "${VIRTKIT_SMOKE_HOLD:-}" ]; then
    touch "$VIRTKIT_SMOKE_HOLD"
    log "holding while $VIRTKIT_SMOKE_HOLD exists; log in with: ${SSH[*]}"
    while [ -e "$VIRTKIT_SMOKE_HOLD" ]; do sleep 2; done
fi
if [ "${VIRTKIT_SMOKE_ANALYZE:-0}" = 1 ]; then
    "${SSH[@]}" 'systemd-analyze; systemd-analyze critical-chain --no-pager; systemd-analyze blame --no-pager | head -n 25;
        sudo cloud-init analyze blame | head -n 30' 2>&1 | sed 's/^/[smoke]   /'
fi

# ACPI explicitly: with a connected guest agent, a plain "virsh shutdown"
# asks the agent, not the power button.
acpi_shutdown() {
    local t1 end
    t1=$(now)
    virsh -q -c "$URI" shutdown "$DOM" --mode acpi >/dev/null
    end=$((SECONDS + 120))
    until [ "$(virsh -c "$URI" domstate "$DOM")" = "shut off" ]; do
        [ "$SECONDS" -lt "$end" ] || fail "virsh shutdown --mode acpi: still running after 120 s"
        sleep 0.5
    done
    log "virsh shutdown --mode acpi: shut off after $(since "$t1") s (total $(since "$t0") s)"
}
acpi_shutdown

if [ "${VIRTKIT_SMOKE_RESTART:-0}" = 1 ]; then
    # dhclient released its lease when the guest shut down.
    if has_lease; then log "after shutdown: the lease is still listed"
    else log "after shutdown: no lease listed any more (dhclient released it)"; fi
    t2=$(now)
    virsh -q -c "$URI" start "$DOM" >/dev/null
    until_ok "DHCP lease after the restart" has_lease
    IP=$(virsh -q -c "$URI" net-dhcp-leases "$NET" --mac "$MAC" | awk '{ sub("/.*", "", $5); print $5; exit }')
    log "restart: lease $IP after $(since "$t2") s"
    SSH=(ssh -q -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes
         -o ConnectTimeout=5 -i "$WORK/id_ed25519" "$USER_NAME@$IP")
    until_ok "SSH after the restart" "${SSH[@]}" true
    log "restart: SSH after $(since "$t2") s"
    status=$(timeout "$PHASE_TIMEOUT" "${SSH[@]}" cloud-init status --wait) || fail "cloud-init status --wait: $status"
    log "restart: cloud-init $(tr -d '.\r' <<< "$status" | sed '/^$/d') after $(since "$t2") s"
    if [ "$TPM" = 1 ]; then
        "${SSH[@]}" test -c /dev/tpm0 || fail "no /dev/tpm0 after the restart"
        log "restart: /dev/tpm0 is there"
    fi
    acpi_shutdown
fi

if [ -n "$NVRAM" ]; then
    [ -f "$NVRAM" ] || fail "no NVRAM file $NVRAM"
    log "NVRAM: $NVRAM exists"
fi
TPM_STATE=/var/lib/libvirt/swtpm/$UUID
if [ "$TPM" = 1 ]; then
    [ -d "$TPM_STATE" ] || fail "no TPM state in $TPM_STATE"
    log "TPM state: $TPM_STATE exists"
fi
if [ -n "$NVRAM" ]; then
    # A plain undefine refuses a domain with NVRAM: show libvirt's words.
    if out=$(virsh -q -c "$URI" undefine "$DOM" 2>&1); then
        fail "plain undefine removed a domain with NVRAM"
    fi
    log "plain undefine refused, as expected: $(tr -s '\n' ' ' <<< "$out")"
fi
virsh -q -c "$URI" undefine "$DOM" --nvram --tpm >/dev/null
[ -z "$NVRAM" ] || [ ! -e "$NVRAM" ] || fail "undefine --nvram left $NVRAM"
[ "$TPM" != 1 ] || [ ! -e "$TPM_STATE" ] || fail "undefine --tpm left $TPM_STATE"
log "undefine --nvram --tpm: domain${NVRAM:+, NVRAM}$([ "$TPM" = 1 ] && echo ', TPM state') removed"
log "PASS ($MODE) in $(since "$t0") s"
