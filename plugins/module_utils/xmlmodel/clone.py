# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A clone's domain XML made from its source's, as virt-clone makes it.

The source's definition with: another name, no UUID (libvirt gives a new
one), no MAC addresses (new ones), graphics ports back to automatic, the
copied disks and NVRAM in place of the originals, and a record of where it
came from in the metadata (``<clone>`` in a namespace of its own).
Everything else - devices, machine, CPU, tags - stays as the source has it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel import common as x

# libvirt keeps one <metadata> element per namespace, and the tags have the
# collection's own: the clone record has a namespace of its own.
CLONE_NS = x.VIRTKIT_NS + '/clone'
CLONE_TAG = '{%s}clone' % CLONE_NS
_GRAPHICS_PORTS = ('port', 'tlsPort', 'websocket')


def clone_xml(source_xml, name, disks, nvram=None, record=None, drop=()):
    """``disks``: {target: {'pool', 'volume', 'format'} or {'path', 'format'}}
    for the copied disks; ``nvram``: the copy's path, '' to let libvirt make
    a fresh one from the template, None to keep the element as it is;
    ``record``: {source, snapshot, linked}; ``drop``: targets of disks the
    clone leaves out."""
    root = x.parse(source_xml, 'clone_from', 'domain')
    x.set_text(root, 'name', name, first=True)
    for el in root.findall('uuid'):
        root.remove(el)
    devices = root.find('devices')
    if devices is not None:
        for iface in devices.findall('interface'):
            for tag in ('mac', 'target', 'alias'):
                for el in iface.findall(tag):
                    iface.remove(el)
        for graphics in devices.findall('graphics'):
            for attr in _GRAPHICS_PORTS:
                graphics.attrib.pop(attr, None)
            graphics.set('autoport', 'yes')
        for disk in devices.findall('disk'):
            target = x.attr(disk, 'target', 'dev')
            if target in drop:
                devices.remove(disk)
            elif target in disks:
                _set_source(disk, disks[target])
    if nvram is not None:
        os_el = root.find('os')
        el = os_el.find('nvram') if os_el is not None else None
        if el is not None:
            if nvram:
                el.text = nvram
            else:
                el.text = None
    metadata = root.find('metadata')
    if metadata is not None:
        for old in metadata.findall(CLONE_TAG):
            metadata.remove(old)
    if record:
        metadata = x.child(root, 'metadata', after=('uuid', 'name'), first=True)
        attrib = {'source': record['source'], 'linked': 'yes' if record.get('linked') else 'no'}
        if record.get('snapshot'):
            attrib['snapshot'] = record['snapshot']
        x.sub(metadata, CLONE_TAG, attrib)
    return x.to_string(root)


def _set_source(disk, copy):
    for el in disk.findall('backingStore'):
        disk.remove(el)
    source = disk.find('source')
    if source is None:
        source = x.element('source')
        x.put(disk, 'source', source, after=('driver',))
    for attr in list(source.attrib):
        del source.attrib[attr]
    for child in list(source):
        source.remove(child)
    if copy.get('volume'):
        disk.set('type', 'volume')
        source.set('pool', copy['pool'])
        source.set('volume', copy['volume'])
    else:
        disk.set('type', 'file')
        source.set('file', copy['path'])
    if copy.get('format'):
        x.child(disk, 'driver').set('type', copy['format'])
        disk.find('driver').set('name', disk.find('driver').get('name') or 'qemu')


def clone_record(xml):
    """``{source, snapshot, linked}`` of a clone's XML, or None."""
    root = x.parse(xml, 'xml', 'domain')
    el = root.find('metadata/%s' % CLONE_TAG)
    if el is None:
        return None
    return {'source': el.get('source'), 'snapshot': el.get('snapshot'), 'linked': el.get('linked') == 'yes'}


def nvram_path(xml):
    """The NVRAM file of a UEFI domain, or None."""
    root = x.parse(xml, 'xml', 'domain')
    return x.text(root, 'os/nvram')
