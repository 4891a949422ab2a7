# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plans for virtual machines (the ``domain`` module).

The guest engine (GuestManager, domain/guest.py) with what only a virtual
machine has: volumes created for its disks and its cloud-init seed, planned
by the volume manager (domain/storage.py); clones of another domain
(Cloning, domain/clone.py); overlays a snapshot left on its disks; the
domain type and machine type aliases the host's capabilities decide; and
the storage ``remove_storage`` deletes with it. The container module builds
on the engine without these, and so does not ship them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.virtkit.virt.plugins.module_utils.domain.clone import Cloning
from ansible_collections.virtkit.virt.plugins.module_utils.domain.guest import GuestManager
from ansible_collections.virtkit.virt.plugins.module_utils.domain.overlays import keep_overlays
from ansible_collections.virtkit.virt.plugins.module_utils.domain.spec import defines_something, remove_storage_spec
from ansible_collections.virtkit.virt.plugins.module_utils.domain.storage import (
    delete_file, disk_volumes, resolve_formats, seed_volume, storage_to_remove)
from ansible_collections.virtkit.virt.plugins.module_utils.driver.connection import is_local_uri
from ansible_collections.virtkit.virt.plugins.module_utils.errors import InvalidSpec, NotFound


# Imported when used: the host's capabilities are read only for a new domain
# (or a machine type to match). A task on an existing domain does not compile them.
def _capabilities(driver):
    from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.host import parse_capabilities
    return parse_capabilities(driver.host_capabilities())


def machine_aliases(caps, arch, virt_type):
    """``{alias: canonical}`` of the machine types a host (``caps``, from
    parse_capabilities) offers for ``arch`` and domain type ``virt_type``
    (libvirt stores 'pc' as 'pc-i440fx-7.2', for example)."""
    aliases = {}
    for machine in caps['machine_types']:
        if (arch and machine['arch'] != arch) or machine['domain_type'] not in (None, virt_type):
            continue
        if machine['canonical'] and machine['name'] is not None:
            aliases[machine['name']] = machine['canonical']
    return aliases


class DomainManager(Cloning, GuestManager):

    # -- validation (no connection) -------------------------------------------
    def validate_options(self):
        self.remove_storage = remove_storage_spec(self.params.get('remove_storage'))
        self.owned, self.seed_disk = [], None
        self.validate_clone()

    def defines_something(self):
        return defines_something(self.params) or bool(self.clone)

    def validate_spec(self):
        """The volumes it creates (disks, a cloud-init seed), checked as the volume module would check them."""
        if not self.strict:
            self.owned = disk_volumes(self.name, self.spec['disks'], self.check_mode)
            cloud_init = self.params.get('cloud_init')
            if cloud_init is not None and not (self.clone and not cloud_init.get('pool')):
                seed, disk = seed_volume(self.name, cloud_init, self.spec['disks'], self.check_mode)
                self.owned.append((None, seed))
                self.seed_disk = disk
        for _index, volume in self.owned:
            volume.validate()

    def locked_objects(self):
        """The domain, and the volumes it creates (a ``volume`` task on the same one waits)."""
        return super().locked_objects() + sorted(('volume', '%s/%s' % (volume.pool, volume.name))
                                                 for _index, volume in self.owned)

    # -- the desired domain -------------------------------------------------------------
    def _desired(self, config):
        desired = super()._desired(config)
        if config and desired.get('machine') and config.get('machine') and desired['machine'] != config['machine']:
            aliases = machine_aliases(_capabilities(self.driver), config.get('arch'), self.virt_type)
            if aliases.get(desired['machine']) == config['machine']:
                desired['machine'] = config['machine']  # 'pc' is what libvirt stored as 'pc-i440fx-7.2'
        return desired

    def default_virt_type(self, arch):
        """virt_type auto: kvm where the host offers it and it works, else qemu (or what the host offers)."""
        caps = _capabilities(self.driver)
        arch = arch or caps['arch']
        offered = []
        for guest in caps['guests']:
            if guest['arch'] == arch and guest['os_type'] in ('hvm', 'xen'):
                offered.extend(t for t in guest['domain_types'] if t not in offered)
        if 'kvm' in offered:
            from ansible_collections.virtkit.virt.plugins.module_utils.host.facts import host_kvm
            usable, reason = host_kvm(caps, is_local_uri(self.driver.uri))
            if usable:
                return 'kvm'
            self.warnings.append('virt_type auto: using qemu (software emulation): %s' % reason)
        for kind in ('qemu',) + tuple(offered):
            if kind in offered and kind != 'kvm':
                return kind
        raise InvalidSpec('virt_type', 'the host offers no domain type for arch %s (offered: %s)'
                          % (arch, ', '.join(caps['domain_types']) or 'none'))

    # -- what it owns ---------------------------------------------------------------
    def keep_disks(self, config_xml):
        """Overlays a snapshot put on its disks stay (the spec names the images below them)."""
        self.spec['disks'] = keep_overlays(self.driver, self.spec['disks'], config_xml)

    def own_disks(self, desired, config):
        """The seed's drive (kept where it is), and the formats of the
        volumes created for it (decided by their pools)."""
        if self.seed_disk:
            if desired['disks'] is None:
                desired['disks'] = [dict(d, create=None) for d in (config or {}).get('disks') or []
                                    if d['volume'] != self.seed_disk['volume']]
                for disk in desired['disks']:
                    disk.pop('type', None)
            desired['disks'].append(copy.deepcopy(self.seed_disk))
        if desired.get('disks') is not None:
            resolve_formats(self.driver, desired['disks'], self.owned)

    def plan_storage(self, plan):
        """Create or update its volumes and seed before it is defined."""
        for _index, volume in self.owned:
            volume.plan_into(self.driver, plan)

    # -- create, update -----------------------------------------------------------------
    def creation_base(self, plan):
        """A clone is made on its source's definition, and its copies come first."""
        if not self.clone:
            return super().creation_base(plan)
        self.prepare_clone()
        self.plan_clone_storage(plan)
        return self.clone_base

    def define_step(self, xml):
        # A failing define deletes the clone's copies (undoing).
        return self.undoing(super().define_step(xml))

    def _plan_create(self, plan):
        super()._plan_create(plan)
        if self.clone:
            plan.after['cloned_from'] = {'source': self.clone['name'], 'snapshot': self.clone['snapshot'],
                                         'linked': self.clone['linked']}

    def _plan_existing(self, plan, status):
        if self.clone and status['persistent']:
            plan.warnings.extend(self.clone_warnings(self.driver.domain_xml(self.name, inactive=True)))
        super()._plan_existing(plan, status)

    # -- absent -----------------------------------------------------------------------
    def _plan_absent(self, plan, status):
        super()._plan_absent(plan, status)
        if status is None or not (self.remove_storage and status['persistent']):
            return
        volumes, files, kept = storage_to_remove(self.driver, self.name, self.remove_storage)
        for pool, volume in volumes:
            plan.add('delete volume %s/%s' % (pool, volume), self._volume_deleter(pool, volume))
        for path in files:
            plan.add('delete file %s' % path, self._file_deleter(path))
        for what, why in kept:
            plan.warnings.append('%s %r: kept %s (%s)' % (self.kind, self.name, what, why))

    def _volume_deleter(self, pool, volume):
        def delete():
            try:
                self.driver.delete_volume(pool, volume)
            except NotFound:
                pass  # already gone
        return delete

    def _file_deleter(self, path):
        def delete():
            why = delete_file(self.driver, path)
            if why:
                self.warnings.append('%s %r: kept %s (%s)' % (self.kind, self.name, path, why))
        return delete
