# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plans for domain snapshots (the ``snapshot`` module; their facts are in facts.py).

A snapshot is taken once and never taken again: ``present`` leaves an
existing one alone (only its description can change). ``current`` reverts
the domain to it, unless it is the current snapshot already and the domain
is as the revert would leave it. ``absent`` deletes it.

libvirt's limits are checked before anything is touched, from what the
domain and the host say (disk formats, firmware, the guest agent channel,
the host's capabilities and libvirt version), so that check mode fails as
the real run would and a refused snapshot leaves nothing half done.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import posixpath

from ansible_collections.virtkit.virt.plugins.module_utils.driver.connection import is_local_uri
from ansible_collections.virtkit.virt.plugins.module_utils.driver.interface import ACTIVE_STATES
from ansible_collections.virtkit.virt.plugins.module_utils.driver.jobs import connect_jobs
from ansible_collections.virtkit.virt.plugins.module_utils.engine.plan import Plan
from ansible_collections.virtkit.virt.plugins.module_utils.engine.runner import Manager
from ansible_collections.virtkit.virt.plugins.module_utils.errors import Conflict, DriverError, NotFound, or_none
from ansible_collections.virtkit.virt.plugins.module_utils.snapshot.facts import read_snapshots, snapshot_facts
from ansible_collections.virtkit.virt.plugins.module_utils.snapshot.spec import snapshot_spec
from ansible_collections.virtkit.virt.plugins.module_utils.storage.locations import refresh_pools_of
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.disk_sources import disk_sources
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.domain import parse_domain_xml
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.snapshot import (
    agent_state, build_snapshot_xml, disk_snapshots_offered, pflash_nvram, snapshot_disks, with_description)
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.storage import parse_volume_xml

# The first libvirt that reverts to external snapshots (qemuSnapshotRevert
# before it: "revert to external snapshot not supported yet").
EXTERNAL_REVERT_VERSION = (9, 9, 0)
# What a revert compares of the domain with the snapshot's copy of it.
DEFINITION_KEYS = ('memory_kib', 'max_memory_kib', 'vcpus', 'max_vcpus', 'machine', 'kernel', 'initrd', 'cmdline')
# Image suffixes an overlay's name leaves out ("web1.qcow2" → "web1.NAME.qcow2").
IMAGE_SUFFIXES = ('.qcow2', '.qcow', '.img', '.raw', '.qed')


def descendants(snapshots, name):
    """The names below ``name`` in the tree, depth first."""
    found = []
    for child in snapshots[name]['children']:
        found.append(child)
        found.extend(descendants(snapshots, child))
    return found


def version_tuple(text):
    try:
        return tuple(int(part) for part in (text or '').split('.')[:3])
    except ValueError:
        return ()


def power_state(state):
    """A domain or snapshot state as the three a revert can leave."""
    if state in ('running', 'blocked'):
        return 'running'
    if state in ('paused', 'pmsuspended'):
        return 'paused'
    return 'shutoff'


def definition_drift(saved_xml, current_xml):
    """The parts of the domain's definition (memory, vCPUs, machine, direct
    kernel boot, disks, interfaces) in which ``current_xml`` is not what the
    snapshot saved."""
    saved, current = parse_domain_xml(saved_xml, 'snapshot'), parse_domain_xml(current_xml)
    drift = [key for key in DEFINITION_KEYS if saved.get(key) != current.get(key)]
    if _disks(saved) != _disks(current):
        drift.append('disks')
    if _interfaces(saved) != _interfaces(current):
        drift.append('interfaces')
    return drift


def _disks(domain):
    return sorted((d['target'], d['path'] or '', d['pool'] or '', d['volume'] or '', d['format'] or '')
                  for d in domain['disks'])


def _interfaces(domain):
    return sorted((i.get('mac') or '', i.get('network') or '', i.get('bridge') or '', i.get('direct') or '')
                  for i in domain['interfaces'])


def beside(path, domain, name, suffix):
    """A file next to ``path`` for snapshot ``name``: web1.qcow2 → web1.NAME.qcow2."""
    directory, base = posixpath.split(path)
    for known in IMAGE_SUFFIXES:
        if base.endswith(known):
            base = base[:-len(known)]
            break
    return posixpath.join(directory, '%s.%s%s' % (base or domain, name, suffix))


class SnapshotManager(Manager):
    kind = 'snapshot'
    result_key = 'snapshot'
    reports_restart = False
    connector = staticmethod(connect_jobs)

    def validate(self):
        self.spec = snapshot_spec(self.params)
        self.domain = self.spec['domain']
        self.stopped_guest = False

    @property
    def resource(self):
        return 'snapshot %r of domain %r' % (self.name, self.domain)

    def _status(self):
        return or_none(self.driver.domain_status, self.domain)

    def plan(self):
        plan = Plan(self.kind, '%s/%s' % (self.domain, self.name))
        status = self._status()
        if status is None:
            if self.spec['state'] == 'absent':
                return plan  # no domain, no snapshot
            raise NotFound('domain %r does not exist' % self.domain, resource=self.resource,
                           action='take' if self.spec['state'] == 'present' else 'revert to')
        self.status = status
        snapshots = read_snapshots(self.driver, self.domain)
        current = snapshots.get(self.name)
        state = self.spec['state']
        if state == 'absent':
            if current is not None:
                self._plan_delete(plan, snapshots)
        elif state == 'present':
            if current is None:
                self._plan_create(plan)
            else:
                self._plan_existing(plan, current)
        else:
            if current is None:
                raise NotFound('domain %r has no snapshot %r (it has: %s)'
                               % (self.domain, self.name, ', '.join(sorted(snapshots)) or 'none'),
                               resource=self.resource, action='revert to')
            self._plan_revert(plan, current, snapshots)
        return plan

    # -- create -----------------------------------------------------------------
    def _plan_create(self, plan):
        spec = self.spec
        active = self.status['state'] in ACTIVE_STATES
        if spec['external'] and self.driver.unsupported('external_snapshot'):
            raise self._refused('%s: %s; ESX keeps a snapshot in delta disks of its own: leave %s out for one'
                                % ('disk_only' if spec['disk_only'] else 'external',
                                   self.driver.unsupported('external_snapshot'),
                                   'disk_only' if spec['disk_only'] else 'external'))
        xml = self.driver.domain_xml(self.domain)
        if parse_domain_xml(xml).get('virt_type') == 'vmware':
            return self._plan_create_vmware(plan, active)
        memory = spec['memory']
        if memory is None:
            memory = active and not spec['external']
        if memory and not active:
            raise self._refused('memory: the domain is %s, so it has no memory to save' % self.status['state'])
        if active and not memory and not spec['external']:
            raise self._refused("libvirt makes an internal snapshot of a running guest only with its memory "
                                "('internal snapshot of a running VM must include the memory state'): set "
                                "memory: true, or disk_only: true for a snapshot in overlay files")
        if spec['external']:
            domain = parse_domain_xml(xml)
            offered = disk_snapshots_offered(self.driver.host_capabilities(), domain.get('arch'),
                                             domain.get('virt_type'))
            if offered is False:
                raise self._refused("the host's capabilities offer no disk snapshots (<disksnapshot>) "
                                    "for %s guests" % domain.get('virt_type'))
        else:
            pflash, nvram_format = pflash_nvram(xml)
            if pflash and active and nvram_format != 'qcow2':
                raise self._refused('the guest boots UEFI firmware from pflash, and libvirt makes no internal '
                                    'snapshot of such a running guest ("internal snapshots of a VM with pflash '
                                    'based firmware are not supported"): use disk_only: true, or shut it down '
                                    'first (a shut-off UEFI guest gets internal snapshots of its disks, '
                                    'not of its NVRAM)')
        if spec['quiesce']:
            self._check_agent(active)
        disks = self._snapshot_disks(xml)
        if not any(d['snapshot'] != 'no' for d in disks) and not memory:
            raise self._refused('none of its disks can be in a snapshot (read-only, cdroms and excluded disks '
                                'are left out) and there is no memory to save')
        memory_spec = None
        if memory:
            memory_spec = {'snapshot': 'external' if spec['external'] else 'internal', 'file': None}
            if spec['external']:
                memory_spec['file'] = spec['memory_file'] or self._memory_file(disks)
        elif spec['external'] or not active:
            memory_spec = {'snapshot': 'no', 'file': None}
        files = [d['file'] for d in disks if d.get('file')] + ([memory_spec['file']] if memory and spec['external'] else [])
        self._check_free(files)
        request = {'name': self.name, 'description': spec['description'], 'memory': memory_spec, 'disks': disks}
        snapshot_xml = build_snapshot_xml(request)
        disk_only = spec['external'] and not memory
        kind = 'external' if spec['external'] else 'internal'
        # quiesce freezes the guest's filesystems for a moment: the actions and the diff say so.
        what = '%s snapshot' % kind + (' with memory' if memory else
                                       ' (disks only, quiesced)' if spec['quiesce'] else ' (disks only)')
        if spec['external']:
            what += ' (%s)' % ', '.join(files)
        plan.before = {}
        plan.after = {'name': self.name, 'location': kind, 'memory': bool(memory),
                      'disks': dict((d['name'], d.get('file') or d['snapshot']) for d in disks)}
        if spec['description']:
            plan.after['description'] = spec['description']
        if spec['quiesce']:
            plan.after['quiesce'] = True
        if memory_spec and memory_spec.get('file'):
            plan.after['memory_file'] = memory_spec['file']

        def create():
            self.driver.create_snapshot(self.domain, snapshot_xml, disk_only=disk_only, quiesce=spec['quiesce'],
                                        atomic=spec['atomic'], name=self.name)
            if files:
                refresh_pools_of(self.driver, files)
        plan.add('take ' + what, create)
        if active and not memory and not spec['disk_only'] and self.params.get('memory') is None:
            plan.warnings.append('snapshot %r of domain %r: the running guest\'s memory is not saved: a revert '
                                 'boots it from the disks as they are now' % (self.name, self.domain))
        pflash, _fmt = pflash_nvram(xml)
        if pflash:
            plan.warnings.append('snapshot %r of domain %r: the UEFI variables (NVRAM) are not part of the '
                                 'snapshot' % (self.name, self.domain))

    def _plan_create_vmware(self, plan, active):
        """A VMware snapshot: ESX snapshots every disk, whatever its format,
        in delta disks it places itself, and a running VM's memory with it;
        libvirt's esx driver takes neither a disk list nor a memory element."""
        spec = self.spec
        memory = active if spec['memory'] is None else spec['memory']
        if memory and not active:
            raise self._refused('memory: the domain is %s, so it has no memory to save' % self.status['state'])
        if active and not memory:
            raise self._refused('memory: false: libvirt\'s esx driver does not record whether a snapshot holds the '
                                'memory, and a revert to one without it powers the VM off, which the revert could '
                                'not foresee; take it with the memory, or shut the VM down first')
        snapshot_xml = build_snapshot_xml({'name': self.name, 'description': spec['description']})
        plan.before = {}
        plan.after = {'name': self.name, 'location': 'internal', 'memory': bool(memory)}
        if spec['description']:
            plan.after['description'] = spec['description']
        plan.add('take internal snapshot' + (' with memory' if memory else ' (disks only)'),
                 lambda: self.driver.create_snapshot(self.domain, snapshot_xml, atomic=spec['atomic'],
                                                     name=self.name))

    def _refused(self, why):
        return Conflict(why, resource=self.resource, action='take')

    def _check_agent(self, active):
        if not active:
            raise self._refused('quiesce: the domain is %s; only a running guest\'s agent can freeze its '
                                'filesystems' % self.status['state'])
        state = agent_state(self.driver.domain_xml(self.domain))
        if state is None:
            raise self._refused('quiesce needs the QEMU guest agent, and the domain has no agent channel '
                                '(guest_agent: true in virtkit.virt.domain adds one)')
        if state == 'disconnected':
            raise self._refused('quiesce needs the QEMU guest agent, and no agent answers in the guest '
                                '(its channel is disconnected: is qemu-guest-agent installed and running?)')

    def _snapshot_disks(self, xml):
        """[{name, snapshot, file}] for every disk of the domain: read-only
        disks, cdroms, shareable and empty drives and excluded disks 'no';
        the others internal (qcow2 only) or external with their overlay."""
        spec = self.spec
        disks = snapshot_disks(xml)
        known = set(d['name'] for d in disks)
        for name in spec['disks']:
            if name not in known:
                raise self._refused('disks: the domain has no disk %s (it has %s)'
                                    % (name, ', '.join(sorted(known)) or 'none'))
        result = []
        for disk in disks:
            wanted = spec['disks'].get(disk['name'], {})
            empty = not (disk['path'] or disk['volume'])
            if wanted.get('exclude') or disk['readonly'] or disk['shareable'] or empty:
                if wanted.get('file'):
                    raise self._refused('disks: %s is read-only, shareable or empty: it gets no overlay'
                                        % disk['name'])
                result.append({'name': disk['name'], 'snapshot': 'no'})
                continue
            if not spec['external']:
                if disk['format'] != 'qcow2':
                    raise self._refused('internal snapshots need qcow2 disks, and disk %s is %s ("internal '
                                        'snapshot for disk %s unsupported for storage type %s"); libvirt puts every '
                                        'writable disk in an internal snapshot: use disk_only: true (overlay files '
                                        'work on any format)' % (disk['name'], disk['format'] or 'of unknown format',
                                                                 disk['name'], disk['format']))
                result.append({'name': disk['name'], 'snapshot': 'internal'})
                continue
            result.append({'name': disk['name'], 'snapshot': 'external',
                           'file': wanted.get('file') or self._overlay_beside(disk)})
        return result

    def _overlay_beside(self, disk):
        path = disk['path']
        if disk['volume']:
            path = parse_volume_xml(self.driver.volume_xml(disk['pool'], disk['volume']))['path']
        if disk['type'] not in ('file', 'volume') or not path or not path.startswith('/'):
            raise self._refused('disks: %s is not a file (%s), so its overlay has no place beside it: give one '
                                '(disks: [{name: %s, file: PATH}])' % (disk['name'], path, disk['name']))
        return beside(path, self.domain, self.name, '.qcow2')

    def _memory_file(self, disks):
        first = next((d['file'] for d in disks if d.get('file')), None)
        if first is None:
            raise self._refused('memory_file: no disk gets an overlay to put the memory file beside; give one')
        return posixpath.join(posixpath.dirname(first), '%s.%s.mem' % (self.domain, self.name))

    def _check_free(self, files):
        """Overlays and memory files must be new: checked where the module
        runs on the hypervisor host (libvirt refuses them elsewhere)."""
        if not is_local_uri(self.driver.uri):
            return
        for path in files:
            if os.path.lexists(path):
                raise self._refused('%s exists already; libvirt writes a snapshot to a new file' % path)

    # -- an existing snapshot -------------------------------------------------------
    def _plan_existing(self, plan, snap):
        spec = self.spec
        description = spec['description']
        if description is not None and description != (snap['description'] or ''):
            if self.driver.unsupported('snapshot_redefine'):
                raise Conflict('description: %s' % self.driver.unsupported('snapshot_redefine'),
                               resource=self.resource, action='change')
            plan.before = {'description': snap['description']}
            plan.after = {'description': description}
            xml = with_description(snap['xml'], description)
            plan.add('set the description',
                     lambda: self.driver.create_snapshot(self.domain, xml, redefine=True, current=snap['current']))
        kind = 'external' if snap['external'] else 'internal'
        wanted = 'external' if spec['external'] else 'internal'
        has_memory = snap['memory']['snapshot'] not in (None, 'no')
        recorded = snap['memory']['snapshot'] is not None  # esx records no <memory>
        if kind != wanted or (recorded and spec['memory'] is not None and spec['memory'] != has_memory):
            plan.warnings.append('snapshot %r of domain %r exists as an %s snapshot %s memory; a snapshot is '
                                 'never taken again (delete it first to take it anew)'
                                 % (self.name, self.domain, kind, 'with' if has_memory else 'without'))

    # -- delete -----------------------------------------------------------------------
    def _plan_delete(self, plan, snapshots):
        spec = self.spec
        if spec['metadata_only'] and self.driver.unsupported('snapshot_metadata_only'):
            raise Conflict('metadata_only: %s (libvirt keeps no metadata of its own there, so the snapshot would '
                           'stay on the host)' % self.driver.unsupported('snapshot_metadata_only'),
                           resource=self.resource, action='delete')
        snap = snapshots[self.name]
        below = descendants(snapshots, self.name)
        if spec['children'] and not spec['metadata_only']:
            external = [name for name in [self.name] + below if snapshots[name]['external']]
            if external and below:
                raise Conflict('libvirt deletes no external snapshot together with its descendants ("deletion of '
                               'external children disk snapshots not supported"), and %s %s external: delete '
                               'the descendants one by one, newest first, or with metadata_only: true forget them '
                               '(their files stay)' % (', '.join(external), 'is' if len(external) == 1 else 'are'),
                               resource=self.resource, action='delete')
        gone = [self.name] + (below if spec['children'] else [])
        if not spec['metadata_only']:
            self._check_images(snapshots, gone)
            if not spec['children']:
                self._check_merge(snapshots, snap)
        plan.before = {'snapshots': gone}
        plan.after = {'snapshots': []}
        what = 'delete'
        if spec['children'] and below:
            what += ' with %d descendant%s (%s)' % (len(below), '' if len(below) == 1 else 's', ', '.join(below))
        if spec['metadata_only']:
            what += ' (metadata only: the data stays in the images and files)'
        files = [d['overlay'] for d in snap['disks'] if d.get('overlay')]

        def delete():
            self.driver.delete_snapshot(self.domain, self.name, children=spec['children'],
                                        metadata_only=spec['metadata_only'])
            if files and not spec['metadata_only']:
                refresh_pools_of(self.driver, files)
        plan.add(what, delete)

    def _check_images(self, snapshots, names):
        """libvirt deletes an internal snapshot only from the image its disk
        uses now, not from one an external snapshot has frozen since."""
        now = disk_sources(self.driver.domain_xml(self.domain, inactive=self.status['state'] not in ACTIVE_STATES))
        for name in names:
            for disk in snapshots[name]['disks']:
                if disk['snapshot'] == 'internal' and disk['source'] and now.get(disk['name']) != disk['source']:
                    why = ('snapshot %r is inside %s, and disk %s uses %s now (an external snapshot taken since froze '
                           'it): libvirt deletes internal snapshots only from the image in use ("disk image \'%s\' '
                           'for internal snapshot \'%s\' is not the same as disk image currently used by VM"); '
                           'metadata_only: true makes libvirt forget it (its data stays in that image)'
                           % (name, disk['source'], disk['name'], now.get(disk['name']), disk['name'], name))
                    raise Conflict(why, resource=self.resource, action='delete')

    def _check_merge(self, snapshots, snap):
        """An external snapshot that is current or has descendants is merged
        into the images below it: libvirt 9.0 does that only where no internal
        snapshot lies under it."""
        if not snap['external'] or (not snap['current'] and not snap['children']):
            return
        for disk in snap['disks']:
            if disk['snapshot'] != 'external':
                continue
            parent = snapshots.get(snap['parent'])
            while parent is not None and not any(d['name'] == disk['name'] and d['snapshot'] != 'no'
                                                 for d in parent['disks']):
                parent = snapshots.get(parent['parent'])
            if parent is not None and not parent['external']:
                raise Conflict('disk %s of this external snapshot lies on internal snapshot %r, and libvirt merges '
                               'no external snapshot into an image with internal ones ("deleting external snapshot '
                               'that has internal snapshot as parent not supported"); metadata_only: true makes '
                               'libvirt forget it (its overlay files stay)' % (disk['name'], parent['name']),
                               resource=self.resource, action='delete')

    # -- revert -----------------------------------------------------------------------
    def _plan_revert(self, plan, snap, snapshots):
        spec = self.spec
        if snap['external']:
            version = self.driver.host_summary().get('libvirt_version')
            if version_tuple(version) < EXTERNAL_REVERT_VERSION:
                raise Conflict('it is an external snapshot, and reverting to one needs libvirt %s or later; the '
                               'host runs libvirt %s ("revert to external snapshot not supported yet")'
                               % ('.'.join(str(n) for n in EXTERNAL_REVERT_VERSION), version),
                               resource=self.resource, action='revert to')
        saved = power_state(snap['state'])
        final = saved if spec['revert_state'] == 'saved' else spec['revert_state']
        now = power_state(self.status['state'])
        active = self.status['state'] in ACTIVE_STATES
        drift = []
        if snap['domain_xml']:
            drift = definition_drift(snap['domain_xml'], self.driver.domain_xml(self.domain, inactive=True))
            if active:
                # A live change the guest has not taken yet (a balloon not loaded) shows in
                # the definition only; one made live only, in the running guest only.
                live = definition_drift(snap['domain_xml'], self.driver.domain_xml(self.domain))
                drift += [key for key in live if key not in drift]
        current_name = next((s['name'] for s in snapshots.values() if s['current']), None)
        plan.before = {'current_snapshot': current_name, 'state': now}
        plan.after = {'current_snapshot': self.name, 'state': final}
        if drift:
            plan.before['differs_from_snapshot'] = drift
        if snap['current'] and final == now and not drift and not spec['force_revert']:
            return
        stops = active and saved == 'shutoff'
        what = 'revert to %s' % self.name
        if stops:
            what = 'stop the running guest (powered off, not shut down) and ' + what
            plan.after['stops_running_guest'] = True
            plan.warnings.append('domain %r: reverting to snapshot %r, which has no memory, powers off the %s '
                                 'guest; what it did since is lost' % (self.domain, self.name, self.status['state']))
        if final != saved:
            what += ' (then %s)' % final
        start = None if spec['revert_state'] == 'saved' else spec['revert_state']

        def revert():
            try:
                self.driver.revert_snapshot(self.domain, self.name, start=start, force=spec['force_revert'])
            except DriverError as exc:
                if 'revert requires force' in exc.message:
                    exc.message += ' (set force_revert: true to revert anyway)'
                raise
        plan.add(what, revert)

    # -- result -----------------------------------------------------------------------
    def facts(self, plan):
        try:
            snapshots = read_snapshots(self.driver, self.domain)
            status = self.driver.domain_status(self.domain)
        except NotFound:
            return {'domain': self.domain, 'name': self.name, 'exists': False, 'domain_state': None}
        snap = snapshots.get(self.name)
        if snap is None:
            return {'domain': self.domain, 'name': self.name, 'exists': False, 'domain_state': status['state']}
        return dict(snapshot_facts(self.domain, snap), domain_state=status['state'])
