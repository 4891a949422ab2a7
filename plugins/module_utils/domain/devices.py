# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Desired disks and interfaces matched to the domain's current ones.

Users rarely name disk targets or MACs; libvirt invents MACs and we pick
targets. Both must stay the same on every later run, or a re-run would
replace devices. So a desired disk takes the target of the current disk with
the same source (a cdrom with another medium: the drive left over), and a
desired interface without MAC takes the MAC of a current interface on the
same network, bridge or device, one of the same model first. Only devices
that match nothing are new; they get defaults (bus, model) and a free target.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtkit.virt.plugins.module_utils.domain.spec import READONLY_CDROM, TARGET_PREFIX
from ansible_collections.virtkit.virt.plugins.module_utils.errors import DriverError, InvalidSpec, NotFound
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.domain_devices import interface_type
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.storage import parse_volume_xml

# Default bus of a new disk per domain type: (disk, cdrom).
DEFAULT_BUS = {'qemu': ('virtio', 'sata'), 'kvm': ('virtio', 'sata'), 'bhyve': ('virtio', 'sata'),
               'xen': ('xen', 'ide'), 'vmware': ('scsi', 'ide'), 'hyperv': ('scsi', 'ide'),
               'vbox': ('sata', 'sata'), 'vz': ('scsi', 'sata'), 'test': ('virtio', 'sata')}
# Default NIC model of a new interface per domain type (None: the driver's own).
DEFAULT_NIC_MODEL = {'qemu': 'virtio', 'kvm': 'virtio', 'bhyve': 'virtio', 'vbox': 'virtio',
                     'vmware': 'vmxnet3', 'test': 'virtio'}


REMOVABLE = ('cdrom', 'floppy')


def source_keys(disk):
    """What identifies a disk's content: its volume, its path, or no medium."""
    keys = []
    if disk.get('pool') and disk.get('volume'):
        keys.append(('volume', disk['pool'], disk['volume']))
    if disk.get('path'):
        keys.append(('path', disk['path']))
    elif disk.get('path') == '' or (not keys and disk.get('device') == 'cdrom'):
        keys.append(('empty', disk.get('device') or 'disk'))
    return keys


def resolve_disks(disks, current, virt_type):
    """``disks`` (from the spec) with targets and, for new disks, defaults.
    ``current`` is the domain's current disk list ([] for a new domain)."""
    resolved = [dict(d) for d in disks]
    explicit = set(d['target'] for d in resolved if d.get('target'))
    by_target = dict((d['target'], d) for d in current)
    claimed = set()
    for disk in resolved:
        if disk.get('target'):
            claimed.add(disk['target'])
    for disk in resolved:
        if disk.get('target'):
            continue
        for have in current:
            if have['target'] in claimed or have['target'] in explicit:
                continue
            if set(source_keys(disk)) & set(source_keys(have)) and _compatible(disk, have):
                disk['target'] = have['target']
                claimed.add(have['target'])
                break
    # A cdrom or floppy whose medium matches nothing takes the first drive of
    # its kind left over: another medium in the same drive (swapped live),
    # not a drive removed and another added.
    for disk in resolved:
        if disk.get('target') or disk.get('device') not in REMOVABLE:
            continue
        for have in current:
            if have['target'] not in claimed and have['target'] not in explicit and _compatible(disk, have):
                disk['target'] = have['target']
                claimed.add(have['target'])
                break
    # Never reuse a current target for a new disk: an unplug still running in
    # the guest must not meet a new disk under the same name.
    taken = set(claimed) | set(by_target)
    defaults = DEFAULT_BUS.get(virt_type, DEFAULT_BUS['qemu'])
    for index, disk in enumerate(resolved):
        have = by_target.get(disk.get('target'))
        if disk.get('readonly') is False and (disk.get('device') or (have or {}).get('device')) == 'cdrom':
            raise InvalidSpec('disks[%d].readonly' % index, READONLY_CDROM)  # the drive it matched is a cdrom
        if disk.get('cache') == 'default' and have is not None and have.get('cache') is None:
            disk['cache'] = None  # libvirt writes no cache attribute for the default mode
        if have is None:
            disk['device'] = disk.get('device') or 'disk'
            if not disk.get('bus'):
                disk['bus'] = _bus_of(disk.get('target')) or defaults[1 if disk['device'] == 'cdrom' else 0]
            if not disk.get('target'):
                disk['target'] = free_target(disk['bus'], taken)
                taken.add(disk['target'])
    return resolved


def _compatible(disk, have):
    return disk.get('device') in (None, have['device']) and disk.get('bus') in (None, have['bus'])


def _bus_of(target):
    if not target:
        return None
    for bus, prefix in (('xen', 'xvd'), ('virtio', 'vd'), ('ide', 'hd'), ('sata', 'sd')):
        if target.startswith(prefix):
            return bus
    return None


def free_target(bus, taken):
    prefix = TARGET_PREFIX[bus]
    for index in range(26 * 27):
        name = prefix + _letters(index)
        if name not in taken:
            return name
    raise InvalidSpec('disks', 'no free %s target left' % bus)


def _letters(index):
    """0 → a, 25 → z, 26 → aa (libvirt's disk naming)."""
    name = ''
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord('a') + rest) + name
    return name


def resolve_interfaces(interfaces, current, virt_type):
    """``interfaces`` with the MACs of the current interfaces they match:
    on the same network, bridge or device, of the same model first (NICs
    listed in another order or one added in front keep their MACs and
    models), then one that does not say its model, then one of another model
    (that NIC keeps its MAC and changes its model)."""
    resolved = [dict(i) for i in interfaces]
    claimed = set(i['mac'] for i in resolved if i.get('mac'))
    known = set(i['mac'] for i in current)
    for fits in (_same_model, _any_model, _other_model):
        for iface in resolved:
            if iface.get('mac'):
                continue
            kind = iface['type'] if iface.get('type') else interface_type(iface)
            for have in current:
                if have['mac'] and have['mac'] not in claimed and have.get(kind) == iface.get(kind) \
                        and have.get('type') == kind and fits(iface, have):
                    iface['mac'] = have['mac']
                    claimed.add(have['mac'])
                    break
    for iface in resolved:
        if iface.get('mac') not in known and 'model' in iface and iface['model'] is None:
            iface['model'] = DEFAULT_NIC_MODEL.get(virt_type)
    return resolved


def _same_model(iface, have):
    return iface.get('model') is not None and iface['model'] == have.get('model')


def _any_model(iface, have):
    return iface.get('model') is None


def _other_model(iface, have):
    return iface.get('model') is not None


# -- references to other objects on the host ---------------------------------------

def check_references(driver, disks, interfaces, field, warnings=None):
    """Networks, pools and volumes the spec names exist. Returns
    ``{(pool, volume): volume facts}`` of the volumes found. With
    ``warnings`` (check mode), a missing one is a warning appended there,
    not an error: an earlier task of the play may make it."""
    def missing(where, message):
        if warnings is None:
            raise InvalidSpec(where, message)
        warnings.append('%s: %s: check mode predicts the change; the real run needs it by then' % (where, message))

    for index, iface in enumerate(interfaces or []):
        if iface.get('network'):
            if not driver.network_exists(iface['network']):
                missing(field('interfaces', index, 'network'), 'there is no network %r' % iface['network'])
    volumes = {}
    for index, disk in enumerate(disks or []):
        if not disk.get('pool'):
            continue
        if not driver.pool_exists(disk['pool']):
            missing(field('disks', index, 'pool'), 'there is no storage pool %r' % disk['pool'])
            continue
        names = [disk.get('volume')] if disk.get('volume') else []
        create = disk.get('create') or {}
        if create.get('backing_volume'):
            names.append(create['backing_volume'])
        for name in names:
            if name is None:
                continue
            try:
                volumes[(disk['pool'], name)] = parse_volume_xml(driver.volume_xml(disk['pool'], name))
            except NotFound:
                if create and name == disk.get('volume'):
                    continue  # created for the domain
                key = 'backing_volume' if name != disk.get('volume') else 'volume'
                missing(field('disks', index, key), 'there is no volume %r in pool %r' % (name, disk['pool']))
            except DriverError as exc:
                # An inactive pool cannot be read; in check mode an earlier task may start it.
                missing(field('disks', index, 'pool'), 'cannot read volume %r of pool %r: %s'
                        % (name, disk['pool'], exc.message))
    return volumes


# Formats a storage pool reports that are not image formats for the
# hypervisor: an ISO image (a cloud-init seed, an installer) is read as raw.
_DISK_FORMAT = {'iso': 'raw'}


def volume_format(driver, disk, volumes):
    """The format of a new disk's image when the host knows it."""
    if disk.get('pool') and disk.get('volume'):
        info = volumes.get((disk['pool'], disk['volume']))
        return _DISK_FORMAT.get(info['format'], info['format']) if info else None
    if disk.get('path'):
        try:
            found = driver.volume_by_path(disk['path'])
            fmt = parse_volume_xml(driver.volume_xml(found['pool'], found['name']))['format']
            return _DISK_FORMAT.get(fmt, fmt)
        except (NotFound, DriverError):
            return None  # outside any pool: libvirt will not guess either
    return None
