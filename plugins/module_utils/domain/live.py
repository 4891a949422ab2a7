# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a running domain can take without a restart, and what must wait.

The persistent definition is always redefined first (one redefinition with
every change); then the running guest is brought to it with live-only
operations: the balloon (memory up to the boot maximum), vCPUs (up to the
maximum, and down to those QEMU started with: it unplugs only those it
hot-plugged), hot-plugged disks and interfaces, an interface moved to
another network or bridge, the medium of a cdrom or floppy, and a new
VNC/SPICE password. Whatever differs from the
running definition after that waits for a restart: the result says
``restart_required`` unless ``restart: true`` restarts the guest.

Memory is compared with the persistent definition only: the running
definition reports what the balloon reached, which a guest without a balloon
driver never changes, and comparing with it would report a change forever.
A container's memory is a limit the host applies: there the running
definition is the truth.

Containers (libvirt's LXC driver) take memory (their cgroup limit, up to the
boot maximum) and CPU shares live, and interfaces when they run in a network
namespace of their own; there is no live vCPU change.

plan_live() decides; LiveOperations (a part of GuestManager) turns its
operations into the plan's actions and carries them out.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.virtkit.virt.plugins.module_utils.engine.plan import diff_specified
from ansible_collections.virtkit.virt.plugins.module_utils.errors import DriverError
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel import common as x
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.domain import metadata_tags_xml, parse_domain_xml
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.domain_devices import (
    device_xml, graphics_password_xml, source_update_xml, without_address)

HOTPLUG_DISK_BUSES = ('virtio', 'scsi', 'usb')
# Removable media: libvirt changes what is in the drive of a running guest.
MEDIUM_DEVICES = ('cdrom', 'floppy')
MEDIUM_KEYS = ('path', 'pool', 'volume', 'format')
# Interfaces that libvirt moves to another network or bridge on a running guest.
MOVABLE_INTERFACES = ('network', 'bridge')
# Graphics whose password libvirt changes on a running guest.
LIVE_PASSWORD_GRAPHICS = ('vnc', 'spice')
HOTPLUG_TYPES = ('qemu', 'kvm', 'xen')
# Domain types without a live vCPU change (libvirt's LXC driver has no virDomainSetVcpusFlags).
NO_LIVE_VCPU_TYPES = ('lxc',)
# Domain types whose vCPUs from the guest's start stay until it restarts (libvirt's QEMU driver unplugs only
# those it hot-plugged, or that the definition's <vcpus> marks hotpluggable).
FIXED_VCPU_TYPES = ('qemu', 'kvm')
# Domain types whose memory is a limit the host sets (a cgroup), not a balloon the guest may not follow.
LIMIT_MEMORY_TYPES = ('lxc',)
# Keys only a restart brings to a running guest.
RESTART_KEYS = ('virt_type', 'arch', 'machine', 'max_memory_kib', 'max_vcpus', 'firmware', 'secure_boot', 'boot',
                'kernel', 'initrd', 'cmdline', 'graphics', 'console', 'guest_agent', 'rng', 'tpm')
# How long a live detach waits for the guest to let the device go.
_DETACH_WAIT = 20
# Mappings whose whole content is wanted, not only the keys named: a key left out is removed.
WHOLE_KEYS = ('tags', 'init_env', 'idmap')


def key_differs(key, desired, current, strict=False):
    """Whether canonical ``key`` of ``current`` is not what ``desired`` says
    (not said: no difference, unless ``strict``)."""
    if key not in desired or (desired[key] is None and not strict):
        return False
    if key in WHOLE_KEYS:
        return desired[key] != current.get(key)
    return bool(diff_specified(desired[key], current.get(key), key, strict))


def disk_changes(desired, current):
    """``(added, removed, modified)`` disks, matched by target."""
    want = dict((d['target'], d) for d in desired)
    have = dict((d['target'], d) for d in current)
    added = [d for d in desired if d['target'] not in have]
    removed = [d for d in current if d['target'] not in want]
    modified = [(want[t], have[t]) for t in want if t in have and diff_specified(_comparable(want[t]), have[t])]
    return added, removed, modified


def interface_changes(desired, current, strict=False):
    """``(added, removed, modified)`` interfaces, matched by MAC; a desired
    interface without MAC is new (libvirt gives it one)."""
    have = dict((i['mac'], i) for i in current)
    want_macs = set(i['mac'] for i in desired if i.get('mac'))
    added = [i for i in desired if not i.get('mac') or i['mac'] not in have]
    removed = [i for i in current if i['mac'] not in want_macs]
    modified = [(i, have[i['mac']]) for i in desired
                if i.get('mac') in have and diff_specified(i, have[i['mac']], strict=strict)]
    return added, removed, modified


def _comparable(disk):
    return dict((k, v) for k, v in disk.items() if k != 'create')


def hotpluggable_disk(disk, virt_type):
    return virt_type in HOTPLUG_TYPES and (disk.get('device') or 'disk') == 'disk' \
        and disk.get('bus') in HOTPLUG_DISK_BUSES


def medium_change(want, have, virt_type):
    """Whether only the medium of a cdrom or floppy differs (what libvirt
    swaps in a running guest; a changed bus or target needs a restart)."""
    if virt_type not in HOTPLUG_TYPES or have.get('device') not in MEDIUM_DEVICES:
        return False
    changes = diff_specified(_comparable(want), have)
    return bool(changes) and all(c.path in MEDIUM_KEYS for c in changes)


def interface_move(want, have, virt_type, strict=False):
    """Whether only the network or bridge of an interface differs (libvirt
    moves a running guest's tap device to the new bridge; any other change
    of a running interface, its model say, needs a restart)."""
    if virt_type not in HOTPLUG_TYPES or have.get('type') not in MOVABLE_INTERFACES \
            or (want.get('type') or have['type']) not in MOVABLE_INTERFACES:
        return False
    changes = diff_specified(want, have, strict=strict)
    return bool(changes) and all(c.path in ('type', 'network', 'bridge') for c in changes)


def graphics_password_change(want, have, virt_type, strict=False):
    """Whether only a (new, not removed) VNC/SPICE password differs."""
    if virt_type not in HOTPLUG_TYPES or not want or not have or not want.get('password') \
            or want.get('type') not in LIVE_PASSWORD_GRAPHICS or have.get('type') != want.get('type'):
        return False
    changes = diff_specified(want, have, strict=strict)
    return bool(changes) and all(c.path == 'password' for c in changes)


def hotpluggable_interface(virt_type, live=None):
    if virt_type == 'lxc':
        # A new veth goes into the container's network namespace only when it has its own (made at start
        # for its interfaces or <privnet/>); one that shares the host's would get it on the host.
        return live is not None and live.get('host_network') is False
    return virt_type in HOTPLUG_TYPES


def plan_live(desired, config, live, virt_type, strict=False, live_updates=True, restart_keys=RESTART_KEYS,
              fixed_vcpus=0):
    """``(operations, pending)`` for a running guest after the persistent
    definition became ``desired``. Operations are tuples:
    ``('memory', kib)``, ``('vcpus', n)``, ``('cpu_shares', n)``,
    ``('attach-disk', disk)``, ``('detach-disk', disk)``,
    ``('attach-interface', (n, iface))`` (n: its place in the desired
    ``interfaces``), ``('detach-interface', iface)``,
    ``('change-medium', disk)``, ``('move-interface', iface)``,
    ``('graphics-password', None)``,
    ``('tags', tags)``; ``pending`` names what only a restart applies
    (``restart_keys`` and what cannot change live). ``fixed_vcpus``: how
    many online vCPUs the running guest cannot unplug (xmlmodel.domain's
    fixed_vcpus(); fewer wait for the restart)."""
    ops, pending = [], []
    for key in restart_keys:
        if key_differs(key, desired, live, strict):
            if key == 'graphics' and live_updates and graphics_password_change(
                    desired['graphics'], live.get('graphics'), virt_type, strict):
                ops.append(('graphics-password', None))
            else:
                pending.append(key)

    memory = desired.get('memory_kib')
    # A container's memory is a cgroup limit, applied as set: the running definition is what it has.
    current_memory = (live if virt_type in LIMIT_MEMORY_TYPES else config).get('memory_kib')
    if memory is not None and memory != current_memory:
        if live_updates and memory <= (live.get('max_memory_kib') or 0):
            ops.append(('memory', memory))
        else:
            pending.append('memory_kib')
    vcpus = desired.get('vcpus')
    if vcpus is not None and vcpus != live.get('vcpus'):
        unpluggable = virt_type not in FIXED_VCPU_TYPES or vcpus >= fixed_vcpus
        if live_updates and vcpus <= (live.get('max_vcpus') or 0) and virt_type not in NO_LIVE_VCPU_TYPES \
                and unpluggable:
            ops.append(('vcpus', vcpus))
        else:
            pending.append('vcpus')
    shares = desired.get('cpu_shares')
    if shares is not None and shares != live.get('cpu_shares'):
        if live_updates:
            ops.append(('cpu_shares', shares))
        else:
            pending.append('cpu_shares')

    if desired.get('disks') is not None:
        added, removed, modified = disk_changes(desired['disks'], live.get('disks') or [])
        for disk in removed:
            if live_updates and hotpluggable_disk(disk, virt_type):
                ops.append(('detach-disk', disk))
            else:
                pending.append('disks.%s' % disk['target'])
        for disk in added:
            if live_updates and hotpluggable_disk(disk, virt_type):
                ops.append(('attach-disk', disk))
            else:
                pending.append('disks.%s' % disk['target'])
        for want, have in modified:
            if live_updates and medium_change(want, have, virt_type):
                ops.append(('change-medium', want))
            else:
                pending.append('disks.%s' % want['target'])
    if desired.get('interfaces') is not None:
        added, removed, modified = interface_changes(desired['interfaces'], live.get('interfaces') or [], strict)
        for iface in removed:
            if live_updates and hotpluggable_interface(virt_type, live):
                ops.append(('detach-interface', iface))
            else:
                pending.append('interfaces.%s' % iface['mac'])
        for iface in added:
            if live_updates and hotpluggable_interface(virt_type, live):
                place = next(n for n, i in enumerate(desired['interfaces']) if i is iface)
                ops.append(('attach-interface', (place, iface)))
            else:
                pending.append('interfaces.%s' % (iface.get('mac') or 'new'))
        for want, have in modified:
            if live_updates and interface_move(want, have, virt_type, strict):
                ops.append(('move-interface', want))
            else:
                pending.append('interfaces.%s' % want['mac'])
    tags = desired.get('tags')
    if tags is not None and tags != live.get('tags'):
        ops.append(('tags', tags))  # metadata: live even with live: false, it changes nothing in the guest
    return ops, pending


class LiveOperations:
    """The live operations of plan_live() as actions of a GuestManager's
    plan (uses its driver, name, kind and warnings)."""

    def _plan_live_op(self, plan, op):
        kind, value = op
        name = self.name
        if kind == 'memory':
            plan.add('set memory to %d MiB (live)' % (value // 1024),
                     lambda: self.driver.set_domain_memory(name, value, live=True, config=False))
        elif kind == 'vcpus':
            plan.add('set vcpus to %d (live)' % value,
                     lambda: self.driver.set_domain_vcpus(name, value, live=True, config=False))
        elif kind == 'cpu_shares':
            plan.add('set cpu shares to %d (live)' % value,
                     lambda: self.driver.set_domain_cpu_shares(name, value, live=True, config=False))
        elif kind == 'attach-disk':
            plan.add('attach disk %s (live)' % value['target'], lambda: self._attach('disk', value['target']))
        elif kind == 'detach-disk':
            plan.add('detach disk %s (live)' % value['target'], lambda: self._detach('disk', value['target']))
        elif kind == 'attach-interface':
            place, iface = value
            # Without a MAC yet, its place tells new interfaces on one network apart.
            what = iface.get('network') or iface.get('bridge') or iface.get('direct')
            plan.add('attach %s (live)' % ('interface %s' % iface['mac'] if iface.get('mac')
                                           else 'interfaces[%d] on %s' % (place, what)),
                     lambda: self._attach_interface(iface))
        elif kind == 'detach-interface':
            plan.add('detach interface %s (live)' % value['mac'], lambda: self._detach('interface', value['mac']))
        elif kind == 'change-medium':
            medium = value.get('path') or value.get('volume') or 'nothing (ejected)'
            plan.add('change the medium of %s to %s (live)' % (value['target'], medium),
                     lambda: self._update_live(source_update_xml, 'disk', value['target']))
        elif kind == 'move-interface':
            plan.add('move interface %s to %s %s (live)' % (value['mac'], value['type'], value.get(value['type'])),
                     lambda: self._update_live(source_update_xml, 'interface', value['mac']))
        elif kind == 'graphics-password':
            plan.add('set the graphics password (live)', lambda: self._update_live(graphics_password_xml))
        elif kind == 'tags':
            plan.add('set tags (live)', lambda: self.driver.set_domain_metadata(
                name, metadata_tags_xml(value) if value else None, 'virtkit', x.VIRTKIT_NS, live=True, config=False))

    def _attach(self, kind, key):
        """Hot-plug the device as the new persistent definition has it, at
        the same address where that is free, so that both agree."""
        device = device_xml(self.driver.domain_xml(self.name, inactive=True, secure=True), kind, key)
        try:
            self.driver.attach_device(self.name, device, live=True, config=False)
        except DriverError:
            self.driver.attach_device(self.name, without_address(device), live=True, config=False)

    def _update_live(self, build, *key):
        """Bring one device of the running guest to the new persistent
        definition with updateDevice (built from the running device, so
        that nothing but the change differs)."""
        device = build(self.driver.domain_xml(self.name, secure=True),
                       self.driver.domain_xml(self.name, inactive=True, secure=True), *key)
        if device is not None:
            self.driver.update_device(self.name, device, live=True, config=False)

    def _attach_interface(self, iface):
        if iface.get('mac'):
            return self._attach('interface', iface['mac'])
        config = parse_domain_xml(self.driver.domain_xml(self.name, inactive=True))
        live_macs = set(i['mac'] for i in parse_domain_xml(self.driver.domain_xml(self.name))['interfaces'])
        kind = iface['type']
        for have in config['interfaces']:
            if have['mac'] not in live_macs and have.get(kind) == iface.get(kind):
                return self._attach('interface', have['mac'])
        raise DriverError('the new interface is not in the persistent definition')

    def _detach(self, kind, key):
        device = device_xml(self.driver.domain_xml(self.name), kind, key)
        if device is None:
            return  # already gone
        self.driver.detach_device(self.name, device, live=True, config=False)
        # The guest releases the device in its own time; libvirt waits a few seconds only.
        deadline = time.monotonic() + _DETACH_WAIT
        while device_xml(self.driver.domain_xml(self.name), kind, key) is not None:
            if time.monotonic() > deadline:
                self.warnings.append('%s %r: the guest has not released %s %s yet; it goes when the guest '
                                     'lets it go, or at the next restart' % (self.kind, self.name, kind, key))
                return
            time.sleep(0.5)
