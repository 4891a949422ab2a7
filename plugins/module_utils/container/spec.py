# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module params of ``container`` → the desired canonical domain.

The same canonical dict as domain.spec (``None`` = not said), with
``virt_type: lxc`` and the container keys of xmlmodel.container. Pure functions:
what needs the host (does the rootfs exist, is the mount source there) is
container/rootfs.py's job, still before anything is touched. Every error names
its field.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath
import re
import shlex

from ansible_collections.virtkit.virt.plugins.module_utils.domain.spec import (
    LIBVIRT_FILLED, count_spec, guest_spec, interface_spec, memory_spec, spec_from_xml, tags_spec)
from ansible_collections.virtkit.virt.plugins.module_utils.engine import validation as v
from ansible_collections.virtkit.virt.plugins.module_utils.errors import InvalidSpec
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.container import ID_KINDS

DEFAULT_INIT = '/sbin/init'
ADDRESS_SOURCES = ('lease', 'arp')
ARCHIVE_SCHEMES = ('http://', 'https://', 'ftp://')
# The options that say something about the definition (state, autostart and the like do not): each excludes xml.
DEFINITION = ('rootfs', 'share_host_root', 'share_host_network', 'init', 'env', 'memory', 'vcpus', 'cpu_shares',
              'interfaces', 'mounts', 'idmap', 'tags')
# What libvirt fills in by itself when a whole container XML leaves it out.
CONTAINER_FILLED = LIBVIRT_FILLED + ('cpu_shares',)
# Patterns as strings: re compiles (and caches) one when a task first uses it.
_ENV_NAME = r'^[A-Za-z_][A-Za-z0-9_]*$'
# RFC 1123 host names; the kernel takes at most 64 bytes.
_HOSTNAME = (r'^(?=.{1,64}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}'
             r'[A-Za-z0-9])?)*$')
_SHA256 = r'^(sha256:)?([0-9a-fA-F]{64})$'


def container_spec(params):
    """``(spec, xml)`` as domain.spec has them, for a container."""
    return guest_spec(params, spec_from_options, container_spec_from_xml)


def defines_something(params):
    return bool(params.get('xml')) or any(params.get(key) is not None for key in DEFINITION)


def spec_from_options(params, name):
    spec = {'name': name, 'virt_type': 'lxc'}
    # libvirt's LXC driver starts a container with <memory> as its limit (<currentMemory> only changes
    # live): both are the memory option, and a running container takes a change live up to its start value.
    spec['memory_kib'] = spec['max_memory_kib'] = memory_spec(params.get('memory'), 'memory')
    # libvirt's LXC driver counts vCPUs but does not limit a container by them: no "current" below a maximum.
    spec['vcpus'] = spec['max_vcpus'] = count_spec(params.get('vcpus'), 'vcpus')
    spec['cpu_shares'] = cpu_shares_spec(params.get('cpu_shares'))
    spec['init'], spec['init_args'] = init_spec(params.get('init'))
    spec['init_env'] = env_spec(params.get('env'))
    spec['rootfs'] = rootfs_path(params)
    spec['mounts'] = mounts_spec(params.get('mounts'))
    spec['idmap'] = idmap_spec(params.get('idmap'))
    spec['interfaces'] = None
    if params.get('interfaces') is not None:
        spec['interfaces'] = [interface_spec(i, 'interfaces[%d]' % n) for n, i in enumerate(params['interfaces'])]
        v.unique_items(spec['interfaces'], 'interfaces', 'mac')
    spec['host_network'] = params.get('share_host_network')
    if spec['host_network'] and spec['interfaces']:
        raise InvalidSpec('share_host_network', 'a container with interfaces has its own network namespace; '
                                                'share_host_network: true needs interfaces: []')
    if spec['idmap']:
        if spec['host_network']:
            raise InvalidSpec('share_host_network', "a container with an idmap (a user namespace) needs its own "
                                                    "network namespace: libvirt cannot mount its /sys otherwise")
        spec['host_network'] = False
    spec['tags'] = tags_spec(params.get('tags'))
    for key in ('disks', 'graphics', 'console', 'guest_agent', 'rng', 'cpu', 'firmware', 'boot', 'kernel',
                'initrd', 'cmdline', 'arch', 'machine'):
        spec[key] = None  # what only virtual machines have: never compared, never changed
    return spec


def init_spec(init):
    """``(command, args)``: a list is the argv as it is, a string is split like a shell would."""
    if init is None:
        return None, None
    if isinstance(init, str):
        try:
            argv = shlex.split(init)
        except ValueError as exc:
            raise InvalidSpec('init', 'cannot split %r into command and arguments: %s' % (init, exc))
    elif isinstance(init, (list, tuple)):
        argv = [_text(arg, 'init[%d]' % index) for index, arg in enumerate(init)]
    else:
        raise InvalidSpec('init', 'expected a command line or a list (command and arguments)')
    if not argv or not argv[0]:
        raise InvalidSpec('init', 'the command is missing')
    if not argv[0].startswith('/'):
        raise InvalidSpec('init', '%r is not an absolute path in the container' % argv[0])
    return argv[0], argv[1:]


def _text(value, field):
    if isinstance(value, (dict, list)) or value is None:
        raise InvalidSpec(field, 'expected a string')
    if isinstance(value, bool):
        return str(value).lower()
    value = str(value)
    if '\x00' in value:
        raise InvalidSpec(field, 'contains a NUL character')
    return value


def env_spec(env):
    if env is None:
        return None
    if not isinstance(env, dict):
        raise InvalidSpec('env', 'expected a mapping of variable names to values')
    result = {}
    for key, value in env.items():
        if not re.match(_ENV_NAME, str(key)):
            raise InvalidSpec('env', '%r is not a variable name (letters, digits and _, not first a digit)' % (key,))
        result[str(key)] = '' if value is None else _text(value, 'env.%s' % key)
    return result


def cpu_shares_spec(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 2 <= value <= 262144:
        raise InvalidSpec('cpu_shares', '%r is not a relative CPU weight from 2 to 262144 (1024 is the usual '
                                        'default)' % (value,))
    return value


def hostname_spec(value):
    if value is None:
        return None
    if not re.match(_HOSTNAME, str(value)):
        raise InvalidSpec('hostname', '%r is not a host name (letters, digits, - and ., at most 64 characters)'
                          % (value,))
    return str(value)


def _path(value, field):
    if not isinstance(value, str) or not value:
        raise InvalidSpec(field, 'a path is required')
    if not value.startswith('/'):
        raise InvalidSpec(field, '%r is not an absolute path' % value)
    if '\x00' in value or '..' in value.split('/'):
        raise InvalidSpec(field, '%r is not a plain absolute path (no "..")' % value)
    return posixpath.normpath(value)


def rootfs_path(params):
    """The canonical ``rootfs``: a path, ``''`` for the host's root, None when not said."""
    rootfs = params.get('rootfs')
    share = params.get('share_host_root')
    if rootfs is not None and share:
        raise InvalidSpec('share_host_root', 'rootfs and share_host_root: true exclude each other')
    if share:
        return ''
    if rootfs is None:
        return None
    return rootfs_spec(rootfs)['path']


def rootfs_spec(rootfs):
    """``{path, archive, checksum}`` of the rootfs option (archive: a path or URL)."""
    if not isinstance(rootfs, dict):
        raise InvalidSpec('rootfs', 'expected {path} or {path, archive}')
    path = _path(rootfs.get('path'), 'rootfs.path')
    if path == '/':
        raise InvalidSpec('rootfs.path', "'/' is the host's root: say share_host_root: true to share it")
    archive = rootfs.get('archive')
    if archive is not None:
        if not isinstance(archive, str) or not archive:
            raise InvalidSpec('rootfs.archive', 'a path or URL is required')
        if not archive.startswith(ARCHIVE_SCHEMES):
            archive = _path(archive, 'rootfs.archive')
    checksum = rootfs.get('checksum')
    if checksum is not None:
        if archive is None:
            raise InvalidSpec('rootfs.checksum', 'a checksum goes with rootfs.archive')
        match = re.match(_SHA256, str(checksum).strip())
        if not match:
            raise InvalidSpec('rootfs.checksum', 'expected sha256:HEX (64 hex digits)')
        checksum = match.group(2).lower()
    return {'path': path, 'archive': archive, 'checksum': checksum}


def mounts_spec(mounts):
    if mounts is None:
        return None
    result = []
    for index, mount in enumerate(mounts):
        field = 'mounts[%d]' % index
        if not isinstance(mount, dict):
            raise InvalidSpec(field, 'a mount is a dict {source, target, readonly}')
        target = _path(mount.get('target'), field + '.target')
        if target == '/':
            raise InvalidSpec(field + '.target', "'/' is the root filesystem: set it with rootfs")
        readonly = mount.get('readonly')
        if readonly is not None and not isinstance(readonly, bool):
            raise InvalidSpec(field + '.readonly', 'expected true or false')
        result.append({'source': _path(mount.get('source'), field + '.source'), 'target': target,
                       'readonly': bool(readonly)})
    v.unique([m['target'] for m in result], 'mounts', 'target')
    return result


def idmap_spec(idmap):
    """``{}`` (no user namespace) or ``{uid: [ranges], gid: [ranges]}``."""
    if idmap is None:
        return None
    if not isinstance(idmap, dict):
        raise InvalidSpec('idmap', 'expected {uid: {start, target, count}, gid: {...}}')
    if not any(value is not None for value in idmap.values()):
        return {}  # {} (or the module's {uid: None, gid: None}): no user namespace
    unknown = sorted(set(idmap) - set(ID_KINDS))
    if unknown:
        raise InvalidSpec('idmap', 'unknown key %s (expected uid and gid)' % ', '.join(map(repr, unknown)))
    result = {}
    for kind in ID_KINDS:
        field = 'idmap.%s' % kind
        value = idmap.get(kind)
        if not value:
            raise InvalidSpec(field, 'a user namespace needs both uid and gid maps')
        ranges = [_id_range(item, '%s[%d]' % (field, index))
                  for index, item in enumerate(value if isinstance(value, list) else [value])]
        if not any(r['start'] == 0 for r in ranges):
            raise InvalidSpec(field, 'nothing maps ID 0 (root in the container): one range needs start 0')
        _no_overlap(ranges, 'start', field, 'in the container')
        _no_overlap(ranges, 'target', field, 'on the host')
        result[kind] = sorted(ranges, key=lambda r: r['start'])
    return result


def _id_range(item, field):
    if not isinstance(item, dict):
        raise InvalidSpec(field, 'expected {start, target, count}')
    result = {}
    for key in ('start', 'target', 'count'):
        value = item.get(key)
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > 4294967295:
            raise InvalidSpec('%s.%s' % (field, key), '%r is not an ID (a number from 0 to 4294967295)' % (value,))
        result[key] = value
    if result['count'] < 1:
        raise InvalidSpec(field + '.count', 'must be at least 1')
    for key in ('start', 'target'):
        if result[key] + result['count'] > 4294967296:
            raise InvalidSpec(field + '.count', 'the range runs past the largest ID')
    return result


def _no_overlap(ranges, key, field, where):
    spans = sorted((r[key], r[key] + r['count'] - 1) for r in ranges)
    for (first, last), (other, other_last) in zip(spans, spans[1:]):
        if other <= last:
            raise InvalidSpec(field, 'the ranges %d-%d and %d-%d overlap %s' % (first, last, other, other_last, where))


def container_spec_from_xml(xml, name):
    spec = spec_from_xml(xml, name, filled=CONTAINER_FILLED)
    if spec.get('virt_type') != 'lxc' or 'init' not in spec:
        raise InvalidSpec('xml', "a container is a <domain type='lxc'> with <os><type>exe</type></os>")
    if not spec.get('init'):
        raise InvalidSpec('xml', 'the XML has no <os><init> (the command the container runs)')
    return spec
