# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plans for backups (the ``backup`` module; checkpoints and backup files as a playbook sees them are in facts.py).

A backup is libvirt's push-mode backup job (``virDomainBackupBegin``): QEMU
copies the disks of the running guest, as they were when the job began, to
qcow2 files, and a checkpoint made at the same instant (a dirty bitmap in
each qcow2 disk) lets the next backup copy only what changed since. A backup
is named; its files are ``DOMAIN-NAME-DISK.qcow2`` in the target, and its
checkpoint has its name.

The files are made through the storage layer first - a full backup's as
empty qcow2 volumes, an incremental one's as qcow2 overlays on the files of
the backup it follows - so that every incremental file is a whole image
with its backing chain, and libvirt writes into them (REUSE_EXTERNAL). A
directory that no pool holds gets a transient pool for the run. libvirt
backs up only running domains: a shut-off guest is started paused (its CPUs
never run), backed up and powered off again. A job that fails or outlasts
``timeout`` is aborted, and its checkpoint and files are removed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

from ansible_collections.virtkit.virt.plugins.module_utils.backup.facts import Location, by_age, checkpoint_facts, read_checkpoints
from ansible_collections.virtkit.virt.plugins.module_utils.backup.spec import backup_file, backup_spec
from ansible_collections.virtkit.virt.plugins.module_utils.driver.interface import ACTIVE_STATES
from ansible_collections.virtkit.virt.plugins.module_utils.driver.jobs import connect_jobs
from ansible_collections.virtkit.virt.plugins.module_utils.engine.plan import Plan
from ansible_collections.virtkit.virt.plugins.module_utils.engine.runner import Manager
from ansible_collections.virtkit.virt.plugins.module_utils.engine.sizes import format_bytes
from ansible_collections.virtkit.virt.plugins.module_utils.errors import (
    Conflict, DriverError, InvalidSpec, NotFound, Timeout)
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.backup import (
    backup_supported, build_backup_xml, build_checkpoint_xml, domain_platform)
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.snapshot import snapshot_disks
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.storage import build_volume_xml, parse_volume_xml

POLL_SECONDS = 0.5


class BackupManager(Manager):
    kind = 'backup'
    result_key = 'backup'
    reports_restart = False
    connector = staticmethod(connect_jobs)

    def validate(self):
        self.spec = backup_spec(self.params)
        self.domain = self.spec['domain']
        self.job = None

    @property
    def resource(self):
        return 'backup %r of domain %r' % (self.name, self.domain)

    def plan(self):
        spec = self.spec
        plan = Plan(self.kind, '%s/%s' % (self.domain, self.name))
        try:
            self.status = self.driver.domain_status(self.domain)
        except NotFound:
            if spec['state'] == 'absent':
                self.status = None
            else:
                raise NotFound('domain %r does not exist' % self.domain, resource=self.resource, action='back up')
        self.location = Location(self.driver, spec['target'], self.resource)
        self.checkpoints = read_checkpoints(self.driver, self.domain) if self.status else {}
        self.files = self._existing_files()
        if spec['state'] == 'absent':
            self._plan_delete(plan)
        elif not self.files and self.name not in self.checkpoints:
            self._plan_backup(plan)
        elif self.name in self.checkpoints and not self.files and spec['checkpoint']:
            raise Conflict('its checkpoint exists but none of its files is in %s: a backup is made once; give '
                           'the new one another name (or remove this one with state: absent)'
                           % self.location.directory, resource=self.resource, action='back up')
        return plan

    def _existing_files(self):
        """{disk: volume facts} of this backup's files in the target."""
        found = {}
        prefix, suffix = '%s-%s-' % (self.domain, self.name), '.qcow2'
        names = []
        if self.location.pool_name:
            names = [vol['name'] for vol in self.driver.list_volumes(self.location.pool_name)]
        elif os.path.isdir(self.location.directory):
            names = os.listdir(self.location.directory)
        for name in names:
            if name.startswith(prefix) and name.endswith(suffix):
                volume = self.location.volume(name)
                if volume is not None:
                    found[name[len(prefix):-len(suffix)]] = volume
        return found

    # -- a new backup -------------------------------------------------------------------
    def _plan_backup(self, plan):
        spec = self.spec
        state = self.status['state']
        if state not in ACTIVE_STATES and state != 'shutoff':
            raise Conflict('the domain is %s; libvirt backs up running domains (a shut-off one is started paused '
                           'for it)' % state, resource=self.resource, action='back up')
        active = state in ACTIVE_STATES
        xml = self.driver.domain_xml(self.domain, inactive=not active)
        self._check_supported(xml)
        disks = self._disks(xml)
        since = self._since(disks) if spec['mode'] == 'incremental' else None
        request, checkpoint = [], None
        for disk in disks:
            if not disk['backup']:
                request.append({'name': disk['name'], 'backup': False})
                continue
            request.append({'name': disk['name'], 'backup': True,
                            'file': self.location.path(backup_file(self.domain, self.name, disk['name'])),
                            'format': 'qcow2'})
        if spec['checkpoint']:
            checkpoint = build_checkpoint_xml({'name': self.name, 'description': spec['description'],
                                               'disks': [{'name': d['name'],
                                                          'checkpoint': 'bitmap' if d['backup'] else 'no'}
                                                         for d in disks]})
        backup_xml = build_backup_xml({'incremental': since, 'disks': request})
        files = [d['file'] for d in request if d['backup']]
        plan.before = {}
        plan.after = {'name': self.name, 'mode': spec['mode'], 'since': since, 'files': files,
                      'checkpoint': self.name if checkpoint else None}
        if not active:
            plan.add('start paused for the backup (its CPUs do not run)', self._start_paused)
        what = '%s backup of %s%s to %s' % (spec['mode'], ', '.join(d['name'] for d in disks if d['backup']),
                                            ' since %s' % since if since else '', self.location.directory)
        plan.add(what, lambda: self._back_up(disks, since, backup_xml, checkpoint, started=not active))
        if not active:
            plan.add('power off again', lambda: self.driver.destroy_domain(self.domain))

    def _check_supported(self, xml):
        domain = domain_platform(xml)
        caps = self.driver.domain_capabilities(virt_type=domain['virt_type'], arch=domain['arch'],
                                               machine=domain['machine'])
        if backup_supported(caps) is False:
            raise Conflict("the host's domain capabilities say <backup supported='no'/> for %s guests (QEMU without "
                           'the block jobs libvirt needs)' % domain['virt_type'], resource=self.resource,
                           action='back up')

    def _disks(self, xml):
        """[{name, backup, capacity}] for every disk: writable ones (or those
        in ``disks``) are backed up; checkpoints need them to be qcow2."""
        spec = self.spec
        found = snapshot_disks(xml)
        names = set(d['name'] for d in found)
        for name in spec['disks'] or []:
            if name not in names:
                raise InvalidSpec('disks', 'domain %r has no disk %s (it has %s)'
                                  % (self.domain, name, ', '.join(sorted(names))))
        result = []
        for disk in found:
            writable = not (disk['readonly'] or disk['shareable'] or not (disk['path'] or disk['volume']))
            wanted = writable if spec['disks'] is None else disk['name'] in spec['disks']
            if wanted and spec['checkpoint']:
                self._check_bitmaps(disk)
            result.append({'name': disk['name'], 'backup': wanted})
        if not any(d['backup'] for d in result):
            raise Conflict('the domain has no writable disk to back up', resource=self.resource, action='back up')
        return result

    def _check_bitmaps(self, disk):
        """A checkpoint is a dirty bitmap in each disk: qcow2 v3 only."""
        if disk['format'] != 'qcow2':
            raise Conflict('checkpoints (what incremental backups start from) are dirty bitmaps in qcow2 images, '
                           'and disk %s is %s: leave it out (disks) or make no checkpoint (checkpoint: false)'
                           % (disk['name'], disk['format'] or 'of unknown format'),
                           resource=self.resource, action='back up')
        volume = self._volume_of(disk)
        if volume is not None and volume['format'] == 'qcow2' and volume.get('compat') in (None, '0.10'):
            raise Conflict('checkpoints are dirty bitmaps, which qcow2 v2 images cannot store ("Cannot store dirty '
                           'bitmaps in qcow2 v2 files"), and disk %s (%s) is qcow2 v2 (compat 0.10, what libvirt '
                           'makes unless told): upgrade it with the guest shut off (qemu-img amend -f qcow2 -o '
                           'compat=1.1 %s), or make no checkpoint (checkpoint: false)'
                           % (disk['name'], volume['path'], volume['path']), resource=self.resource, action='back up')

    def _volume_of(self, disk):
        """A disk's volume facts when a pool holds it, else None."""
        try:
            if disk['volume']:
                return parse_volume_xml(self.driver.volume_xml(disk['pool'], disk['volume']))
            if disk['type'] == 'file' and disk['path']:
                found = self.driver.volume_by_path(disk['path'])
                return parse_volume_xml(self.driver.volume_xml(found['pool'], found['name']))
        except NotFound:
            pass
        return None

    def _since(self, disks):
        """The checkpoint an incremental backup starts from: ``since`` or the
        newest one; its files must be in the target (the new files lie on them)."""
        spec = self.spec
        if spec['since']:
            if spec['since'] not in self.checkpoints:
                raise NotFound('since: domain %r has no checkpoint %r (it has: %s)'
                               % (self.domain, spec['since'], ', '.join(sorted(self.checkpoints)) or 'none'),
                               resource=self.resource, action='back up')
            since = spec['since']
        elif self.checkpoints:
            since = sorted(self.checkpoints.values(), key=by_age)[-1]['name']
        else:
            raise Conflict('an incremental backup starts from a checkpoint, and domain %r has none: make a full '
                           'backup first' % self.domain, resource=self.resource, action='back up')
        marked = dict((d['name'], d['checkpoint']) for d in self.checkpoints[since]['disks'])
        for disk in disks:
            if not disk['backup']:
                continue
            if marked.get(disk['name'], 'no') == 'no':
                raise Conflict('checkpoint %r has no bitmap of disk %s, so what changed there since is not known: '
                               'make a full backup' % (since, disk['name']), resource=self.resource, action='back up')
            previous = backup_file(self.domain, since, disk['name'])
            if self.location.volume(previous) is None:
                raise Conflict('the files of backup %r are not in %s (%s is missing); an incremental backup is '
                               'made beside the backup it follows' % (since, self.location.directory, previous),
                               resource=self.resource, action='back up')
        return since

    # -- doing it -------------------------------------------------------------------------
    def _start_paused(self):
        self.driver.start_domain_paused(self.domain)

    def _back_up(self, disks, since, backup_xml, checkpoint_xml, started):
        made = []
        with self.location.pool() as pool:
            try:
                for disk in disks:
                    if disk['backup']:
                        made.append(self._make_file(pool, disk, since))
                self.driver.begin_backup(self.domain, backup_xml, checkpoint_xml=checkpoint_xml, reuse_external=True)
                self.job = self._wait()
                self.driver.refresh_pool(pool)
            except BaseException:
                self._undo(pool, made, started)
                raise

    def _make_file(self, pool, disk, since):
        """A full backup's file: an empty qcow2 as large as the disk; an
        incremental one's: an overlay on the file of the backup it follows."""
        name = backup_file(self.domain, self.name, disk['name'])
        capacity = self.driver.block_info(self.domain, disk['name'])['capacity']
        spec = {'name': name, 'capacity': capacity, 'format': 'qcow2', 'allocation': 0}
        if since:
            spec['backing'] = {'path': self.location.path(backup_file(self.domain, since, disk['name'])),
                               'format': 'qcow2'}
        self.driver.create_volume(pool, build_volume_xml(spec))
        return name

    def _wait(self):
        """Wait for the backup job to end; its completed statistics."""
        deadline = time.time() + self.spec['timeout']
        while True:
            running = self.driver.job_stats(self.domain)
            if running['type'] in ('none', 'completed', 'failed', 'cancelled'):
                break
            if time.time() > deadline:
                try:
                    self.driver.abort_job(self.domain)
                except DriverError:
                    pass
                raise Timeout('the backup job did not end within %d s (timeout); it was aborted' % self.spec['timeout'],
                              resource=self.resource, action='back up')
            time.sleep(POLL_SECONDS)
        done = self.driver.job_stats(self.domain, completed=True)
        if done['type'] != 'completed':
            raise DriverError('the backup job ended %s: %s' % (done['type'], done.get('errmsg') or 'no reason given'),
                              resource=self.resource, action='back up')
        return done

    def _undo(self, pool, made, started):
        """After a failure: no checkpoint, no files, and a guest started for
        the backup powered off again."""
        try:
            if self.name in [cp['name'] for cp in self.driver.list_checkpoints(self.domain)]:
                self.driver.delete_checkpoint(self.domain, self.name)
        except (NotFound, DriverError):
            pass
        for name in reversed(made):
            try:
                self.driver.delete_volume(pool, name)
            except (NotFound, DriverError):
                pass
        if started:
            try:
                self.driver.destroy_domain(self.domain)
            except (NotFound, DriverError):
                pass

    # -- deleting -------------------------------------------------------------------------
    def _plan_delete(self, plan):
        cp = self.checkpoints.get(self.name)
        later = [child for child in (cp['children'] if cp else [])
                 if any(self.location.volume(backup_file(self.domain, child, disk)) for disk in self.files)]
        if later:
            raise Conflict('the files of backup %s lie on these (incremental backups): delete %s first'
                           % (', '.join(later), 'them' if len(later) > 1 else 'it'),
                           resource=self.resource, action='delete')
        if not cp and not self.files:
            return
        plan.before = {'checkpoint': self.name if cp else None,
                       'files': sorted(self.location.path(backup_file(self.domain, self.name, d)) for d in self.files)}
        plan.after = {}
        if cp:
            # libvirt 9.0: "cannot delete checkpoint for inactive domain" (the
            # bitmaps are merged by QEMU): a shut-off guest is started paused.
            inactive = self.status['state'] not in ACTIVE_STATES
            if inactive:
                plan.add('start paused to delete the checkpoint (its CPUs do not run)', self._start_paused)
            plan.add('delete checkpoint %s' % self.name, lambda: self._delete_checkpoint(inactive))
            if inactive:
                plan.add('power off again', lambda: self.driver.destroy_domain(self.domain))
        if self.files:
            names = sorted(backup_file(self.domain, self.name, disk) for disk in self.files)
            plan.add('delete %s from %s' % (', '.join(names), self.location.directory), lambda: self._delete(names))

    def _delete_checkpoint(self, started):
        try:
            self.driver.delete_checkpoint(self.domain, self.name)
        except BaseException:
            if started:
                self.driver.destroy_domain(self.domain)
            raise

    def _delete(self, names):
        with self.location.pool() as pool:
            self.driver.refresh_pool(pool)
            for name in names:
                self.driver.delete_volume(pool, name)

    # -- result -----------------------------------------------------------------------------
    def facts(self, plan):
        try:
            checkpoints = read_checkpoints(self.driver, self.domain)
        except NotFound:
            checkpoints = {}
        files = self._existing_files()
        cp = checkpoints.get(self.name)
        result = {'domain': self.domain, 'name': self.name, 'exists': bool(files),
                  'checkpoint': checkpoint_facts(cp) if cp else None, 'target': self.location.directory,
                  'files': [], 'size': 0, 'job': None}
        for disk in sorted(files):
            volume = files[disk]
            result['files'].append({'disk': disk, 'path': self.location.path(volume['name']),
                                    'pool': self.location.pool_name, 'volume': volume['name'],
                                    'capacity': volume.get('capacity'), 'allocation': volume.get('allocation'),
                                    'backing': (volume.get('backing') or {}).get('path')})
            result['size'] += volume.get('allocation') or 0
        result['mode'] = 'incremental' if any(f['backing'] for f in result['files']) else \
            ('full' if result['files'] else None)
        if self.job:
            result['job'] = {'data_total': self.job.get('data_total'), 'data_processed': self.job.get('data_processed'),
                             'time_elapsed_ms': self.job.get('time_elapsed')}
        result['size_human'] = format_bytes(result['size'])
        return result
