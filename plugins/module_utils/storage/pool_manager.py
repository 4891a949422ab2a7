# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plans for storage pools (the ``pool`` module; their facts are in pool_facts.py).

A new pool is defined, built once (directory, mkfs, vgcreate - never over
data that is already there) and started. An existing pool is never built
again; a changed definition is written persistently and an active pool picks
it up when it restarts (reported as ``restart_required``). Deleting the
underlying storage (``purge``) is refused while the pool holds volumes.

A new pool whose build or start fails is taken back (stopped, its target
directory removed if the build made it, undefined): the run changed nothing
- or says what stays (a filesystem or volume group the build made).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.virtkit.virt.plugins.module_utils.driver.connection import is_local_uri
from ansible_collections.virtkit.virt.plugins.module_utils.engine.plan import Plan, diff_specified, prune, restrict
from ansible_collections.virtkit.virt.plugins.module_utils.engine.runner import Manager
from ansible_collections.virtkit.virt.plugins.module_utils.engine import validation as v
from ansible_collections.virtkit.virt.plugins.module_utils.errors import Conflict, InvalidSpec, or_none
from ansible_collections.virtkit.virt.plugins.module_utils.storage.pool_facts import STATE_NAMES, held_volumes, pool_facts
from ansible_collections.virtkit.virt.plugins.module_utils.storage.pool_spec import (
    BUILD_NO_OVERWRITE, BUILDABLE, check_complete, check_parts, pool_spec)
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.storage import build_pool_xml, parse_pool_xml

DEFINITION = ('type', 'path', 'source', 'permissions')


def definition(pool):
    return dict((key, pool.get(key)) for key in DEFINITION)


class PoolManager(Manager):
    kind = 'pool'
    result_key = 'pool'

    def validate(self):
        v.plain_name(self.params['name'], 'name')
        self.state = self.params['state']
        for flag in ('purge', 'force'):
            if self.params.get(flag) and self.state != 'absent':
                raise InvalidSpec(flag, 'only has a meaning with state: absent')
        self.spec = pool_spec(self.params) if self.state != 'absent' else None

    def _status(self):
        return or_none(self.driver.pool_status, self.name)

    def plan(self):
        plan = Plan(self.kind, self.name)
        status = self._status()
        if self.state == 'absent':
            return self._plan_absent(plan, status) if status else plan
        if status is None:
            return self._plan_create(plan)
        return self._plan_update(plan, status)

    # -- absent -----------------------------------------------------------
    def _plan_absent(self, plan, status):
        plan.before = prune(dict(definition(parse_pool_xml(self.driver.pool_xml(self.name, inactive=True))),
                                 state=STATE_NAMES.get(status['state'], status['state']),
                                 autostart=status['autostart']))
        plan.after = {}
        if self.params.get('purge'):
            self._plan_purge(plan, status)
        elif status['active']:
            plan.add('stop', lambda: self.driver.stop_pool(self.name))
        if status['persistent']:
            plan.add('undefine', lambda: self.driver.undefine_pool(self.name))
        return plan

    def _plan_purge(self, plan, status):
        force = self.params.get('force')
        if status['active']:
            volumes = held_volumes(self.driver, self.name)
            if volumes and not force:
                raise Conflict('it holds %d volume(s): %s; remove them first, or set force: true to delete them too'
                               % (len(volumes), ', '.join(volumes)), resource='pool %r' % self.name, action='purge')
            for volume in volumes:
                plan.add('delete volume %s' % volume, self._volume_deleter(volume))
            plan.add('stop', lambda: self.driver.stop_pool(self.name))
        elif not force:
            # An inactive pool cannot list its volumes, so emptiness cannot be proven.
            raise Conflict('it is inactive, so whether it holds volumes cannot be seen; start it (state: active) '
                           'first, or set force: true to delete whatever it holds',
                           resource='pool %r' % self.name, action='purge')
        else:
            plan.add('start', lambda: self.driver.start_pool(self.name))
            plan.add('delete its volumes', self._delete_all_volumes)
            plan.add('stop', lambda: self.driver.stop_pool(self.name))
        plan.add('delete storage', lambda: self.driver.delete_pool(self.name))

    def _volume_deleter(self, volume):
        return lambda: self.driver.delete_volume(self.name, volume)

    def _delete_all_volumes(self):
        for volume in held_volumes(self.driver, self.name):
            self.driver.delete_volume(self.name, volume)

    # -- create -----------------------------------------------------------
    def _plan_create(self, plan):
        spec = dict(self.spec, type=self.spec['type'] or 'dir')
        check_complete(spec, spec['type'])
        self._check_devices(spec)
        xml = build_pool_xml(spec)
        plan.before = {}
        plan.after = prune(dict(definition(spec), state=self.state,
                                autostart=bool(self.params.get('autostart'))))
        name = self.name
        plan.add('define', lambda: self.driver.define_pool(xml), undo=lambda: self.driver.undefine_pool(name))
        if self.params.get('build', True) and spec['type'] in BUILDABLE:
            no_overwrite = spec['type'] in BUILD_NO_OVERWRITE
            made = self._target_made_by_build(spec)
            plan.add('build', lambda: self._build(plan, no_overwrite, made), undo=lambda: self._unbuild(spec, made))
        if self.state == 'active':
            plan.add('start', lambda: self.driver.start_pool(name), undo=lambda: self.driver.stop_pool(name))
        if self.params.get('autostart'):
            plan.add('autostart on', lambda: self.driver.set_pool_autostart(name, True),
                     undo=lambda: self.driver.set_pool_autostart(name, False))
        return plan

    def _check_devices(self, spec):
        """A new pool's source devices exist (on this host: a remote one is
        libvirt's to check, and the test driver's host is in memory), before
        anything is defined."""
        if spec['type'] not in BUILD_NO_OVERWRITE or not is_local_uri(self.driver.uri) or \
                self.driver.uri.startswith('test:'):
            return
        for index, device in enumerate((spec['source'] or {}).get('devices') or []):
            if not os.path.exists(device):
                message = 'no such device on this host: %s' % device
                if not self.check_mode:
                    raise InvalidSpec('source.devices[%d]' % index, message)
                self.warnings.append('pool %r: source.devices[%d]: %s: check mode predicts the change; the real run '
                                     'needs it by then' % (self.name, index, message))

    def _target_made_by_build(self, spec):
        """The target directory, when the build is what makes it (on this
        host, where it can be seen not to exist yet); else None."""
        path = spec.get('path')
        if path and is_local_uri(self.driver.uri) and not os.path.exists(path):
            return path
        return None

    def _build(self, plan, no_overwrite, made):
        try:
            kept = self.driver.build_pool(self.name, no_overwrite=no_overwrite)
        except BaseException:
            _remove_empty_dir(made)  # libvirt makes the target before it finds the device missing
            raise
        if kept:
            plan.warnings.append('pool %r: not built, its storage is there already and was kept (%s)' % (self.name, kept))

    def _unbuild(self, spec, made):
        """Undo a build: the target directory it made goes; what it made on a
        device (a filesystem, a volume group) stays and is said."""
        _remove_empty_dir(made)
        if spec['type'] in BUILD_NO_OVERWRITE:
            return 'what the build made on %s stays' % ', '.join((spec['source'] or {}).get('devices') or ['the source'])
        return None if made or not spec.get('path') else 'its directory %s stays' % spec['path']

    # -- update -----------------------------------------------------------
    def _plan_update(self, plan, status):
        config = parse_pool_xml(self.driver.pool_xml(self.name, inactive=True))
        if self.spec['type'] and self.spec['type'] != config['type']:
            raise InvalidSpec('type', 'pool %r is a %s pool; a pool cannot change its type '
                                      '(remove it first, with purge if its storage should go too)'
                              % (self.name, config['type']))
        check_parts(self.spec, config['type'])
        desired = definition(self.spec)
        changes = diff_specified(desired, config)
        running = status['active']
        autostart = self.params.get('autostart')
        plan.before = dict(restrict(definition(config), desired), state=STATE_NAMES.get(status['state'], status['state']),
                           autostart=status['autostart'])
        plan.after = dict(prune(desired), state=self.state,
                          autostart=status['autostart'] if autostart is None else autostart)
        for side in (plan.before, plan.after):
            side.pop('type', None)  # never changes; said only to check it
        if changes:
            base = self.driver.pool_xml(self.name, inactive=True)
            xml = build_pool_xml(self.spec, base=base)
            plan.add('redefine', lambda: self.driver.define_pool(xml))
        if running and self.state == 'active':
            # The live definition lags until a restart; permissions are left
            # out: a running pool reports its directory's actual mode/owner.
            live = parse_pool_xml(self.driver.pool_xml(self.name))
            pending = diff_specified(dict(desired, permissions=None), live)
            if pending:
                plan.restart_required = True
                plan.warnings.append('pool %r: the new definition (%s) takes effect when the pool restarts '
                                     '(state: inactive, then active)'
                                     % (self.name, ', '.join(sorted(set(c.path for c in pending)))))
        if self.state == 'active' and not running:
            plan.add('start', lambda: self.driver.start_pool(self.name))
        elif self.state == 'inactive' and running:
            plan.add('stop', lambda: self.driver.stop_pool(self.name))
        if autostart is not None and autostart != status['autostart']:
            plan.add('autostart %s' % ('on' if autostart else 'off'),
                     lambda: self.driver.set_pool_autostart(self.name, autostart))
        return plan

    def facts(self, plan):
        status = self._status()
        if status is None:
            return {'name': self.name, 'exists': False}
        return dict(pool_facts(self.driver, self.name, status), exists=True)


def _remove_empty_dir(path):
    if path:
        try:
            os.rmdir(path)
        except OSError:
            pass  # not empty, or not there: nothing of ours to remove
