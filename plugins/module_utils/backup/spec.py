# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module params of ``backup`` → the desired backup.

Pure functions, run before any connection exists; every error names its
field. The result::

    {domain, name, state: present|absent, mode: full|incremental, since,
     target: {pool} | {dir}, disks: [target, ...] or None, checkpoint, timeout, description}
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtkit.virt.plugins.module_utils.engine import validation as v
from ansible_collections.virtkit.virt.plugins.module_utils.errors import InvalidSpec

MODES = ('full', 'incremental')


def backup_spec(params):
    state = params.get('state') or 'present'
    if state not in ('present', 'absent'):
        raise InvalidSpec('state', '%r is not present or absent' % (state,))
    spec = {'domain': v.plain_name(params.get('domain'), 'domain'), 'name': v.plain_name(params.get('name'), 'name'),
            'state': state, 'mode': params.get('mode') or 'full', 'since': None, 'target': None, 'disks': None,
            'checkpoint': params.get('checkpoint') is not False, 'timeout': params.get('timeout'),
            'description': params.get('description')}
    if spec['mode'] not in MODES:
        raise InvalidSpec('mode', '%r is not one of %s' % (spec['mode'], ', '.join(MODES)))
    if params.get('since'):
        if spec['mode'] != 'incremental':
            raise InvalidSpec('since', 'only with mode incremental')
        spec['since'] = v.plain_name(params['since'], 'since')
        if spec['since'] == spec['name']:
            raise InvalidSpec('since', 'names this backup itself')
    target = params.get('target') or {}
    given = [key for key in ('pool', 'dir') if target.get(key)]
    if len(given) != 1:
        raise InvalidSpec('target', 'give exactly one of target.pool (a file pool) and target.dir (a directory '
                                    'on the host)')
    if given[0] == 'pool':
        spec['target'] = {'pool': v.plain_name(target['pool'], 'target.pool'), 'dir': None}
    else:
        spec['target'] = {'pool': None, 'dir': v.clean_path(target['dir'], 'target.dir')}
    if params.get('disks') is not None:
        disks = [str(disk) for disk in params['disks']]
        if not disks:
            raise InvalidSpec('disks', 'an empty list backs up nothing; leave it out for every writable disk')
        v.unique(disks, 'disks', 'disk')
        spec['disks'] = disks
    if spec['timeout'] is None:
        spec['timeout'] = 3600
    if spec['timeout'] <= 0:
        raise InvalidSpec('timeout', 'must be above 0 seconds')
    return spec


def backup_file(domain, name, disk):
    """The file of backup ``name`` of ``disk``: DOMAIN-NAME-DISK.qcow2."""
    return '%s-%s-%s.qcow2' % (domain, name, disk)
