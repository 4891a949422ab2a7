# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The libvirt implementation of JobDriver (jobs.py): migrations, snapshots,
checkpoints and backups, on LibvirtDriver's connection, error mapping and
retries (and its ``libvirt`` module: libvirt_driver.py stays the one file
that imports it)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtkit.virt.plugins.module_utils.driver.jobs import JobDriver
from ansible_collections.virtkit.virt.plugins.module_utils.driver.libvirt_driver import _NOT_FOUND, LibvirtDriver, libvirt
from ansible_collections.virtkit.virt.plugins.module_utils.errors import DriverError, NotFound


class LibvirtJobDriver(LibvirtDriver, JobDriver):

    # -- migration -----------------------------------------------------------
    def migrate_domain(self, name, dest_uri, destination=None, live=True, offline=False, persistent=True,
                       undefine_source=True, copy_storage='none', disks=None, peer_to_peer=False, tunnelled=False,
                       bandwidth=None, auto_converge=False, postcopy=False, migrate_uri=None, unsafe=False):
        flags = 0
        for wanted, flag in ((live and not offline, libvirt.VIR_MIGRATE_LIVE),
                             (offline, libvirt.VIR_MIGRATE_OFFLINE),
                             (persistent or offline, libvirt.VIR_MIGRATE_PERSIST_DEST),
                             (undefine_source, libvirt.VIR_MIGRATE_UNDEFINE_SOURCE),
                             (copy_storage == 'all', libvirt.VIR_MIGRATE_NON_SHARED_DISK),
                             (copy_storage == 'incremental', libvirt.VIR_MIGRATE_NON_SHARED_INC),
                             (peer_to_peer or tunnelled, libvirt.VIR_MIGRATE_PEER2PEER),
                             (tunnelled, libvirt.VIR_MIGRATE_TUNNELLED),
                             (auto_converge, libvirt.VIR_MIGRATE_AUTO_CONVERGE),
                             (postcopy, libvirt.VIR_MIGRATE_POSTCOPY),
                             (unsafe, libvirt.VIR_MIGRATE_UNSAFE)):
            if wanted:
                flags |= flag
        params = {}
        if migrate_uri:
            params[libvirt.VIR_MIGRATE_PARAM_URI] = migrate_uri
        if bandwidth:
            params[libvirt.VIR_MIGRATE_PARAM_BANDWIDTH] = int(bandwidth)
        if disks is not None and copy_storage != 'none':
            params[libvirt.VIR_MIGRATE_PARAM_MIGRATE_DISKS] = list(disks)

        # The move gets a connection of its own. Its call blocks until the guest has moved, and
        # libvirt's client can leave a call another thread makes on that same connection unsent
        # until the blocking call returns (seen here: the watcher's abort went out only after
        # the move had finished). The job's reads, abort and post-copy switch use the driver's
        # connection, on which no call waits that long.
        # No reconnect and retry (_run): a migration that may have happened is never started again.
        conn = self._open()
        try:
            dom = conn.lookupByName(name)
            if flags & libvirt.VIR_MIGRATE_PEER2PEER:
                dom.migrateToURI3(dest_uri, params, flags)
            else:
                dom.migrate3(destination._connection(), params, flags)
        except libvirt.libvirtError as exc:
            error = self._translate(exc, 'migrate', 'domain %r' % name)
            if isinstance(error, NotFound):  # what is missing is libvirt's to say (a network, a pool, ...)
                error = DriverError(exc.get_error_message() or str(exc), resource=error.resource, action='migrate')
                error.code, error.unsupported = exc.get_error_code(), False
            raise error
        finally:
            try:
                conn.close()
            except libvirt.libvirtError:
                pass

    def migration_stats(self, name, completed=False):
        flags = libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED if completed else 0

        def stats(conn):
            raw = dict(self._domain(conn, name).jobStats(flags) or {})
            kind = raw.pop('type', 0)
            raw['type'] = _JOB_TYPES[kind] if 0 <= kind < len(_JOB_TYPES) else 'none'
            raw['operation'] = _JOB_OPERATIONS.get(raw.get('operation'))
            return raw
        return self._run('read the migration job of', 'domain %r' % name, stats)

    def set_migration_max_downtime(self, name, milliseconds):
        self._call('domain', 'set the maximum migration downtime of', name, 'migrateSetMaxDowntime', milliseconds, 0)

    def start_postcopy(self, name):
        self._call('domain', 'switch to post-copy the migration of', name, 'migrateStartPostCopy', 0)

    def compare_cpu(self, xml, virt_type=None, arch=None, machine=None, emulator=None):
        def compare(conn):
            try:
                result = conn.compareHypervisorCPU(emulator, arch, machine, virt_type, xml,
                                                   libvirt.VIR_CONNECT_COMPARE_CPU_FAIL_INCOMPATIBLE)
            except libvirt.libvirtError as exc:
                if exc.get_error_code() != libvirt.VIR_ERR_CPU_INCOMPATIBLE:
                    raise
                return {'result': 'incompatible', 'reason': exc.get_error_message()}
            return {'result': {libvirt.VIR_CPU_COMPARE_IDENTICAL: 'identical',
                               libvirt.VIR_CPU_COMPARE_SUPERSET: 'superset'}.get(result, 'incompatible'),
                    'reason': None}
        return self._run('compare a CPU with', 'host at %r' % self.uri, compare)

    # -- snapshots ---------------------------------------------------------
    def create_snapshot(self, domain, xml, disk_only=False, quiesce=False, atomic=True, redefine=False,
                        current=False, name=None):
        flags = 0
        for wanted, flag in ((disk_only, 'VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY'),
                             (quiesce, 'VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE'),
                             (redefine, 'VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE'),
                             (redefine and current, 'VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT')):
            if wanted:
                flags |= getattr(libvirt, flag)
        atomic_flag = libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC if atomic and not redefine else 0

        def create(conn):
            dom = self._domain(conn, domain)
            if not atomic_flag:
                return dom.snapshotCreateXML(xml, flags).getName()
            # esx refuses ATOMIC ("unsupported flags (0x80)"): ESX takes a
            # snapshot of every disk in one task that fails as a whole, so
            # the flag asks for nothing it does not do anyway.
            return self._either('snapshot_atomic', lambda: dom.snapshotCreateXML(xml, flags | atomic_flag).getName(),
                                lambda: dom.snapshotCreateXML(xml, flags).getName(), refused_flags=True)

        def unless_taken(conn):
            # A snapshot of this name now is the first try's: the task makes
            # none of a name the domain has, and holds the domain's lock.
            try:
                return self._domain(conn, domain).snapshotLookupByName(name, 0).getName()
            except libvirt.libvirtError as exc:
                if exc.get_error_code() not in _NOT_FOUND:
                    raise
            return create(conn)
        # A redefinition only writes metadata: made again, it is the same.
        redo = None if redefine else unless_taken if name else False
        return self._run('take a snapshot of', 'domain %r' % domain, create, redo=redo)

    def revert_snapshot(self, domain, name, start=None, force=False):
        flags = {None: 0, 'running': libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING,
                 'paused': libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED}[start]
        if force:
            flags |= libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_FORCE

        def then(dom):
            # What REVERT_RUNNING and REVERT_PAUSED do after the revert, for a
            # driver without them: start or resume, pause. FORCE has no
            # counterpart: esx makes no compatibility check to override.
            state = dom.state()[0]
            if start is None:
                return
            if state == libvirt.VIR_DOMAIN_SHUTOFF:
                dom.create()
                state = libvirt.VIR_DOMAIN_RUNNING
            if start == 'running' and state == libvirt.VIR_DOMAIN_PAUSED:
                dom.resume()
            elif start == 'paused' and state != libvirt.VIR_DOMAIN_PAUSED:
                dom.suspend()

        def revert(conn):
            dom = self._domain(conn, domain)
            snap = dom.snapshotLookupByName(name, 0)
            if not flags:
                dom.revertToSnapshot(snap, 0)
                return

            def without_flags():
                dom.revertToSnapshot(snap, 0)
                then(dom)
            self._either('snapshot_revert_flags', lambda: dom.revertToSnapshot(snap, flags), without_flags,
                         refused_flags=True)
        self._run('revert to snapshot %r' % name, 'domain %r' % domain, revert)

    def delete_snapshot(self, domain, name, children=False, metadata_only=False):
        flags = 0
        if children:
            flags |= libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN
        if metadata_only:
            flags |= libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY
        self._run('delete snapshot %r of' % name, 'domain %r' % domain,
                  lambda conn: self._domain(conn, domain).snapshotLookupByName(name, 0).delete(flags))

    # -- checkpoints and backups -------------------------------------------
    def domain_capabilities(self, virt_type=None, arch=None, machine=None, emulator=None):
        return self._run('read the domain capabilities of', 'host at %r' % self.uri,
                         lambda conn: conn.getDomainCapabilities(emulator, arch, machine, virt_type, 0))

    def block_info(self, domain, target):
        def info(conn):
            capacity, allocation, physical = self._domain(conn, domain).blockInfo(target, 0)
            return {'capacity': capacity, 'allocation': allocation, 'physical': physical}
        return self._run('read the size of disk %s of' % target, 'domain %r' % domain, info)

    def start_domain_paused(self, name):
        self._call('domain', 'start (paused)', name, 'createWithFlags', libvirt.VIR_DOMAIN_START_PAUSED)

    def list_checkpoints(self, domain):
        def listing(conn):
            return [{'name': cp.getName(), 'xml': cp.getXMLDesc(libvirt.VIR_DOMAIN_CHECKPOINT_XML_NO_DOMAIN)}
                    for cp in self._domain(conn, domain).listAllCheckpoints(0)]
        return self._run('list the checkpoints of', 'domain %r' % domain, listing)

    def delete_checkpoint(self, domain, name, metadata_only=False):
        flags = libvirt.VIR_DOMAIN_CHECKPOINT_DELETE_METADATA_ONLY if metadata_only else 0
        self._run('delete checkpoint %r of' % name, 'domain %r' % domain,
                  lambda conn: self._domain(conn, domain).checkpointLookupByName(name, 0).delete(flags))

    def begin_backup(self, domain, xml, checkpoint_xml=None, reuse_external=False):
        flags = libvirt.VIR_DOMAIN_BACKUP_BEGIN_REUSE_EXTERNAL if reuse_external else 0
        self._run('start a backup of', 'domain %r' % domain,
                  lambda conn: self._domain(conn, domain).backupBegin(xml, checkpoint_xml, flags))

    def job_stats(self, domain, completed=False):
        flags = (libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED | libvirt.VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED) \
            if completed else 0

        def stats(conn):
            raw = self._domain(conn, domain).jobStats(flags) or {}
            kind = raw.get('type', 0)
            return {'type': _JOB_TYPES[kind] if kind < len(_JOB_TYPES) else 'none',
                    'operation': _JOB_OPERATIONS.get(raw.get('operation')),
                    # a backup job counts disk_*, a migration data_*
                    'data_total': raw.get('data_total', raw.get('disk_total')),
                    'data_processed': raw.get('data_processed', raw.get('disk_processed')),
                    'time_elapsed': raw.get('time_elapsed'), 'errmsg': raw.get('errmsg')}
        return self._run('read the job of', 'domain %r' % domain, stats)

    def abort_job(self, domain):
        self._call('domain', 'abort the job of', domain, 'abortJob')


# virDomainJobType and virDomainJobOperation by name.
_JOB_TYPES = ('none', 'bounded', 'unbounded', 'completed', 'failed', 'cancelled')
_JOB_OPERATIONS = {0: None, 1: 'start', 2: 'save', 3: 'restore', 4: 'incoming migration', 5: 'outgoing migration',
                   6: 'snapshot', 7: 'snapshot revert', 8: 'dump', 9: 'backup', 10: 'snapshot delete'}
