# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files on the hypervisor host seen through storage pools.

libvirt makes snapshot overlays and backup files where it is told; a pool
lists them only after a refresh. And a file outside every pool can only be
created or copied through libvirt inside a pool: a directory no pool holds
gets a transient ``dir`` pool for as long as it is needed (it leaves nothing
behind: a transient pool is gone once stopped, the files stay).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import posixpath

from ansible_collections.virtkit.virt.plugins.module_utils.errors import NotFound
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.storage import build_pool_xml, parse_pool_xml

FILE_POOLS = ('dir', 'fs', 'netfs')
TRANSIENT_PREFIX = 'virtkit-tmp-'


def directory_pool(driver, directory):
    """The name of an active file pool whose target is ``directory``, or None."""
    directory = posixpath.normpath(directory)
    for pool in driver.list_pools():
        if not pool['active']:
            continue
        try:
            parsed = parse_pool_xml(driver.pool_xml(pool['name']))
        except NotFound:
            continue
        if parsed['type'] in FILE_POOLS and parsed['path'] and posixpath.normpath(parsed['path']) == directory:
            return pool['name']
    return None


def refresh_pools_of(driver, paths):
    """Refresh the active file pools that hold any of ``paths`` (new or
    removed files), so that their volume lists show them."""
    directories = set(posixpath.dirname(p) for p in paths if p and p.startswith('/'))
    refreshed = set()
    for directory in sorted(directories):
        name = directory_pool(driver, directory)
        if name and name not in refreshed:
            driver.refresh_pool(name)
            refreshed.add(name)
    return sorted(refreshed)


class DirectoryPool:
    """``with DirectoryPool(driver, directory) as pool:`` the name of a pool
    holding ``directory``: an existing one, or a transient one made here and
    stopped (so gone) on the way out."""

    def __init__(self, driver, directory):
        self.driver = driver
        self.directory = posixpath.normpath(directory)
        self.transient = None

    def __enter__(self):
        existing = directory_pool(self.driver, self.directory)
        if existing:
            return existing
        # 48 random bits, as uuid4().hex[:12] gave, without importing uuid (and its C part) at every task.
        name = TRANSIENT_PREFIX + os.urandom(6).hex()
        self.transient = self.driver.create_transient_pool(
            build_pool_xml({'name': name, 'type': 'dir', 'path': self.directory}))
        return self.transient

    def __exit__(self, *_exc):
        if self.transient:
            try:
                self.driver.stop_pool(self.transient)
            except NotFound:
                pass
        return False
