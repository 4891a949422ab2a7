# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The libvirt implementation of the driver interface.

This is the only file of the collection that imports ``libvirt``. Every call
goes through ``_run``, which maps libvirt errors to the typed errors and
reconnects once when the daemon connection was lost underneath us.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import traceback

from ansible_collections.virtkit.virt.plugins.module_utils.driver.interface import DOMAIN_STATES, POOL_STATES, Driver
from ansible_collections.virtkit.virt.plugins.module_utils.driver.parallel import run_bounded
from ansible_collections.virtkit.virt.plugins.module_utils.errors import (
    ConnectionFailed, DriverError, MissingLibrary, NotFound)

try:
    import libvirt
    LIBVIRT_IMPORT_ERROR = None
except ImportError:
    libvirt = None
    LIBVIRT_IMPORT_ERROR = traceback.format_exc()

try:
    import libvirt_lxc  # the LXC-only part of libvirt-python
except ImportError:
    libvirt_lxc = None


def _silence(_ctx, _err):
    """libvirt prints every error to stderr by default; we report them ourselves."""


if libvirt is not None:
    libvirt.registerErrorHandler(_silence, None)
    _NOT_FOUND = frozenset(getattr(libvirt, code) for code in (
        'VIR_ERR_NO_DOMAIN', 'VIR_ERR_NO_NETWORK', 'VIR_ERR_NO_STORAGE_POOL',
        'VIR_ERR_NO_STORAGE_VOL') if hasattr(libvirt, code))
    _CONNECTION_LOST = frozenset(getattr(libvirt, code) for code in (
        'VIR_ERR_SYSTEM_ERROR', 'VIR_ERR_RPC', 'VIR_ERR_NO_CONNECT',
        'VIR_ERR_INVALID_CONN') if hasattr(libvirt, code))
    _UNSUPPORTED = frozenset(getattr(libvirt, code) for code in (
        'VIR_ERR_NO_SUPPORT', 'VIR_ERR_INVALID_ARG', 'VIR_ERR_ARGUMENT_UNSUPPORTED')
        if hasattr(libvirt, code))
    _ADDRESS_SOURCES = {
        'lease': libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE,
        'agent': libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT,
        'arp': getattr(libvirt, 'VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP', 2),
    }
    _NETWORK_UPDATE_COMMANDS = {
        'modify': libvirt.VIR_NETWORK_UPDATE_COMMAND_MODIFY,
        'delete': libvirt.VIR_NETWORK_UPDATE_COMMAND_DELETE,
        'add-last': libvirt.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST,
        'add-first': libvirt.VIR_NETWORK_UPDATE_COMMAND_ADD_FIRST,
    }
    _NETWORK_SECTIONS = {
        'bridge': libvirt.VIR_NETWORK_SECTION_BRIDGE,
        'domain': libvirt.VIR_NETWORK_SECTION_DOMAIN,
        'ip': libvirt.VIR_NETWORK_SECTION_IP,
        'ip-dhcp-host': libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST,
        'ip-dhcp-range': libvirt.VIR_NETWORK_SECTION_IP_DHCP_RANGE,
        'forward': libvirt.VIR_NETWORK_SECTION_FORWARD,
        'forward-interface': libvirt.VIR_NETWORK_SECTION_FORWARD_INTERFACE,
        'portgroup': libvirt.VIR_NETWORK_SECTION_PORTGROUP,
        'dns-host': libvirt.VIR_NETWORK_SECTION_DNS_HOST,
        'dns-txt': libvirt.VIR_NETWORK_SECTION_DNS_TXT,
        'dns-srv': libvirt.VIR_NETWORK_SECTION_DNS_SRV,
    }


def require_libvirt():
    if libvirt is None:
        raise MissingLibrary(
            'The Python library libvirt-python is missing on the target host (the host the module runs on). '
            'Install it there: "apt-get install python3-libvirt", "dnf install python3-libvirt" or '
            '"pip install libvirt-python".', action='import libvirt')


def undefine_flags(nvram=True, snapshots=True, managed_save=True, tpm=True):
    """virDomainUndefineFlags flags from the binding's own constants (0 for
    those an older binding lacks). Without NVRAM a UEFI guest that ran cannot
    be undefined ("cannot undefine domain with nvram"); TPM: the emulator's
    state, which a persistent_state TPM otherwise keeps."""
    flags = 0
    for wanted, flag in ((nvram, 'VIR_DOMAIN_UNDEFINE_NVRAM'),
                         (tpm, 'VIR_DOMAIN_UNDEFINE_TPM'),
                         (snapshots, 'VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA'),
                         (snapshots, 'VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA'),
                         (managed_save, 'VIR_DOMAIN_UNDEFINE_MANAGED_SAVE')):
        if wanted:
            flags |= getattr(libvirt, flag, 0)
    return flags


def _version_string(number):
    """libvirt packs versions as major * 1,000,000 + minor * 1,000 + release."""
    if not number:
        return None
    return '%d.%d.%d' % (number // 1000000, (number // 1000) % 1000, number % 1000)


# Domain XML has no bulk call: this many requests are kept in flight on the
# one connection (libvirtd serves 5 per client by default), which hides the
# round trip to a remote host.
XML_READERS = 4


def _xml_or_none(dom):
    """The domain's XML; None when it was undefined meanwhile."""
    try:
        return dom.XMLDesc(0)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() in _NOT_FOUND:
            return None
        raise


def _in_threads(items, func, workers):
    """[func(item)] in the order of ``items``, ``workers`` calls at a time
    (libvirt-python lets go of the GIL while it waits on the daemon): one
    job a worker, each taking every ``workers``-th item. The first
    exception is raised in the caller."""
    workers = max(1, min(workers, len(items)))
    jobs = [lambda share=items[first::workers]: [func(item) for item in share] for first in range(workers)]
    results = [None] * len(items)
    for first, (ok, value) in enumerate(run_bounded(jobs, concurrency=workers, timeout=None) if items else []):
        if not ok:
            raise value
        results[first::workers] = value
    return results


class LibvirtDriver(Driver):
    """Driver over one libvirt connection (opened lazily, reopened once if lost)."""

    def __init__(self, uri, username=None, password=None, readonly=False):
        require_libvirt()
        self.uri = uri
        self._username = username
        self._password = password
        self._readonly = readonly
        self._conn = None

    # -- connection --------------------------------------------------------
    def _open(self):
        tried = []
        try:
            if self._username is not None or self._password is not None:
                tried.append('openAuth with username %r' % (self._username,))
                flags = libvirt.VIR_CONNECT_RO if self._readonly else 0
                auth = [[libvirt.VIR_CRED_AUTHNAME, libvirt.VIR_CRED_USERNAME,
                         libvirt.VIR_CRED_PASSPHRASE, libvirt.VIR_CRED_NOECHOPROMPT],
                        self._credentials, None]
                conn = libvirt.openAuth(self.uri, auth, flags)
            elif self._readonly:
                tried.append('a read-only connection')
                conn = libvirt.openReadOnly(self.uri)
            else:
                tried.append('a read-write connection')
                conn = libvirt.open(self.uri)
        except libvirt.libvirtError as exc:
            raise ConnectionFailed(
                '%s (tried %s)' % (exc.get_error_message() or exc, ', '.join(tried)),
                resource='libvirt at %r' % self.uri, action='connect to')
        if conn is None:
            raise ConnectionFailed('no connection (tried %s)' % ', '.join(tried),
                                   resource='libvirt at %r' % self.uri, action='connect to')
        return conn

    def _credentials(self, credentials, _opaque):
        for cred in credentials:
            if cred[0] in (libvirt.VIR_CRED_AUTHNAME, libvirt.VIR_CRED_USERNAME):
                cred[4] = self._username or ''
            elif cred[0] in (libvirt.VIR_CRED_PASSPHRASE, libvirt.VIR_CRED_NOECHOPROMPT):
                cred[4] = self._password or ''
            else:
                return -1
        return 0

    def _connection(self):
        if self._conn is None:
            self._conn = self._open()
        return self._conn

    def close(self):
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except libvirt.libvirtError:
                pass

    def _lost(self, exc):
        if exc.get_error_code() not in _CONNECTION_LOST:
            return False
        try:
            return not self._conn.isAlive()
        except libvirt.libvirtError:
            return True

    def _run(self, action, resource, func):
        """Call ``func(conn)``; one reconnect on a dropped connection."""
        for attempt in (1, 2):
            conn = self._connection()
            try:
                return func(conn)
            except libvirt.libvirtError as exc:
                if attempt == 1 and self._lost(exc):
                    self.close()
                    continue
                raise self._translate(exc, action, resource)

    @staticmethod
    def _translate(exc, action, resource):
        message = exc.get_error_message() or str(exc)
        if exc.get_error_code() in _NOT_FOUND:
            return NotFound('%s not found: %s' % (resource, message), resource=resource, action=action)
        error = DriverError(message, resource=resource, action=action)
        error.code = exc.get_error_code()
        error.unsupported = exc.get_error_code() in _UNSUPPORTED
        return error

    # -- host --------------------------------------------------------------
    def host_summary(self):
        def summary(conn):
            info = conn.getInfo()
            try:
                hv_version = _version_string(conn.getVersion())
            except libvirt.libvirtError:
                hv_version = None
            # getInfo's memory can be one NUMA cell's or a boot-time figure
            # (seen: 4.7 GiB on a 24 GiB host); the node stats are the truth.
            try:
                stats = conn.getMemoryStats(libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS, 0)
            except libvirt.libvirtError:
                stats = {}
            free_kib = stats.get('free', conn.getFreeMemory() // 1024)
            return {
                'hostname': conn.getHostname(),
                'driver': conn.getType(),
                'hypervisor_version': hv_version,
                'libvirt_version': _version_string(conn.getLibVersion()),
                'cpu_model': info[0],
                'memory_kib': stats.get('total', info[1] * 1024),
                'cpus': info[2],
                'mhz': info[3],
                'numa_nodes': info[4],
                'sockets': info[5],
                'cores': info[6],
                'threads': info[7],
                'free_memory_kib': free_kib,
                'available_memory_kib': free_kib + stats.get('buffers', 0) + stats.get('cached', 0),
                'capabilities_xml': conn.getCapabilities(),
            }
        return self._run('read host facts', 'host at %r' % self.uri, summary)

    # -- domains -----------------------------------------------------------
    def _domain(self, conn, name):
        return conn.lookupByName(name)

    def _names(self, lister, flags):
        try:
            return set(obj.name() for obj in lister(flags))
        except libvirt.libvirtError as exc:
            if exc.get_error_code() in _UNSUPPORTED:
                return None
            raise

    def list_domains(self):
        return self._run('list domains', 'domains', lambda conn: [r for r, _dom in self._domain_records(conn)])

    def _domain_records(self, conn):
        """[(record, virDomain)] of every domain, in bulk calls: the domains,
        the names of the autostarted and the persistent ones, and every
        state at once (a call per guest only where the driver lacks those)."""
        domains = conn.listAllDomains(0)
        autostart = self._names(conn.listAllDomains, libvirt.VIR_CONNECT_LIST_DOMAINS_AUTOSTART)
        persistent = self._names(conn.listAllDomains, libvirt.VIR_CONNECT_LIST_DOMAINS_PERSISTENT)
        states = {}
        try:
            for dom, stats in conn.getAllDomainStats(libvirt.VIR_DOMAIN_STATS_STATE, 0):
                states[dom.name()] = stats.get('state.state')
        except libvirt.libvirtError as exc:
            if exc.get_error_code() not in _UNSUPPORTED:
                raise
        result = []
        for dom in domains:
            name = dom.name()
            state = states.get(name)
            if state is None:
                state = dom.state()[0]
            dom_id = dom.ID()
            result.append(({
                'name': name, 'uuid': dom.UUIDString(), 'id': dom_id if dom_id >= 0 else None,
                'state': DOMAIN_STATES[state] if state < len(DOMAIN_STATES) else 'nostate',
                'autostart': name in autostart if autostart is not None else bool(dom.autostart()),
                'persistent': name in persistent if persistent is not None else bool(dom.isPersistent()),
            }, dom))
        return result

    def list_domains_with_xml(self):
        def listing(conn):
            pairs = self._domain_records(conn)
            xml = _in_threads([dom for _record, dom in pairs], _xml_or_none, XML_READERS)
            # None: undefined meanwhile, left out
            return [dict(record, xml=text) for (record, _dom), text in zip(pairs, xml) if text is not None]
        return self._run('read the XML of', 'domains', listing)

    def domain_status(self, name):
        def status(conn):
            dom = self._domain(conn, name)
            state = dom.state()[0]
            return {'name': dom.name(), 'uuid': dom.UUIDString(),
                    'id': dom.ID() if dom.ID() >= 0 else None,
                    'state': DOMAIN_STATES[state] if state < len(DOMAIN_STATES) else 'nostate',
                    'persistent': bool(dom.isPersistent()), 'autostart': bool(dom.autostart())}
        return self._run('read', 'domain %r' % name, status)

    def domain_xml(self, name, inactive=False, secure=False):
        flags = libvirt.VIR_DOMAIN_XML_INACTIVE if inactive else 0
        if secure:
            flags |= libvirt.VIR_DOMAIN_XML_SECURE
        return self._run('read', 'domain %r' % name, lambda conn: self._domain(conn, name).XMLDesc(flags))

    def define_domain(self, xml):
        return self._run('define', 'domain', lambda conn: conn.defineXML(xml).name())

    def undefine_domain(self, name, nvram=True, snapshots=True, managed_save=True, tpm=True):
        flags = undefine_flags(nvram=nvram, snapshots=snapshots, managed_save=managed_save, tpm=tpm)
        # A daemon older than the binding (TPM flag: libvirt 8.9) refuses flags it does not know.
        without_tpm = flags & ~getattr(libvirt, 'VIR_DOMAIN_UNDEFINE_TPM', 0)

        def undefine(conn):
            dom = self._domain(conn, name)
            for attempt in [flags] + ([without_tpm] if without_tpm != flags else []):
                try:
                    dom.undefineFlags(attempt)
                    return
                except libvirt.libvirtError as exc:
                    if exc.get_error_code() not in _UNSUPPORTED:
                        raise
            # Drivers without NVRAM or snapshots (LXC, test) reject the flags.
            dom.undefine()
        return self._run('undefine', 'domain %r' % name, undefine)

    def _domain_call(self, action, name, method, *args):
        return self._run(action, 'domain %r' % name,
                         lambda conn: getattr(self._domain(conn, name), method)(*args))

    def start_domain(self, name):
        self._domain_call('start', name, 'create')

    def shutdown_domain(self, name, mode=None):
        if mode is None:
            self._domain_call('shut down', name, 'shutdown')
            return
        flag = {'acpi': 'VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN', 'agent': 'VIR_DOMAIN_SHUTDOWN_GUEST_AGENT',
                'initctl': 'VIR_DOMAIN_SHUTDOWN_INITCTL', 'signal': 'VIR_DOMAIN_SHUTDOWN_SIGNAL'}[mode]
        self._domain_call('shut down', name, 'shutdownFlags', getattr(libvirt, flag))

    def destroy_domain(self, name):
        self._domain_call('destroy', name, 'destroy')

    def suspend_domain(self, name):
        self._domain_call('pause', name, 'suspend')

    def resume_domain(self, name):
        self._domain_call('resume', name, 'resume')

    def set_domain_autostart(self, name, enabled):
        self._domain_call('set autostart of', name, 'setAutostart', 1 if enabled else 0)

    @staticmethod
    def _affect(live, config):
        flags = 0
        if live:
            flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE
        if config:
            flags |= libvirt.VIR_DOMAIN_AFFECT_CONFIG
        return flags

    def set_domain_memory(self, name, kib, live, config):
        self._domain_call('set memory of', name, 'setMemoryFlags', kib, self._affect(live, config))

    def set_domain_vcpus(self, name, count, live, config):
        self._domain_call('set vcpus of', name, 'setVcpusFlags', count, self._affect(live, config))

    def container_namespaces(self, name):
        def count(conn):
            if libvirt_lxc is None:
                raise DriverError('libvirt-python has no libvirt_lxc module', resource='domain %r' % name,
                                  action='open the namespaces of')
            fds = libvirt_lxc.lxcOpenNamespace(self._domain(conn, name), 0) or []
            for fd in fds:
                os.close(fd)
            return len(fds)
        return self._run('open the namespaces of', 'domain %r' % name, count)

    def set_domain_cpu_shares(self, name, shares, live, config):
        self._domain_call('set the CPU shares of', name, 'setSchedulerParametersFlags', {'cpu_shares': shares},
                          self._affect(live, config))

    def attach_device(self, name, xml, live, config):
        self._domain_call('attach a device to', name, 'attachDeviceFlags', xml, self._affect(live, config))

    def update_device(self, name, xml, live, config):
        self._domain_call('update a device of', name, 'updateDeviceFlags', xml, self._affect(live, config))

    def detach_device(self, name, xml, live, config):
        self._domain_call('detach a device from', name, 'detachDeviceFlags', xml, self._affect(live, config))

    def set_domain_metadata(self, name, xml, key, namespace, live, config):
        self._domain_call('set the metadata of', name, 'setMetadata', libvirt.VIR_DOMAIN_METADATA_ELEMENT,
                          xml, key, namespace, self._affect(live, config))

    def host_capabilities(self):
        return self._run('read the capabilities of', 'host at %r' % self.uri, lambda conn: conn.getCapabilities())

    def domain_addresses(self, name, source):
        def addresses(conn):
            dom = self._domain(conn, name)
            try:
                raw = dom.interfaceAddresses(_ADDRESS_SOURCES[source], 0) or {}
            except libvirt.libvirtError as exc:
                # The agent starts late in a guest's boot (and again after each
                # restart): until it answers it knows no address - not a
                # broken source. An agent channel that is not there is one.
                if source == 'agent' and exc.get_error_code() == getattr(libvirt, 'VIR_ERR_AGENT_UNRESPONSIVE', None):
                    return []
                raise
            result = []
            for ifname, data in sorted(raw.items()):
                result.append({
                    'name': ifname, 'mac': data.get('hwaddr'),
                    'addresses': [{'type': 'ipv4' if addr['type'] == libvirt.VIR_IP_ADDR_TYPE_IPV4 else 'ipv6',
                                   'addr': addr['addr'], 'prefix': addr['prefix']}
                                  for addr in data.get('addrs') or []],
                })
            return result
        return self._run('read %s addresses of' % source, 'domain %r' % name, addresses)

    # -- networks ----------------------------------------------------------
    @staticmethod
    def _network_record(net, active=None, persistent=None, autostart=None):
        name = net.name()
        is_active = name in active if active is not None else bool(net.isActive())
        try:
            bridge = net.bridgeName()
        except libvirt.libvirtError:
            bridge = None  # networks without a bridge (macvtap, hostdev)
        return {'name': name, 'uuid': net.UUIDString(), 'active': is_active,
                'persistent': name in persistent if persistent is not None else bool(net.isPersistent()),
                'autostart': name in autostart if autostart is not None else bool(net.autostart()),
                'bridge': bridge}

    def list_networks(self):
        def listing(conn):
            lister = conn.listAllNetworks
            active = self._names(lister, libvirt.VIR_CONNECT_LIST_NETWORKS_ACTIVE)
            persistent = self._names(lister, libvirt.VIR_CONNECT_LIST_NETWORKS_PERSISTENT)
            autostart = self._names(lister, libvirt.VIR_CONNECT_LIST_NETWORKS_AUTOSTART)
            return [self._network_record(net, active, persistent, autostart) for net in lister(0)]
        return self._run('list networks', 'networks', listing)

    def network_status(self, name):
        return self._run('read', 'network %r' % name,
                         lambda conn: self._network_record(conn.networkLookupByName(name)))

    def network_xml(self, name, inactive=False):
        flags = libvirt.VIR_NETWORK_XML_INACTIVE if inactive else 0
        return self._run('read', 'network %r' % name, lambda conn: conn.networkLookupByName(name).XMLDesc(flags))

    def define_network(self, xml):
        return self._run('define', 'network', lambda conn: conn.networkDefineXML(xml).name())

    def _network_call(self, action, name, method, *args):
        return self._run(action, 'network %r' % name,
                         lambda conn: getattr(conn.networkLookupByName(name), method)(*args))

    def undefine_network(self, name):
        self._network_call('undefine', name, 'undefine')

    def start_network(self, name):
        self._network_call('start', name, 'create')

    def stop_network(self, name):
        self._network_call('stop', name, 'destroy')

    def set_network_autostart(self, name, enabled):
        self._network_call('set autostart of', name, 'setAutostart', 1 if enabled else 0)

    def update_network(self, name, command, section, xml, parent_index=-1, live=True, config=True):
        flags = 0
        if live:
            flags |= libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE
        if config:
            flags |= libvirt.VIR_NETWORK_UPDATE_AFFECT_CONFIG
        self._network_call('update (%s %s)' % (command, section), name, 'update',
                           _NETWORK_UPDATE_COMMANDS[command], _NETWORK_SECTIONS[section],
                           parent_index, xml, flags)

    def network_leases(self, name):
        def leases(conn):
            return [{'mac': lease.get('mac'), 'ip': lease.get('ipaddr'), 'prefix': lease.get('prefix'),
                     'hostname': lease.get('hostname'), 'expiry': lease.get('expirytime'),
                     'type': 'ipv4' if lease.get('type') == libvirt.VIR_IP_ADDR_TYPE_IPV4 else 'ipv6'}
                    for lease in conn.networkLookupByName(name).DHCPLeases() or []]
        return self._run('read DHCP leases of', 'network %r' % name, leases)

    # -- storage pools -----------------------------------------------------
    @staticmethod
    def _pool_record(pool):
        state, capacity, allocation, available = pool.info()
        return {'name': pool.name(), 'uuid': pool.UUIDString(),
                'active': bool(pool.isActive()), 'persistent': bool(pool.isPersistent()),
                'autostart': bool(pool.autostart()),
                'state': POOL_STATES[state] if state < len(POOL_STATES) else 'unknown',
                'capacity': capacity, 'allocation': allocation, 'available': available}

    def list_pools(self):
        return self._run('list storage pools', 'storage pools',
                         lambda conn: [self._pool_record(pool) for pool in conn.listAllStoragePools(0)])

    def pool_status(self, name):
        return self._run('read', 'storage pool %r' % name,
                         lambda conn: self._pool_record(conn.storagePoolLookupByName(name)))

    def pool_xml(self, name, inactive=False):
        flags = libvirt.VIR_STORAGE_XML_INACTIVE if inactive else 0
        return self._run('read', 'storage pool %r' % name,
                         lambda conn: conn.storagePoolLookupByName(name).XMLDesc(flags))

    def define_pool(self, xml):
        return self._run('define', 'storage pool', lambda conn: conn.storagePoolDefineXML(xml, 0).name())

    def _pool_call(self, action, name, method, *args):
        return self._run(action, 'storage pool %r' % name,
                         lambda conn: getattr(conn.storagePoolLookupByName(name), method)(*args))

    def build_pool(self, name, no_overwrite=False):
        flags = libvirt.VIR_STORAGE_POOL_BUILD_NO_OVERWRITE if no_overwrite else 0
        try:
            self._pool_call('build', name, 'build', flags)
        except DriverError as exc:
            # NO_OVERWRITE found a filesystem, volume group or partition
            # table on the device: the storage is there already, keep it.
            if no_overwrite and exc.code == getattr(libvirt, 'VIR_ERR_STORAGE_POOL_BUILT', None):
                return exc.message
            raise
        return None

    def start_pool(self, name):
        self._pool_call('start', name, 'create', 0)

    def stop_pool(self, name):
        self._pool_call('stop', name, 'destroy')

    def delete_pool(self, name):
        self._pool_call('delete the storage of', name, 'delete', 0)

    def undefine_pool(self, name):
        self._pool_call('undefine', name, 'undefine')

    def refresh_pool(self, name):
        self._pool_call('refresh', name, 'refresh', 0)

    def set_pool_autostart(self, name, enabled):
        self._pool_call('set autostart of', name, 'setAutostart', 1 if enabled else 0)

    # -- storage volumes ---------------------------------------------------
    def list_volumes(self, pool):
        def listing(conn):
            result = []
            for vol in conn.storagePoolLookupByName(pool).listAllVolumes(0):
                kind, capacity, allocation = vol.info()
                result.append({'name': vol.name(), 'key': vol.key(), 'path': vol.path(),
                               'type': kind, 'capacity': capacity, 'allocation': allocation})
            return result
        return self._run('list volumes of', 'storage pool %r' % pool, listing)

    def _volume(self, conn, pool, name):
        return conn.storagePoolLookupByName(pool).storageVolLookupByName(name)

    def volume_xml(self, pool, name):
        return self._run('read', 'volume %r in pool %r' % (name, pool),
                         lambda conn: self._volume(conn, pool, name).XMLDesc(0))

    def create_volume(self, pool, xml, clone_from=None):
        def create(conn):
            target = conn.storagePoolLookupByName(pool)
            if clone_from:
                return target.createXMLFrom(xml, self._volume(conn, clone_from[0], clone_from[1]), 0).name()
            return target.createXML(xml, 0).name()
        return self._run('create a volume in', 'storage pool %r' % pool, create)

    def delete_volume(self, pool, name, wipe=False):
        def delete(conn):
            vol = self._volume(conn, pool, name)
            if wipe:
                vol.wipe(0)
            vol.delete(0)
        self._run('delete', 'volume %r in pool %r' % (name, pool), delete)

    def resize_volume(self, pool, name, capacity, shrink=False):
        flags = libvirt.VIR_STORAGE_VOL_RESIZE_SHRINK if shrink else 0
        self._run('resize', 'volume %r in pool %r' % (name, pool),
                  lambda conn: self._volume(conn, pool, name).resize(capacity, flags))

    def upload_volume(self, pool, name, reader, length):
        start = reader.tell()

        def upload(conn):
            reader.seek(start)  # a retry after a reconnect starts over
            vol = self._volume(conn, pool, name)
            stream = conn.newStream(0)
            try:
                vol.upload(stream, 0, length, 0)
                stream.sendAll(lambda _stream, nbytes, fileobj: fileobj.read(nbytes), reader)
                stream.finish()
            except BaseException:
                try:
                    stream.abort()
                except libvirt.libvirtError:
                    pass
                raise
        self._run('upload to', 'volume %r in pool %r' % (name, pool), upload)

    def download_volume(self, pool, name, offset, length):
        def download(conn):
            vol = self._volume(conn, pool, name)
            stream = conn.newStream(0)
            chunks, received = [], 0
            try:
                vol.download(stream, offset, length, 0)
                while received < length:
                    data = stream.recv(min(262144, length - received))
                    if not data:
                        break  # end of the volume
                    chunks.append(data)
                    received += len(data)
                stream.finish()
            except BaseException:
                try:
                    stream.abort()
                except libvirt.libvirtError:
                    pass
                raise
            return b''.join(chunks)
        return self._run('read the content of', 'volume %r in pool %r' % (name, pool), download)

    def volume_by_path(self, path):
        def lookup(conn):
            vol = conn.storageVolLookupByPath(path)
            return {'pool': vol.storagePoolLookupByVolume().name(), 'name': vol.name()}
        return self._run('look up', 'volume at %r' % path, lookup)
