# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Domain snapshot XML ⇄ canonical dicts, and what a snapshot needs to know
of its domain's XML.

Snapshot::

    {name, description, parent, state, creation_time (epoch seconds),
     memory: {snapshot: internal|external|no, file},
     disks: [{name (target), snapshot: internal|external|no, overlay (external: the file made then),
              source (the file the disk was then: the frozen image of an external snapshot,
                      the image holding an internal one), format}],
     external (bool: a disk or the memory outside the images), domain_xml (the domain as it was)}

Building is the request libvirt completes (``virDomainSnapshotCreateXML``):
only the name, description, memory and the disks whose handling is said.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel import common as x
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.disk_sources import (
    backing_chain, source_path, sources_of)
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.domain_devices import AGENT_CHANNEL

# The states libvirt records for a snapshot; a 'disk-snapshot' has no memory.
SNAPSHOT_STATES = ('running', 'paused', 'shutoff', 'disk-snapshot', 'crashed', 'pmsuspended', 'blocked',
                   'shutdown', 'nostate')


def build_snapshot_xml(spec):
    """``spec``: {name, description, memory: {snapshot, file} or None,
    disks: [{name, snapshot, file}] or None}."""
    root = x.element('domainsnapshot')
    x.sub(root, 'name', text=spec['name'])
    if spec.get('description'):
        x.sub(root, 'description', text=spec['description'])
    memory = spec.get('memory')
    if memory:
        x.sub(root, 'memory', {'snapshot': memory['snapshot'], 'file': memory.get('file')})
    if spec.get('disks'):
        disks = x.sub(root, 'disks')
        for disk in spec['disks']:
            el = x.sub(disks, 'disk', {'name': disk['name'], 'snapshot': disk['snapshot']})
            if disk['snapshot'] == 'external' and disk.get('file'):
                el.set('type', 'file')
                x.sub(el, 'driver', {'type': disk.get('format') or 'qcow2'})
                x.sub(el, 'source', {'file': disk['file']})
    return x.to_string(root)


def with_description(xml, description):
    """A snapshot's whole XML with another description (for a redefinition)."""
    root = x.parse(xml, 'snapshot', 'domainsnapshot')
    x.put(root, 'description', x.element('description', text=description) if description else None,
          after=('name',))
    return x.to_string(root)


def parse_snapshot_xml(xml):
    root = x.parse(xml, 'snapshot', 'domainsnapshot')
    domain = root.find('domain')
    sources = sources_of(domain) if domain is not None else {}
    memory_el = root.find('memory')
    memory = {'snapshot': memory_el.get('snapshot') if memory_el is not None else None,
              'file': memory_el.get('file') if memory_el is not None else None}
    disks = []
    for el in root.findall('disks/disk'):
        kind = el.get('snapshot') or 'internal'
        source = el.find('source')
        disks.append({'name': el.get('name'), 'snapshot': kind,
                      'overlay': source_path(el.get('type'), source) if kind == 'external' else None,
                      'source': sources.get(el.get('name')),
                      'format': x.attr(el, 'driver', 'type')})
    return {
        'name': x.text(root, 'name'),
        'description': x.text(root, 'description'),
        'parent': x.text(root, 'parent/name'),
        'state': x.text(root, 'state'),
        'creation_time': x.text(root, 'creationTime', int),
        'memory': memory,
        'disks': disks,
        'external': memory['snapshot'] == 'external' or any(d['snapshot'] == 'external' for d in disks),
        # libvirt's esx driver records only the domain's UUID: no definition to compare with.
        'domain_xml': x.to_string(domain) if domain is not None and domain.find('name') is not None else None,
    }


# -- what a snapshot needs of its domain's XML ------------------------------------

def snapshot_disks(domain_xml):
    """The domain's disks as a snapshot sees them: [{name (target), device,
    readonly, shareable, format, type, path, pool, volume, backing (the
    files under it, nearest first: paths, or POOL/VOLUME)}]."""
    root = x.parse(domain_xml, 'domain', 'domain')
    result = []
    for el in root.findall('devices/disk'):
        source = el.find('source')
        kind = el.get('type') or 'file'
        device = el.get('device') or 'disk'
        result.append({
            'name': x.attr(el, 'target', 'dev'), 'device': device, 'type': kind,
            'readonly': el.find('readonly') is not None or device in ('cdrom', 'floppy'),
            'shareable': el.find('shareable') is not None,
            'format': x.attr(el, 'driver', 'type'),
            'path': source_path(kind, source) if kind != 'volume' else None,
            'pool': source.get('pool') if kind == 'volume' and source is not None else None,
            'volume': source.get('volume') if kind == 'volume' and source is not None else None,
            'backing': backing_chain(el),
        })
    return result


def pflash_nvram(domain_xml):
    """``(pflash, nvram_format)``: whether the firmware is a pflash one (UEFI),
    and the format of its NVRAM (None when libvirt does not say: raw)."""
    root = x.parse(domain_xml, 'domain', 'domain')
    loader = root.find('os/loader')
    nvram = root.find('os/nvram')
    pflash = (loader is not None and loader.get('type') == 'pflash') or \
        (root.find('os') is not None and root.find('os').get('firmware') == 'efi')
    return pflash, nvram.get('format') if nvram is not None else None


def agent_state(domain_xml):
    """The guest agent channel of a live domain XML: None (there is none),
    'connected', 'disconnected' or '' (libvirt does not say)."""
    root = x.parse(domain_xml, 'domain', 'domain')
    for channel in root.findall('devices/channel'):
        if x.attr(channel, 'target', 'name') == AGENT_CHANNEL:
            return x.attr(channel, 'target', 'state', default='')
    return None


def disk_snapshots_offered(capabilities_xml, arch, virt_type):
    """Whether the host's capabilities offer disk snapshots (``<disksnapshot>``)
    for guests of ``arch`` and ``virt_type``; None when they do not say."""
    root = x.parse(capabilities_xml, 'capabilities', 'capabilities')
    for guest in root.findall('guest'):
        arch_el = guest.find('arch')
        if arch_el is None or (arch and arch_el.get('name') != arch):
            continue
        if virt_type and not any(d.get('type') == virt_type for d in arch_el.findall('domain')):
            continue
        feature = guest.find('features/disksnapshot')
        if feature is None:
            return None
        return feature.get('default') != 'off' or feature.get('toggle') == 'yes'
    return None
