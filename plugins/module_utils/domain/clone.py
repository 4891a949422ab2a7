# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Clones (``clone_from``): a new domain made from an existing one, as
virt-clone makes it.

The source is shut off, or the clone is made from an external snapshot of it
(whose frozen files do not change under a running source). Every writable
disk is copied through the storage layer - a full copy (libvirt's volume
clone) or, with ``linked``, a qcow2 overlay on the source's file - as the
volume module would make it; read-only and shareable disks (install media, a
shared data disk) are shared. The NVRAM of a UEFI source is copied, MAC
addresses and the UUID are left to libvirt, graphics ports go back to
automatic. The clone's own options are then applied on top, as on any
domain. Copies made before a failure are deleted again.

A clone records its source in its metadata; an existing domain is never
cloned again.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath

from ansible_collections.virtkit.virt.plugins.module_utils.domain.storage import OwnedVolume, seed_name, seed_volume
from ansible_collections.virtkit.virt.plugins.module_utils.driver.interface import ACTIVE_STATES
from ansible_collections.virtkit.virt.plugins.module_utils.engine import validation as v
from ansible_collections.virtkit.virt.plugins.module_utils.errors import Conflict, InvalidSpec, NotFound
from ansible_collections.virtkit.virt.plugins.module_utils.storage.locations import DirectoryPool
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.clone import clone_record, clone_xml, nvram_path
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.snapshot import parse_snapshot_xml, snapshot_disks
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.storage import build_volume_xml, parse_volume_xml

IMAGE_SUFFIXES = ('.qcow2', '.img', '.raw', '.qed', '.vmdk')


def clone_spec(value):
    """``clone_from`` → {name, linked, snapshot} (None when not given)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidSpec('clone_from', 'expected {name, linked, snapshot}')
    spec = {'name': v.plain_name(value.get('name'), 'clone_from.name'), 'linked': bool(value.get('linked')),
            'snapshot': None}
    if value.get('snapshot'):
        spec['snapshot'] = v.plain_name(value['snapshot'], 'clone_from.snapshot')
    return spec


def copy_name(clone, target, source_name, linked):
    """The copy of disk ``target``: CLONE-TARGET with the source's suffix
    (.qcow2 for an overlay)."""
    suffix = '.qcow2' if linked else next((s for s in IMAGE_SUFFIXES if source_name.endswith(s)), '')
    return '%s-%s%s' % (clone, target, suffix)


class Cloning:
    """The clone part of DomainManager: what ``clone_from`` plans."""

    def validate_clone(self):
        self.clone = clone_spec(self.params.get('clone_from'))
        self.clone_base = None
        self._clone_made = []
        if self.clone and self.clone['name'] == self.params['name']:
            raise InvalidSpec('clone_from.name', 'names the domain itself')
        if self.clone and self.params.get('disks') is not None:
            raise InvalidSpec('disks', 'a clone gets its disks from its source; change them in a later task '
                                       '(the copies are NAME-TARGET volumes beside the originals)')

    def prepare_clone(self):
        """Read the source, check it can be cloned, plan the copies: sets
        ``clone_base`` (the clone's XML before its own options), the clone's
        disks in the spec and the copies among the volumes it owns."""
        clone = self.clone
        try:
            status = self.driver.domain_status(clone['name'])
        except NotFound:
            raise NotFound('clone_from.name: domain %r does not exist' % clone['name'],
                           resource=self.resource, action='clone')
        if clone['snapshot']:
            source_xml = self._snapshot_source(clone)
        else:
            if status['state'] in ACTIVE_STATES:
                raise Conflict('clone_from: domain %r is %s; a clone is made from a shut-off domain (as virt-clone '
                               'does) or from an external snapshot of it (clone_from.snapshot, whose files no '
                               'longer change)' % (clone['name'], status['state']),
                               resource=self.resource, action='clone')
            source_xml = self.driver.domain_xml(clone['name'], inactive=True)
        disks, copies, drop = self._plan_copies(source_xml)
        nvram = nvram_path(source_xml)
        self.clone_nvram = None
        if nvram:
            self.clone_nvram = (nvram, posixpath.join(posixpath.dirname(nvram), '%s_VARS.fd' % self.name))
        record = {'source': clone['name'], 'snapshot': clone['snapshot'], 'linked': clone['linked']}
        self.clone_base = clone_xml(source_xml, self.name, dict((d['target'], d) for d in disks if d.get('create')),
                                    nvram=self.clone_nvram[1] if self.clone_nvram else None, record=record,
                                    drop=drop)
        self.spec['disks'] = disks
        self.clone_copies = [volume for _index, volume in copies]
        cloud_init = self.params.get('cloud_init')
        if cloud_init is not None and self.seed_disk is None:
            # Its pool defaults to the pool of the clone's first disk, known only now.
            seed, self.seed_disk = seed_volume(self.name, cloud_init, disks, self.check_mode)
            seed.validate()
            self.owned.append((None, seed))

    def _snapshot_source(self, clone):
        for record in self.driver.list_snapshots(clone['name']):
            if record['name'] != clone['snapshot']:
                continue
            snap = parse_snapshot_xml(record['xml'])
            if not snap['external'] or not snap['domain_xml']:
                raise Conflict('clone_from.snapshot: %r is an internal snapshot, inside the images of domain %r; a '
                               'clone is made from the files an external snapshot froze (virtkit.virt.snapshot with '
                               'disk_only: true)' % (clone['snapshot'], clone['name']),
                               resource=self.resource, action='clone')
            return snap['domain_xml']
        raise NotFound('clone_from.snapshot: domain %r has no snapshot %r' % (clone['name'], clone['snapshot']),
                       resource=self.resource, action='clone')

    def _plan_copies(self, source_xml):
        """``(disks, copies, drop)``: the clone's disk specs, the
        ``(index, OwnedVolume)`` copies and the targets it leaves out (the
        source's own cloud-init seed when the clone gets one)."""
        clone = self.clone
        disks, copies, drop = [], [], []
        for disk in snapshot_disks(source_xml):
            if self.params.get('cloud_init') is not None and disk['volume'] == seed_name(clone['name']):
                drop.append(disk['name'])
                continue
            spec = {'target': disk['name'], 'bus': None, 'device': disk['device'], 'path': disk['path'],
                    'pool': disk['pool'], 'volume': disk['volume'], 'format': disk['format'],
                    'readonly': disk['readonly'] or None, 'cache': None, 'create': None}
            if disk['readonly'] or disk['shareable'] or not (disk['path'] or disk['volume']):
                disks.append(spec)  # shared: install media, a shared data disk, an empty drive
                continue
            pool, name, path = self._source_volume(disk)
            field = 'clone_from (disk %s)' % disk['name']
            new = copy_name(self.name, disk['name'], name, clone['linked'])
            try:
                self.driver.volume_xml(pool, new)
                raise Conflict('the copy of disk %s would be volume %r in pool %r, which exists already; remove it '
                               'first' % (disk['name'], new, pool), resource=self.resource, action='clone')
            except NotFound:
                pass
            if clone['linked']:
                params = {'backing_path': path, 'format': 'qcow2'}
                fmt = 'qcow2'
            else:
                params = {'clone_from': {'name': name, 'pool': pool}}
                fmt = disk['format']
            spec.update(path=None, pool=pool, volume=new, format=fmt,
                        create={'capacity': None, 'backing_volume': None, 'clone': True})
            copies.append((len(disks), OwnedVolume(field, pool, new, params, self.check_mode)))
            disks.append(spec)
        for _index, volume in copies:
            volume.validate()
        return disks, copies, drop

    def _source_volume(self, disk):
        """``(pool, volume, path)`` of a writable disk of the source."""
        if disk['volume']:
            path = parse_volume_xml(self.driver.volume_xml(disk['pool'], disk['volume']))['path']
            return disk['pool'], disk['volume'], path
        if disk['type'] == 'file' and disk['path']:
            try:
                found = self.driver.volume_by_path(disk['path'])
                return found['pool'], found['name'], disk['path']
            except NotFound:
                pass
        raise Conflict('disk %s of domain %r is %s, which no storage pool holds: a clone copies disks through '
                       'libvirt\'s storage pools (define a dir pool for its directory with virtkit.virt.pool, or '
                       'share it read-only)' % (disk['name'], self.clone['name'], disk['path']),
                       resource=self.resource, action='clone')

    # -- the actions -------------------------------------------------------------------
    def plan_clone_storage(self, plan):
        """The copies (and the NVRAM) before the rest of what the domain owns;
        a failure of a copy or of the definition (``undoing``) deletes the
        copies made."""
        for volume in self.clone_copies:
            for action in self._volume_actions(volume):
                plan.add(action.name, self.undoing(action.run, volume))
        if self.clone_nvram:
            source, target = self.clone_nvram
            plan.add('copy NVRAM %s to %s' % (source, target), self.undoing(self._copy_nvram, None))

    def _volume_actions(self, volume):
        volume.manager.driver = self.driver
        actions = volume.manager.plan().actions
        for action in actions:
            action.name = 'volume %s/%s: %s' % (volume.pool, volume.name, action.name)
        return actions

    def undoing(self, run, volume=None):
        def step():
            try:
                run()
            except Exception:
                self.undo_clone()
                raise
            if volume is not None:
                self._clone_made.append(('volume', volume.pool, volume.name))
        return step

    def undo_clone(self):
        """Delete the copies made so far (newest first)."""
        made, self._clone_made = self._clone_made, []
        for kind, where, name in reversed(made):
            try:
                if kind == 'volume':
                    self.driver.delete_volume(where, name)
                else:
                    with DirectoryPool(self.driver, where) as pool:
                        self.driver.delete_volume(pool, name)
            except NotFound:
                pass

    def _copy_nvram(self):
        source, target = self.clone_nvram
        directory = posixpath.dirname(source)
        with DirectoryPool(self.driver, directory) as pool:
            self.driver.refresh_pool(pool)
            try:
                original = parse_volume_xml(self.driver.volume_xml(pool, posixpath.basename(source)))
            except NotFound:
                return  # never started: libvirt makes the clone's from its template
            xml = build_volume_xml({'name': posixpath.basename(target), 'format': 'raw',
                                    'capacity': original['capacity']})
            self.driver.create_volume(pool, xml, clone_from=(pool, posixpath.basename(source)))
            self._clone_made.append(('file', directory, posixpath.basename(target)))

    def clone_warnings(self, config_xml):
        """A clone_from that names another source than the one the existing
        domain was cloned from (or a domain that is no clone) changes nothing."""
        record = clone_record(config_xml)
        if record is None:
            return ['domain %r exists and is no clone; clone_from is left alone' % self.name]
        if record['source'] != self.clone['name'] or record['snapshot'] != self.clone['snapshot'] or \
                record['linked'] != self.clone['linked']:
            return ['domain %r exists, cloned from %s; clone_from (%s) is left alone'
                    % (self.name, _described(record), _described(dict(self.clone, source=self.clone['name'])))]
        return []


def _described(record):
    text = 'domain %r' % record['source']
    if record.get('snapshot'):
        text += ' at snapshot %r' % record['snapshot']
    return text + (' (linked)' if record.get('linked') else '')
