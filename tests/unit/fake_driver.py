"""The one fake driver of the unit tests: an in-memory host behind the driver interface.

Every call is recorded in ``calls`` as ``(method, {argument: value})``, its
arguments bound to the signature the interface declares, defaults filled in:
a keyword argument can never get lost on the way (``build_pool(name,
no_overwrite=True)`` is recorded with ``no_overwrite``), and a call the real
interface would refuse fails here too.

What it models: pools and their volumes (definitions, content, sizes),
domains (status and XML), networks (status and leases), domain addresses,
snapshots (their XML, which one is current); for migrations, the host's
capabilities and the move of a domain to another FakeDriver
(``migrate_domain``; a peer-to-peer one finds its destination in HOSTS by
URI). Anything else is recorded and answers None. ``script()`` makes a call answer
otherwise - one answer after another, an exception raised - and ``delay()``
makes it slow.
"""
import inspect
import time

from lxml import etree

from ansible_collections.virtkit.virt.plugins.module_utils.driver.interface import Driver
from ansible_collections.virtkit.virt.plugins.module_utils.driver.jobs import JobDriver
from ansible_collections.virtkit.virt.plugins.module_utils.driver.libvirt_listing import LibvirtListingDriver
from ansible_collections.virtkit.virt.plugins.module_utils.errors import NotFound
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.disk_sources import disk_sources
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.snapshot import parse_snapshot_xml
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.storage import (
    build_volume_xml, parse_pool_xml, parse_volume_xml)

# The calls that change nothing: changes() leaves them out (a refresh rescans a pool;
# remember and forget only say when a read may be answered from memory).
READS = frozenset((
    'refresh_pool', 'close', 'host_summary', 'host_capabilities', 'list_domains', 'list_domains_with_xml', 'domain_xml',
    'domain_status', 'domain_addresses', 'container_namespaces', 'list_networks', 'network_xml', 'network_status',
    'network_leases', 'network_exists', 'list_pools', 'pool_xml', 'pool_status', 'pool_exists', 'list_volumes', 'volume_xml', 'download_volume',
    'volume_by_path', 'unsupported', 'list_snapshots', 'domain_capabilities', 'list_checkpoints', 'job_stats',
    'block_info', 'migration_stats', 'compare_cpu', 'remember', 'forget'))

# The fake hosts by URI: a peer-to-peer migration reaches its destination through it.
HOSTS = {}


class FakeDriver:
    """Every method of the JobDriver interface (Driver's and the jobs') and the inventory's
    list_domains_with_xml (LibvirtListingDriver), added by _recorded below, over
    the dicts ``pools``, ``domains``, ``networks`` and ``addresses``."""

    def __init__(self, uri='test:///default'):
        self.uri = uri
        self.calls = []
        self.pools = {}
        self.domains = {}
        self.networks = {}
        self.addresses = {}
        self.snapshots = {}
        self.capabilities = None
        self._scripts = []
        HOSTS[uri] = self
        self._delays = {}

    # -- what the tests read ---------------------------------------------------
    def called(self, method):
        """The arguments of each call of ``method``, in order."""
        return [args for name, args in self.calls if name == method]

    def names(self):
        """The methods called, in order."""
        return [name for name, _args in self.calls]

    def changes(self):
        """The calls that change something, in order."""
        return [(name, args) for name, args in self.calls if name not in READS]

    # -- how the tests set it up -------------------------------------------------
    def script(self, method, *answers, **when):
        """Calls of ``method`` whose arguments include ``when`` answer
        ``answers`` one after another (the last one again and again); an
        exception among them is raised."""
        self._scripts.insert(0, (method, when, list(answers), [0]))

    def delay(self, method, seconds):
        self._delays[method] = seconds

    def add_pool(self, name, xml, active=True, available=1024 ** 4):
        self.pools[name] = {'xml': xml, 'active': active, 'autostart': False, 'volumes': {}, 'available': available}

    def add_volume(self, pool, name, capacity, fmt='raw', backing=None, content=b''):
        path = '/pools/%s/%s' % (pool, name)
        self.pools[pool]['volumes'][name] = {'name': name, 'path': path, 'capacity': capacity, 'format': fmt,
                                             'backing': backing, 'content': content}

    def add_domain(self, name, state='running', xml=None, persistent=True, autostart=False):
        self.domains[name] = {'name': name, 'uuid': 'u-' + name, 'id': 1 if state == 'running' else None,
                              'state': state, 'persistent': persistent, 'autostart': autostart,
                              'xml': xml if xml is not None else '<domain><name>%s</name></domain>' % name}

    def add_snapshot(self, domain, xml, current=False):
        """A snapshot of ``domain`` (its whole XML, as libvirt gives it)."""
        name = parse_snapshot_xml(xml)['name']
        if current:
            for snap in self.snapshots.get(domain, {}).values():
                snap['current'] = False
        self.snapshots.setdefault(domain, {})[name] = {'name': name, 'xml': xml, 'current': current}

    def add_network(self, name, active=True, leases=()):
        self.networks[name] = {'name': name, 'uuid': 'u-' + name, 'active': active, 'persistent': True,
                               'autostart': False, 'bridge': None, 'leases': list(leases)}

    # -- the interface: what is modelled -------------------------------------------
    def _pool(self, name):
        if name not in self.pools:
            raise NotFound('no pool %s' % name)
        return self.pools[name]

    def _vol(self, pool, name):
        vols = self._pool(pool)['volumes']
        if name not in vols:
            raise NotFound('no volume %s' % name)
        return vols[name]

    def _domain(self, name):
        if name not in self.domains:
            raise NotFound('no domain %s' % name)
        return self.domains[name]

    def _network(self, name):
        if name not in self.networks:
            raise NotFound('no network %s' % name)
        return self.networks[name]

    def pool_status(self, name):
        pool = self._pool(name)
        return {'name': name, 'uuid': 'u-' + name, 'active': pool['active'], 'persistent': True,
                'autostart': pool['autostart'], 'state': 'active' if pool['active'] else 'inactive',
                'capacity': pool['available'], 'allocation': 0, 'available': pool['available']}

    def pool_exists(self, name):
        return name in self.pools

    def pool_xml(self, name, inactive=False):
        return self._pool(name)['xml']

    def define_pool(self, xml):
        name = parse_pool_xml(xml)['name']
        if name in self.pools:
            self.pools[name]['xml'] = xml
        else:
            self.add_pool(name, xml, active=False)
        return name

    def list_volumes(self, pool):
        return [{'name': v['name'], 'path': v['path'], 'type': 0} for v in self._pool(pool)['volumes'].values()]

    def volume_xml(self, pool, name):
        vol = self._vol(pool, name)
        return build_volume_xml({'name': name, 'capacity': vol['capacity'], 'format': vol['format'],
                                 'backing': {'path': vol['backing'], 'format': 'qcow2'} if vol['backing'] else None}
                                ).replace('<target>', '<target><path>%s</path>' % vol['path']).replace(
            '</volume>', "<physical unit='bytes'>%d</physical></volume>" % len(vol['content']))

    def volume_by_path(self, path):
        for pool_name, pool in self.pools.items():
            for vol in pool['volumes'].values():
                if vol['path'] == path:
                    return {'pool': pool_name, 'name': vol['name']}
        raise NotFound(path)

    def download_volume(self, pool, name, offset, length):
        return self._vol(pool, name)['content'][offset:offset + length]

    def create_volume(self, pool, xml, clone_from=None):
        parsed = parse_volume_xml(xml)
        self.add_volume(pool, parsed['name'], parsed['capacity'], parsed['format'],
                        (parsed['backing'] or {}).get('path'))
        return parsed['name']

    def upload_volume(self, pool, name, reader, length):
        self._vol(pool, name)['content'] = reader.read(length)

    def delete_volume(self, pool, name, wipe=False):
        self._vol(pool, name)
        del self.pools[pool]['volumes'][name]

    def resize_volume(self, pool, name, capacity, shrink=False, allocate=False):
        self._vol(pool, name)['capacity'] = capacity

    def resize_domain_disk(self, name, target, capacity):
        # The image under the disk grows, as the hypervisor grows it.
        source = disk_sources(self._domain(name)['xml'])[target]
        for pool_name, pool in self.pools.items():
            for vol in pool['volumes'].values():
                if source in (vol['path'], '%s/%s' % (pool_name, vol['name'])):
                    vol['capacity'] = capacity

    def list_domains(self):
        return [dict((k, v) for k, v in d.items() if k != 'xml') for d in self.domains.values()]

    def list_domains_with_xml(self):
        return [dict(d) for d in self.domains.values()]

    def domain_status(self, name):
        return dict((k, v) for k, v in self._domain(name).items() if k != 'xml')

    def domain_xml(self, name, inactive=False, secure=False):
        return self._domain(name)['xml']

    def define_domain(self, xml):
        # Kept, as libvirt keeps it: a define reads the definition back to see what libvirt kept.
        name = etree.fromstring(xml.encode()).findtext('name')
        if name in self.domains:
            self.domains[name]['xml'] = xml
        else:
            self.add_domain(name, state='shutoff', xml=xml)

    def domain_addresses(self, name, source):
        return self.addresses.get((name, source), [])

    def list_snapshots(self, domain):
        self._domain(domain)
        return [dict(snap) for snap in self.snapshots.get(domain, {}).values()]

    def create_snapshot(self, domain, xml, disk_only=False, quiesce=False, atomic=True, redefine=False,
                        current=False, name=None):
        self._domain(domain)
        taken = parse_snapshot_xml(xml)['name']
        if name is not None and name != taken:
            raise ValueError('create_snapshot: name %r is not the XML\'s %r' % (name, taken))
        self.add_snapshot(domain, xml, current=current or not redefine)
        return taken

    def delete_snapshot(self, domain, name, children=False, metadata_only=False):
        snapshots = self.snapshots.get(domain, {})
        if name not in snapshots:
            raise NotFound('no snapshot %s' % name)
        gone = [name]
        while children:
            below = [n for n, snap in snapshots.items()
                     if parse_snapshot_xml(snap['xml'])['parent'] in gone and n not in gone]
            if not below:
                break
            gone.extend(below)
        for each in gone:
            del snapshots[each]

    def revert_snapshot(self, domain, name, start=None, force=False):
        snapshots = self.snapshots.get(domain, {})
        if name not in snapshots:
            raise NotFound('no snapshot %s' % name)
        for snap in snapshots.values():
            snap['current'] = snap['name'] == name

    def list_networks(self):
        return [dict((k, v) for k, v in n.items() if k != 'leases') for n in self.networks.values()]

    def network_status(self, name):
        return dict((k, v) for k, v in self._network(name).items() if k != 'leases')

    def network_exists(self, name):
        return name in self.networks

    def network_leases(self, name):
        return list(self._network(name)['leases'])

    def undefine_domain(self, name, nvram=True, snapshots=True, managed_save=True, tpm=True):
        self._domain(name)
        del self.domains[name]

    def list_pools(self):
        return [self.pool_status(name) for name in self.pools]

    def host_capabilities(self):
        return self.capabilities

    def compare_cpu(self, xml, virt_type=None, arch=None, machine=None, emulator=None):
        return {'result': 'identical', 'reason': None}

    def migration_stats(self, name, completed=False):
        return {'type': 'none'}

    def migrate_domain(self, name, dest_uri, destination=None, live=True, offline=False, persistent=True,
                       undefine_source=True, copy_storage='none', disks=None, peer_to_peer=False, tunnelled=False,
                       bandwidth=None, auto_converge=False, postcopy=False, migrate_uri=None, unsafe=False):
        dest = HOSTS[dest_uri] if destination is None else destination
        record = dict(self._domain(name))
        if undefine_source or not record['persistent']:
            del self.domains[name]
        else:
            self.domains[name] = dict(record, state='shutoff', id=None)
        dest.domains[name] = dict(record, persistent=bool(persistent or offline))

    # -- every call: recorded, scripted, delayed --------------------------------------
    def _answer(self, method, args, modelled):
        self.calls.append((method, args))
        if method in self._delays:
            time.sleep(self._delays[method])
        for name, when, answers, turn in self._scripts:
            if name == method and all(args.get(key) == value for key, value in when.items()):
                answer = answers[min(turn[0], len(answers) - 1)]
                turn[0] += 1
                if isinstance(answer, BaseException):
                    raise answer
                return answer
        return modelled(self, **args) if modelled else None


def _recorded(cls):
    """Every public method of the interface, bound to its signature there,
    recorded, then answered by the fake's own method (None without one).
    Not a subclass of Driver: the methods are made here, which a linter
    cannot see, and the interface is what they are checked against."""
    interface = {}
    for declaring in (Driver, JobDriver, LibvirtListingDriver):
        interface.update(vars(declaring))
    for method, declared in list(interface.items()):
        if method.startswith('_') or not callable(declared):
            continue
        signature = inspect.signature(declared)
        modelled = cls.__dict__.get(method)

        def call(self, *args, _method=method, _signature=signature, _modelled=modelled, **kwargs):
            bound = _signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            arguments = dict(bound.arguments)
            del arguments['self']
            return self._answer(_method, arguments, _modelled)
        call.__name__ = method
        setattr(cls, method, call)
    return cls


FakeDriver = _recorded(FakeDriver)
