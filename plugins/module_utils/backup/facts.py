# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A domain's checkpoints and the backup files made at them, as a playbook
sees them (the ``backup`` result and ``backup_info``), and where a backup's
files are (``Location``). A file of its own, so that ``backup_info`` ships
none of the planning code (AnsiballZ sends every file a module's imports
reach)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import posixpath

from ansible_collections.virtkit.virt.plugins.module_utils.backup.spec import backup_file, backup_spec
from ansible_collections.virtkit.virt.plugins.module_utils.driver.connection import is_local_uri
from ansible_collections.virtkit.virt.plugins.module_utils.driver.jobs import connect_jobs
from ansible_collections.virtkit.virt.plugins.module_utils.engine.runner import Manager
from ansible_collections.virtkit.virt.plugins.module_utils.engine import validation as v
from ansible_collections.virtkit.virt.plugins.module_utils.errors import Conflict, NotFound, or_none
from ansible_collections.virtkit.virt.plugins.module_utils.storage.locations import FILE_POOLS, DirectoryPool, directory_pool
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.backup import parse_checkpoint_xml
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.storage import parse_pool_xml, parse_volume_xml


def read_checkpoints(driver, domain):
    """``{name: checkpoint}`` (see xmlmodel.backup) with ``children``."""
    checkpoints = {}
    for record in driver.list_checkpoints(domain):
        parsed = parse_checkpoint_xml(record['xml'])
        parsed['children'] = []
        checkpoints[parsed['name']] = parsed
    for cp in sorted(checkpoints.values(), key=by_age):
        if cp['parent'] in checkpoints:
            checkpoints[cp['parent']]['children'].append(cp['name'])
    return checkpoints


def by_age(cp):
    return (cp.get('creation_time') or 0, cp['name'])


def checkpoint_facts(cp):
    return {'name': cp['name'], 'parent': cp['parent'], 'children': list(cp['children']),
            'creation_time': cp['creation_time'], 'description': cp['description'],
            'disks': [dict(disk) for disk in cp['disks']]}


class Location:
    """Where a backup's files go: a file pool, or a directory on the host
    (through the pool that holds it, or a transient one made for the run)."""

    def __init__(self, driver, target, resource):
        self.driver = driver
        self.resource = resource
        if target['pool']:
            self.pool_name = target['pool']
            try:
                status = driver.pool_status(self.pool_name)
            except NotFound:
                raise NotFound('target.pool: there is no storage pool %r' % self.pool_name, resource=resource,
                               action='back up')
            if not status['active']:
                raise Conflict('target.pool: pool %r is inactive; start it first' % self.pool_name,
                               resource=resource, action='back up')
            pool = parse_pool_xml(driver.pool_xml(self.pool_name))
            if pool['type'] not in FILE_POOLS or not pool['path']:
                raise Conflict('target.pool: pool %r is a %s pool; backups are qcow2 files, in a dir, fs or netfs '
                               'pool' % (self.pool_name, pool['type']), resource=resource, action='back up')
            self.directory = pool['path']
        else:
            self.directory = target['dir']
            self.pool_name = directory_pool(driver, self.directory)
            if self.pool_name is None and not is_local_uri(driver.uri):
                # What is in it could not be seen between runs: no idempotence.
                raise Conflict('target.dir: no pool holds %s on the remote host; define a dir pool for it '
                               '(virtkit.virt.pool) and give target.pool' % self.directory, resource=resource,
                               action='back up')
            if self.pool_name is None and not os.path.isdir(self.directory):
                raise Conflict('target.dir: %s is not a directory' % self.directory, resource=resource,
                               action='back up')

    def path(self, filename):
        return posixpath.join(self.directory, filename)

    def volume(self, filename):
        """The file's volume facts, or None when it is not there."""
        if self.pool_name:
            xml = or_none(self.driver.volume_xml, self.pool_name, filename)
            return parse_volume_xml(xml) if xml is not None else None
        if os.path.exists(self.path(filename)):
            return {'name': filename, 'path': self.path(filename), 'capacity': None,
                    'allocation': os.stat(self.path(filename)).st_blocks * 512, 'backing': None}
        return None

    def pool(self):
        """``with location.pool() as name``: the pool to make files in."""
        if self.pool_name:
            return _Existing(self.pool_name)
        return DirectoryPool(self.driver, self.directory)


class _Existing:
    def __init__(self, name):
        self.name = name

    def __enter__(self):
        return self.name

    def __exit__(self, *_exc):
        return False


class BackupInfoManager(Manager):
    """The checkpoints of a domain, oldest first, and with ``target`` the
    backup files of each found there."""

    kind = 'backup'
    result_key = 'checkpoints'
    readonly = True
    reports_restart = False
    connector = staticmethod(connect_jobs)

    def validate(self):
        v.plain_name(self.params['domain'], 'domain')
        target = self.params.get('target') or {}
        self.target = None
        if target.get('pool') or target.get('dir'):
            self.target = backup_spec(dict(self.params, name='x', state='present', mode='full', since=None,
                                           disks=None, checkpoint=True, timeout=None, description=None))['target']

    def facts(self, plan):
        domain = self.params['domain']
        try:
            checkpoints = read_checkpoints(self.driver, domain)
        except NotFound:
            return []
        location = Location(self.driver, self.target, 'domain %r' % domain) if self.target else None
        result = []
        for cp in sorted(checkpoints.values(), key=by_age):
            facts = checkpoint_facts(cp)
            if location:
                facts['files'] = []
                for disk in cp['disks']:
                    if disk['checkpoint'] == 'no':
                        continue
                    volume = location.volume(backup_file(domain, cp['name'], disk['name']))
                    if volume:
                        facts['files'].append({'disk': disk['name'], 'path': location.path(volume['name']),
                                               'allocation': volume.get('allocation'),
                                               'backing': (volume.get('backing') or {}).get('path')})
            result.append(facts)
        return result
