# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Volumes a domain owns: disks created for it ({size, pool, backing_volume}),
its cloud-init seed, and what ``remove_storage`` deletes.

Creating and updating those volumes is the volume manager's job: each one is
planned by a VolumeManager with the params the ``volume`` module would get,
and its actions join the domain's plan. So a disk grows, an overlay is
checked and a seed is rebuilt exactly as the ``volume`` module would do it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

from ansible_collections.virtkit.virt.plugins.module_utils.driver.connection import is_local_uri
from ansible_collections.virtkit.virt.plugins.module_utils.errors import InvalidSpec, NotFound, or_none
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.domain import parse_domain_xml
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.storage import parse_pool_xml

FILE_POOLS = ('dir', 'fs', 'netfs')
SEED_BUSES = ('virtio', 'sata', 'scsi', 'ide')
_VOLUME_PARAMS = dict(state='present', capacity=None, format=None, preallocate=False, backing_volume=None,
                      backing_path=None, clone_from=None, cloud_init=None, allow_shrink=False, replace=False,
                      wipe=False)
_VOLUME_PARAMS['import'] = None


def seed_name(domain):
    return '%s-cidata.iso' % domain


def created_volume_name(domain, index, fmt):
    return '%s-disk%d.%s' % (domain, index, 'qcow2' if fmt == 'qcow2' else 'img')


# The volume module's options as a disk names them (disks[N].size), and as the
# cloud_init option does (its files are cloud_init.user_data ..., not cloud_init.cloud_init...).
DISK_VOLUME_OPTIONS = {'capacity': 'size', 'name': 'volume'}
SEED_VOLUME_OPTIONS = {'cloud_init': ''}


class OwnedVolume:
    """One volume the domain needs to exist: ``field`` names it in errors,
    ``options`` says how the volume module's options are named under it."""

    def __init__(self, field, pool, name, params, check_mode, options=None):
        # Imported here: a domain whose disks all exist creates no volume, and
        # the volume manager (with seeds and imports) is a good part of a task's imports.
        from ansible_collections.virtkit.virt.plugins.module_utils.storage.volume_manager import VolumeManager
        self.field, self.pool, self.name, self.options = field, pool, name, options or {}
        self.manager = VolumeManager(dict(_VOLUME_PARAMS, name=name, pool=pool, **params), check_mode)

    def user_field(self, field):
        """The volume module's ``field`` as the user wrote it in the domain's options."""
        head, _dot, rest = field.partition('.')
        head = self.options.get(head, head)
        return '.'.join(part for part in (self.field, head, rest) if part)

    def validate(self):
        try:
            self.manager.validate()
        except InvalidSpec as exc:
            raise InvalidSpec(self.user_field(exc.field), exc.detail)

    def plan_into(self, driver, plan):
        self.manager.driver = driver
        try:
            planned = self.manager.plan()
        except InvalidSpec as exc:
            raise InvalidSpec(self.user_field(exc.field), exc.detail)
        for action in planned.actions:
            plan.add('volume %s/%s: %s' % (self.pool, self.name, action.name), action.run, undo=action.undo)
        plan.warnings.extend(planned.warnings + self.manager.warnings)


def disk_volumes(domain, disks, check_mode):
    """OwnedVolumes for the disks created for the domain; sets each disk's
    volume name (the one given, else DOMAIN-diskN.qcow2). The format is that
    of the pool's kind, decided in ``resolve_formats``."""
    owned = []
    for index, disk in enumerate(disks or []):
        create = disk.get('create')
        if not create:
            continue
        params = {'capacity': create['capacity'], 'format': disk.get('format')}
        if create['backing_volume']:
            params['backing_volume'] = {'name': create['backing_volume'], 'pool': disk['pool']}
        if not disk.get('volume'):
            disk['volume'] = created_volume_name(domain, index, disk.get('format') or 'qcow2')
        volume = OwnedVolume('disks[%d]' % index, disk['pool'], disk['volume'], params, check_mode, DISK_VOLUME_OPTIONS)
        owned.append((index, volume))
    return owned


def resolve_formats(driver, disks, owned):
    """New volumes are qcow2 in file pools (thin, snapshots) and raw elsewhere
    (LVM, disks, iSCSI hold no qcow2). A pool not there yet (check mode, an
    earlier task makes it) is taken for a file pool."""
    kinds = {}
    for index, volume in owned:
        if index is None:
            continue  # the cloud-init seed: raw, as large as its image
        disk = disks[index]
        if disk.get('format') is None:
            if disk['pool'] not in kinds:
                try:
                    kinds[disk['pool']] = parse_pool_xml(driver.pool_xml(disk['pool']))['type']
                except NotFound:
                    kinds[disk['pool']] = 'dir'  # check mode: an earlier task makes it
            fmt = 'qcow2' if kinds[disk['pool']] in FILE_POOLS or disk['create']['backing_volume'] else 'raw'
            disk['format'] = fmt
            volume.manager.params['format'] = fmt
            volume.validate()  # again, with the format


def seed_volume(domain, cloud_init, disks, check_mode):
    """The OwnedVolume of the cloud-init seed and the read-only disk that shows it.

    A new seed is a virtio disk unless ``device``/``bus`` say otherwise:
    cloud kernels (Debian's cloud kernel, for one) have no AHCI driver, so a
    cdrom on SATA - the cdrom bus of q35 - is invisible to them. Not said,
    device and bus stay None, so that an existing seed drive keeps what it
    is (a seed attached as a cdrom by an earlier release is no change)."""
    pool = cloud_init.get('pool') or next((d['pool'] for d in disks or [] if d.get('pool')), None)
    if not pool:
        raise InvalidSpec('cloud_init.pool', 'the pool to keep the seed in (no disk names a pool to default to)')
    device, bus = cloud_init.get('device'), cloud_init.get('bus')
    if device not in (None, 'disk', 'cdrom'):
        raise InvalidSpec('cloud_init.device', '%r is not disk or cdrom' % (device,))
    if bus not in (None,) + SEED_BUSES:
        raise InvalidSpec('cloud_init.bus', '%r is not one of %s' % (bus, ', '.join(SEED_BUSES)))
    if device == 'cdrom' and bus == 'virtio':
        raise InvalidSpec('cloud_init.bus', 'a cdrom cannot be on the virtio bus (sata, scsi or ide; or device: disk)')
    files = dict((key, cloud_init.get(key)) for key in ('user_data', 'meta_data', 'network_config', 'vendor_data'))
    if files['meta_data'] is None:
        files['meta_data'] = {'instance-id': domain, 'local-hostname': domain}
    volume = OwnedVolume('cloud_init', pool, seed_name(domain), {'cloud_init': files}, check_mode, SEED_VOLUME_OPTIONS)
    disk = {'target': cloud_init.get('target'), 'bus': bus, 'device': device, 'path': None,
            'pool': pool, 'volume': seed_name(domain), 'format': 'raw', 'readonly': True, 'cache': None,
            'create': {'capacity': None, 'backing_volume': None, 'seed': True}}
    return volume, disk


# -- remove_storage ------------------------------------------------------------------

def storage_to_remove(driver, name, mode):
    """``(volumes, files, kept)`` a removal with ``remove_storage`` deletes:
    volumes ``[(pool, volume)]`` in pools, files outside pools (only for
    ``all``) and ``[(what, why)]`` kept. Read-only disks and cdroms (shared
    install media) and what other domains use are always kept; the domain's
    own cloud-init seed is not."""
    volumes, files, kept = [], [], []
    disks = parse_domain_xml(driver.domain_xml(name, inactive=True))['disks']
    used_elsewhere = _used_by_others(driver, name)
    for disk in disks:
        what = disk['volume'] and '%s/%s' % (disk['pool'], disk['volume']) or disk['path']
        if not what:
            continue
        seed = disk.get('volume') == seed_name(name)
        if (disk['readonly'] or disk['device'] != 'disk') and not seed:
            kept.append((what, 'read-only or a cdrom'))
            continue
        ref = _volume_ref(driver, disk)
        if set(filter(None, (what, ref and '%s/%s' % ref, disk['path']))) & used_elsewhere:
            kept.append((what, 'another domain uses it'))
        elif ref:
            volumes.append(ref)
        elif disk['path'] and mode == 'all':
            files.append(disk['path'])
        elif disk['path']:
            kept.append((what, 'not in a storage pool (remove_storage: all deletes it)'))
    return volumes, files, kept


def _volume_ref(driver, disk):
    if disk.get('pool') and disk.get('volume'):
        return (disk['pool'], disk['volume'])
    found = or_none(driver.volume_by_path, disk['path']) if disk.get('path') else None
    return (found['pool'], found['name']) if found else None


def _used_by_others(driver, name):
    used = set()
    for dom in driver.list_domains():
        if dom['name'] == name:
            continue
        try:
            for disk in parse_domain_xml(driver.domain_xml(dom['name'], inactive=dom['persistent']))['disks']:
                if disk['volume']:
                    used.add('%s/%s' % (disk['pool'], disk['volume']))
                if disk['path']:
                    used.add(disk['path'])
                    ref = _volume_ref(driver, disk)
                    if ref:
                        used.add('%s/%s' % ref)
        except NotFound:
            continue
    return used


def delete_file(driver, path):
    """Delete a disk image outside every pool: only on the local host, and
    never a block device."""
    if not is_local_uri(driver.uri):
        return 'the host is remote; delete it there'
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None  # already gone
    if not stat.S_ISREG(mode):
        return 'not a regular file (block devices are never deleted)'
    os.unlink(path)
    return None
