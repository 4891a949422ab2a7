# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Raw listings → inventory hosts: variables, default groups, names.

Pure functions (no Ansible, no libvirt), so that naming, grouping and
filtering are tested without a daemon. Domain XML is parsed by the domain
module's own parser (xmlmodel.domain.parse_domain_summary, the part of
parse_domain_xml a listing shows): one meaning of a domain's XML for the
modules and the inventory.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.virtkit.virt.plugins.module_utils.driver.connection import is_local_uri, resolve_uri
from ansible_collections.virtkit.virt.plugins.module_utils.errors import InvalidSpec, VirtError
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.domain import parse_domain_summary
from ansible_collections.virtkit.virt.plugins.plugin_utils.listing import ADDRESSED_STATES

try:
    from urllib.parse import urlparse
except ImportError:  # pragma: no cover - Python 2 is not supported, but sanity imports it
    from urlparse import urlparse

GROUP_PREFIX = 'virt_'
LXC_CONNECTION = 'virtkit.virt.lxc'
_UNSAFE = re.compile(r'[^A-Za-z0-9_]')


# -- sources --------------------------------------------------------------------

def _type_name(value):
    """The plain type a value is: ansible-core gives a file's values types of
    its own (``_AnsibleTaggedInt``). Not the value: it may hold a password."""
    for kind in (bool, int, float, list, dict, str):
        if isinstance(value, kind):
            return kind.__name__
    return type(value).__name__


def uri_entries(items):
    """[(uri, auth)] for the ``uris`` option: each item a URI, or a dict
    ``{uri, auth: {username, password}}`` for drivers that ask for
    credentials. ``auth`` is None or {username, password}; a password may
    be a vaulted value, made a plain string here (str() decrypts it).
    Raises InvalidSpec naming the item, before anything is listed."""
    entries = []
    for index, item in enumerate(items or ()):
        field = 'uris[%d]' % index
        auth = None
        if isinstance(item, dict):
            unknown = sorted(set(item) - set(('uri', 'auth')))
            if unknown:
                raise InvalidSpec(field, 'unknown key(s) %s (an item is a URI, or a dictionary with uri and auth)'
                                  % ', '.join(unknown))
            uri = item.get('uri')
            if not isinstance(uri, str) or not uri:
                raise InvalidSpec(field + '.uri', 'a libvirt URI is required')
            auth = _auth_entry(item.get('auth'), field + '.auth')
        elif isinstance(item, str):
            uri = item
        else:
            raise InvalidSpec(field, 'expected a URI or a dictionary with uri and auth, got %s' % _type_name(item))
        try:
            uri = resolve_uri(uri)
        except InvalidSpec as exc:
            raise InvalidSpec(field, exc.detail)
        entries.append((uri, auth))
    return entries


def _auth_entry(auth, field):
    if auth is None:
        return None
    if not isinstance(auth, dict):
        raise InvalidSpec(field, 'expected a dictionary with username and password')
    unknown = sorted(set(auth) - set(('username', 'password')))
    if unknown:
        raise InvalidSpec(field, 'unknown key(s) %s (known: username, password)' % ', '.join(unknown))
    username, password = auth.get('username'), auth.get('password')
    if username is not None and not isinstance(username, str):
        raise InvalidSpec(field + '.username', 'expected a string')
    if password is not None and not isinstance(password, str):
        password = str(password)  # a vaulted value: decrypted here, kept out of logs and the cache
    return {'username': username, 'password': password}


# -- names ----------------------------------------------------------------------

def sanitize_group_name(name):
    """A group name Ansible takes without a warning: letters, digits, ``_``."""
    return _UNSAFE.sub('_', name)


def uri_host(uri):
    """The hypervisor host a URI names; ``localhost`` for a local URI."""
    return urlparse(uri).hostname or 'localhost'


def container_host_vars(source):
    """What the virtkit.virt.lxc connection plugin needs to enter a container
    of ``source``: the URI as the container host names it, and how to reach
    that host over SSH (nothing for this machine)."""
    uri = source['uri']
    if source.get('ssh'):
        extra = dict(source['ssh'], virt_lxc_uri=uri)
    elif is_local_uri(uri):
        extra = {'virt_lxc_uri': uri}
    else:
        parsed = urlparse(uri)
        scheme, _plus, transport = parsed.scheme.partition('+')
        extra = {'virt_lxc_uri': '%s://%s' % (scheme, parsed.path or '/'),
                 'virt_user': parsed.username}
        if transport in ('ssh', 'libssh', 'libssh2'):
            extra['virt_port'] = parsed.port
    return dict((key, value) for key, value in extra.items() if value is not None)


def uri_driver(uri):
    """libvirt's driver for a URI: ``qemu+ssh://h/system`` → ``qemu``."""
    return uri.split(':', 1)[0].split('+', 1)[0].lower()


def source_qualifiers(sources):
    """One label per source ({host, driver}), unique among ``sources``: the
    host, else host_driver (qemu:///system and lxc:/// are both on
    localhost), else host_driver_N."""
    labels = [s['host'] for s in sources]
    if len(set(labels)) < len(labels):
        hosts = [s['host'] for s in sources]
        labels = [label if hosts.count(s['host']) == 1 else '%s_%s' % (s['host'], s['driver'])
                  for label, s in zip(labels, sources)]
    if len(set(labels)) < len(labels):
        labels = [label if labels.count(label) == 1 else '%s_%d' % (label, index)
                  for index, label in enumerate(labels)]
    return labels


def qualified_name(name, qualifier):
    """``web`` on hv2 → ``web_hv2``. Not ``web@hv2``, which SSH would read as
    user web on host hv2, nor ``web.hv2``, which a resolver might answer."""
    return '%s_%s' % (name, qualifier)


def assign_hostnames(guests, qualify_all=False):
    """Inventory names for ``guests`` (dicts with name and qualifier), in
    their order: the first guest of a name keeps it, later ones are
    qualified with their source (all are with ``qualify_all``). Returns
    (hostnames, clashes), clashes as (name, [hostnames]) for the warning."""
    used = set()
    first = {}
    hostnames = []
    for guest in guests:
        name = guest['name']
        if qualify_all or name in first or name in used:
            hostname = qualified_name(name, guest['qualifier'])
        else:
            hostname = name
        base, count = hostname, 1
        while hostname in used:
            count += 1
            hostname = '%s_%d' % (base, count)
        used.add(hostname)
        first.setdefault(name, []).append(hostname)
        hostnames.append(hostname)
    clashes = [(name, names) for name, names in first.items() if len(names) > 1 and not qualify_all]
    return hostnames, clashes


# -- filters --------------------------------------------------------------------

def compile_name_pattern(pattern):
    try:
        return re.compile(pattern) if pattern else None
    except re.error as exc:
        raise InvalidSpec('name_pattern', '%r is not a regular expression: %s' % (pattern, exc))


_HOST_RE = re.compile(r'^[A-Za-z0-9_.:%\[\]-]+$')


def _unknown_keys(unknown, known):
    """One error naming every unknown key (as Ansible names a module's
    unsupported parameters), with the closest option to each where one is close."""
    import difflib  # only for this message
    close = dict((key, difflib.get_close_matches(key, sorted(known), 1)) for key in unknown)
    hints = [close[key][0] if len(unknown) == 1 else '%s (for %s)' % (close[key][0], key)
             for key in unknown if close[key]]
    detail = 'is no option' if len(unknown) == 1 else 'are no options'
    detail += ' of virtkit.virt.guests'
    if hints:
        detail += '; did you mean %s?' % ', '.join(hints)
    if not all(close.values()):
        detail += ' (ansible-doc -t inventory virtkit.virt.guests lists them)'
    return InvalidSpec(', '.join(unknown), detail)


def check_options(option, given=(), known=()):
    """What the option types cannot refuse, before anything is listed; each
    error names its option. ``option(name)``: the plugin's get_option;
    ``given``: the keys of the inventory file, each one of ``known`` (the
    plugin's options) or ``plugin`` - Ansible itself passes over the others,
    so a misspelt option would be silently left at its default."""
    unknown = sorted(set(given) - set(known) - {'plugin'})
    if unknown:
        raise _unknown_keys(unknown, known)
    for name in ('concurrency', 'timeout'):
        if option(name) < 1:
            raise InvalidSpec(name, 'must be at least 1, not %r' % option(name))
    if option('agent_timeout') < 0:
        raise InvalidSpec('agent_timeout', 'must not be negative, not %r' % option('agent_timeout'))
    compile_name_pattern(option('name_pattern'))
    for index, entry in enumerate(option('filters') or ()):
        if not isinstance(entry, dict) or len(entry) != 1 or list(entry)[0] not in ('include', 'exclude'):
            raise InvalidSpec('filters[%d]' % index, 'an item has one key, include or exclude, not %r' % (entry,))
    for index, host in enumerate(option('ssh_hosts') or ()):
        if not isinstance(host, str) or not _HOST_RE.match(host):
            raise InvalidSpec('ssh_hosts[%d]' % index, '%r is not a host name or address' % (host,))


def wanted(record, states=None, name_re=None):
    """The cheap filters, on a raw record before its XML is parsed."""
    if states and record['state'] not in states:
        return False
    if name_re is not None and not name_re.search(record['name']):
        return False
    return True


def passes_filters(filters, evaluate):
    """``filters``: [{include: expr} | {exclude: expr}], read in order; the
    first whose expression is true decides; none true: included.
    ``evaluate(expr)`` → truth of a Jinja expression over the host's vars."""
    for entry in filters or ():
        if entry.get('include') is not None:
            if evaluate(entry['include']):
                return True
        elif entry.get('exclude') is not None:
            if evaluate(entry['exclude']):
                return False
    return True


# -- host variables -------------------------------------------------------------

def _usable(addr):
    """Addresses another machine can reach the guest on."""
    try:
        ip = ipaddress.ip_address(addr.split('/')[0])
    except ValueError:
        return None
    if ip.is_loopback or ip.is_link_local or ip.is_unspecified:
        return None
    return ip


def lease_index(listing):
    """{(network, mac): [ip]} over every network's leases, built once."""
    index = {}
    for network, leases in (listing.get('leases') or {}).items():
        for lease in leases:
            if lease.get('mac') and lease.get('ip'):
                index.setdefault((network, lease['mac'].lower()), []).append(lease['ip'])
    return index


def guest_vars(record, source, listing, ip_sources=('lease', 'agent'), leases=None):
    """The virt_* variables of one listed domain. ``source``: {uri, host,
    driver}. Raises VirtError (InvalidSpec) for XML the parser refuses."""
    parsed = parse_domain_summary(record['xml'], field='the XML of domain %r' % record['name'])
    leases = lease_index(listing) if leases is None else leases
    interfaces, by_mac = [], {}
    for iface in parsed['interfaces']:
        entry = {'mac': iface['mac'], 'type': iface['type'], 'network': iface['network'],
                 'bridge': iface['bridge'], 'model': iface['model'], 'addresses': []}
        interfaces.append(entry)
        if iface['mac']:
            by_mac[iface['mac']] = entry
    ips = []

    def add(entry, addr):
        ip = _usable(addr)
        if ip is None:
            return
        text = str(ip)
        if text not in entry['addresses']:
            entry['addresses'].append(text)
        if text not in ips:
            ips.append(text)

    if record['state'] in ADDRESSED_STATES:
        found = (listing.get('addresses') or {}).get(record['name'], {})
        for kind in ip_sources:
            if kind == 'lease':
                for entry in interfaces:
                    for addr in leases.get((entry['network'], entry['mac']), ()):
                        add(entry, addr)
                continue
            for iface in found.get(kind) or ():
                entry = by_mac.get((iface.get('mac') or '').lower())
                if entry is None:
                    continue  # lo, or an interface the XML does not have
                for addr in iface.get('addresses') or ():
                    add(entry, addr['addr'])
    memory = parsed['memory_kib']
    return {
        'virt_name': record['name'],
        'virt_uri': source['uri'],
        'virt_host': source.get('virt_host', source['host']),
        'virt_driver': source['driver'],
        'virt_uuid': parsed['uuid'] or record.get('uuid'),
        'virt_state': record['state'],
        'virt_type': parsed['virt_type'],
        'virt_memory_mib': memory // 1024 if memory is not None else None,
        'virt_vcpus': parsed['vcpus'],
        'virt_interfaces': interfaces,
        'virt_ips': ips,
        'virt_tags': parsed['tags'],
        'virt_autostart': bool(record.get('autostart')),
        'virt_persistent': bool(record.get('persistent', True)),
    }


def default_groups(host_vars, host_label=None):
    """virt_<state>, virt_host_<host>, virt_<driver>, virt_tag_<key>_<value>;
    ``host_label``: the source's host (localhost for a local URI)."""
    groups = [GROUP_PREFIX + host_vars['virt_state'],
              GROUP_PREFIX + 'host_' + (host_label or host_vars['virt_host'] or 'localhost'),
              GROUP_PREFIX + host_vars['virt_driver']]
    for key, value in sorted(host_vars['virt_tags'].items()):
        groups.append('%stag_%s_%s' % (GROUP_PREFIX, key, value) if value else '%stag_%s' % (GROUP_PREFIX, key))
    return [sanitize_group_name(g) for g in groups]


def is_container(host_vars):
    return host_vars['virt_type'] == 'lxc' or host_vars['virt_driver'] == 'lxc'


def connection_vars(host_vars, ansible_host_from='ip', container_connection=False, source=None):
    """ansible_host (and, for containers when asked, ansible_connection and
    the connection plugin's virt_lxc_uri, virt_user, ...)."""
    if container_connection and is_container(host_vars):
        found = container_host_vars(source) if source else {}
        found.update(ansible_connection=LXC_CONNECTION, ansible_host=host_vars['virt_name'])
        return found
    if ansible_host_from == 'name':
        return {'ansible_host': host_vars['virt_name']}
    if ansible_host_from == 'ip':
        for addr in host_vars['virt_ips']:
            if ipaddress.ip_address(addr).version == 4:
                return {'ansible_host': addr}
    return {}


def guests_from_listing(listing, source, ip_sources=('lease', 'agent'), states=None, name_re=None):
    """(guests, problems): each guest {name, qualifier, vars, groups}; a domain
    whose XML does not parse is left out and said in problems."""
    guests, problems = [], []
    leases = lease_index(listing)
    for record in listing['domains']:
        if not wanted(record, states, name_re):
            continue
        try:
            host_vars = guest_vars(record, source, listing, ip_sources, leases)
        except VirtError as exc:
            problems.append(exc.describe())
            continue
        guests.append({'name': record['name'], 'qualifier': source.get('qualifier'), 'source': source,
                       'vars': host_vars, 'groups': default_groups(host_vars, source['host'])})
    return guests, problems
