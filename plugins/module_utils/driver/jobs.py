# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The driver interface of a domain's jobs and their records: migrations,
snapshots, checkpoints and backups (JobDriver), and opening a driver that
has them (connect_jobs).

Only the managers that run such jobs import this file - migrate, snapshot,
backup, and backup_info (which reads checkpoints) - so the other modules do
not ship these calls: a module's payload holds every file its imports reach.
Listing a domain's snapshots is not a job: it is in the plain driver
(interface.py), for clones and snapshot_info. The implementation is
libvirt_jobs.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import abc

from ansible_collections.virtkit.virt.plugins.module_utils.driver.connection import connect
from ansible_collections.virtkit.virt.plugins.module_utils.driver.interface import Driver


def connect_jobs(params, readonly=False, default_uri=None):
    """connect(), with a driver that also runs jobs (a JobDriver)."""
    # Imported here, as connect() imports its driver: a missing libvirt-python fails when used.
    from ansible_collections.virtkit.virt.plugins.module_utils.driver.libvirt_jobs import LibvirtJobDriver
    return connect(params, readonly=readonly, default_uri=default_uri, driver_class=LibvirtJobDriver)


class JobDriver(Driver):
    """Driver with a domain's jobs, addressed by the domain's name."""

    # -- migration -----------------------------------------------------------
    @abc.abstractmethod
    def migrate_domain(self, name, dest_uri, destination=None, live=True, offline=False, persistent=True,
                       undefine_source=True, copy_storage='none', disks=None, peer_to_peer=False, tunnelled=False,
                       bandwidth=None, auto_converge=False, postcopy=False, migrate_uri=None, unsafe=False):
        """Move a domain to the host of ``dest_uri``; returns once libvirt is
        done (it blocks for the whole migration: watch it from another
        thread). ``destination``: that host's Driver, whose connection a
        managed migration goes through; with ``peer_to_peer`` (or
        ``tunnelled``) the source daemon connects to ``dest_uri`` itself.
        ``offline``: only the definition moves (a shut-off domain);
        ``copy_storage``: 'none' (shared), 'all' or 'incremental', of the
        disks ``disks`` names (targets; None: every writable disk);
        ``bandwidth`` in MiB/s; ``migrate_uri``: where the data goes
        (tcp://HOST[:PORT]); ``unsafe``: also when libvirt calls it unsafe."""

    @abc.abstractmethod
    def migration_stats(self, name, completed=False):
        """The domain's migration job as libvirt counts it (``completed``: the
        last one that ended, which the destination keeps too): dict type
        (none, bounded, unbounded, completed, failed, cancelled), operation,
        and what libvirt reports of time_elapsed, downtime, setup_time (ms),
        data_*/memory_*/disk_* total, processed, remaining (bytes),
        memory_iteration, memory_dirty_rate, ..."""

    @abc.abstractmethod
    def set_migration_max_downtime(self, name, milliseconds):
        """The longest pause a running live migration may end with."""

    @abc.abstractmethod
    def start_postcopy(self, name):
        """Switch a running migration (started with postcopy) to post-copy."""

    @abc.abstractmethod
    def compare_cpu(self, xml, virt_type=None, arch=None, machine=None, emulator=None):
        """Whether this host's hypervisor can give a guest the CPU ``xml`` (a
        <cpu> element): dict result ('identical', 'superset' or
        'incompatible') and reason (libvirt's words, when incompatible)."""

    # -- snapshots -------------------------------------------------------------
    @abc.abstractmethod
    def create_snapshot(self, domain, xml, disk_only=False, quiesce=False, atomic=True, redefine=False,
                        current=False, name=None):
        """Take a snapshot from its XML (libvirt completes it); returns its
        name. ``disk_only``: no memory, external disks; ``quiesce``: frozen
        through the guest agent; ``atomic``: all disks or none. With
        ``redefine`` the XML is the whole of an existing snapshot's, whose
        metadata (its description) it replaces; ``current`` keeps it the
        current one. ``name``, the one in the XML, lets a take that lost its
        connection see whether it was made; without it, it is not repeated."""

    @abc.abstractmethod
    def revert_snapshot(self, domain, name, start=None, force=False):
        """Revert the domain to a snapshot. ``start``: None (the state the
        snapshot saved), 'running' or 'paused'; ``force``: also when libvirt
        says the revert is risky."""

    @abc.abstractmethod
    def delete_snapshot(self, domain, name, children=False, metadata_only=False):
        """Delete a snapshot (its descendants too with ``children``; only
        libvirt's record of it with ``metadata_only``)."""

    # -- checkpoints and backups -------------------------------------------
    @abc.abstractmethod
    def domain_capabilities(self, virt_type=None, arch=None, machine=None, emulator=None):
        """The domain capabilities XML (what guests of that kind can use here)."""

    @abc.abstractmethod
    def block_info(self, domain, target):
        """Sizes of a domain's disk (by target): dict capacity (what the guest
        sees), allocation, physical (bytes)."""

    @abc.abstractmethod
    def start_domain_paused(self, name):
        """Boot a defined domain with its CPUs stopped (nothing runs in the guest)."""

    @abc.abstractmethod
    def list_checkpoints(self, domain):
        """Every checkpoint of a domain: list of dicts name, xml."""

    @abc.abstractmethod
    def delete_checkpoint(self, domain, name, metadata_only=False):
        """Delete a checkpoint (its dirty bitmaps are merged into its parent's)."""

    @abc.abstractmethod
    def begin_backup(self, domain, xml, checkpoint_xml=None, reuse_external=False):
        """Start a backup job (virDomainBackupBegin) and return at once;
        ``checkpoint_xml``: a checkpoint made at the same instant;
        ``reuse_external``: the target files exist already."""

    @abc.abstractmethod
    def job_stats(self, domain, completed=False):
        """The domain's job: dict type (none, bounded, unbounded, completed,
        failed, cancelled), operation, data_total, data_processed (bytes of
        disk data for a backup), time_elapsed (ms), errmsg; ``completed``:
        the last finished job's."""

    @abc.abstractmethod
    def abort_job(self, domain):
        """Abort the domain's running job."""
