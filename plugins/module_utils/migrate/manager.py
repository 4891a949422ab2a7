# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plans for moving a domain to another host (the ``migrate`` module).

Declarative: the wanted state is "the domain is on the destination, not on
the source". Both hosts are read; a domain already there and not here
changes nothing, one on both is a conflict (unless it is the definition a
move with ``undefine_source: false`` left behind), one on neither is not
found. A move is planned only when every check passed - hosts, platform,
CPU, networks, storage, snapshots (checks.py, storage.py, snapshots.py) -
and all that failed is said at once, before anything moves. The plan's
actions prepare the destination's volumes, move snapshot metadata, then
migrate (migrate/job.py watches libvirt's call, aborts it when ``timeout``
runs out); what a failed migration leaves is taken back. Check mode and the
diff come from the same plan.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtkit.virt.plugins.module_utils.domain.facts import domain_facts
from ansible_collections.virtkit.virt.plugins.module_utils.driver.interface import ACTIVE_STATES
from ansible_collections.virtkit.virt.plugins.module_utils.driver.jobs import connect_jobs
from ansible_collections.virtkit.virt.plugins.module_utils.engine.plan import Kept, Plan
from ansible_collections.virtkit.virt.plugins.module_utils.engine.runner import Manager
from ansible_collections.virtkit.virt.plugins.module_utils.engine.sizes import format_bytes
from ansible_collections.virtkit.virt.plugins.module_utils.errors import (
    Conflict, ConnectionFailed, InvalidSpec, NotFound, Timeout, VirtError)
from ansible_collections.virtkit.virt.plugins.module_utils.migrate import snapshots as snapshot_metadata
from ansible_collections.virtkit.virt.plugins.module_utils.migrate.checks import (
    check_cpu, check_hosts, check_networks, check_platform)
from ansible_collections.virtkit.virt.plugins.module_utils.migrate.job import ABORT_GRACE, MigrationJob
from ansible_collections.virtkit.virt.plugins.module_utils.migrate.spec import migration_spec
from ansible_collections.virtkit.virt.plugins.module_utils.migrate.storage import (
    plan_storage, stream_volume, volume_creator)
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.migration import migration_view

# libvirt's job statistics in the result, under names that carry their unit.
PROGRESS_KEYS = (('time_elapsed', 'time_elapsed_ms'), ('downtime', 'downtime_ms'), ('setup_time', 'setup_time_ms'),
                 ('data_total', 'data_total'), ('data_processed', 'data_processed'),
                 ('data_remaining', 'data_remaining'), ('memory_total', 'memory_total'),
                 ('memory_processed', 'memory_processed'), ('memory_remaining', 'memory_remaining'),
                 ('memory_iteration', 'memory_iterations'), ('memory_dirty_rate', 'memory_dirty_rate'),
                 ('disk_total', 'disk_total'), ('disk_processed', 'disk_processed'),
                 ('disk_remaining', 'disk_remaining'))


def progress_of(stats):
    return dict((ours, stats[theirs]) for theirs, ours in PROGRESS_KEYS if stats.get(theirs) is not None)


def _mib(size):
    return '%.1f MiB' % ((size or 0) / 1048576.0)


def _state_of(status):
    return '%s (uuid %s)' % (status['state'], status['uuid'])


class MigrateManager(Manager):
    kind = 'domain'
    result_key = 'migration'
    reports_restart = False
    connector = staticmethod(connect_jobs)

    @property
    def resource(self):
        return 'domain %r' % self.name

    def validate(self):
        self.spec = migration_spec(self.params)
        self.dest = None
        self.mode = None
        self.moved = False
        self.progress = {}
        self.snapshots = []
        self.storage = None
        self.streamed = 0

    # -- the two hosts --------------------------------------------------------------
    def _connect_dest(self):
        self.dest = connect_jobs({'uri': self.spec['dest_uri'], 'auth': self.spec['dest_auth']})

    def _status(self, driver, where):
        try:
            return driver.domain_status(self.name)
        except NotFound:
            return None
        except ConnectionFailed as exc:
            exc.message = '%s (the %s)' % (exc.message, where)
            raise

    def plan(self):
        self._connect_dest()
        plan = Plan(self.kind, self.name)
        src = self._status(self.driver, 'source, uri')
        dst = self._status(self.dest, 'destination, dest_uri')
        self.src_status, self.dst_status = src, dst
        if src is None and dst is None:
            raise NotFound('it exists on neither host: not on the source (%s), not on the destination (%s)'
                           % (self.spec['uri'], self.spec['dest_uri']), resource=self.resource, action='migrate')
        if src is None:
            return plan  # there already
        if dst is not None:
            self._plan_both(plan, src, dst)
            return plan
        self._plan_move(plan, src)
        return plan

    def _plan_both(self, plan, src, dst):
        """The domain on both hosts: the definition a move with
        ``undefine_source: false`` left (same UUID, shut off here), or a conflict."""
        if src['uuid'] == dst['uuid'] and src['state'] not in ACTIVE_STATES and src['persistent']:
            if self.spec['undefine_source']:
                plan.before = {'source': {'state': src['state']}, 'destination': {'state': dst['state']}}
                plan.after = {'destination': {'state': dst['state']}}
                plan.add('undefine on the source (it runs on the destination already)',
                         lambda: self.driver.undefine_domain(self.name))
            return
        raise Conflict('it exists on both hosts: on the source (%s) %s, on the destination (%s) %s; nothing was '
                       'moved - remove one of them first'
                       % (self.spec['uri'], _state_of(src), self.spec['dest_uri'], _state_of(dst)),
                       resource=self.resource, action='migrate')

    # -- a move ---------------------------------------------------------------------
    def _plan_move(self, plan, src):
        spec = self.spec
        active = src['state'] in ACTIVE_STATES
        offline = not active
        if offline and not spec['persistent']:
            raise InvalidSpec('persistent', "the domain is %s: only its definition can move, and a definition moves "
                                            "as a persistent one (persistent: true)" % src['state'])
        if offline and (spec['tunnelled'] or spec['postcopy']):
            raise InvalidSpec('tunnelled' if spec['tunnelled'] else 'postcopy',
                              'the domain is %s: nothing runs, so there is no data to tunnel or copy after the '
                              'switch' % src['state'])
        self.mode = 'offline' if offline else ('live' if spec['live'] else 'paused')
        view = migration_view(self.driver.domain_xml(self.name), field='the domain XML')
        source_caps = self.driver.host_capabilities()
        dest_caps = self.dest.host_capabilities()

        problems = check_hosts(source_caps, dest_caps)
        if not problems:
            problems += check_platform(view, dest_caps)
            problems += check_cpu(view, self.dest, source_caps)
            found, warnings = check_networks(view, self.dest, live=not offline)
            problems += found
            plan.warnings.extend(warnings)
            self.storage = plan_storage(self.driver, self.dest, view['disks'], spec['copy_storage'], offline,
                                        spec['unsafe'])
            problems += self.storage.problems
            plan.warnings.extend(self.storage.warnings)
            problems += self._check_snapshots()
        if problems:
            raise Conflict('it cannot move to %s: %s; nothing was moved' % (spec['dest_uri'], '; '.join(problems)),
                           resource=self.resource, action='migrate')

        plan.before = {'uri': spec['uri'], 'state': src['state']}
        plan.after = {'uri': spec['dest_uri'], 'state': self._final_state(src),
                      'persistent': bool(spec['persistent'] or offline)}
        for entry in self.storage.create:
            for action in volume_creator(self.dest, entry, self.check_mode):
                plan.add('destination: %s' % action.name, action.run,
                         undo=self._unless_arrived(action.undo))
        for entry in self.storage.reuse:
            plan.add('destination: volume %s/%s (unused there) is overwritten by the copy'
                     % (entry['pool'], entry['name']), lambda: None)
        for entry in self.storage.fill:
            plan.add('copy volume %s/%s to the destination (%s)'
                     % (entry['pool'], entry['name'], format_bytes(entry['length'])), self._filler(entry))
        if self.snapshots:
            plan.add('source: remove the metadata of %d snapshot(s) (%s) to move it'
                     % (len(self.snapshots), ', '.join(s['name'] for s in self.snapshots)),
                     lambda: snapshot_metadata.forget(self.driver, self.name, self.snapshots),
                     undo=self._unless_arrived(self._remember_snapshots))
        plan.add(self._migrate_action_name(), self._migrate)
        if self.snapshots:
            plan.add('destination: redefine the %d snapshot(s)' % len(self.snapshots),
                     lambda: snapshot_metadata.redefine(self.dest, self.name, self.snapshots))
        if self.storage.left and spec['undefine_source']:
            plan.warnings.append('domain %r: the source keeps its copies of the moved disks (%s): delete them with '
                                 'virtkit.virt.volume (state: absent) once the guest runs well on the destination'
                                 % (self.name, ', '.join(self.storage.left)))

    def _final_state(self, src):
        if self.mode == 'offline':
            return src['state'] if src['state'] != 'crashed' else 'shutoff'
        return src['state']

    def _check_snapshots(self):
        found = snapshot_metadata.read_snapshots(self.driver, self.name)
        if not found:
            return []
        names = ', '.join(s['name'] for s in found)
        if self.spec['snapshot_metadata'] != 'move':
            return ['it has %d snapshot(s) (%s), whose metadata libvirt would leave behind, so it refuses to migrate '
                    'it: set snapshot_metadata: move to redefine them on the destination and remove their metadata '
                    'on the source' % (len(found), names)]
        if self.spec['copy_storage'] != 'none':
            return ['it has %d snapshot(s) (%s): their data is in the disks, which a copy does not carry (it copies '
                    'what the guest sees now); move it over shared storage (copy_storage: none)'
                    % (len(found), names)]
        self.snapshots = found
        return []

    def _migrate_action_name(self):
        spec = self.spec
        how = {'live': 'live', 'paused': 'paused (live: false)', 'offline': 'offline (definition only)'}[self.mode]
        extras = []
        if spec['copy_storage'] != 'none' and self.storage.copied:
            extras.append('copying disks %s (%s)' % (', '.join(self.storage.copied), spec['copy_storage']))
        if spec['tunnelled']:
            extras.append('tunnelled')
        elif spec['peer_to_peer']:
            extras.append('peer to peer')
        if spec['postcopy']:
            extras.append('post-copy')
        return 'migrate %s to %s%s' % (how, spec['dest_uri'], ''.join(', ' + e for e in extras))

    # -- apply ----------------------------------------------------------------------------
    def _filler(self, entry):
        def fill():
            self.streamed += stream_volume(self.driver, self.dest, entry)
        return fill

    def _call(self):
        spec = self.spec
        offline = self.mode == 'offline'
        return lambda: self.driver.migrate_domain(
            self.name, spec['dest_uri'], destination=None if spec['peer_to_peer'] or spec['tunnelled'] else self.dest,
            live=self.mode == 'live', offline=offline, persistent=spec['persistent'] or offline,
            undefine_source=spec['undefine_source'],
            copy_storage='none' if offline or not self.storage.copied else spec['copy_storage'],
            disks=list(self.storage.copied) if self.storage.copied else None,
            peer_to_peer=spec['peer_to_peer'], tunnelled=spec['tunnelled'],
            bandwidth=spec['bandwidth'], auto_converge=spec['auto_converge'], postcopy=spec['postcopy'],
            migrate_uri=spec['migrate_uri'], unsafe=spec['unsafe'])

    def _migrate(self):
        spec = self.spec
        job = MigrationJob(self.driver, self.name, self._call(), timeout=spec['timeout'],
                           max_downtime=spec['max_downtime'], postcopy=spec['postcopy'])
        outcome = job.run()
        self.progress = progress_of(outcome.progress)
        self.progress['wall_seconds'] = round(outcome.elapsed, 1)
        if self.streamed:
            self.progress['streamed'] = self.streamed
        if outcome.postcopy:
            self.progress['postcopy'] = True
        self.warnings.extend('domain %r: %s' % (self.name, note) for note in outcome.notes)
        if outcome.error is None and not outcome.still_running:
            self.moved = True
            if outcome.aborted:
                self.warnings.append('domain %r: timeout (%s s) ran out, but the migration finished all the same '
                                     '(%s)' % (self.name, spec['timeout'], outcome.abort_history()))
            try:
                final = self.dest.migration_stats(self.name, completed=True)
                if final.get('type') == 'completed':
                    for key, value in progress_of(final).items():
                        # The destination does not count the disks the source copied before the memory.
                        if not (key.startswith('disk_') and not value and self.progress.get(key)):
                            self.progress[key] = value
            except VirtError:
                pass  # the numbers are a courtesy; the move is done
            return
        raise self._failure(outcome)  # the plan takes back what the earlier steps made

    def _failure(self, outcome):
        where = self._where_now()
        if outcome.aborted:
            done = self.progress.get('memory_processed')
            total = self.progress.get('memory_total')
            at = (' (%s of %s of memory sent)' % (_mib(done), _mib(total))) if total else ''
            if outcome.still_running:
                message = ('it did not finish within timeout (%s s)%s, and libvirt has not ended the job %s s after '
                           'it was asked to abort it (%s); %s' % (self.spec['timeout'], at, ABORT_GRACE,
                                                                  outcome.abort_history(), where))
            else:
                message = ('it did not finish within timeout (%s s)%s: the migration was aborted%s; %s'
                           % (self.spec['timeout'], at, self._abort_refusal(outcome), where))
            return Timeout(message, resource=self.resource, action='migrate')
        error = outcome.error
        if isinstance(error, VirtError):
            error.message = '%s; %s%s' % (error.message, self._explain(error), where)
            error.resource, error.action = self.resource, 'migrate'
            return error
        return error

    @staticmethod
    def _abort_refusal(outcome):
        return ' (libvirt refused the abort: %s)' % outcome.abort_error.message if outcome.abort_error else ''

    def _explain(self, error):
        """What a user does about libvirt's refusals that the checks cannot foresee."""
        message = error.message
        if 'Migration without shared storage is unsafe' in message:
            return ('libvirt does not know the file system of a disk as a shared one (NFS, GFS2, OCFS2, CephFS, ...): '
                    'if both hosts really see the same files there, set unsafe: true; else copy_storage: all; ')
        if 'may lead to data corruption' in message:
            return 'use cache none or directsync on the disks, or set unsafe: true; '
        if self.spec['tunnelled'] and self.spec['copy_storage'] != 'none' and "key 'host'" in message:
            # libvirt 9.0: "argument key 'host' must not have null value" (its disk copy needs a host to connect to).
            return 'this libvirt cannot copy storage in a tunnelled migration: leave out tunnelled to copy it; '
        return ''

    def _where_now(self):
        src = self._status(self.driver, 'source')
        try:
            dst = self._status(self.dest, 'destination')
        except VirtError:
            dst = None
        if src is not None and dst is None:
            return 'the domain is still on the source (%s), %s' % (self.spec['uri'], src['state'])
        if src is None and dst is not None:
            return 'the domain is on the destination (%s), %s' % (self.spec['dest_uri'], dst['state'])
        return 'the domain is on the source (%s): %s, and on the destination (%s): %s' % (
            self.spec['uri'], src['state'] if src else 'not there', self.spec['dest_uri'],
            dst['state'] if dst else 'not there')

    def _unless_arrived(self, undo):
        """The undo of a step before the move, as the plan runs it when a
        later step fails: nothing is taken back once the domain is on the
        destination (a failure after the switch), since it uses what was made."""
        if undo is None:
            return None

        def guarded():
            if self._status(self.dest, 'destination') is not None:
                return Kept('kept: the domain is on the destination')
            return undo()
        return guarded

    def _remember_snapshots(self):
        """The snapshot metadata back on the source, for those it lost."""
        if self._status(self.driver, 'source') is None:
            return Kept('the domain is on neither host; their XML: %s' % ', '.join(s['name'] for s in self.snapshots))
        present = set(s['name'] for s in self.driver.list_snapshots(self.name))
        snapshot_metadata.redefine(self.driver, self.name, [s for s in self.snapshots if s['name'] not in present])
        return None

    # -- result -----------------------------------------------------------------------------
    def facts(self, plan):
        spec = self.spec
        on_dest = self._status(self.dest, 'destination') if self.dest is not None else None
        on_src = self._status(self.driver, 'source')
        if on_dest is not None and (on_src is None or on_src['state'] not in ACTIVE_STATES):
            driver, where, status = self.dest, 'destination', on_dest
        else:
            driver, where, status = self.driver, 'source', on_src
        result = {'name': self.name, 'source': spec['uri'], 'destination': spec['dest_uri'], 'host': where,
                  'uri': driver.uri, 'moved': self.moved, 'mode': self.mode, 'progress': self.progress,
                  'state': status['state'] if status else None}
        result['domain'] = domain_facts(driver, self.name, status=status, secure=True) if status else {
            'name': self.name, 'exists': False}
        if self.dest is not None:
            self.dest.close()
        return result
