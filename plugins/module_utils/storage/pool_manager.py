# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plans for storage pools (the ``pool`` module; their facts are in pool_facts.py).

A new pool is defined, built once (directory, mkfs, vgcreate - never over
data that is already there) and started. An existing pool is never built
again; a changed definition is written persistently and an active pool picks
it up when it restarts (reported as ``restart_required``). Deleting the
underlying storage (``purge``) is refused while the pool holds volumes.

libvirt applies ``permissions`` only when it builds a directory; a
directory that is there (a dir pool's, an fs/netfs pool's mounted
filesystem) gets them here, on the daemon's host, compared as it really is.
Where this process cannot reach it (a remote daemon, a filesystem mounted
out of its sight), a change libvirt would not make is refused, naming
``permissions``.

A new pool whose build or start fails is taken back (stopped, its target
directory removed if the build made it, undefined): the run changed nothing
- or says what stays (a filesystem or volume group the build made).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.virtkit.virt.plugins.module_utils.driver.connection import is_local_uri
from ansible_collections.virtkit.virt.plugins.module_utils.engine.plan import Kept, Plan, diff_specified, prune, restrict
from ansible_collections.virtkit.virt.plugins.module_utils.engine.runner import Manager
from ansible_collections.virtkit.virt.plugins.module_utils.engine import validation as v
from ansible_collections.virtkit.virt.plugins.module_utils.errors import Conflict, InvalidSpec, or_none
from ansible_collections.virtkit.virt.plugins.module_utils.storage.pool_facts import (
    directory_permissions, held_volumes, pool_facts, target_directory)
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
                                 state=status['state'],
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
        self._plan_permissions(plan, spec, None, None)
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
            return Kept('what the build made on %s stays' % ', '.join((spec['source'] or {}).get('devices') or ['the source']))
        return None if made or not spec.get('path') else Kept('its directory %s stays' % spec['path'])

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
        plan.before = dict(restrict(definition(config), desired), state=status['state'],
                           autostart=status['autostart'])
        plan.after = dict(prune(desired), state=self.state,
                          autostart=status['autostart'] if autostart is None else autostart)
        for side in (plan.before, plan.after):
            side.pop('type', None)  # never changes; said only to check it
        if changes:
            base = self.driver.pool_xml(self.name, inactive=True)
            xml = build_pool_xml(self.spec, base=base)
            plan.add('redefine', lambda: self.driver.define_pool(xml))
        live = parse_pool_xml(self.driver.pool_xml(self.name)) if running else config
        if running and self.state == 'active':
            # The live definition lags until a restart; permissions are left
            # out: they are set on the directory itself (_plan_permissions).
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
        # A mounted filesystem stays where it is until a restart; a dir pool's directory is its new path.
        path = live['path'] if running and config['type'] != 'dir' else self.spec['path'] or config['path']
        self._plan_permissions(plan, dict(config, path=path), status, live['permissions'])
        if autostart is not None and autostart != status['autostart']:
            plan.add('autostart %s' % ('on' if autostart else 'off'),
                     lambda: self.driver.set_pool_autostart(self.name, autostart))
        return plan

    # -- permissions ------------------------------------------------------
    def _plan_permissions(self, plan, pool, status, reported):
        """Set the permissions on the directory itself where it differs.
        ``pool``: type and path after this task; ``status`` None for a new
        pool; ``reported``: the permissions libvirt shows (its running pool's
        as of the last refresh of the directory)."""
        desired = prune(self.spec['permissions'] or {})
        if not desired:
            return
        if not is_local_uri(self.driver.uri) or self.driver.uri.startswith('test:'):
            self._check_unreachable(pool, status, reported, desired)
            return
        running = bool(status and status['active'])
        if pool['type'] != 'dir' and self.state == 'active' and not running:
            # The filesystem the start mounts cannot be seen before: set them once it is.
            plan.add('set permissions', self._permissions_setter(pool, desired))
            return
        # An fs/netfs pool's directory is its filesystem only while mounted.
        directory = target_directory(self.driver.uri, pool, running and self.state == 'active')
        current = directory_permissions(directory)
        if current is None and pool['type'] != 'dir' and running and self.state == 'active':
            self._check_unseen_mount(pool, reported, desired)
            return
        if current is None:
            self._warn_not_set(plan, pool, status, reported, desired)
            return
        if status is not None:
            plan.before['permissions'] = restrict(current, desired)
        if diff_specified(desired, current):
            plan.add('set permissions', self._permissions_setter(pool, desired),
                     undo=self._permissions_setter(pool, current))

    def _built_with_them(self, pool, status):
        """A new dir pool that libvirt builds: the build makes its directory with the permissions."""
        return status is None and pool['type'] == 'dir' and self.params.get('build', True)

    def _check_unreachable(self, pool, status, reported, desired):
        """A daemon on another host: libvirt's build is the only way to the
        directory, so anything else that would change is refused."""
        if self._built_with_them(pool, status):
            return
        if status is None or diff_specified(desired, reported or {}):
            raise InvalidSpec('permissions', 'pool %r is not on the host this task runs on (%s): libvirt sets '
                                             'permissions only when it builds a new dir pool, and this module sets '
                                             "them on a directory of its own host only; run the task there (a local "
                                             'uri, delegate_to) or leave permissions out' % (self.name, self.driver.uri))

    def _check_unseen_mount(self, pool, reported, desired):
        """A running fs/netfs pool whose filesystem this process does not see
        mounted (libvirt mounts it in a mount namespace of its own): what
        libvirt reports of it is all there is, and cannot be changed."""
        if diff_specified(desired, reported or {}):
            raise InvalidSpec('permissions', _unseen_mount(self.name, pool['path']))

    def _warn_not_set(self, plan, pool, status, reported, desired):
        """No directory to set them on now: said, unless the build makes it
        with them or nothing changes."""
        if self._built_with_them(pool, status):
            return
        if status is not None and not diff_specified(desired, reported or {}):
            return
        if pool['type'] == 'dir':
            reason = 'its directory %s is not there' % pool['path']
        else:
            reason = 'its filesystem is not mounted; they are set when this module starts it (state: active)'
        plan.warnings.append('pool %r: permissions not set on the directory, %s; they are in its definition only'
                             % (self.name, reason))

    def _permissions_setter(self, pool, perms):
        """The action: the directory's owner, group and mode, then libvirt's
        view of them refreshed (a running pool's XML shows the directory as
        of its last refresh)."""
        path = pool['path']

        def run():
            if pool['type'] != 'dir' and not os.path.ismount(path):
                raise Conflict('permissions: ' + _unseen_mount(self.name, path), resource='pool %r' % self.name,
                               action='set the permissions of')
            set_directory_permissions(path, perms, self.name)
            if self.state == 'active':
                self.driver.refresh_pool(self.name)
        return run

    def facts(self, plan):
        status = self._status()
        if status is None:
            return {'name': self.name, 'exists': False}
        return dict(pool_facts(self.driver, self.name, status), exists=True)


def set_directory_permissions(path, perms, name):
    try:
        if perms.get('owner') is not None or perms.get('group') is not None:
            # Before the mode: a chown clears the setuid and setgid bits.
            os.chown(path, _or_unchanged(perms.get('owner')), _or_unchanged(perms.get('group')))
        if perms.get('mode') is not None:
            os.chmod(path, int(perms['mode'], 8))
    except OSError as exc:
        raise Conflict('permissions: %s: %s' % (path, exc.strerror or exc), resource='pool %r' % name,
                       action='set the permissions of')


def _unseen_mount(name, path):
    return ('pool %r: its filesystem is not mounted on %s where this task runs (libvirt mounts it in a mount '
            'namespace of its own), so its permissions cannot be set; leave permissions out' % (name, path))


def _or_unchanged(number):
    return -1 if number is None else number


def _remove_empty_dir(path):
    if path:
        try:
            os.rmdir(path)
        except OSError:
            pass  # not empty, or not there: nothing of ours to remove
