# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a storage pool looks like to a playbook (the ``pool`` result and
``pool_info``). A file of its own, so that ``pool_info`` ships none of the
planning code (AnsiballZ sends every file a module's imports reach)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

from ansible_collections.virtkit.virt.plugins.module_utils.driver.connection import is_local_uri
from ansible_collections.virtkit.virt.plugins.module_utils.engine.runner import ListingManager
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.storage import parse_pool_xml

VOL_TYPE_DIR = 2  # virStorageVolType VIR_STORAGE_VOL_DIR
# The pool types whose target is a directory of their own (libvirt: permissions
# are "only useful for directory or filesystem based pools").
DIRECTORY_TYPES = ('dir', 'fs', 'netfs')


def pool_facts(driver, name, status=None):
    """The pool as it is: definition, sizes, state and its volumes' names."""
    status = status or driver.pool_status(name)
    parsed = parse_pool_xml(driver.pool_xml(name))
    volumes = held_volumes(driver, name) if status['active'] else []
    return {
        'name': parsed['name'], 'uuid': status['uuid'], 'type': parsed['type'],
        'state': status['state'], 'active': status['active'],
        'autostart': status['autostart'], 'persistent': status['persistent'],
        'path': parsed['path'], 'source': parsed['source'],
        'permissions': directory_permissions(target_directory(driver.uri, parsed, status['active']))
        or parsed['permissions'],
        'capacity': status['capacity'], 'allocation': status['allocation'], 'available': status['available'],
        'volumes': volumes,
    }


def target_directory(uri, parsed, active):
    """The directory a pool's volumes are in, where this process can reach
    it: a dir pool's target, an fs/netfs pool's filesystem where it is seen
    mounted - of a daemon on this host (the test driver's directories are
    imaginary); else None. libvirt's XML shows a directory's mode only as of the pool's
    last refresh, and an inactive pool's not at all."""
    kind, path = parsed['type'], parsed['path']
    if kind not in DIRECTORY_TYPES or not path or not is_local_uri(uri) or uri.startswith('test:'):
        return None
    if kind != 'dir':
        # Its mount point is not the pool's directory, the filesystem's root is; and
        # a daemon in a mount namespace of its own mounts it where this process cannot see.
        return path if active and os.path.ismount(path) else None
    return path if os.path.isdir(path) else None


def directory_permissions(path):
    """``{mode, owner, group}`` of a directory as it is, or None without one."""
    if not path:
        return None
    try:
        info = os.stat(path)
    except OSError:
        return None
    return {'mode': '%04o' % stat.S_IMODE(info.st_mode), 'owner': info.st_uid, 'group': info.st_gid}


def held_volumes(driver, name):
    """Names of the volumes a pool holds, without an fs pool's lost+found,
    which libvirt lists as a directory volume but belongs to the filesystem."""
    return sorted(vol['name'] for vol in driver.list_volumes(name)
                  if not (vol['name'] == 'lost+found' and vol.get('type') == VOL_TYPE_DIR))


class PoolInfoManager(ListingManager):
    kind = 'pool'
    result_key = 'pools'

    def names(self):
        return [p['name'] for p in self.driver.list_pools()]

    def describe(self, name):
        return pool_facts(self.driver, name)
