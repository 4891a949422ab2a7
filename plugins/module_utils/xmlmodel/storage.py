# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Storage pool and volume XML ⇄ canonical dicts.

Pool::

    {name, uuid, type, path,
     source: {devices: [...], host, dir, name, format},
     permissions: {mode: '0755', owner: 0, group: 0}}

Volume::

    {name, key, path, type, format, compat (qcow2: '1.1' for v3, None when libvirt
     does not say: v2), capacity, allocation, backing: {path, format} or None}

Sizes are bytes. Pool device lists are sorted (their order means nothing to
libvirt), permissions modes are four-digit octal strings, so that what the
builder writes, the parser reads back equal.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel import common as x

POOL_TYPES = ('dir', 'fs', 'netfs', 'logical', 'disk', 'iscsi', 'rbd', 'zfs')
# Which source parts each pool type has, in libvirt's schema.
SOURCE_PARTS = {
    'dir': (),
    'fs': ('devices', 'format'),
    'netfs': ('host', 'dir', 'format'),
    'logical': ('devices', 'name', 'format'),
    'disk': ('devices', 'format'),
    'iscsi': ('host', 'devices'),
    'rbd': ('host', 'name'),
    'zfs': ('name', 'devices'),
}

# The qcow2 version of new volumes (qcow2 v3).
QCOW2_COMPAT = '1.1'
_BYTES = {'b': 1, 'bytes': 1, 'k': 1024, 'kib': 1024, 'kb': 1000, 'm': 1024 ** 2, 'mib': 1024 ** 2, 'mb': 10 ** 6,
          'g': 1024 ** 3, 'gib': 1024 ** 3, 'gb': 10 ** 9, 't': 1024 ** 4, 'tib': 1024 ** 4, 'tb': 10 ** 12,
          'p': 1024 ** 5, 'pib': 1024 ** 5, 'pb': 10 ** 15}


def octal_mode(value):
    """'755', '0755', 493 → '0755' (libvirt prints four digits)."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        number = int(str(value).strip(), 8)
    return '%04o' % number


def size_bytes(el):
    """A libvirt size element (<capacity unit='bytes'>…</capacity>) in bytes."""
    if el is None or el.text is None:
        return None
    return int(el.text.strip()) * _BYTES.get((el.get('unit') or 'bytes').lower(), 1)


# -- pools -------------------------------------------------------------------

def build_pool_xml(spec, base=None):
    """Pool XML for a canonical pool dict. With ``base`` (the current
    definition), only what ``spec`` names is replaced, so what the model does
    not cover (auth, initiator, mount options, ...) and the UUID survive a
    redefinition; ``None`` values keep what is there."""
    if base is not None:
        root = x.parse(base, 'xml', 'pool')
        for tag in ('capacity', 'allocation', 'available'):
            for old in root.findall(tag):
                root.remove(old)  # sizes are reported, never defined
    else:
        root = x.element('pool', {'type': spec['type']})
        x.sub(root, 'name', text=spec['name'])
    kind = root.get('type')
    source = dict((k, val) for k, val in (spec.get('source') or {}).items() if val is not None)
    parts = SOURCE_PARTS.get(kind, ())
    if parts and (base is None or source):
        src = x.child(root, 'source')
        # Replace only the named parts, in libvirt's own order.
        if 'host' in source:
            _set_single(src, 'host', {'name': source['host']})
        if 'devices' in source:
            for old in src.findall('device'):
                src.remove(old)
            for device in source['devices']:
                x.sub(src, 'device', {'path': device})
        if 'dir' in source:
            _set_single(src, 'dir', {'path': source['dir']})
        if 'name' in source:
            _set_single(src, 'name', text=source['name'])
        if 'format' in source:
            _set_single(src, 'format', {'type': source['format']})
    if _has_target(kind, spec, root):
        target = x.child(root, 'target')
        if spec.get('path'):
            _set_single(target, 'path', text=spec['path'])
        perms = dict((k, val) for k, val in (spec.get('permissions') or {}).items() if val is not None)
        if perms:
            el = x.child(target, 'permissions')
            if 'mode' in perms:
                _set_single(el, 'mode', text=octal_mode(perms['mode']))
            for key in ('owner', 'group'):
                if key in perms:
                    _set_single(el, key, text=perms[key])
    return x.to_string(root)


def _has_target(kind, spec, root):
    if kind == 'rbd':
        return False  # no <target> in libvirt's schema
    if kind == 'zfs':
        return bool(spec.get('path')) or root.find('target') is not None  # optional
    return True  # the others need one (logical: possibly without a path)


def _set_single(parent, tag, attrib=None, text=None):
    """Replace ``<tag>`` under ``parent`` in place (or add it)."""
    x.put(parent, tag, x.element(tag, attrib, text))


def _permissions(parent, perms):
    perms = dict((k, v) for k, v in (perms or {}).items() if v is not None)
    if not perms:
        return
    el = x.sub(parent, 'permissions')
    if 'mode' in perms:
        x.sub(el, 'mode', text=octal_mode(perms['mode']))
    for key in ('owner', 'group'):
        if key in perms:
            x.sub(el, key, text=perms[key])


def _parse_permissions(el):
    if el is None:
        return {'mode': None, 'owner': None, 'group': None}
    mode = x.text(el, 'mode')
    owner = x.text(el, 'owner', int)
    group = x.text(el, 'group', int)
    return {'mode': octal_mode(mode) if mode else None,
            'owner': owner if owner is None or owner >= 0 else None,
            'group': group if group is None or group >= 0 else None}


def parse_pool_xml(xml, field='xml'):
    root = x.parse(xml, field, 'pool')
    src = root.find('source')
    source = {'devices': [], 'host': None, 'dir': None, 'name': None, 'format': None}
    if src is not None:
        source = {
            'devices': sorted(d.get('path') for d in src.findall('device') if d.get('path')),
            'host': x.attr(src, 'host', 'name'),
            'dir': x.attr(src, 'dir', 'path'),
            'name': x.text(src, 'name'),
            'format': x.attr(src, 'format', 'type'),
        }
    target = root.find('target')
    return {
        'name': x.text(root, 'name'),
        'uuid': x.text(root, 'uuid'),
        'type': root.get('type'),
        'path': x.text(target, 'path') if target is not None else None,
        'source': source,
        'permissions': _parse_permissions(target.find('permissions') if target is not None else None),
        'capacity': size_bytes(root.find('capacity')),
        'allocation': size_bytes(root.find('allocation')),
        'available': size_bytes(root.find('available')),
    }


# -- volumes -----------------------------------------------------------------

def build_volume_xml(spec):
    """Volume XML: name, capacity, allocation, format, compat, permissions, backing.

    A volume without ``capacity`` is only valid with a backing store
    (libvirt then takes the backing file's size). A new qcow2 volume is
    qcow2 v3 (``compat`` 1.1, what qemu-img makes) unless ``compat`` says
    otherwise: libvirt's own default, 0.10, holds no dirty bitmaps, so no
    checkpoints (incremental backups)."""
    root = x.element('volume')
    x.sub(root, 'name', text=spec['name'])
    if spec.get('capacity') is not None:
        x.sub(root, 'capacity', {'unit': 'bytes'}, text=spec['capacity'])
    if spec.get('allocation') is not None:
        x.sub(root, 'allocation', {'unit': 'bytes'}, text=spec['allocation'])
    target = x.sub(root, 'target')
    if spec.get('format'):
        x.sub(target, 'format', {'type': spec['format']})
    compat = spec.get('compat') or (QCOW2_COMPAT if spec.get('format') == 'qcow2' else None)
    if compat:
        x.sub(target, 'compat', text=compat)
    _permissions(target, spec.get('permissions'))
    backing = spec.get('backing')
    if backing:
        store = x.sub(root, 'backingStore')
        x.sub(store, 'path', text=backing['path'])
        if backing.get('format'):
            x.sub(store, 'format', {'type': backing['format']})
    return x.to_string(root)


def parse_volume_xml(xml, field='xml'):
    root = x.parse(xml, field, 'volume')
    target = root.find('target')
    store = root.find('backingStore')
    backing = None
    if store is not None and x.text(store, 'path'):
        backing = {'path': x.text(store, 'path'), 'format': x.attr(store, 'format', 'type')}
    return {
        'name': x.text(root, 'name'),
        'key': x.text(root, 'key'),
        'type': root.get('type'),
        'path': x.text(target, 'path') if target is not None else None,
        'format': x.attr(target, 'format', 'type') if target is not None else None,
        'compat': x.text(target, 'compat') if target is not None else None,
        'capacity': size_bytes(root.find('capacity')),
        'allocation': size_bytes(root.find('allocation')),
        'backing': backing,
    }
