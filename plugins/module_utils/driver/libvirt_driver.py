# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The libvirt implementation of the driver interface.

This is the only file of the collection that imports ``libvirt``. Every call
goes through ``_run``, which maps libvirt errors to the typed errors and,
when the daemon went away in the middle of a call (killed, restarted),
waits a bounded time for it to answer again and makes the call once more -
or, for a call that may have taken effect and cannot be repeated blindly,
says that the daemon went away and that a re-run will see what was done.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import time
import traceback

from ansible_collections.virtkit.virt.plugins.module_utils.driver.interface import DOMAIN_STATES, POOL_STATES, Driver
from ansible_collections.virtkit.virt.plugins.module_utils.errors import (
    ConnectionFailed, DriverError, MissingLibrary, NotFound)

# How long a task waits for a daemon that went away in the middle of it to
# answer again: a restart takes a second or two; a first start that probes
# QEMU takes longer, and then the task fails saying so.
RECONNECT_WAIT = 20
# Why a domain is shut off or crashed (virDomainShutoffReason, virDomainCrashedReason).
_SHUTOFF_REASONS = ('unknown', 'shutdown', 'destroyed', 'crashed', 'migrated', 'saved', 'failed', 'from snapshot',
                    'daemon')
_CRASHED_REASONS = ('unknown', 'panicked')

try:
    import libvirt
    LIBVIRT_IMPORT_ERROR = None
except ImportError:
    libvirt = None
    LIBVIRT_IMPORT_ERROR = traceback.format_exc()


def _silence(_ctx, _err):
    """libvirt prints every error to stderr by default; we report them ourselves."""


# Empty without libvirt-python, so that the files built on this one import; their drivers fail on use.
_NOT_FOUND = _CONNECTION_LOST = _UNSUPPORTED = frozenset()
if libvirt is not None:
    libvirt.registerErrorHandler(_silence, None)
    _NOT_FOUND = frozenset(getattr(libvirt, code) for code in (
        'VIR_ERR_NO_DOMAIN', 'VIR_ERR_NO_NETWORK', 'VIR_ERR_NO_STORAGE_POOL',
        'VIR_ERR_NO_STORAGE_VOL', 'VIR_ERR_NO_DOMAIN_SNAPSHOT', 'VIR_ERR_NO_DOMAIN_CHECKPOINT')
        if hasattr(libvirt, code))
    _CONNECTION_LOST = frozenset(getattr(libvirt, code) for code in (
        'VIR_ERR_SYSTEM_ERROR', 'VIR_ERR_RPC', 'VIR_ERR_NO_CONNECT',
        'VIR_ERR_INVALID_CONN') if hasattr(libvirt, code))
    _UNSUPPORTED = frozenset(getattr(libvirt, code) for code in (
        'VIR_ERR_NO_SUPPORT', 'VIR_ERR_INVALID_ARG', 'VIR_ERR_ARGUMENT_UNSUPPORTED')
        if hasattr(libvirt, code))
    _NO_SUPPORT = getattr(libvirt, 'VIR_ERR_NO_SUPPORT', 3)
    # The XML does not parse or libvirt's schema refuses it (define with validation).
    _INVALID_XML = frozenset(getattr(libvirt, code) for code in (
        'VIR_ERR_XML_INVALID_SCHEMA', 'VIR_ERR_XML_ERROR', 'VIR_ERR_XML_DETAIL') if hasattr(libvirt, code))
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


# What a connection's driver cannot do although libvirt has the call, by the
# driver's name (virConnectGetType): libvirt says so only when it is tried, or
# quietly does less (metadata in a defined XML is dropped). The rest is learned
# from the calls that fail (LibvirtDriver._learn).
DRIVER_LIMITS = {
    'ESX': {
        'redefine_domain': 'changing the definition of an existing domain (it defines new domains only)',
        'live_max_memory': 'a live change of the memory size (only a powered-off domain gets one)',
        'domain_metadata': 'domain metadata (tags)',
        # ESX makes its own snapshots (delta disks it places and merges) of
        # every disk at once: libvirt takes no overlay files or disk list.
        'external_snapshot': 'an external snapshot (overlay files)',
        # The snapshot flag REDEFINE is refused ("unsupported flags (0x1)").
        'snapshot_redefine': 'changing an existing snapshot (its description)',
        # libvirt keeps no metadata of esx snapshots: METADATA_ONLY is taken
        # and does nothing, the snapshot stays on the host.
        'snapshot_metadata_only': 'forgetting a snapshot while its data stays',
    },
}


def _flags_refused(exc):
    """libvirt's "unsupported flags (0x2) in function ...": the driver has the
    call, not with these flags."""
    return exc.get_error_code() in _UNSUPPORTED and 'unsupported flags' in (exc.get_error_message() or '')


def _esx_folder_missing(message):
    """esx finds a volume by searching its folder in the datastore; a folder
    that is not there fails the search ("Could not search in datastore 'ds1':
    File [ds1] web1 was not found"; the simulator says FileNotFound)."""
    return 'Could not search in datastore' in message and re.search(r'not found|NotFound', message) is not None


def _connect_hint(message):
    """What to do about a failed connection, where libvirt's message leaves it
    open (client-side drivers such as esx ask for credentials and check the
    host's certificate themselves)."""
    auth_file = os.environ.get('LIBVIRT_AUTH_FILE')
    if auth_file and not os.path.exists(auth_file):
        return '; LIBVIRT_AUTH_FILE names %s, which does not exist' % auth_file
    if 'Missing authentication credentials' in message:
        return ('; give the credentials with auth (username, password) or in a libvirt auth file '
                '(LIBVIRT_AUTH_FILE, ~/.config/libvirt/auth.conf or /etc/libvirt/auth.conf)')
    if 'certificate' in message and 'curl' in message:
        return ("; the host's TLS certificate is not trusted on the host the module runs on: add its CA "
                'to the system trust store there (update-ca-certificates), or add ?no_verify=1 to the URI '
                '(no verification at all)')
    return ''


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


def _each(objects, record):
    """[record(obj)] of the listed objects, without those that went away
    since the listing (another client removed them meanwhile)."""
    result = []
    for obj in objects:
        try:
            result.append(record(obj))
        except libvirt.libvirtError as exc:
            if exc.get_error_code() not in _NOT_FOUND:
                raise
    return result


class LibvirtDriver(Driver):
    """Driver over one libvirt connection (opened lazily, reopened once if lost)."""

    def __init__(self, uri, username=None, password=None, readonly=False):
        require_libvirt()
        self.uri = uri
        self._username = username
        self._password = password
        self._readonly = readonly
        self._conn = None
        self._type = None
        # Calls (and flags of calls) this connection's driver lacks, learned
        # when one fails: the other path is taken from then on.
        self._missing = set()
        self._memo = None  # {read: answer} between remember() and forget()
        self._handles = None  # {(kind, name): libvirt object} of this connection, as long as _memo

    # -- connection --------------------------------------------------------
    def _open(self):
        if self._username is not None or self._password is not None:
            tried = 'openAuth with username %r' % (self._username,)
            flags = libvirt.VIR_CONNECT_RO if self._readonly else 0
            auth = [[libvirt.VIR_CRED_AUTHNAME, libvirt.VIR_CRED_USERNAME,
                     libvirt.VIR_CRED_PASSPHRASE, libvirt.VIR_CRED_NOECHOPROMPT],
                    self._credentials, None]

            def opener():
                return libvirt.openAuth(self.uri, auth, flags)
        elif self._readonly:
            tried = 'a read-only connection'

            def opener():
                return libvirt.openReadOnly(self.uri)
        else:
            tried = 'a read-write connection'

            def opener():
                return libvirt.open(self.uri)
        try:
            try:
                conn = opener()
            except libvirt.libvirtError as exc:
                if exc.err is not None:
                    raise
                conn = opener()  # its reason was cleared (see _run): the second try gives it
        except libvirt.libvirtError as exc:
            message = exc.get_error_message() or str(exc)
            raise ConnectionFailed(
                '%s (tried %s)%s' % (message, tried, _connect_hint(message)),
                resource='libvirt at %r' % self.uri, action='connect to')
        if conn is None:
            raise ConnectionFailed('no connection (tried %s)' % tried,
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
        if self._handles:
            self._handles = {}  # they belong to the connection closed
        if conn is not None:
            try:
                conn.close()
            except libvirt.libvirtError:
                pass

    # -- reads remembered ------------------------------------------------------
    def remember(self):
        self._memo = {}
        self._handles = {}

    def forget(self):
        self._memo = None
        self._handles = None

    def _lookup(self, kind, name, lookup):
        """``lookup(name)``; while reads are remembered, the object found
        first (a domain, network or pool: one lookup a run, not one a read)."""
        if self._handles is None:
            return lookup(name)
        key = (kind, name)
        if key not in self._handles:
            self._handles[key] = lookup(name)
        return self._handles[key]

    def _read(self, key, action, resource, func):
        """``_run`` of a read that remember() answers once: a copy of what libvirt said the first time."""
        if self._memo is None:
            return self._run(action, resource, func)
        if key not in self._memo:
            self._memo[key] = self._run(action, resource, func)
        answer = self._memo[key]
        return dict(answer) if isinstance(answer, dict) else answer  # records are flat; XML is a str

    # -- what the connection's driver can do ---------------------------------
    def _driver_type(self, conn=None):
        """virConnectGetType: 'QEMU', 'LXC', 'ESX' (for esx:// and vpx://), ..."""
        if self._type is None:
            try:
                self._type = (conn or self._connection()).getType()
            except libvirt.libvirtError:
                return ''
        return self._type

    def driver_label(self):
        """"libvirt's esx driver", as messages name a driver."""
        return "libvirt's %s driver" % (self._driver_type().lower() or 'connection')

    def unsupported(self, feature):
        what = DRIVER_LIMITS.get(self._driver_type(), {}).get(feature)
        if what is None and feature in self._missing:
            what = feature
        return '%s is not supported by %s' % (what, self.driver_label()) if what else None

    def _learn(self, feature, exc, refused_flags=False):
        """True (and remembered) when ``exc`` says the driver lacks
        ``feature``: the call (VIR_ERR_NO_SUPPORT), or with
        ``refused_flags`` the flags of the call."""
        lacking = _flags_refused(exc) if refused_flags else exc.get_error_code() == _NO_SUPPORT
        if lacking:
            self._missing.add(feature)
        return lacking

    def _either(self, feature, preferred, other, refused_flags=False):
        """``preferred()`` while the connection's driver has ``feature``,
        else ``other()``: bulk listing or one name at a time, flags or none."""
        if feature not in self._missing:
            try:
                return preferred()
            except libvirt.libvirtError as exc:
                if not self._learn(feature, exc, refused_flags):
                    raise
        return other()

    def _lost(self, exc):
        if exc.get_error_code() not in _CONNECTION_LOST or self._conn is None:
            return False
        try:
            return not self._conn.isAlive()
        except libvirt.libvirtError:
            return True

    def _run(self, action, resource, func, redo=None):
        """``func(conn)``, libvirt errors as typed errors. When the connection
        is lost during the call (the daemon went away), it is reopened -
        waiting up to ``reconnect_wait`` s for the daemon - and the call made
        once more as ``redo(conn)`` (default ``func``: a call safe to repeat;
        a ``redo`` sees whether the first try took effect). ``redo=False``:
        a call that may have taken effect and cannot tell, which fails saying so.

        A failure without its reason (``exc.err`` None) is made once more the
        same way: libvirt keeps the reason per thread until its next call, and
        a libvirt object that Python's cycle collector frees between the
        failure and libvirt-python reading the reason (its ``__del__`` calls
        libvirt) clears it. Without a reason, "not found" or "not supported"
        would read as any other error."""
        try:
            return func(self._connection())
        except libvirt.libvirtError as exc:
            if exc.err is None and redo is not False:
                try:
                    return (redo or func)(self._connection())
                except libvirt.libvirtError as again:
                    raise self._translate(again, action, resource)
            if not self._lost(exc):
                raise self._translate(exc, action, resource)
            lost = exc.get_error_message() or str(exc)
        self.close()
        conn = self._reopen(action, resource, lost)
        if redo is False:
            raise ConnectionFailed(
                'the libvirt daemon at %r went away during the call (%s); it answers again, but whether the call '
                'took effect is unknown, so it was not repeated: run the task again, it sees what was done'
                % (self.uri, lost), resource=resource, action=action)
        try:
            return (redo or func)(conn)
        except libvirt.libvirtError as exc:
            error = self._translate(exc, action, resource)
            error.message = '%s (on the second try: the libvirt daemon went away during the first: %s)' % (
                error.message, lost)
            raise error

    reconnect_wait = RECONNECT_WAIT

    def _reopen(self, action, resource, lost):
        """A new connection once the daemon answers again, within reconnect_wait s."""
        deadline = time.monotonic() + self.reconnect_wait
        while True:
            try:
                self._conn = self._open()
                return self._conn
            except ConnectionFailed as exc:
                if time.monotonic() >= deadline:
                    raise ConnectionFailed(
                        'the libvirt daemon at %r went away during the call (%s) and did not answer again within '
                        '%d s (%s); run the task again once it is back: it sees what was done'
                        % (self.uri, lost, self.reconnect_wait, exc.message), resource=resource, action=action)
            time.sleep(0.5)

    def _translate(self, exc, action, resource):
        message = exc.get_error_message() or str(exc)
        if exc.get_error_code() == _NO_SUPPORT:
            # "this function is not supported by the connection driver: virDomainSetMetadata"
            message = 'not supported by %s (%s)' % (self.driver_label(), message.rsplit(': ', 1)[-1])
        if exc.get_error_code() in _NOT_FOUND or _esx_folder_missing(message):
            return NotFound('%s not found: %s' % (resource, message), resource=resource, action=action)
        error = DriverError(message, resource=resource, action=action)
        error.code = exc.get_error_code()
        error.unsupported = exc.get_error_code() in _UNSUPPORTED
        if exc.get_error_code() == getattr(libvirt, 'VIR_ERR_OPERATION_DENIED', None):
            error.message = message = ('%s (the connection is read-only - the daemon\'s read-only socket, or a '
                                       'user without write access: this task needs a read-write connection)' % message)
        error.invalid_xml = exc.get_error_code() in _INVALID_XML
        error.no_space = 'No space left on device' in message or 'Not enough space' in message
        return error

    @staticmethod
    def _unless_found(conn_call):
        """A redo for a removal: gone already is done."""
        def redo(conn):
            try:
                return conn_call(conn)
            except libvirt.libvirtError as exc:
                if exc.get_error_code() in _NOT_FOUND:
                    return None
                raise
        return redo

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
        return self._lookup('domain', name, conn.lookupByName)

    def _network(self, conn, name):
        return self._lookup('network', name, conn.networkLookupByName)

    def _pool(self, conn, name):
        return self._lookup('pool', name, conn.storagePoolLookupByName)

    def _find(self, conn, kind, name):
        """The domain, network or pool (``kind``) named ``name``."""
        return {'domain': self._domain, 'network': self._network, 'pool': self._pool}[kind](conn, name)

    def _call(self, kind, action, name, method, *args, **kwargs):
        """``method(*args)`` of the ``kind`` (domain, network, pool) named ``name``."""
        return self._run(action, '%s %r' % ('storage pool' if kind == 'pool' else kind, name),
                         lambda conn: getattr(self._find(conn, kind, name), method)(*args), **kwargs)

    def _call_unless(self, kind, action, name, method, done, *args):
        """A call whose redo first looks whether the first try took effect
        (``done(object)``): starting a guest, a network or a pool twice fails."""
        def redo(conn):
            found = self._find(conn, kind, name)
            return None if done(found) else getattr(found, method)(*args)
        return self._call(kind, action, name, method, *args, redo=redo)

    def _exists(self, action, resource, find):
        """Whether ``find(conn)`` finds the object: one lookup, nothing read."""
        try:
            self._run(action, resource, find)
            return True
        except NotFound:
            return False

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
            # Unsupported, or one went away during the call: asked one by one below.
            if exc.get_error_code() not in _UNSUPPORTED | _NOT_FOUND:
                raise
        result = []
        for dom in domains:
            name = dom.name()
            try:
                state = states.get(name)
                if state is None:
                    state = dom.state()[0]
                record = {
                    'name': name, 'uuid': dom.UUIDString(), 'id': dom.ID() if dom.ID() >= 0 else None,
                    'state': DOMAIN_STATES[state] if state < len(DOMAIN_STATES) else 'nostate',
                    'autostart': name in autostart if autostart is not None else bool(dom.autostart()),
                    'persistent': name in persistent if persistent is not None else bool(dom.isPersistent()),
                }
            except libvirt.libvirtError as exc:
                if exc.get_error_code() in _NOT_FOUND:
                    continue  # undefined since the listing: on a busy host, others' guests come and go
                raise
            result.append((record, dom))
        return result

    def domain_status(self, name):
        def status(conn):
            dom = self._domain(conn, name)
            state, reason = dom.state()
            name_of = DOMAIN_STATES[state] if state < len(DOMAIN_STATES) else 'nostate'
            reasons = {'shutoff': _SHUTOFF_REASONS, 'crashed': _CRASHED_REASONS}.get(name_of, ())
            return {'name': dom.name(), 'uuid': dom.UUIDString(),
                    'id': dom.ID() if dom.ID() >= 0 else None, 'state': name_of,
                    'reason': reasons[reason] if reason < len(reasons) else None,
                    'persistent': bool(dom.isPersistent()), 'autostart': bool(dom.autostart())}
        return self._read(('domain_status', name), 'read', 'domain %r' % name, status)

    def domain_xml(self, name, inactive=False, secure=False):
        flags = libvirt.VIR_DOMAIN_XML_INACTIVE if inactive else 0
        if secure:
            flags |= libvirt.VIR_DOMAIN_XML_SECURE
        return self._read(('domain_xml', name, flags), 'read', 'domain %r' % name,
                          lambda conn: self._domain(conn, name).XMLDesc(flags))

    def define_domain(self, xml):
        """Validated against libvirt's schema where the driver can: an element
        it does not know fails instead of being dropped silently."""
        def define(conn):
            try:
                return conn.defineXMLFlags(xml, libvirt.VIR_DOMAIN_DEFINE_VALIDATE).name()
            except libvirt.libvirtError as exc:
                if exc.get_error_code() not in _UNSUPPORTED:
                    raise
                return conn.defineXML(xml).name()  # a driver without validation
        return self._run('define', 'domain', define)

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
        return self._run('undefine', 'domain %r' % name, undefine, redo=self._unless_found(undefine))

    def start_domain(self, name):
        self._call_unless('domain', 'start', name, 'create', lambda dom: dom.isActive())

    def shutdown_domain(self, name, mode=None):
        if mode is None:
            self._call_unless('domain', 'shut down', name, 'shutdown', lambda dom: not dom.isActive())
            return
        flag = {'acpi': 'VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN', 'agent': 'VIR_DOMAIN_SHUTDOWN_GUEST_AGENT',
                'initctl': 'VIR_DOMAIN_SHUTDOWN_INITCTL', 'signal': 'VIR_DOMAIN_SHUTDOWN_SIGNAL'}[mode]
        try:
            self._call_unless('domain', 'shut down', name, 'shutdownFlags', lambda dom: not dom.isActive(),
                              getattr(libvirt, flag))
        except DriverError as exc:
            if 'unsupported flags' in exc.message:  # esx shuts down through VMware Tools only: mode None
                exc.message = 'shutdown mode %r is not supported by %s' % (mode, self.driver_label())
            raise

    def destroy_domain(self, name):
        def destroy(dom):
            try:
                dom.destroy()
            except libvirt.libvirtError as exc:
                # esx powers off only a powered-on VM ("Domain is not powered on"):
                # a paused (suspended) one is resumed first.
                if exc.get_error_code() != libvirt.VIR_ERR_OPERATION_INVALID \
                        or dom.state()[0] != libvirt.VIR_DOMAIN_PAUSED:
                    raise
                dom.resume()
                dom.destroy()

        def redo(conn):
            # The daemon went away during the first try: destroy only what still runs.
            dom = self._domain(conn, name)
            if dom.isActive():
                destroy(dom)
        self._run('destroy', 'domain %r' % name, lambda conn: destroy(self._domain(conn, name)), redo=redo)

    def suspend_domain(self, name):
        self._call_unless('domain', 'pause', name, 'suspend', lambda dom: dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED)

    def resume_domain(self, name):
        self._call_unless('domain', 'resume', name, 'resume', lambda dom: dom.state()[0] != libvirt.VIR_DOMAIN_PAUSED)

    def set_domain_autostart(self, name, enabled):
        self._call('domain', 'set autostart of', name, 'setAutostart', 1 if enabled else 0)

    @staticmethod
    def _affect(live, config):
        flags = 0
        if live:
            flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE
        if config:
            flags |= libvirt.VIR_DOMAIN_AFFECT_CONFIG
        return flags

    def set_domain_memory(self, name, kib, live, config):
        # Without flags, where the driver takes none (esx: the memory limit,
        # which is the configuration and applies to a running domain at once).
        self._run('set memory of', 'domain %r' % name, lambda conn: self._either(
            'setMemoryFlags', lambda: self._domain(conn, name).setMemoryFlags(kib, self._affect(live, config)),
            lambda: self._domain(conn, name).setMemory(kib), refused_flags=True))

    def resize_domain_disk(self, name, target, capacity):
        self._run('resize disk %s of' % target, 'domain %r' % name, lambda conn: self._domain(conn, name).blockResize(
            target, capacity, libvirt.VIR_DOMAIN_BLOCK_RESIZE_BYTES))

    def set_domain_vcpus(self, name, count, live, config):
        # esx takes only VIR_DOMAIN_AFFECT_LIVE, which reconfigures the VM: running or not, config included.
        self._run('set vcpus of', 'domain %r' % name, lambda conn: self._either(
            'setVcpusFlags', lambda: self._domain(conn, name).setVcpusFlags(count, self._affect(live, config)),
            lambda: self._domain(conn, name).setVcpus(count), refused_flags=True))

    def set_domain_max_memory(self, name, kib):
        self._call('domain', 'set the memory size of', name, 'setMaxMemory', kib)

    def container_namespaces(self, name):
        def count(conn):
            try:
                import libvirt_lxc  # the LXC-only part of libvirt-python, loaded by the one call that needs it
            except ImportError:
                libvirt_lxc = None
            if libvirt_lxc is None:
                raise DriverError('libvirt-python has no libvirt_lxc module', resource='domain %r' % name,
                                  action='open the namespaces of')
            fds = libvirt_lxc.lxcOpenNamespace(self._domain(conn, name), 0) or []
            for fd in fds:
                os.close(fd)
            return len(fds)
        return self._run('open the namespaces of', 'domain %r' % name, count)

    def set_domain_cpu_shares(self, name, shares, live, config):
        self._call('domain', 'set the CPU shares of', name, 'setSchedulerParametersFlags', {'cpu_shares': shares},
                   self._affect(live, config))

    def attach_device(self, name, xml, live, config):
        self._call('domain', 'attach a device to', name, 'attachDeviceFlags', xml, self._affect(live, config),
                   redo=False)

    def update_device(self, name, xml, live, config):
        self._call('domain', 'update a device of', name, 'updateDeviceFlags', xml, self._affect(live, config))

    def detach_device(self, name, xml, live, config):
        self._call('domain', 'detach a device from', name, 'detachDeviceFlags', xml, self._affect(live, config),
                   redo=False)

    def set_domain_metadata(self, name, xml, key, namespace, live, config):
        self._call('domain', 'set the metadata of', name, 'setMetadata', libvirt.VIR_DOMAIN_METADATA_ELEMENT,
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
        try:
            return self._run('read %s addresses of' % source, 'domain %r' % name, addresses)
        except DriverError as exc:
            if getattr(exc, 'code', None) == getattr(libvirt, 'VIR_ERR_ARGUMENT_UNSUPPORTED', None):
                # esx: "Unknown IP address data source 0" (it reads VMware Tools' report: source agent)
                exc.message = 'address source %r is not supported by %s' % (source, self.driver_label())
            raise

    @staticmethod
    def _snapshot_record(snap):
        return {'name': snap.getName(), 'current': bool(snap.isCurrent(0)), 'xml': snap.getXMLDesc(0)}

    def list_snapshots(self, domain):
        def one_by_one(dom):
            # esx lacks virDomainListAllSnapshots: the names, then each snapshot
            # (one deleted meanwhile is left out, as a bulk listing would).
            return _each(dom.snapshotListNames(0), lambda name: self._snapshot_record(dom.snapshotLookupByName(name, 0)))

        def listing(conn):
            dom = self._domain(conn, domain)
            return self._either('listAllSnapshots',
                                lambda: [self._snapshot_record(snap) for snap in dom.listAllSnapshots(0)],
                                lambda: one_by_one(dom))
        return self._run('list the snapshots of', 'domain %r' % domain, listing)

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
            return _each(lister(0), lambda net: self._network_record(net, active, persistent, autostart))
        return self._run('list networks', 'networks', listing)

    def network_exists(self, name):
        return self._exists('look up', 'network %r' % name, lambda conn: self._network(conn, name))

    def network_status(self, name):
        return self._read(('network_status', name), 'read', 'network %r' % name,
                          lambda conn: self._network_record(self._network(conn, name)))

    def network_xml(self, name, inactive=False):
        flags = libvirt.VIR_NETWORK_XML_INACTIVE if inactive else 0
        return self._read(('network_xml', name, flags), 'read', 'network %r' % name,
                          lambda conn: self._network(conn, name).XMLDesc(flags))

    def define_network(self, xml):
        def define(conn):
            try:
                return conn.networkDefineXMLFlags(xml, libvirt.VIR_NETWORK_DEFINE_VALIDATE).name()
            except (libvirt.libvirtError, AttributeError) as exc:
                if isinstance(exc, libvirt.libvirtError) and exc.get_error_code() not in _UNSUPPORTED:
                    raise
                return conn.networkDefineXML(xml).name()  # a libvirt before 7.7, or a driver without validation
        return self._run('define', 'network', define)

    def undefine_network(self, name):
        self._call('network', 'undefine', name, 'undefine',
                   redo=self._unless_found(lambda conn: self._network(conn, name).undefine()))

    def start_network(self, name):
        self._call_unless('network', 'start', name, 'create', lambda net: net.isActive())

    def stop_network(self, name):
        self._call_unless('network', 'stop', name, 'destroy', lambda net: not net.isActive())

    def set_network_autostart(self, name, enabled):
        self._call('network', 'set autostart of', name, 'setAutostart', 1 if enabled else 0)

    def update_network(self, name, command, section, xml, parent_index=-1, live=True, config=True):
        flags = 0
        if live:
            flags |= libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE
        if config:
            flags |= libvirt.VIR_NETWORK_UPDATE_AFFECT_CONFIG
        # Not repeated after a lost connection: an entry added twice or
        # deleted twice fails, and which happened cannot be told.
        self._call('network', 'update (%s %s)' % (command, section), name, 'update',
                   _NETWORK_UPDATE_COMMANDS[command], _NETWORK_SECTIONS[section],
                   parent_index, xml, flags, redo=False)

    def network_leases(self, name):
        def leases(conn):
            return [{'mac': lease.get('mac'), 'ip': lease.get('ipaddr'), 'prefix': lease.get('prefix'),
                     'hostname': lease.get('hostname'), 'expiry': lease.get('expirytime'),
                     'type': 'ipv4' if lease.get('type') == libvirt.VIR_IP_ADDR_TYPE_IPV4 else 'ipv6'}
                    for lease in self._network(conn, name).DHCPLeases() or []]
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

    def _pools(self, conn):
        """Every pool, in one call where the driver has it (esx has not)."""
        return self._either(
            'listAllStoragePools', lambda: conn.listAllStoragePools(0),
            lambda: [conn.storagePoolLookupByName(name)  # listing: not remembered
                     for name in conn.listStoragePools() + conn.listDefinedStoragePools()])

    def list_pools(self):
        return self._run('list storage pools', 'storage pools',
                         lambda conn: _each(self._pools(conn), self._pool_record))

    def pool_exists(self, name):
        return self._exists('look up', 'storage pool %r' % name, lambda conn: self._pool(conn, name))

    def pool_status(self, name):
        return self._read(('pool_status', name), 'read', 'storage pool %r' % name,
                          lambda conn: self._pool_record(self._pool(conn, name)))

    def pool_xml(self, name, inactive=False):
        flags = libvirt.VIR_STORAGE_XML_INACTIVE if inactive else 0
        return self._read(('pool_xml', name, flags), 'read', 'storage pool %r' % name,
                          lambda conn: self._pool(conn, name).XMLDesc(flags))

    def define_pool(self, xml):
        def define(conn):
            flag = getattr(libvirt, 'VIR_STORAGE_POOL_DEFINE_VALIDATE', 0)
            try:
                return conn.storagePoolDefineXML(xml, flag).name()
            except libvirt.libvirtError as exc:
                if not flag or exc.get_error_code() not in _UNSUPPORTED:
                    raise
                return conn.storagePoolDefineXML(xml, 0).name()  # a libvirt before 7.10
        return self._run('define', 'storage pool', define)

    def build_pool(self, name, no_overwrite=False):
        flags = libvirt.VIR_STORAGE_POOL_BUILD_NO_OVERWRITE if no_overwrite else 0
        try:
            self._call('pool', 'build', name, 'build', flags)
        except DriverError as exc:
            # NO_OVERWRITE found a filesystem, volume group or partition
            # table on the device: the storage is there already, keep it.
            if no_overwrite and exc.code == getattr(libvirt, 'VIR_ERR_STORAGE_POOL_BUILT', None):
                return exc.message
            raise
        return None

    def start_pool(self, name):
        self._call_unless('pool', 'start', name, 'create', lambda pool: pool.isActive(), 0)

    def stop_pool(self, name):
        self._call_unless('pool', 'stop', name, 'destroy', lambda pool: not pool.isActive())

    def delete_pool(self, name):
        self._call('pool', 'delete the storage of', name, 'delete', 0, redo=False)

    def undefine_pool(self, name):
        self._call('pool', 'undefine', name, 'undefine',
                   redo=self._unless_found(lambda conn: self._pool(conn, name).undefine()))

    def refresh_pool(self, name):
        self._call('pool', 'refresh', name, 'refresh', 0)

    def set_pool_autostart(self, name, enabled):
        self._call('pool', 'set autostart of', name, 'setAutostart', 1 if enabled else 0)

    # -- storage volumes ---------------------------------------------------
    def list_volumes(self, pool):
        def listing(conn):
            def record(vol):
                kind, capacity, allocation = vol.info()
                return {'name': vol.name(), 'key': vol.key(), 'path': vol.path(),
                        'type': kind, 'capacity': capacity, 'allocation': allocation}
            return _each(self._volumes(self._pool(conn, pool)), record)
        return self._run('list volumes of', 'storage pool %r' % pool, listing)

    def _volumes(self, pool):
        """Every volume of a pool, in one call where the driver has it (esx has not)."""
        return self._either('listAllVolumes', lambda: pool.listAllVolumes(0),
                            lambda: [pool.storageVolLookupByName(name) for name in pool.listVolumes()])

    def _volume(self, conn, pool, name):
        return self._pool(conn, pool).storageVolLookupByName(name)

    def volume_xml(self, pool, name):
        return self._read(('volume_xml', pool, name), 'read', 'volume %r in pool %r' % (name, pool),
                          lambda conn: self._volume(conn, pool, name).XMLDesc(0))

    def create_volume(self, pool, xml, clone_from=None):
        def create(conn):
            target = self._pool(conn, pool)
            if clone_from:
                return target.createXMLFrom(xml, self._volume(conn, clone_from[0], clone_from[1]), 0).name()
            return target.createXML(xml, 0).name()

        def redo(conn):
            # There already: the first try made it (its content is the
            # caller's to check). A clone may be half copied: not repeated.
            try:
                return create(conn)
            except libvirt.libvirtError as exc:
                if exc.get_error_code() == getattr(libvirt, 'VIR_ERR_STORAGE_VOL_EXIST', None):
                    return None
                raise
        return self._run('create a volume in', 'storage pool %r' % pool, create, redo=False if clone_from else redo)

    def delete_volume(self, pool, name, wipe=False):
        def delete(conn):
            vol = self._volume(conn, pool, name)
            if wipe:
                vol.wipe(0)
            vol.delete(0)
        self._run('delete', 'volume %r in pool %r' % (name, pool), delete, redo=self._unless_found(delete))

    def resize_volume(self, pool, name, capacity, shrink=False, allocate=False):
        flags = libvirt.VIR_STORAGE_VOL_RESIZE_SHRINK if shrink else 0
        if allocate:
            flags |= libvirt.VIR_STORAGE_VOL_RESIZE_ALLOCATE
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

    def create_transient_pool(self, xml):
        return self._run('create a transient pool', 'storage pool',
                         lambda conn: conn.storagePoolCreateXML(xml, 0).name())
