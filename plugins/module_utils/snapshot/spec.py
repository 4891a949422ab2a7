# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module params of ``snapshot`` → the desired snapshot.

Pure functions, run before any connection exists; every error names its
field. What needs the domain (its state, its disks, the host's libvirt) is
checked by the manager. The result::

    {domain, name, state: present|absent|current, description,
     memory: True|False|None (None: as the guest's state and the location need),
     external, disk_only, disks: {target: {file, exclude}}, memory_file,
     quiesce, atomic, children, metadata_only, revert_state: running|paused|saved, force_revert}
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.virtkit.virt.plugins.module_utils.engine import validation as v
from ansible_collections.virtkit.virt.plugins.module_utils.errors import InvalidSpec

STATES = ('present', 'absent', 'current')
REVERT_STATES = ('running', 'paused', 'saved')
# A string: re compiles (and caches) it when a task first uses it, not at every import.
_TARGET_RE = r'^[a-z]+[a-z0-9]*$'
# Options that only mean something with one state: (option, state, the values that ask for nothing - the
# argument spec's default among them). Those of state present are the ones that take a snapshot.
_STATE_OPTIONS = (('description', 'present', (None,)), ('memory', 'present', (None,)),
                  ('external', 'present', (None,)), ('disk_only', 'present', (None, False)),
                  ('disks', 'present', (None, [])), ('memory_file', 'present', (None, '')),
                  ('quiesce', 'present', (None, False)), ('atomic', 'present', (None, True)),
                  ('children', 'absent', (None, False)), ('metadata_only', 'absent', (None, False)),
                  ('revert_state', 'current', (None, False)), ('force_revert', 'current', (None, False)))
_STATE_WORK = {'present': 'taking a snapshot', 'absent': 'deleting a snapshot', 'current': 'reverting to a snapshot'}


def _check_state_options(params, state):
    """Options set that another state uses (the task would ignore them): one error naming them all."""
    misplaced = [(option, only) for option, only, unset in _STATE_OPTIONS
                 if only != state and params.get(option) not in unset]
    if not misplaced:
        return
    wanted = []  # the states that use them, in the table's order
    for option, only in misplaced:
        if only not in wanted:
            wanted.append(only)
    names = [option for option, only in misplaced]
    if len(wanted) == 1:
        reasons = ['only with state %s (%s)' % (wanted[0], _STATE_WORK[wanted[0]])]
    else:
        reasons = ['%s only with state %s (%s)' % (', '.join(name for name, its in misplaced if its == only), only,
                                                   _STATE_WORK[only]) for only in wanted]
    raise InvalidSpec(', '.join(names), '%s; state %s would ignore %s'
                      % ('; '.join(reasons), state, 'it' if len(names) == 1 else 'them'))


def snapshot_spec(params):
    state = params.get('state') or 'present'
    if state not in STATES:
        raise InvalidSpec('state', '%r is not one of %s' % (state, ', '.join(STATES)))
    spec = {'domain': v.plain_name(params.get('domain'), 'domain'), 'name': v.plain_name(params.get('name'), 'name'),
            'state': state, 'description': params.get('description'), 'memory': params.get('memory'),
            'disk_only': bool(params.get('disk_only')), 'external': params.get('external'),
            'disks': {}, 'memory_file': None, 'quiesce': bool(params.get('quiesce')),
            'atomic': params.get('atomic') is not False, 'children': bool(params.get('children')),
            'metadata_only': bool(params.get('metadata_only')),
            'revert_state': params.get('revert_state') or 'saved', 'force_revert': bool(params.get('force_revert'))}
    _check_state_options(params, state)
    if spec['revert_state'] not in REVERT_STATES:
        raise InvalidSpec('revert_state', '%r is not one of %s' % (spec['revert_state'], ', '.join(REVERT_STATES)))
    if spec['disk_only']:
        if spec['external'] is False:
            raise InvalidSpec('external', 'a disk-only snapshot of libvirt is external (overlay files); '
                                          'leave external out or set it true')
        if spec['memory']:
            raise InvalidSpec('memory', 'a disk-only snapshot has no memory')
        spec['external'] = True
        spec['memory'] = False
    spec['external'] = bool(spec['external'])
    if spec['quiesce'] and not spec['disk_only']:
        raise InvalidSpec('quiesce', 'only with disk_only: true (libvirt quiesces disk-only snapshots)')
    if params.get('memory_file'):
        if not spec['external'] or spec['memory'] is False:
            raise InvalidSpec('memory_file', 'only for an external snapshot with memory (external: true, memory: true)')
        spec['memory_file'] = v.clean_path(params['memory_file'], 'memory_file')
    for index, disk in enumerate(params.get('disks') or []):
        field = 'disks[%d]' % index
        if not isinstance(disk, dict) or not disk.get('name'):
            raise InvalidSpec(field + '.name', 'the disk target (vda, sda ...) is required')
        name = str(disk['name'])
        if not re.match(_TARGET_RE, name):
            raise InvalidSpec(field + '.name', '%r is not a disk target (vda, sdb ...)' % name)
        if name in spec['disks']:
            raise InvalidSpec(field + '.name', 'disk %s is named twice' % name)
        entry = {'file': None, 'exclude': bool(disk.get('exclude'))}
        if entry['exclude'] and not spec['external']:
            raise InvalidSpec(field + '.exclude', 'libvirt puts every writable disk in an internal snapshot ("internal '
                                                  'and full system snapshots require all disks to be selected for '
                                                  'snapshot"): only external snapshots leave disks out')
        if disk.get('file'):
            if not spec['external']:
                raise InvalidSpec(field + '.file', 'an overlay file only for an external snapshot '
                                                   '(disk_only: true or external: true)')
            if entry['exclude']:
                raise InvalidSpec(field + '.file', 'an excluded disk gets no overlay file')
            entry['file'] = v.clean_path(disk['file'], field + '.file')
        spec['disks'][name] = entry
    files = [d['file'] for d in spec['disks'].values() if d['file']] + \
        ([spec['memory_file']] if spec['memory_file'] else [])
    v.unique(files, 'disks', 'file')
    return spec
