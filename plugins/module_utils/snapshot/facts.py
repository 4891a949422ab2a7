# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a domain's snapshots look like to a playbook (the ``snapshot`` result
and ``snapshot_info``): each snapshot with its place in the tree. A file of
its own, so that ``snapshot_info`` ships none of the planning code, nor the
job driver (AnsiballZ sends every file a module's imports reach)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtkit.virt.plugins.module_utils.engine.runner import Manager
from ansible_collections.virtkit.virt.plugins.module_utils.engine import validation as v
from ansible_collections.virtkit.virt.plugins.module_utils.errors import NotFound
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.snapshot import parse_snapshot_xml


def read_snapshots(driver, domain):
    """``{name: snapshot}`` (see xmlmodel.snapshot) with ``current`` and
    ``children`` (names, oldest first)."""
    snapshots = {}
    for record in driver.list_snapshots(domain):
        parsed = parse_snapshot_xml(record['xml'])
        parsed['current'] = record['current']
        parsed['children'] = []
        parsed['xml'] = record['xml']
        snapshots[parsed['name']] = parsed
    for snap in sorted(snapshots.values(), key=_age):
        if snap['parent'] in snapshots:
            snapshots[snap['parent']]['children'].append(snap['name'])
    return snapshots


def _age(snap):
    return (snap.get('creation_time') or 0, snap['name'])


def snapshot_facts(domain, snap):
    """A snapshot as the modules return it."""
    return {
        'domain': domain, 'name': snap['name'], 'exists': True, 'description': snap['description'],
        'parent': snap['parent'], 'children': list(snap['children']), 'state': snap['state'],
        'creation_time': snap['creation_time'], 'current': snap['current'],
        'location': 'external' if snap['external'] else 'internal',
        # None where the snapshot's XML does not say (libvirt's esx driver records no <memory>).
        'memory': None if snap['memory']['snapshot'] is None else snap['memory']['snapshot'] != 'no',
        'memory_file': snap['memory']['file'],
        'disks': [dict((k, disk[k]) for k in ('name', 'snapshot', 'source', 'overlay')) for disk in snap['disks']],
    }


class SnapshotInfoManager(Manager):
    """Every snapshot of a domain (or one by ``name``), oldest first; an
    unknown domain or snapshot gives an empty list."""

    kind = 'snapshot'
    result_key = 'snapshots'
    readonly = True
    reports_restart = False

    def validate(self):
        v.plain_name(self.params['domain'], 'domain')
        if self.params.get('name') is not None:
            v.plain_name(self.params['name'], 'name')

    def facts(self, plan):
        domain = self.params['domain']
        try:
            snapshots = read_snapshots(self.driver, domain)
        except NotFound:
            return []
        return [snapshot_facts(domain, snap) for snap in sorted(snapshots.values(), key=_age)
                if self.name is None or snap['name'] == self.name]
