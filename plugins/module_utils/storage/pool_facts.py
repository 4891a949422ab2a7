# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a storage pool looks like to a playbook (the ``pool`` result and
``pool_info``). A file of its own, so that ``pool_info`` ships none of the
planning code (AnsiballZ sends every file a module's imports reach)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtkit.virt.plugins.module_utils.engine.runner import ListingManager
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.storage import parse_pool_xml

# libvirt's state names → the module's vocabulary (the rest pass through).
STATE_NAMES = {'running': 'active', 'inactive': 'inactive'}
VOL_TYPE_DIR = 2  # virStorageVolType VIR_STORAGE_VOL_DIR


def pool_facts(driver, name, status=None):
    """The pool as it is: definition, sizes, state and its volumes' names."""
    status = status or driver.pool_status(name)
    parsed = parse_pool_xml(driver.pool_xml(name))
    volumes = held_volumes(driver, name) if status['active'] else []
    return {
        'name': parsed['name'], 'uuid': status['uuid'], 'type': parsed['type'],
        'state': STATE_NAMES.get(status['state'], status['state']), 'active': status['active'],
        'autostart': status['autostart'], 'persistent': status['persistent'],
        'path': parsed['path'], 'source': parsed['source'], 'permissions': parsed['permissions'],
        'capacity': status['capacity'], 'allocation': status['allocation'], 'available': status['available'],
        'volumes': volumes,
    }


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
