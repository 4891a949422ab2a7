# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a storage volume looks like to a playbook (the ``volume`` result and
``volume_info``): its sizes, its backing chain and, for a cloud-init seed,
the hash of its content. A file of its own, so that ``volume_info`` ships
none of the planning code (AnsiballZ sends every file a module's imports
reach)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtkit.virt.plugins.module_utils.engine.runner import Manager
from ansible_collections.virtkit.virt.plugins.module_utils.engine import validation as v
from ansible_collections.virtkit.virt.plugins.module_utils.errors import NotFound
from ansible_collections.virtkit.virt.plugins.module_utils.storage.cloud_init import HEADER_BYTES, seed_hash
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.storage import parse_volume_xml

MAX_CHAIN = 16


def read_seed_hash(driver, pool, name):
    return seed_hash(driver.download_volume(pool, name, 0, HEADER_BYTES))


def backing_chain(driver, volume):
    """The backing files under ``volume``, nearest first, as far as libvirt knows them."""
    chain, backing, seen = [], volume.get('backing'), set()
    while backing and len(chain) < MAX_CHAIN and backing['path'] not in seen:
        seen.add(backing['path'])
        link = {'path': backing['path'], 'format': backing.get('format'), 'pool': None, 'name': None}
        chain.append(link)
        try:
            found = driver.volume_by_path(backing['path'])
        except NotFound:
            break  # a file outside every pool: its own backing is unknown
        link.update(found)
        parsed = parse_volume_xml(driver.volume_xml(found['pool'], found['name']))
        link['format'] = link['format'] or parsed['format']
        backing = parsed['backing']
    return chain


def volume_facts(driver, pool, name):
    parsed = parse_volume_xml(driver.volume_xml(pool, name))
    facts = dict((key, parsed[key]) for key in ('name', 'key', 'path', 'type', 'format', 'capacity', 'allocation'))
    facts['pool'] = pool
    facts['backing_chain'] = backing_chain(driver, parsed)
    facts['cloud_init'] = None
    if parsed['format'] == 'iso':  # file pools probe seeds as ISO images; only those are read
        sha = read_seed_hash(driver, pool, name)
        facts['cloud_init'] = {'sha256': sha} if sha else None
    return facts


class VolumeInfoManager(Manager):
    kind = 'volume'
    result_key = 'volumes'
    # Reading a seed's marker streams 2 KiB of it, which libvirt refuses on
    # read-only connections ("read only access prevents virStorageVolDownload").
    readonly = False
    reports_restart = False

    def locked_objects(self):
        return []  # it reads: it waits for no task

    def validate(self):
        v.plain_name(self.params['pool'], 'pool')
        if self.params.get('name') is not None:
            v.volume_name(self.params['name'], 'name')

    def facts(self, plan):
        pool = self.params['pool']
        try:
            names = [self.name] if self.name else sorted(vol['name'] for vol in self.driver.list_volumes(pool))
        except NotFound:
            return []  # no such pool
        result = []
        for name in names:
            try:
                result.append(volume_facts(self.driver, pool, name))
            except NotFound:
                continue  # no such volume, or it went away while listing
        return result
