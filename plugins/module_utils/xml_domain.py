# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Domain XML ⇄ canonical dict.

Canonical form (``name`` required, everything else optional)::

    {name, virt_type, arch, machine, memory_kib, current_memory_kib, vcpus,
     kernel, initrd, cmdline,
     interfaces: [{network | bridge, mac, model}],
     console: {type: pty} | {type: file, path},
     tags: {key: value}}

The parser keeps only what the canonical form models: UUIDs, PCI and drive
addresses, aliases, default controllers and the like are what libvirt fills
in by itself, and leaving them out is what keeps re-runs unchanged.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtkit.virt.plugins.module_utils import xml_common as x

TAGS_TAG = '{%s}tags' % x.VIRTKIT_NS
TAG_TAG = '{%s}tag' % x.VIRTKIT_NS


# -- build -------------------------------------------------------------------

def build_domain_xml(spec, uuid=None):
    root = x.element('domain', {'type': spec.get('virt_type') or 'qemu'})
    x.sub(root, 'name', text=spec['name'])
    if uuid:
        x.sub(root, 'uuid', text=uuid)
    if spec.get('tags'):
        root.append(_tags_element(spec['tags']))
    x.sub(root, 'memory', {'unit': 'KiB'}, spec['memory_kib'])
    if spec.get('current_memory_kib'):
        x.sub(root, 'currentMemory', {'unit': 'KiB'}, spec['current_memory_kib'])
    x.sub(root, 'vcpu', text=spec.get('vcpus') or 1)
    os_el = x.sub(root, 'os')
    x.sub(os_el, 'type', {'arch': spec.get('arch'), 'machine': spec.get('machine')}, 'hvm')
    for key in ('kernel', 'initrd', 'cmdline'):
        if spec.get(key):
            x.sub(os_el, key, text=spec[key])
    features = x.sub(root, 'features')
    x.sub(features, 'acpi')  # graceful shutdown goes through ACPI
    devices = x.sub(root, 'devices')
    for iface in spec.get('interfaces') or []:
        devices.append(build_interface_element(iface))
    console = spec.get('console') or {'type': 'pty'}
    serial = x.sub(devices, 'serial', {'type': console['type']})
    if console['type'] == 'file':
        x.sub(serial, 'source', {'path': console['path']})
    x.sub(serial, 'target', {'port': 0})
    return x.to_string(root)


def build_interface_element(iface):
    kind = 'bridge' if iface.get('bridge') else 'network'
    el = x.element('interface', {'type': kind})
    if iface.get('mac'):
        x.sub(el, 'mac', {'address': iface['mac']})
    x.sub(el, 'source', {kind: iface.get(kind)})
    x.sub(el, 'model', {'type': iface.get('model') or 'virtio'})
    return el


def _tags_element(tags):
    el = x.element('metadata')
    holder = x.sub(el, TAGS_TAG)
    for key in sorted(tags):
        x.sub(holder, TAG_TAG, {'name': key}, tags[key])
    return el


# -- parse -------------------------------------------------------------------

def parse_domain_xml(xml, field='xml'):
    root = x.parse(xml, field, 'domain')
    os_el = root.find('os')
    os_type = os_el.find('type') if os_el is not None else None
    devices = root.find('devices')
    result = {
        'name': x.text(root, 'name'),
        'uuid': x.text(root, 'uuid'),
        'virt_type': root.get('type'),
        'arch': os_type.get('arch') if os_type is not None else None,
        'machine': os_type.get('machine') if os_type is not None else None,
        'memory_kib': x.size_kib(root.find('memory')),
        'current_memory_kib': x.size_kib(root.find('currentMemory')),
        'vcpus': x.text(root, 'vcpu', int),
        'kernel': x.text(os_el, 'kernel') if os_el is not None else None,
        'initrd': x.text(os_el, 'initrd') if os_el is not None else None,
        'cmdline': x.text(os_el, 'cmdline') if os_el is not None else None,
        'interfaces': [],
        'console': None,
        'tags': parse_tags(root),
    }
    if devices is not None:
        result['interfaces'] = [parse_interface_element(i) for i in devices.findall('interface')]
        serial = devices.find('serial')
        if serial is not None:
            result['console'] = {'type': serial.get('type')}
            if serial.get('type') == 'file':
                result['console']['path'] = x.attr(serial, 'source', 'path')
    return result


def parse_interface_element(el):
    kind = el.get('type')
    source = el.find('source')
    iface = {'mac': x.attr(el, 'mac', 'address', str.lower), 'model': x.attr(el, 'model', 'type')}
    if kind in ('network', 'bridge') and source is not None:
        iface[kind] = source.get(kind)
    elif kind == 'direct' and source is not None:
        iface['direct'] = source.get('dev')
    return iface


def parse_tags(root):
    holder = root.find('metadata/%s' % TAGS_TAG)
    if holder is None:
        return {}
    return {tag.get('name'): tag.text or '' for tag in holder.findall(TAG_TAG)}
