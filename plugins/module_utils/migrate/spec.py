# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``migrate`` module's options: the argument spec and the checks that
need no connection (each error names its option)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.virtkit.virt.plugins.module_utils.driver.connection import resolve_uri
from ansible_collections.virtkit.virt.plugins.module_utils.engine import validation as v
from ansible_collections.virtkit.virt.plugins.module_utils.errors import InvalidSpec

COPY_STORAGE = ('none', 'all', 'incremental')
SNAPSHOT_METADATA = ('refuse', 'move')
# tcp://HOST[:PORT] (or rdma://, unix://PATH): where QEMU sends the migration data.
# A string: re compiles (and caches) it when a task first uses it, not at every import.
_MIGRATE_URI_RE = r'^(tcp|rdma)://(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+)(:\d{1,5})?/?$|^unix:///\S+$'


# What a run takes when an option is not given: the module's argument spec
# says the same (a unit test compares them with its documentation).
DEFAULTS = dict(name=None, dest_uri=None, dest_auth=None, live=True, persistent=True, undefine_source=True,
                copy_storage='none', tunnelled=False, peer_to_peer=False, migrate_uri=None, bandwidth=None,
                max_downtime=None, auto_converge=False, postcopy=False, timeout=None, unsafe=False,
                snapshot_metadata='refuse')


def migration_spec(params):
    """The validated options as one dict (defaults filled in, URIs resolved);
    ``uri``/``auth`` are the runner's, the source's."""
    spec = dict(DEFAULTS)
    spec.update((key, value) for key, value in params.items() if key in DEFAULTS and value is not None)
    v.plain_name(spec['name'], 'name')
    spec['uri'] = resolve_uri(params.get('uri'))
    try:
        spec['dest_uri'] = resolve_uri(spec['dest_uri'])
    except InvalidSpec as exc:
        raise InvalidSpec('dest_uri', exc.detail)
    if spec['dest_uri'] == spec['uri']:
        raise InvalidSpec('dest_uri', 'is the source URI (uri) itself: %s' % spec['uri'])
    for key in ('copy_storage', 'snapshot_metadata'):
        choices = COPY_STORAGE if key == 'copy_storage' else SNAPSHOT_METADATA
        if spec[key] not in choices:
            raise InvalidSpec(key, '%r is not one of %s' % (spec[key], ', '.join(choices)))
    for key, unit in (('bandwidth', 'MiB/s'), ('max_downtime', 'milliseconds'), ('timeout', 'seconds')):
        if spec[key] is not None and spec[key] <= 0:
            raise InvalidSpec(key, 'must be a positive number of %s (got %s)' % (unit, spec[key]))
    if spec['migrate_uri'] is not None and not re.match(_MIGRATE_URI_RE, spec['migrate_uri']):
        raise InvalidSpec('migrate_uri', '%r is not a migration URI (tcp://HOST[:PORT], for example '
                                         'tcp://10.0.0.2 on a migration network)' % (spec['migrate_uri'],))
    if spec['tunnelled'] and spec['migrate_uri']:
        raise InvalidSpec('migrate_uri', 'a tunnelled migration sends its data through the libvirt connection, '
                                         'not to a migration URI')
    if spec['postcopy'] and spec['copy_storage'] != 'none':
        raise InvalidSpec('postcopy', 'post-copy cannot copy storage (copy_storage: %s): the disks must be '
                                      'copied before the guest runs on the destination' % spec['copy_storage'])
    if spec['postcopy'] and not spec['live']:
        raise InvalidSpec('postcopy', 'post-copy is a way of live migration (live: false pauses the guest)')
    spec['dest_auth'] = params.get('dest_auth') or {}
    return spec
