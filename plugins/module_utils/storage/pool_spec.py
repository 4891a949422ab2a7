# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module params of ``pool`` → the desired canonical pool.

Pure functions, run before any connection exists; every error names its
field. ``None`` means "not said": never compared, never changed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.virtkit.virt.plugins.module_utils.engine import validation as v
from ansible_collections.virtkit.virt.plugins.module_utils.errors import InvalidSpec
from ansible_collections.virtkit.virt.plugins.module_utils.storage.pool_facts import DIRECTORY_TYPES
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.storage import POOL_TYPES, SOURCE_PARTS, octal_mode

SOURCE_KEYS = ('devices', 'host', 'dir', 'name', 'format')
PERMISSION_KEYS = ('mode', 'owner', 'group')
# Source formats libvirt's schema allows per pool type.
SOURCE_FORMATS = {
    'fs': ('auto', 'ext2', 'ext3', 'ext4', 'ufs', 'iso9660', 'udf', 'gfs', 'gfs2', 'vfat', 'hfs+', 'xfs',
           'ocfs2', 'vmfs'),
    'netfs': ('auto', 'nfs', 'cifs', 'glusterfs'),
    'logical': ('lvm2',),
    'disk': ('dos', 'dvh', 'gpt', 'mac', 'bsd', 'pc98', 'sun', 'lvm2'),
}
# What a new pool of each type needs; the pool does not work without it.
REQUIRED = {
    'dir': ('path',),
    'fs': ('path', 'source.devices'),
    'netfs': ('path', 'source.host', 'source.dir'),
    'logical': (),
    'disk': ('path', 'source.devices'),
    'iscsi': ('path', 'source.host', 'source.devices'),
    'rbd': ('source.name', 'source.host'),
    'zfs': ('source.name',),
}
ONE_DEVICE = ('fs', 'disk', 'iscsi')
# Types libvirt can build, and those whose build must never overwrite data.
BUILDABLE = ('dir', 'fs', 'netfs', 'logical', 'disk', 'zfs')
BUILD_NO_OVERWRITE = ('fs', 'logical', 'disk')
# A string: re compiles (and caches) it when a task first uses it, not at every import.
_IQN_RE = r'^iqn\.[0-9]{4}-(0[1-9]|1[0-2])\.[a-zA-Z0-9.\-]+(:.+)?$'


def pool_spec(params):
    """The desired pool: ``{name, type, path, source, permissions}``."""
    spec = {'name': v.plain_name(params['name'], 'name'), 'type': None, 'path': None,
            'source': None, 'permissions': None}
    kind = params.get('type')
    if kind is not None and kind not in POOL_TYPES:
        raise InvalidSpec('type', '%r is not one of %s' % (kind, ', '.join(POOL_TYPES)))
    spec['type'] = kind
    if params.get('path') is not None:
        spec['path'] = v.clean_path(params['path'], 'path')
    if params.get('source') is not None:
        spec['source'] = source_spec(params['source'])
    if params.get('permissions') is not None:
        spec['permissions'] = permissions_spec(params['permissions'])
    if kind is not None:
        check_parts(spec, kind)
    return spec


def source_spec(source):
    result = dict((key, None) for key in SOURCE_KEYS)
    if source.get('devices') is not None:
        devices = []
        for index, device in enumerate(source['devices']):
            if not isinstance(device, str) or not device.strip() or '\x00' in device:
                raise InvalidSpec('source.devices[%d]' % index, '%r is not a device path' % (device,))
            devices.append(device.strip())
        v.unique(devices, 'source.devices', 'device')
        result['devices'] = sorted(devices)
    for key in ('host', 'name', 'format'):
        value = source.get(key)
        if value is not None:
            if not isinstance(value, str) or not value.strip() or '\x00' in value:
                raise InvalidSpec('source.' + key, 'must be a non-empty string')
            result[key] = value.strip()
    if source.get('dir') is not None:
        result['dir'] = v.clean_path(source['dir'], 'source.dir')
    return result


def permissions_spec(perms):
    result = dict((key, None) for key in PERMISSION_KEYS)
    if perms.get('mode') is not None:
        if not isinstance(perms['mode'], str):
            # YAML reads an unquoted 0644 as the number 420 and 644 as 644: which
            # octal mode was meant cannot be told from the number.
            raise InvalidSpec('permissions.mode', '%r is not a string; YAML reads an unquoted mode as a number '
                                                  '(0644 as 420): quote it, for example mode: "0644"'
                              % (perms['mode'],))
        try:
            mode = octal_mode(perms['mode'])
        except ValueError:
            raise InvalidSpec('permissions.mode', '%r is not an octal mode (example: "0755")' % (perms['mode'],))
        if int(mode, 8) > 0o7777:
            raise InvalidSpec('permissions.mode', '%r is larger than 07777' % (perms['mode'],))
        result['mode'] = mode
    for key in ('owner', 'group'):
        if perms.get(key) is not None:
            if perms[key] < 0:
                raise InvalidSpec('permissions.' + key, 'a numeric %s ID cannot be negative' % ('user' if key == 'owner' else 'group'))
            result[key] = perms[key]
    return result


def check_parts(spec, kind):
    """Refuse what a ``kind`` pool has no place for."""
    source = spec.get('source') or {}
    for key in SOURCE_KEYS:
        if source.get(key) and key not in SOURCE_PARTS[kind]:
            raise InvalidSpec('source.' + key, 'a %s pool has no source %s' % (kind, key))
    fmt = source.get('format')
    if fmt and fmt not in SOURCE_FORMATS.get(kind, ()):
        raise InvalidSpec('source.format', '%r is not a %s pool format (one of %s)'
                          % (fmt, kind, ', '.join(SOURCE_FORMATS.get(kind, ()))))
    devices = source.get('devices') or []
    if kind in ONE_DEVICE and len(devices) > 1:
        raise InvalidSpec('source.devices', 'a %s pool has exactly one source device' % kind)
    for index, device in enumerate(devices):
        if kind == 'iscsi':
            if not re.match(_IQN_RE, device):
                raise InvalidSpec('source.devices[%d]' % index, '%r is not an iSCSI target IQN '
                                  '(example: iqn.2024-01.com.example:disk1)' % (device,))
        elif not device.startswith('/'):
            raise InvalidSpec('source.devices[%d]' % index, '%r is not an absolute device path' % (device,))
    if kind == 'rbd' and spec.get('path'):
        raise InvalidSpec('path', 'an rbd pool has no target path')
    if kind not in DIRECTORY_TYPES and any(val is not None for val in (spec.get('permissions') or {}).values()):
        raise InvalidSpec('permissions', 'a %s pool has no directory of its own to set permissions on '
                                         '(only %s pools have)' % (kind, ', '.join(DIRECTORY_TYPES)))


def check_complete(spec, kind):
    """Refuse a new pool that lacks what its type needs."""
    check_parts(spec, kind)
    source = spec.get('source') or {}
    for need in REQUIRED[kind]:
        value = source.get(need.split('.', 1)[1]) if need.startswith('source.') else spec.get(need)
        if not value:
            raise InvalidSpec(need, 'a new %s pool needs %s' % (kind, need))
