#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: domain
short_description: Declarative libvirt virtual machines
version_added: 0.1.0
description:
  - Defines, changes, starts, stops and removes libvirt domains (virtual machines) from options or from a whole XML
    document, and waits for their IP addresses.
  - Idempotent. Only what you specify is compared, so values libvirt fills in (UUID, MAC addresses, PCI and drive
    addresses, controllers, machine type) never count as a change, and a second run reports C(changed=false), in
    check mode too.
  - Changes are applied, never ignored. The persistent definition is redefined with every change (keeping the UUID
    and whatever the options do not model); a running guest then gets what it can take live with O(live=true) -
    memory through the balloon up to O(max_memory), vCPUs up to O(max_vcpus), disks and interfaces hot-plugged and
    unplugged or moved to another network, another medium in a cdrom drive, a new VNC or SPICE password. Anything
    else takes effect at the next restart, which the result reports as RV(restart_required) unless O(restart=true)
    restarts the guest at once.
author:
  - virtkit.virt maintainers (@virtkit)
extends_documentation_fragment:
  - virtkit.virt.connection
  - virtkit.virt.attributes
  - virtkit.virt.guest
attributes:
  check_mode:
    description:
      - Check mode reports exactly the actions a real run would take.
      - A network, pool or volume the domain names that does not exist yet - an earlier task of the play makes it -
        is no error in check mode; the domain is predicted as planned, with a warning. The real run needs it by then.
  diff_mode:
    description: The diff shows the specified fields before and after, plus state and autostart; passwords are hidden.
options:
  name:
    description: Name of the domain.
    type: str
    required: true
  state:
    description:
      - V(running) - defined and running (a paused domain is resumed). V(present) - defined; the power state is left
        as it is. V(shutdown) - shut down gracefully (see O(shutdown_timeout) and O(force)). V(destroyed) - powered
        off at once. V(paused) - running but frozen. V(absent) - powered off and undefined, with its NVRAM (UEFI
        variables), the state of its emulated TPM, snapshot and checkpoint metadata and managed save image (see
        O(remove_storage) for the images and snapshot files).
      - A domain that does not exist yet is defined for every state but V(absent); that needs O(memory) or O(xml).
    type: str
    choices: [running, present, shutdown, destroyed, paused, absent]
    default: running
  virt_type:
    description:
      - The domain type. V(auto) picks V(kvm) when the host can really run KVM guests (hardware virtualisation and
        a usable C(/dev/kvm); a nested or paravirtual C(/dev/kvm) is not enough), else V(qemu) (software emulation),
        else the first type the host offers. An existing domain keeps its type with V(auto).
    type: str
    default: auto
    choices: [auto, kvm, qemu, xen, vmware, hyperv, vbox, vz, bhyve, test]
  arch:
    description: Guest CPU architecture (V(x86_64), V(aarch64) ...). libvirt picks the host's when not set.
    type: str
  machine:
    description:
      - Machine type (V(q35), V(pc), V(pc-q35-7.2) ...). libvirt stores aliases as the versioned name, which is
        compared as equal. A new machine family (V(pc) to V(q35)) lays out the PCI buses anew.
    type: str
  memory:
    description:
      - Memory of the guest; a bare number is MiB, or a size with unit (V(512MiB), V(2G), V(2GiB)).
      - Needed to define a new domain. A running guest gets a change live through the balloon, up to O(max_memory).
    type: raw
  max_memory:
    description:
      - The most memory the guest can have without a restart (what it boots with). Defaults to O(memory) for a new
        domain; an existing domain keeps its maximum unless O(memory) needs more.
      - Without O(memory), a maximum below the domain's memory brings the memory down to it (as libvirt would); the
        diff and check mode show it, and a running guest's balloon goes down to it at once while the new maximum
        waits for its restart (RV(restart_required)).
    type: raw
  vcpus:
    description:
      - Number of virtual CPUs online; a running guest gets a change live up to O(max_vcpus).
      - A QEMU/KVM guest goes down live only to the vCPUs it started with (libvirt unplugs only those it hot-plugged,
        and the guest must let them go); fewer take effect at its restart (RV(restart_required)).
    type: int
  max_vcpus:
    description:
      - The most vCPUs the guest can have without a restart. Defaults as O(max_memory) does.
      - Without O(vcpus), a maximum below the domain's vCPUs brings them down to it (as libvirt would); the diff and
        check mode show it, a running guest's vCPUs change as with that lower O(vcpus), and the new maximum waits
        for its restart (RV(restart_required)).
    type: int
  cpu:
    description: The guest CPU model.
    type: dict
    suboptions:
      mode:
        description: How the guest CPU relates to the host's. V(custom) needs O(cpu.model).
        type: str
        choices: [host-passthrough, host-model, maximum, custom]
      model:
        description: CPU model name for V(custom) (V(Skylake-Client), V(qemu64) ...).
        type: str
  firmware:
    description:
      - V(bios), or V(uefi) - OVMF, which libvirt picks when the guest starts (C(<os firmware='efi'>)), with an NVRAM
        file for the UEFI variables that libvirt makes from a template at the first start and that is removed with the
        domain. The loader and NVRAM libvirt chose show in the running guest's XML only and are never a change.
      - UEFI boots without secure boot unless O(secure_boot=true) - said explicitly, since libvirt would otherwise
        pick the secure-boot firmware on a q35 machine.
    type: str
    choices: [bios, uefi]
  secure_boot:
    description:
      - With O(firmware=uefi), boot securely - the OVMF build with secure boot and Microsoft's keys enrolled (so that
        a distribution's shim, signed by Microsoft, boots), a secure loader and SMM.
      - Needs a Q35 machine - a new domain gets O(machine=q35); any other machine is refused, naming it.
      - The chain is verified when the guest boots its disk (shim, grub, kernel); a direct kernel boot (O(kernel))
        is not verified by every OVMF.
      - Default V(false) with O(firmware=uefi).
    type: bool
  tpm:
    description:
      - An emulated TPM (libvirt runs C(swtpm) for it and keeps its state, which is removed with the domain) -
        V(true) for a TPM 2.0 on the CRB interface, V(false) to remove it, or C({model, version}) - O(tpm) C(model)
        V(tpm-crb) (the default) or V(tpm-tis), C(version) V(2.0) (the default) or V(1.2) (V(tpm-tis) only).
      - Not set - the domain's TPM is left as it is. A change reaches a running guest at its next restart.
      - V(false) takes the TPM out of the definition but leaves its state on the host - libvirt removes only the
        state of the TPM a definition names when the domain is removed (C(/var/lib/libvirt/swtpm/UUID) stayed with
        libvirt 9.0). To remove the state, remove the domain while it still has its TPM.
      - Needs C(swtpm) on the host (Debian - C(swtpm) and C(swtpm-tools)) and O(virt_type) V(qemu) or V(kvm).
    type: raw
  boot:
    description: Boot devices in order.
    type: list
    elements: str
    choices: [hd, cdrom, network, fd]
  kernel:
    description: Direct kernel boot - the kernel image on the host. V('') removes direct kernel boot, its O(initrd) and O(cmdline) with it.
    type: str
  initrd:
    description: Direct kernel boot - the initial ramdisk on the host.
    type: str
  cmdline:
    description: Direct kernel boot - the kernel command line.
    type: str
  disks:
    description:
      - The domain's disks, all of them - disks the list leaves out are removed from the domain (not deleted).
      - Each disk is one of C({volume, pool}) (an existing volume), C({path}) (a file or block device on the host),
        C({size, pool}) or C({size, pool, backing_volume}) (a volume created for the domain, named O(disks[].volume)
        or C(NAME-diskN.qcow2); qcow2 in file pools, raw elsewhere), or a cdrom with no medium (C({device - cdrom})).
      - Targets are assigned once and kept - a disk keeps its target as long as its source stays. A cdrom given
        another medium (O(disks[].path) or O(disks[].volume)) keeps its drive; a running guest gets the new medium
        live.
    type: list
    elements: dict
    suboptions:
      volume:
        description: Volume name in O(disks[].pool).
        type: str
      pool:
        description: Storage pool of the volume.
        type: str
      path:
        description: Path of an image file or block device on the host.
        type: str
      size:
        description: Capacity of a volume created for the domain; a bare number is GiB. Only used to create it and to
          grow it (live, through the hypervisor, while the domain runs; never shrunk).
        type: str
      backing_volume:
        description: A volume in the same pool the new volume is a copy-on-write overlay of (qcow2).
        type: str
      device:
        description: V(disk) or V(cdrom). An existing disk keeps its kind when not set; a new one is a V(disk).
        type: str
        choices: [disk, cdrom]
      bus:
        description: Bus of the disk. Defaults for a new disk to V(virtio) (V(sata) for cdroms) on QEMU/KVM.
        type: str
        choices: [virtio, sata, scsi, ide, xen, usb]
      target:
        description: Device name in the guest's view of libvirt (V(vda), V(sdb) ...). Assigned when not set. Two disks
          with one target fail, naming both.
        type: str
      format:
        description: Image format (V(qcow2), V(raw) ...). Read from the volume when not set.
        type: str
      readonly:
        description: Attach read-only. A cdrom is always read-only; V(false) on one fails.
        type: bool
      cache:
        description: Cache mode. V(default) is the hypervisor's own, which libvirt stores as no cache mode.
        type: str
        choices: [default, none, writethrough, writeback, directsync, unsafe]
  interfaces:
    description:
      - The domain's network interfaces, all of them - interfaces the list leaves out are removed.
      - Each is one of C({network}) (a libvirt network), C({bridge}) (a host bridge) or C({direct}) (macvtap on a
        host device).
      - An interface without O(interfaces[].mac) keeps the MAC libvirt gave it on earlier runs. Of several on one
        network, bridge or device, it takes the MAC of one with the same O(interfaces[].model) first, so that a
        list in another order, or with an interface added in front, changes no NIC.
      - Another O(interfaces[].model) keeps the NIC's MAC; a running guest takes it when it restarts
        (RV(restart_required), or O(restart=true)).
      - To move an interface of a running guest to another network or bridge, give its O(interfaces[].mac); it
        moves live.
    type: list
    elements: dict
    suboptions:
      network:
        description: Name of a libvirt network.
        type: str
      bridge:
        description: Name of a host bridge.
        type: str
      direct:
        description: Host device for a macvtap interface (bridge mode).
        type: str
      mac:
        description: MAC address. Two interfaces with one MAC fail, naming both.
        type: str
      model:
        description: NIC model. Defaults for a new interface to V(virtio) on QEMU/KVM.
        type: str
  graphics:
    description: Graphical console. A new domain has none.
    type: dict
    suboptions:
      type:
        description: V(none), V(vnc) or V(spice).
        type: str
        choices: [none, vnc, spice]
        default: vnc
      listen:
        description: Address to listen on (libvirt's default, usually 127.0.0.1, when not set).
        type: str
      password:
        description:
          - Password for the console (VNC - at most 8 characters). Never shown in logs or diffs.
          - A new password reaches a running guest live; removing it waits for a restart.
        type: str
  console:
    description: The serial console - V(pty) (the default for a new domain), V(none), or C({file - PATH}) to log it to a file.
    type: raw
  guest_agent:
    description: Add (or remove) the QEMU guest agent channel.
    type: bool
  rng:
    description: Add (or remove) a virtio random number generator fed from the host's C(/dev/urandom).
    type: bool
  cloud_init:
    description:
      - A cloud-init NoCloud seed - an ISO volume C(NAME-cidata.iso) labelled C(cidata), created or rebuilt through the
        storage layer when its content changes, and attached read-only - as a virtio disk unless
        O(cloud_init.device) or O(cloud_init.bus) say otherwise. Cloud kernels such as Debian's have no AHCI
        driver and do not see a cdrom on SATA (the cdrom bus of q35 machines).
      - cloud-init reads the seed at the first boot of an instance (its C(instance-id), by default O(name)); a
        rebuilt seed reaches a guest that already ran only with another C(instance-id) in O(cloud_init.meta_data),
        or when the guest is created anew.
      - Text is used as given; a mapping is written as JSON (valid YAML), under C(#cloud-config) for user data.
    type: dict
    suboptions:
      user_data:
        description: User data.
        type: raw
      meta_data:
        description: Meta data. Default - instance-id and local-hostname set to O(name).
        type: raw
      network_config:
        description: Network configuration (version 1 or 2).
        type: raw
      vendor_data:
        description: Vendor data.
        type: raw
      pool:
        description: Pool for the seed volume. Default - the pool of the first disk that has one.
        type: str
      device:
        description:
          - How the seed is attached - V(disk) (read-only) or V(cdrom).
          - Default for a new seed V(disk); a seed already attached keeps its kind when not set.
        type: str
        choices: [disk, cdrom]
      bus:
        description:
          - Bus of the seed's drive. Default for a new seed V(virtio) for a disk (on QEMU/KVM), V(sata) for a cdrom.
          - A cdrom on V(scsi) needs a virtio-scsi controller for cloud kernels to see it (add it with
            O(xml_patches)); V(ide) works on V(pc) machines only.
        type: str
        choices: [virtio, sata, scsi, ide]
  xml:
    description:
      - A whole domain XML document instead of the options above, under the same rules - re-applying it changes
        nothing; what it leaves out is wanted absent (except what libvirt fills in - UUID, MAC addresses, machine
        type, addresses, controllers, CPU model); anything it says that libvirt's definition does not is a change.
      - The definition keeps the SHA-256 of the XML it was made from in its metadata, so that another XML is a
        change even where it only leaves an element out; the diff shows the two as C(xml_sha256). A display
        password (C(passwd)) enters that digest only stretched (PBKDF2-SHA256, 600,000 rounds), because read-only
        connections see the metadata, though libvirt hides the password from them.
      - Its C(<name>) must be O(name).
    type: str
  shutdown_timeout:
    description: Seconds a graceful shutdown (O(state=shutdown), O(restart=true)) may take.
    type: int
    default: 120
  shutdown_mode:
    description:
      - How a graceful shutdown asks the guest - V(acpi) presses the virtual power button, V(agent) asks the QEMU
        guest agent (needs O(guest_agent) and an agent running in the guest).
      - Always said explicitly - left to libvirt, QEMU asks the agent whenever one is connected.
      - Drivers that know only one way (libvirt's test driver, ESX) are asked their way for V(acpi).
    type: str
    choices: [acpi, agent]
    default: acpi
  force:
    description: Power the guest off when a graceful shutdown runs out of O(shutdown_timeout); else the task fails.
    type: bool
    default: false
  wait_for_ip:
    description:
      - With O(state=running), return only once the guest has an IP address (in RV(domain.ip) and the
        C(addresses) of RV(domain.interfaces)). A source that fails on this host is skipped, with a warning.
      - Loopback and link-local addresses do not count, and a guest agent that does not answer yet (the guest
        is still booting) is waited for, not skipped.
      - A guest that shut down gracefully released its DHCP lease, so after a start the address is awaited anew.
        A guest powered off at once (V(destroyed), O(force)) may leave a lease behind, which V(lease) reports
        until the guest renews it; V(agent) reports only what the running guest itself has.
    type: dict
    suboptions:
      timeout:
        description: Seconds to wait.
        type: int
        default: 300
      sources:
        description:
          - Where to look - V(lease) (DHCP leases of libvirt networks), V(arp) (the host's ARP table), V(agent)
            (the QEMU guest agent).
        type: list
        elements: str
        choices: [lease, arp, agent]
        default: [lease, arp, agent]
  remove_storage:
    description:
      - With O(state=absent), also delete the domain's storage - V(true) deletes the volumes in storage pools its
        disks use, V(all) also image files outside pools (on the local host only; never block devices).
      - Read-only disks and cdroms (shared install media) and storage another domain uses are kept; the domain's
        own cloud-init seed is deleted.
      - Internal snapshots live in the images and go with them. After an external snapshot
        (M(virtkit.virt.snapshot)) a disk is the overlay file; that file is deleted, the files under it (the images
        the snapshots froze) are kept - delete them with M(virtkit.virt.volume). The snapshot metadata goes with the
        domain in any case.
    type: raw
    default: false
  clone_from:
    version_added: 0.2.0
    description:
      - Make a new domain as a clone of an existing one, as C(virt-clone) does - a new UUID and MAC addresses,
        graphics ports back to automatic, the NVRAM of a UEFI source copied, every writable disk copied through its
        storage pool (named C(NAME-TARGET) with the original's suffix, beside the original), read-only and shareable
        disks (install media, a cloud-init seed, a shared disk) shared. A failed copy deletes the copies made.
      - The options given besides (O(memory), O(interfaces), O(tags), O(cloud_init) ...) apply on top of the source's
        definition. With O(cloud_init) the source's own seed is left out. O(disks) cannot be given with it (change
        them in a later task).
      - Only for a domain that does not exist yet; the clone records its source in its metadata
        (RV(domain.cloned_from)), and a later run leaves it alone (a warning says when another source is named).
      - The source must be shut off, or the clone is made from an external snapshot of it (O(clone_from.snapshot)),
        whose frozen files do not change while the source runs on.
    type: dict
    suboptions:
      name:
        description: The domain to clone.
        type: str
        required: true
      linked:
        description:
          - Make each disk a qcow2 overlay on the source's disk file (copy-on-write, made in an instant) instead of a
            full copy. The source's files must then never change - keep the source shut off (QEMU's image locks keep
            it from starting while a linked clone runs), or clone from an external snapshot.
        type: bool
        default: false
      snapshot:
        description:
          - An external snapshot of the source (M(virtkit.virt.snapshot) with C(disk_only=true)) - the clone is made
            of the disk files it froze, also while the source runs. Deleting that snapshot later merges those files
            and breaks linked clones of it.
        type: str
notes:
  - Changing O(max_memory), O(max_vcpus), the machine type, CPU, firmware, secure boot, the TPM, boot options,
    graphics, console or a disk's settings of a running guest takes effect at its next restart.
  - On VMware ESX and vCenter (libvirt's esx driver) an existing VM's definition cannot change; O(max_memory)
    (while the VM is off, or with O(restart=true)), O(memory) (a limit) and O(vcpus) have calls of their own, and
    anything else fails naming the option. A new VM needs a disk (a datastore path); memory is in multiples of
    4 MiB. See the user guide, "Managing VMware ESX and vCenter".
  - The diff never shows a graphics password - only that one is set (C(********)), and that the task sets another
    (C(******** (another))) where both would read the same.
'''

EXAMPLES = r'''
- name: A small VM on an isolated network, booted from a volume
  virtkit.virt.domain:
    name: web1
    memory: 2GiB
    vcpus: 2
    disks:
      - volume: web1.qcow2
        pool: default
    interfaces:
      - network: lab
    graphics:
      type: vnc
      password: "{{ vnc_password }}"
    tags:
      role: web
      env: test
    wait_for_ip:
      timeout: 120

- name: A VM with a new overlay disk on a base image and a cloud-init seed
  virtkit.virt.domain:
    name: app1
    memory: 1024
    max_memory: 4096
    vcpus: 1
    max_vcpus: 4
    disks:
      - size: 20G
        pool: default
        backing_volume: debian-12-base.qcow2
    interfaces:
      - network: lab
    cloud_init:
      user_data:
        users:
          - name: admin
            ssh_authorized_keys: ["{{ lookup('file', '~/.ssh/id_ed25519.pub') }}"]
    guest_agent: true

- name: More memory and vCPUs, live
  virtkit.virt.domain:
    name: app1
    memory: 2048
    vcpus: 2

- name: A new machine type; restart now rather than report restart_required
  virtkit.virt.domain:
    name: app1
    machine: q35
    restart: true
    shutdown_timeout: 60
    force: true

- name: A clone of a shut-off template guest, with its own memory and cloud-init data
  virtkit.virt.domain:
    name: web2
    clone_from:
      name: debian12-template
      linked: true
    memory: 2GiB
    cloud_init:
      user_data: {hostname: web2}
    wait_for_ip: {}

- name: A domain from XML, with one patch
  virtkit.virt.domain:
    name: legacy
    xml: "{{ lookup('file', 'legacy.xml') }}"
    xml_patches:
      - xpath: /domain/on_reboot
        value: destroy

- name: Reach what the options do not model
  virtkit.virt.domain:
    name: app1
    xml_patches:
      - xpath: /domain/clock
        attribute: offset
        value: localtime
      - xpath: /domain/devices
        xml: "<watchdog model='i6300esb' action='reset'/>"

- name: UEFI with secure boot and a TPM 2.0, booting a cloud image's disk (shim, grub, kernel)
  virtkit.virt.domain:
    name: secure1
    memory: 2GiB
    machine: q35
    firmware: uefi
    secure_boot: true
    tpm: true
    boot: [hd]
    disks:
      - size: 20G
        pool: default
        backing_volume: debian-12-base.qcow2
    interfaces:
      - network: lab
    cloud_init:
      user_data:
        users:
          - name: admin
            ssh_authorized_keys: ["{{ lookup('file', '~/.ssh/id_ed25519.pub') }}"]
    guest_agent: true
    wait_for_ip:
      sources: [agent]

- name: Shut down gracefully, power off after 60 s
  virtkit.virt.domain:
    name: app1
    state: shutdown
    shutdown_timeout: 60
    force: true

- name: Remove a VM and the volumes it used
  virtkit.virt.domain:
    name: app1
    state: absent
    remove_storage: true
'''

RETURN = r'''
domain:
  description: The domain after the task (before it, in check mode). C(exists=false) when there is none.
  returned: success
  type: dict
  contains:
    name: {description: Name., type: str}
    exists: {description: Whether the domain exists., type: bool}
    uuid: {description: UUID., type: str}
    id: {description: "Hypervisor ID while running, else null.", type: int}
    state: {description: "Power state: running, paused, shutoff, crashed, pmsuspended, blocked, shutdown.", type: str}
    persistent: {description: Whether it has a persistent definition., type: bool}
    autostart: {description: Whether it starts with the daemon., type: bool}
    virt_type: {description: "Domain type (kvm, qemu ...).", type: str}
    arch: {description: Architecture., type: str}
    machine: {description: Machine type., type: str}
    memory: {description: Memory in MiB (the balloon's current size while running)., type: int}
    max_memory: {description: Maximum memory in MiB., type: int}
    vcpus: {description: vCPUs online., type: int}
    max_vcpus: {description: Maximum vCPUs., type: int}
    cpu: {description: C(mode) and C(model)., type: dict}
    firmware: {description: bios or uefi., type: str}
    secure_boot: {description: "Whether UEFI boots securely; null when the definition does not say.", type: bool}
    boot: {description: Boot devices., type: list, elements: str}
    kernel: {description: Direct boot kernel., type: str}
    initrd: {description: Direct boot initrd., type: str}
    cmdline: {description: Direct boot command line., type: str}
    disks:
      description: Disks (C(target), C(device), C(bus), C(type), C(path) or C(pool) and C(volume), C(format), C(readonly), C(cache)).
      type: list
      elements: dict
    interfaces:
      description: Interfaces (C(type), C(network), C(bridge) or C(direct), C(mac), C(model), C(addresses)).
      type: list
      elements: dict
    graphics: {description: "C(type), C(listen) and C(password) (hidden).", type: dict}
    console: {description: C(type) and C(path)., type: dict}
    guest_agent: {description: Whether the guest agent channel is there., type: bool}
    rng: {description: Whether a virtio RNG is there., type: bool}
    tpm: {description: "The TPM (C(model), C(backend), C(version)); null when there is none.", type: dict}
    tags: {description: Tags., type: dict}
    ip: {description: The first IP address found (IPv4 first)., type: str}
    cloned_from:
      description: For a clone made by O(clone_from), its C(source) domain, C(snapshot) and whether it is C(linked);
        null for a domain that is no clone.
      type: dict
      version_added: 0.2.0
restart_required:
  description:
    - Whether the running guest still runs an older definition; the rest takes effect when it restarts.
    - Reported by every run until the guest restarted, also for a change through O(xml), O(xml_patches) or O(cpu)
      that an earlier run made (the definition's metadata records what such a redefinition changed).
    - A O(cpu) taken back to the one the guest runs before it restarted leaves nothing pending, where the guest was
      created by this collection (its definition records its CPU from the start).
  returned: success
  type: bool
actions:
  description: What the task did (or would do in check mode), in order.
  returned: success
  type: list
  elements: str
  sample: [define, start]
error:
  description:
    - The kind of failure, for C(failed_when), C(until) and C(rescue) to tell apart without reading C(msg).
    - V(invalid) (bad input, named in C(msg); nothing was touched), V(not found), V(conflict) (the request
      contradicts the current state), V(missing library) (on the target host), V(connection), V(driver) (libvirt
      refused), V(timeout), V(interrupted) (a signal; what the task made was undone) or V(internal) (a bug).
  returned: failure
  type: str
  sample: not found
'''

# First: the module_utils below load through it (compiled once, kept between runs on the target).
from ansible_collections.virtkit.virt.plugins.module_utils.engine import bytecode_cache  # pylint: disable=unused-import
from ansible_collections.virtkit.virt.plugins.module_utils.domain.guest_args import guest_argument_spec
from ansible_collections.virtkit.virt.plugins.module_utils.domain.manager import DomainManager
from ansible_collections.virtkit.virt.plugins.module_utils.domain.spec import DEFINITION
from ansible_collections.virtkit.virt.plugins.module_utils.engine.runner import run_module


def main():
    spec = guest_argument_spec(address_sources=('lease', 'arp', 'agent'))
    spec.update(
        virt_type=dict(type='str', default='auto',
                       choices=['auto', 'kvm', 'qemu', 'xen', 'vmware', 'hyperv', 'vbox', 'vz', 'bhyve', 'test']),
        arch=dict(type='str'),
        machine=dict(type='str'),
        memory=dict(type='raw'),
        max_memory=dict(type='raw'),
        vcpus=dict(type='int'),
        max_vcpus=dict(type='int'),
        cpu=dict(type='dict', options=dict(
            mode=dict(type='str', choices=['host-passthrough', 'host-model', 'maximum', 'custom']),
            model=dict(type='str'))),
        firmware=dict(type='str', choices=['bios', 'uefi']),
        secure_boot=dict(type='bool'),
        boot=dict(type='list', elements='str', choices=['hd', 'cdrom', 'network', 'fd']),
        kernel=dict(type='str'),
        initrd=dict(type='str'),
        cmdline=dict(type='str'),
        disks=dict(type='list', elements='dict', options=dict(
            volume=dict(type='str'),
            pool=dict(type='str'),
            path=dict(type='str'),
            size=dict(type='str'),
            backing_volume=dict(type='str'),
            device=dict(type='str', choices=['disk', 'cdrom']),
            bus=dict(type='str', choices=['virtio', 'sata', 'scsi', 'ide', 'xen', 'usb']),
            target=dict(type='str'),
            format=dict(type='str'),
            readonly=dict(type='bool'),
            cache=dict(type='str', choices=['default', 'none', 'writethrough', 'writeback', 'directsync',
                                            'unsafe']))),
        graphics=dict(type='dict', options=dict(
            type=dict(type='str', default='vnc', choices=['none', 'vnc', 'spice']),
            listen=dict(type='str'),
            password=dict(type='str', no_log=True))),
        console=dict(type='raw'),
        guest_agent=dict(type='bool'),
        rng=dict(type='bool'),
        tpm=dict(type='raw'),
        cloud_init=dict(type='dict', options=dict(
            user_data=dict(type='raw', no_log=True),
            meta_data=dict(type='raw', no_log=True),
            network_config=dict(type='raw', no_log=True),
            vendor_data=dict(type='raw', no_log=True),
            pool=dict(type='str'),
            device=dict(type='str', choices=['disk', 'cdrom']),
            bus=dict(type='str', choices=['virtio', 'sata', 'scsi', 'ide']))),
        remove_storage=dict(type='raw', default=False),
        clone_from=dict(type='dict', options=dict(
            name=dict(type='str', required=True),
            linked=dict(type='bool', default=False),
            snapshot=dict(type='str'))),
        shutdown_mode=dict(type='str', default='acpi', choices=['acpi', 'agent']),
    )
    module, result = run_module(spec, DomainManager, mutually_exclusive=[('xml', key) for key in DEFINITION]
                                + [('xml', 'clone_from'), ('disks', 'clone_from')])
    if result.get('failed'):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
