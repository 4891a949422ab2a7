# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a migration needs to know of a domain's XML, of a host's capabilities
and of snapshot XML: the disks with what decides how their storage moves
(cache mode, read-only, shareable), the networks, the CPU element to compare
with the destination's, and the snapshots' family tree."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel import common as x
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.storage import size_bytes

_SOURCE_ATTR = {'file': 'file', 'block': 'dev', 'dir': 'dir'}


def migration_view(xml, field='xml'):
    """The parts of a domain a migration checks: dict name, uuid, virt_type,
    arch, machine, emulator, cpu {mode, xml}, disks [...], interfaces [...]."""
    root = x.parse(xml, field, 'domain')
    devices = root.find('devices')
    cpu = root.find('cpu')
    cpu_mode = None
    if cpu is not None:
        cpu_mode = cpu.get('mode') or ('custom' if cpu.find('model') is not None else None)
    return dict(
        x.platform(root),
        name=x.text(root, 'name'),
        uuid=x.text(root, 'uuid'),
        emulator=x.text(devices, 'emulator') if devices is not None else None,
        cpu={'mode': cpu_mode, 'xml': x.to_string(cpu) if cpu_mode is not None else None},
        disks=[_disk(el) for el in devices.findall('disk')] if devices is not None else [],
        interfaces=[_interface(el) for el in devices.findall('interface')] if devices is not None else [],
    )


def _disk(el):
    source = el.find('source')
    kind = el.get('type') or 'file'
    device = el.get('device') or 'disk'
    disk = {'target': x.attr(el, 'target', 'dev'), 'device': device, 'type': kind, 'path': None, 'pool': None,
            'volume': None, 'format': x.attr(el, 'driver', 'type'), 'cache': x.attr(el, 'driver', 'cache'),
            'readonly': el.find('readonly') is not None or device in ('cdrom', 'floppy'),
            'shareable': el.find('shareable') is not None,
            'backing': x.attr(el, 'backingStore/source', 'file')}
    if source is not None:
        if kind == 'volume':
            disk['pool'], disk['volume'] = source.get('pool'), source.get('volume')
        elif kind == 'network':
            disk['path'] = '%s:%s' % (source.get('protocol'), source.get('name'))
        else:
            disk['path'] = source.get(_SOURCE_ATTR.get(kind, 'file'))
    return disk


def _interface(el):
    kind = el.get('type')
    source = el.find('source')
    return {'type': kind, 'mac': x.attr(el, 'mac', 'address', str.lower),
            'network': source.get('network') if source is not None and kind == 'network' else None,
            'bridge': source.get('bridge') if source is not None and kind == 'bridge' else None}


def host_cpu_xml(capabilities_xml):
    """The host's own <cpu> from its capabilities (what host-passthrough hands a guest), or None."""
    root = x.parse(capabilities_xml, 'capabilities', 'capabilities')
    cpu = root.find('host/cpu')
    return x.to_string(cpu) if cpu is not None else None


def snapshot_summary(xml):
    """A snapshot's name, its parent's name (None for a root) and its creation time."""
    root = x.parse(xml, 'snapshot', 'domainsnapshot')
    return {'name': x.text(root, 'name'), 'parent': x.text(root, 'parent/name'),
            'created': x.text(root, 'creationTime', int, 0)}


def volume_physical(xml):
    """The bytes a volume's file holds (<physical>, libvirt >= 3.0), or None."""
    root = x.parse(xml, 'volume', 'volume')
    return size_bytes(root.find('physical'))
