# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plans for libvirt LXC containers (the ``container`` module).

The guest engine (GuestManager, domain/guest.py) with the hooks a container needs: its
spec (container.spec), a rootfs unpacked once from an archive where a new
container would have volumes, what only a restart changes (its init, root
filesystem, mounts, user namespace), a graceful shutdown through the init's
initctl pipe or SIGTERM, and its facts - with the host PID of its init and
its host name. One path for spec → XML → diff → plan, not a second copy.

libvirt's LXC driver gives a container its name as host name and has no
setting for another one; ``hostname`` is therefore set by this module in the
running container's UTS namespace, each time it starts it and whenever it
differs (container/namespaces.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.virtkit.virt.plugins.module_utils.container.namespaces import hostname_of, init_pid, set_hostname_of, shutdown_mode
from ansible_collections.virtkit.virt.plugins.module_utils.container.rootfs import (
    check_idmap_access, check_init, check_mount_sources, check_rootfs, shown_url)
from ansible_collections.virtkit.virt.plugins.module_utils.container.spec import (
    ADDRESS_SOURCES, DEFAULT_INIT, container_spec, defines_something, hostname_spec, rootfs_spec)
from ansible_collections.virtkit.virt.plugins.module_utils.domain.facts import read_addresses
from ansible_collections.virtkit.virt.plugins.module_utils.domain.live import RESTART_KEYS
from ansible_collections.virtkit.virt.plugins.module_utils.domain.guest import OPTION_NAMES, GuestManager
from ansible_collections.virtkit.virt.plugins.module_utils.driver.connection import resolve_uri
from ansible_collections.virtkit.virt.plugins.module_utils.driver.connection import is_local_uri
from ansible_collections.virtkit.virt.plugins.module_utils.driver.interface import ACTIVE_STATES
from ansible_collections.virtkit.virt.plugins.module_utils.engine.sizes import kib_to_mib
from ansible_collections.virtkit.virt.plugins.module_utils.errors import Conflict, DriverError, InvalidSpec
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.domain import parse_domain_xml

# What only a restart changes. Not max_memory_kib: the memory option is both <memory> and <currentMemory>,
# and a running container takes it live up to the limit it started with (domain.live compares memory).
CONTAINER_RESTART_KEYS = tuple(key for key in RESTART_KEYS if key != 'max_memory_kib') + (
    'init', 'init_args', 'init_env', 'rootfs', 'mounts', 'idmap', 'host_network')
_INIT_WAIT = 15
CONTAINER_OPTION_NAMES = dict(OPTION_NAMES, init_args='init', init_env='env', host_network='share_host_network',
                              max_memory_kib='memory', max_vcpus='vcpus')


class ContainerManager(GuestManager):
    kind = 'container'
    result_key = 'container'
    default_uri = 'lxc:///'
    address_sources = ADDRESS_SOURCES
    restart_keys = CONTAINER_RESTART_KEYS
    option_names = CONTAINER_OPTION_NAMES
    how_to_define = 'to define it give rootfs (or share_host_root: true) and memory, or xml'
    shutdown_hint = 'its init may ignore the request'

    # -- validation (no connection) -------------------------------------------
    def validate(self):
        self.uri = resolve_uri(self.params.get('uri') or self.default_uri)
        self.local = is_local_uri(self.uri)
        # The init's PID and namespaces are known for libvirt's LXC driver on this host only.
        self.lxc_here = self.local and self.uri.split(':', 1)[0].split('+', 1)[0] == 'lxc'
        self.hostname = hostname_spec(self.params.get('hostname'))
        self.archive = None
        if self.hostname and not self.lxc_here:
            raise InvalidSpec('hostname', 'is set inside the running container, which needs libvirt\'s LXC driver '
                                          'on the host the module runs on (uri %r)' % self.uri)
        super().validate()

    def defines_something(self):
        return defines_something(self.params)

    def make_spec(self):
        return container_spec(self.params)

    def validate_spec(self):
        """The host's side of the spec: the rootfs (or its archive), mount
        sources and the init - checked before anything is touched."""
        if self.strict:
            return
        rootfs = self.params.get('rootfs')
        if not self.local:
            if rootfs and rootfs.get('archive'):
                raise InvalidSpec('rootfs.archive', 'unpacking needs the container host to be the host the module '
                                                    'runs on (uri %r is remote)' % self.uri)
            return  # paths are on another host: libvirt checks them when it starts the container
        if rootfs is not None:
            self.archive = check_rootfs(rootfs_spec(rootfs))
        check_mount_sources(self.spec['mounts'])
        if self.spec['init'] is not None and self.spec['rootfs'] is not None and not self._rootfs_pending():
            check_init(self.spec['rootfs'], self.spec['init'])
        if self.spec['idmap'] and self.spec['rootfs']:
            check_idmap_access(self.spec['rootfs'], mapped_root(self.spec['idmap']['uid']),
                               mapped_root(self.spec['idmap']['gid']), owned=not self._rootfs_pending())

    def _rootfs_pending(self):
        return self.archive is not None and self.archive.needed

    # -- plan ---------------------------------------------------------------------
    def plan(self):
        status = self._status()
        if status is not None:  # never stop or remove a virtual machine that happens to have the name
            # Read as the update reads it (secure: its passwords), which then asks libvirt no more.
            xml = self.driver.domain_xml(self.name, inactive=status['persistent'], secure=True)
            virt_type = parse_domain_xml(xml)['virt_type']
            if virt_type != 'lxc':
                raise Conflict("it is a %s domain, not a container (manage it with virtkit.virt.domain)" % virt_type,
                               resource=self.resource, action='manage')
        plan = super().plan()
        if self.state != 'absent':
            self._plan_hostname(plan, status)
        return plan

    def check_new(self):
        super().check_new()
        if self.strict:
            return
        if self.spec['rootfs'] is None:
            raise InvalidSpec('rootfs', 'a new container needs its root filesystem: rootfs {path} or {path, '
                                        'archive}, or share_host_root: true to share the host\'s')
        if self.local and self.spec['init'] is None and not self._rootfs_pending():
            check_init(self.spec['rootfs'], DEFAULT_INIT, default=True)

    def complete(self, desired, config):
        self._maxima(desired, config)
        if desired.get('vcpus') is not None:
            desired['max_vcpus'] = desired['vcpus']
        if config is None:
            if desired.get('init') is None:
                desired['init'], desired['init_args'] = DEFAULT_INIT, []
            if desired.get('host_network') is None:
                desired['host_network'] = False  # the host's network only when asked for

    def plan_storage(self, plan):
        if self.archive is None:
            return
        if self.archive.needed:
            plan.add('unpack %s into %s' % (shown_url(self.archive.source), self.archive.path),
                     lambda: self.archive.unpack(self.run_command))
        if self.archive.warning:
            plan.warnings.append('container %r: %s' % (self.name, self.archive.warning))

    def _plan_hostname(self, plan, status):
        wanted = self.hostname
        if not wanted or self.state not in ('running', 'paused', 'present'):
            return
        if any(name in ('start', 'restart') for name in plan.action_names):
            current = self.name  # what libvirt's LXC driver names a container it starts
        elif status is not None and status['state'] in ACTIVE_STATES:
            current = self._hostname(status)
        else:
            return  # not running: set when this module starts it
        if current != wanted:
            plan.add('set hostname to %s (live)' % wanted, lambda: set_hostname_of(self._init_pid(), wanted, self.run_command))

    # -- the running container ------------------------------------------------------
    def _init_pid(self, status=None):
        """Host PID of the container's init (None when it is not running, or elsewhere)."""
        if not self.lxc_here:
            return None
        status = status or self._status()
        if status is None or status['state'] not in ACTIVE_STATES:
            return None
        return init_pid(status['id'])

    def _hostname(self, status):
        pid = self._init_pid(status)
        if pid is None:
            return None
        try:
            return hostname_of(pid, self.run_command)
        except DriverError:
            return None

    def after_start(self):
        """libvirt learns a started container's init a moment after the start
        returns; until then nothing can enter it (lxc-enter-namespace, the
        lxc connection plugin) and a shutdown reaches nothing."""
        deadline = time.monotonic() + _INIT_WAIT
        while True:
            try:
                if self.driver.container_namespaces(self.name):
                    return
            except DriverError as exc:
                if getattr(exc, 'unsupported', False):
                    return  # a libvirt without the call: nothing to wait for
                status = self._status()
                if status is None or status['state'] not in ACTIVE_STATES:
                    return  # its init ended already: the result shows the state
            if time.monotonic() > deadline:
                self.warnings.append('container %r: libvirt did not report its init within %d s of the start'
                                     % (self.name, _INIT_WAIT))
                return
            time.sleep(0.2)

    def request_shutdown(self):
        pid = self._init_pid()
        self.driver.shutdown_domain(self.name, shutdown_mode(pid) if pid else None)

    # -- result -----------------------------------------------------------------------
    def facts_of(self, status, addresses):
        return container_facts(self.driver, self.name, status, addresses, self._init_pid(status),
                               self._hostname(status))


def mapped_root(ranges):
    """The host ID that ID 0 in the container maps to."""
    return next(r['target'] for r in ranges if r['start'] == 0)


def container_facts(driver, name, status, addresses=None, pid=None, hostname=None):
    """A container as the ``container`` result shows it (the running
    definition while it runs, else the persistent one)."""
    active = status['state'] in ACTIVE_STATES
    parsed = parse_domain_xml(driver.domain_xml(name))
    if addresses is None:
        addresses = read_addresses(driver, name, list(ADDRESS_SOURCES)) if active else {}
    interfaces = [dict(iface, addresses=list(addresses.get(iface['mac'] or '', []))) for iface in parsed['interfaces']]
    first_ip = next((a for i in interfaces for a in i['addresses'] if ':' not in a), None)
    return {
        'name': name, 'exists': True, 'uuid': status['uuid'], 'state': status['state'],
        'persistent': status['persistent'], 'autostart': status['autostart'],
        'init_pid': pid if active else None,
        'init': [parsed.get('init')] + list(parsed.get('init_args') or []) if parsed.get('init') else None,
        'env': parsed.get('init_env') or {},
        'hostname': hostname,
        'rootfs': parsed.get('rootfs') or None,
        'share_host_root': parsed.get('rootfs') == '',
        'share_host_network': bool(parsed.get('host_network')),
        'mounts': parsed.get('mounts') or [],
        'idmap': parsed.get('idmap') or {},
        'memory': kib_to_mib(parsed['memory_kib']),
        'vcpus': parsed['vcpus'], 'cpu_shares': parsed.get('cpu_shares'),
        'interfaces': interfaces, 'tags': parsed['tags'],
        'ip': first_ip or next((a for i in interfaces for a in i['addresses']), None),
    }
