# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Domain devices XML ⇄ canonical dicts: disks, interfaces, graphics, the
serial console, the guest agent channel, the RNG and the TPM; and one device of a
domain's XML as the live operations (attach, detach, updateDevice) want it.

Canonical forms::

    disk:      {target, bus, device, type, path, pool, volume, format, readonly, cache}
    interface: {type, network, bridge, direct, mac, model}
    graphics:  {type: none|vnc|spice, listen, password}
    console:   {type: none|pty} | {type: file, path}
    tpm:       {model, backend, version} | False (none)

A disk is identified by its target, an interface by its MAC: patching an
existing element in place keeps what libvirt added to it (PCI and drive
addresses, aliases, driver tuning), so a redefinition moves nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel import common as x

AGENT_CHANNEL = 'org.qemu.guest_agent.0'
# Device kinds whose source libvirt reads from a path (``dev`` for block devices).
_SOURCE_ATTR = {'file': 'file', 'block': 'dev', 'dir': 'dir'}


# -- disks -------------------------------------------------------------------

def disk_type(disk):
    """libvirt's disk type for a canonical disk."""
    if disk.get('pool') and disk.get('volume'):
        return 'volume'
    path = disk.get('path') or ''
    return 'block' if path.startswith('/dev/') else 'file'


def build_disk_element(disk, driver_name=None):
    el = x.element('disk', {'type': disk_type(disk), 'device': disk.get('device') or 'disk'})
    _set_disk(el, disk, driver_name)
    return el


def patch_disk_element(el, disk, driver_name=None):
    """Change what ``disk`` specifies on an existing <disk>, keep the rest."""
    _set_disk(el, disk, driver_name)


def _set_disk(el, disk, driver_name):
    if disk.get('device'):
        el.set('device', disk['device'])
    if disk.get('path') or disk.get('volume'):
        kind = disk_type(disk)
        source = el.find('source')
        same = source is not None and el.get('type') == kind and (
            source.get(_SOURCE_ATTR.get(kind, 'file')) == disk.get('path') if kind != 'volume'
            else (source.get('pool'), source.get('volume')) == (disk.get('pool'), disk.get('volume')))
        if not same:
            el.set('type', kind)
            new = x.element('source', {'pool': disk['pool'], 'volume': disk['volume']} if kind == 'volume'
                            else {_SOURCE_ATTR[kind]: disk['path']})
            x.put(el, 'source', new, after=('driver',), first=True)
    elif disk.get('path') == '' and el.find('source') is not None:
        el.remove(el.find('source'))  # a cdrom with no medium
    if disk.get('format') is not None or disk.get('cache') is not None:
        driver = el.find('driver')
        if driver is None:
            driver = x.element('driver', {'name': driver_name})
            el.insert(0, driver)
        for key, attr in (('format', 'type'), ('cache', 'cache')):
            if disk.get(key) is not None:
                driver.set(attr, disk[key])
    target = x.child(el, 'target')
    if disk.get('target'):
        target.set('dev', disk['target'])
    if disk.get('bus') and target.get('bus') != disk['bus']:
        if target.get('bus') is not None:
            _drop(el, 'address')  # a PCI address means nothing on a SATA bus and vice versa
        target.set('bus', disk['bus'])
    if disk.get('readonly') is not None:
        if disk['readonly'] and el.find('readonly') is None:
            x.sub(el, 'readonly')
        elif not disk['readonly'] and el.get('device') not in ('cdrom', 'floppy'):
            _drop(el, 'readonly')


def parse_disk_element(el):
    source = el.find('source')
    kind = el.get('type') or 'file'
    device = el.get('device') or 'disk'
    disk = {'target': x.attr(el, 'target', 'dev'), 'bus': x.attr(el, 'target', 'bus'),
            'device': device, 'type': kind, 'path': None, 'pool': None, 'volume': None,
            'format': x.attr(el, 'driver', 'type'), 'cache': x.attr(el, 'driver', 'cache'),
            # libvirt makes every cdrom read-only, said or not.
            'readonly': el.find('readonly') is not None or device in ('cdrom', 'floppy')}
    if source is not None:
        if kind == 'volume':
            disk['pool'], disk['volume'] = source.get('pool'), source.get('volume')
        elif kind == 'network':
            disk['path'] = '%s:%s' % (source.get('protocol'), source.get('name'))
        else:
            disk['path'] = source.get(_SOURCE_ATTR.get(kind, 'file'))
    elif device in ('cdrom', 'floppy'):
        disk['path'] = ''  # no medium
    return disk


# -- interfaces ----------------------------------------------------------------

def interface_type(iface):
    for kind in ('network', 'bridge', 'direct'):
        if iface.get(kind):
            return kind
    return None


def build_interface_element(iface):
    el = x.element('interface', {'type': interface_type(iface) or 'network'})
    if iface.get('mac'):
        x.sub(el, 'mac', {'address': iface['mac']})
    _set_interface(el, iface)
    return el


def patch_interface_element(el, iface):
    _set_interface(el, iface)


def _set_interface(el, iface):
    kind = interface_type(iface)
    if kind:
        current = parse_interface_element(el)
        if current.get(kind) != iface[kind] or el.get('type') != kind:
            el.set('type', kind)
            attrs = {'dev': iface[kind], 'mode': 'bridge'} if kind == 'direct' else {kind: iface[kind]}
            x.put(el, 'source', x.element('source', attrs), after=('mac',), first=True)
    if iface.get('model'):
        x.child(el, 'model').set('type', iface['model'])


def parse_interface_element(el):
    kind = el.get('type')
    source = el.find('source')
    iface = {'type': kind, 'network': None, 'bridge': None, 'direct': None,
             'mac': x.attr(el, 'mac', 'address', str.lower), 'model': x.attr(el, 'model', 'type')}
    if source is not None:
        if kind in ('network', 'bridge'):
            iface[kind] = source.get(kind)
        elif kind == 'direct':
            iface['direct'] = source.get('dev')
    return iface


# -- graphics, console, channels, rng ------------------------------------------

def build_graphics_element(graphics):
    el = x.element('graphics', {'type': graphics['type'], 'autoport': 'yes'})
    if graphics.get('listen'):
        el.set('listen', graphics['listen'])
        x.sub(el, 'listen', {'type': 'address', 'address': graphics['listen']})
    if graphics.get('password'):
        el.set('passwd', graphics['password'])
    return el


def parse_graphics(devices):
    el = devices.find('graphics') if devices is not None else None
    if el is None:
        return {'type': 'none', 'listen': None, 'password': None}
    listen = el.get('listen')
    if listen is None:
        for child in el.findall('listen'):
            listen = child.get('address') or listen
    return {'type': el.get('type'), 'listen': listen, 'password': el.get('passwd')}


def build_serial_element(console):
    serial = x.element('serial', {'type': console['type']})
    if console['type'] == 'file':
        x.sub(serial, 'source', {'path': console['path']})
    x.sub(serial, 'target', {'port': 0})
    return serial


def parse_console(devices):
    """The first serial port (or, without one, the first console)."""
    el = None
    if devices is not None:
        el = devices.find('serial')
        if el is None:
            el = devices.find('console')
    if el is None:
        return {'type': 'none', 'path': None}
    kind = el.get('type')
    return {'type': kind, 'path': x.attr(el, 'source', 'path') if kind == 'file' else None}


def build_agent_channel():
    el = x.element('channel', {'type': 'unix'})
    x.sub(el, 'target', {'type': 'virtio', 'name': AGENT_CHANNEL})
    return el


def agent_channels(devices):
    return [ch for ch in devices.findall('channel') if x.attr(ch, 'target', 'name') == AGENT_CHANNEL]


def build_rng_element():
    el = x.element('rng', {'model': 'virtio'})
    x.sub(el, 'backend', {'model': 'random'}, '/dev/urandom')
    return el


def build_tpm_element(tpm):
    """An emulated TPM (libvirt runs swtpm for it and keeps its state)."""
    el = x.element('tpm', {'model': tpm['model']})
    x.sub(el, 'backend', {'type': tpm.get('backend') or 'emulator', 'version': tpm['version']})
    return el


def parse_tpm(devices):
    """The first TPM, or False when there is none (False, not None: "none"
    is a value a spec can ask for)."""
    el = devices.find('tpm') if devices is not None else None
    if el is None:
        return False
    return {'model': el.get('model'), 'backend': x.attr(el, 'backend', 'type'),
            'version': x.attr(el, 'backend', 'version')}


# -- one device of a domain's XML, for live operations --------------------------

def device_xml(xml, kind, key):
    """The <disk> with target ``key`` or the <interface> with MAC ``key`` of a
    domain XML, as a string for attach/detach; None when there is none."""
    el = _device(xml, kind, key)
    return None if el is None else x.to_string(el)


def source_update_xml(live_xml, config_xml, kind, key):
    """The running guest's <disk> with target ``key`` (or <interface> with
    MAC ``key``) with the source of the persistent definition's - a disk's
    medium and format, an interface's network or bridge: for updateDevice,
    which refuses any other difference."""
    live = _device(live_xml, kind, key)
    config = _device(config_xml, kind, key)
    if live is None or config is None:
        return None
    live.set('type', config.get('type') or ('file' if kind == 'disk' else 'network'))
    for child in live.findall('source'):
        live.remove(child)
    source = config.find('source')
    if source is not None:
        anchor = live.find('driver') if kind == 'disk' else live.find('mac')
        x.insert_after(live, anchor, copy.deepcopy(source))
    fmt = x.attr(config, 'driver', 'type') if kind == 'disk' else None
    if fmt is not None and live.find('driver') is not None:
        live.find('driver').set('type', fmt)
    return x.to_string(live)


def graphics_password_xml(live_xml, config_xml):
    """The running guest's <graphics> with the persistent definition's
    password (both read with the secure flag). Holds a secret: never log it."""
    live = x.parse(live_xml, 'xml', 'domain').find('devices/graphics')
    config = x.parse(config_xml, 'xml', 'domain').find('devices/graphics')
    if live is None or config is None or not config.get('passwd'):
        return None
    live.set('passwd', config.get('passwd'))
    return x.to_string(live)


def _device(xml, kind, key):
    root = x.parse(xml, 'xml', 'domain')
    for el in root.findall('devices/%s' % kind):
        found = x.attr(el, 'target', 'dev') if kind == 'disk' else x.attr(el, 'mac', 'address', str.lower)
        if found == key:
            return el
    return None


def without_address(device):
    """A device XML without its <address>, for libvirt to pick a free one."""
    el = x.parse(device, 'device', re.match(r'\s*<([\w-]+)', device).group(1))
    for child in el.findall('address'):
        el.remove(child)
    return x.to_string(el)


# -- helpers -------------------------------------------------------------------

def _drop(el, tag):
    for child in el.findall(tag):
        el.remove(child)
