# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a migrating domain's disks are on both hosts, and what must happen
to them before libvirt moves the guest.

Storage is shared (``copy_storage: none``): every disk must be on the
destination already - a disk the destination's pool for its directory does
not have, or has with another size or format, means the hosts do not share
it. Storage is copied: libvirt copies the writable disks of a running guest
into volumes that must exist on the destination at the same paths, so they
are created first through the volume manager (in the pool of the same name,
which must keep its volumes in the same directory); a shut-off guest's disks,
and the read-only disks (seeds, install media) libvirt never copies, are
streamed from one host to the other here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath

from ansible_collections.virtkit.virt.plugins.module_utils.domain.storage import OwnedVolume
from ansible_collections.virtkit.virt.plugins.module_utils.engine.plan import Plan
from ansible_collections.virtkit.virt.plugins.module_utils.engine.sizes import format_bytes
from ansible_collections.virtkit.virt.plugins.module_utils.errors import DriverError, NotFound, or_none
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.migration import migration_view, volume_physical
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.storage import parse_pool_xml, parse_volume_xml

# Bytes read from the source per request when a volume's content is streamed.
CHUNK = 8 * 1024 * 1024


class StoragePlan:
    """What the checks found: ``problems`` (sentences; nothing may move),
    ``warnings``, the volumes to create on the destination and to fill with
    the source's content, and the disks libvirt copies (targets)."""

    def __init__(self):
        self.problems = []
        self.warnings = []
        self.create = []   # [{'pool', 'name', 'capacity', 'format', 'backing', 'disk'}]
        self.fill = []     # [{'pool', 'name', 'length', 'disk'}]: content streamed from the source
        self.reuse = []    # [{'pool', 'name', 'disk'}]: existing volumes the copy overwrites
        self.copied = []   # targets of the disks libvirt copies
        self.left = []     # 'pool/name' volumes that stay on the source after the move


class _Pools:
    """One host's pools by name and by directory, read once."""

    def __init__(self, driver):
        self.driver = driver
        self._by_name = None

    def _load(self):
        if self._by_name is None:
            self._by_name = {}
            for record in self.driver.list_pools():
                parsed = parse_pool_xml(self.driver.pool_xml(record['name']))
                self._by_name[record['name']] = dict(record, type=parsed['type'], path=parsed['path'])
        return self._by_name

    def get(self, name):
        return self._load().get(name)

    def for_directory(self, directory):
        for pool in self._load().values():
            if pool['path'] and posixpath.normpath(pool['path']) == posixpath.normpath(directory):
                return pool
        return None


def _volume(driver, pool, name):
    xml = or_none(driver.volume_xml, pool, name)
    return dict(parse_volume_xml(xml), physical=volume_physical(xml)) if xml is not None else None


def _by_path(driver, pools, path):
    """``{pool, name}`` of the volume at ``path`` on one host, or None."""
    try:
        return driver.volume_by_path(path)
    except NotFound:
        pool = pools.for_directory(posixpath.dirname(path))
        if pool is None or not pool['active']:
            return None
        # A file another host put into a shared directory shows after a refresh.
        try:
            driver.refresh_pool(pool['name'])
            return driver.volume_by_path(path)
        except NotFound:
            return None


def _located(driver, pools, disk):
    """``(pool, volume, parsed volume)`` of a disk on one host, or None when no pool there has it."""
    if disk['type'] == 'volume':
        found = {'pool': disk['pool'], 'name': disk['volume']}
    else:
        found = _by_path(driver, pools, disk['path'])
        if found is None:
            return None
    volume = _volume(driver, found['pool'], found['name'])
    if volume is None:
        return None
    return found['pool'], found['name'], volume


def _label(disk):
    return 'disk %s (%s)' % (disk['target'], disk['path'] or '%s/%s' % (disk['pool'], disk['volume']))


def _used_on(driver, path, pool, name):
    """The domains of a host whose disks are this volume."""
    users = []
    for record in driver.list_domains():
        try:
            disks = migration_view(driver.domain_xml(record['name'], inactive=True))['disks']
        except NotFound:
            continue
        if any(d['path'] == path or (d['pool'], d['volume']) == (pool, name) for d in disks):
            users.append(record['name'])
    return users


def plan_storage(source, dest, disks, copy_storage, offline, unsafe):
    """The StoragePlan for ``disks`` (migration_view's) going from ``source``
    to ``dest`` (drivers)."""
    result = StoragePlan()
    src_pools, dst_pools = _Pools(source), _Pools(dest)
    for disk in disks:
        if disk['type'] == 'network' or not (disk['path'] or disk['volume']):
            continue  # network disks are reached from anywhere; an empty drive has nothing to move
        if disk['type'] not in ('file', 'block', 'volume'):
            result.warnings.append('%s: %s disks are not checked' % (_label(disk), disk['type']))
            continue
        copied = copy_storage != 'none' and not disk['readonly'] and not disk['shareable']
        if copied:
            _plan_copy(result, source, dest, src_pools, dst_pools, disk, copy_storage, offline)
            continue
        _plan_shared(result, source, dest, src_pools, dst_pools, disk, copy_storage)
        if not disk['readonly'] and disk['cache'] == 'unsafe' and not unsafe:
            result.problems.append(
                "%s uses cache mode 'unsafe', which never flushes: on shared storage the destination can read "
                "data the source has not written yet (use cache none, directsync or writeback, copy the storage, "
                "or set unsafe: true)" % _label(disk))
    return result


def _plan_shared(result, source, dest, src_pools, dst_pools, disk, copy_storage):
    """A disk that stays where it is: the destination must see the same one."""
    here = _located(source, src_pools, disk)
    there = _located(dest, dst_pools, disk)
    if there is None:
        if disk['readonly'] and copy_storage != 'none' and here is not None:
            # libvirt copies writable disks only: a seed or an install medium is streamed here.
            _plan_stream(result, dest, dst_pools, disk, here)
            return
        if disk['type'] == 'volume':
            pool = dst_pools.get(disk['pool'])
            what = "pool %r does not exist on the destination" % disk['pool'] if pool is None else \
                "pool %r on the destination has no volume %r" % (disk['pool'], disk['volume'])
            result.problems.append('%s: %s%s' % (_label(disk), what, _hint(disk, copy_storage)))
            return
        pool = dst_pools.get(here[0]) if here else None
        pool = pool or dst_pools.for_directory(posixpath.dirname(disk['path']))
        if pool is not None:
            result.problems.append('%s is not on the destination (its pool %r there has no such volume)%s'
                                   % (_label(disk), pool['name'], _hint(disk, copy_storage)))
        elif here is not None:
            result.problems.append('%s: pool %r, which has it here, does not exist on the destination (define it '
                                   'there for the same directory, %s)' % (_label(disk), here[0],
                                                                          posixpath.dirname(disk['path'])))
        else:
            result.warnings.append('%s: no storage pool on the destination has %s, so whether the destination '
                                   'sees this disk was not checked (libvirt fails the migration before the guest '
                                   'moves if it does not)' % (_label(disk), posixpath.dirname(disk['path'])))
        return
    if here is not None:
        mine, theirs = here[2], there[2]
        for key in ('capacity', 'format'):
            if mine.get(key) is not None and theirs.get(key) is not None and mine[key] != theirs[key]:
                result.problems.append('%s has another %s on the destination (%s there, %s here): the hosts do not '
                                       'share it%s' % (_label(disk), key, _shown(key, theirs[key]),
                                                       _shown(key, mine[key]), _hint(disk, copy_storage)))
                return


def _shown(key, value):
    return format_bytes(value) if key == 'capacity' else value


def _hint(disk, copy_storage):
    if copy_storage != 'none':
        return ''
    if disk['readonly']:
        return '; make it available there (libvirt never copies read-only disks)'
    return '; copy_storage: all copies it while the guest moves'


def _plan_copy(result, source, dest, src_pools, dst_pools, disk, copy_storage, offline):
    """A writable disk copied to the destination, into a volume of the same pool, name and path."""
    here = _located(source, src_pools, disk)
    if here is None:
        pool = None if disk['type'] == 'volume' else src_pools.for_directory(posixpath.dirname(disk['path']))
        if pool is not None or disk['type'] == 'volume':
            result.problems.append('%s does not exist on the source (%s has no such volume)' % (
                _label(disk), "pool %r" % (pool['name'] if pool else disk['pool'])))
        else:
            result.problems.append('%s is in no storage pool on the source, so its copy cannot be made on the '
                                   'destination: put its directory in a pool (virtkit.virt.pool) on both hosts'
                                   % _label(disk))
        return
    pool_name, name, volume = here
    pool = dst_pools.get(pool_name)
    if pool is None:
        result.problems.append('%s: pool %r does not exist on the destination (copied disks go to the pool of the '
                               'same name there)' % (_label(disk), pool_name))
        return
    if not pool['active']:
        result.problems.append('%s: pool %r is not active on the destination' % (_label(disk), pool_name))
        return
    mine = src_pools.get(pool_name)
    if disk['type'] != 'volume' and mine and pool['path'] != mine['path']:
        result.problems.append('%s: pool %r keeps its volumes in %s on the destination, not in %s as here: the copy '
                               'would have another path' % (_label(disk), pool_name, pool['path'], mine['path']))
        return
    backing = volume.get('backing')
    # A running guest's full copy is flattened by libvirt; anything else keeps its backing file.
    keeps_backing = backing and (copy_storage == 'incremental' or offline)
    if keeps_backing:
        if _by_path(dest, dst_pools, backing['path']) is None:
            result.problems.append('%s is an overlay on %s, which the destination does not have (%s)'
                                   % (_label(disk), backing['path'],
                                      'an incremental copy needs its backing file there'
                                      if copy_storage == 'incremental' else
                                      "a shut-off guest's disks are copied as they are"))
            return
    existing = _volume(dest, pool_name, name)
    entry = {'pool': pool_name, 'name': name, 'disk': disk['target'], 'capacity': volume['capacity'],
             'format': volume['format'], 'backing': backing['path'] if keeps_backing else None,
             'length': volume.get('physical')}
    if existing is not None:
        users = _used_on(dest, existing['path'], pool_name, name)
        if users:
            result.problems.append('%s: volume %s/%s on the destination is in use by %s' % (
                _label(disk), pool_name, name, ', '.join("domain %r" % user for user in users)))
            return
        if (existing['capacity'] or 0) < (volume['capacity'] or 0):
            result.problems.append('%s: volume %s/%s on the destination is smaller (%s) than the disk (%s)'
                                   % (_label(disk), pool_name, name, format_bytes(existing['capacity']),
                                      format_bytes(volume['capacity'])))
            return
        if copy_storage == 'incremental' and not offline:
            # QEMU writes only the clusters the disk's top image has: the old
            # volume's other clusters would show through instead of the base.
            result.problems.append('%s: volume %s/%s exists on the destination (unused there), and an incremental '
                                   'copy writes only what the disk\'s top image holds, so what else it holds would '
                                   'show through: delete it there first (virtkit.virt.volume, state: absent)'
                                   % (_label(disk), pool_name, name))
            return
        result.reuse.append(entry)
    else:
        result.create.append(entry)
    if offline:
        if entry['length'] is None:
            result.problems.append('%s: the source does not say how large volume %s/%s is, so it cannot be '
                                   'streamed' % (_label(disk), pool_name, name))
            return
        result.fill.append(entry)
    else:
        result.copied.append(disk['target'])
    result.left.append('%s/%s' % (pool_name, name))


def _plan_stream(result, dest, dst_pools, disk, here):
    pool_name, name, volume = here
    pool = dst_pools.get(pool_name)
    if pool is None or not pool['active']:
        result.problems.append('%s: pool %r does not exist or is not active on the destination (libvirt never '
                               'copies read-only disks: the module streams it into the pool of the same name)'
                               % (_label(disk), pool_name))
        return
    entry = {'pool': pool_name, 'name': name, 'disk': disk['target'], 'capacity': volume['capacity'],
             'format': volume['format'], 'backing': None, 'length': volume.get('physical')}
    if entry['length'] is None:
        result.problems.append('%s: the source does not say how large volume %s/%s is'
                               % (_label(disk), pool_name, name))
        return
    result.create.append(entry)
    result.fill.append(entry)


# -- carrying it out ------------------------------------------------------------------

def volume_creator(dest, entry, check_mode):
    """``(actions, volume name)``: the volume manager's plan for a volume the
    copy goes into (created like the ``volume`` module would create it)."""
    params = {'capacity': entry['capacity'], 'format': entry['format']}
    if entry['backing']:
        params['backing_path'] = entry['backing']
    volume = OwnedVolume('disk %s' % entry['disk'], entry['pool'], entry['name'], params, check_mode)
    volume.validate()
    plan = Plan('volume', '%s/%s' % (entry['pool'], entry['name']))
    volume.plan_into(dest, plan)
    return plan.actions


class _SourceReader:
    """A file-like view of a volume on the source host, read CHUNK bytes at a time."""

    def __init__(self, driver, pool, name):
        self.driver, self.pool, self.name = driver, pool, name
        self.offset, self.buffer, self.copied = 0, b'', 0

    def tell(self):
        return self.copied

    def seek(self, position):
        if position != self.copied:
            self.offset, self.buffer, self.copied = position, b'', position

    def read(self, size):
        if len(self.buffer) < size:
            data = self.driver.download_volume(self.pool, self.name, self.offset, max(CHUNK, size))
            self.offset += len(data)
            self.buffer += data
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        self.copied += len(data)
        return data


def stream_volume(source, dest, entry):
    """The source volume's bytes into the destination's volume of the same
    pool and name; the bytes copied."""
    reader = _SourceReader(source, entry['pool'], entry['name'])
    dest.upload_volume(entry['pool'], entry['name'], reader, entry['length'])
    try:
        dest.refresh_pool(entry['pool'])  # file pools learn the new content's allocation on a refresh
    except DriverError:
        pass
    return reader.copied
