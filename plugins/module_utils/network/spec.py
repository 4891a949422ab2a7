# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module params of ``network`` → the desired canonical network.

Pure functions: everything is checked here, before any connection exists,
and every error names its field. ``None`` in the result means "not said":
it is never compared and never changed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.virtkit.virt.plugins.module_utils.engine import validation as v
from ansible_collections.virtkit.virt.plugins.module_utils.errors import InvalidSpec
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.network import MODES, parse_network_xml, sorted_dhcp

# A DNS domain name. A string: re compiles (and caches) it when a task first uses it, not at every import.
_DOMAIN_RE = (r'^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}'
              r'[A-Za-z0-9])?)*$')
# The options that make up the definition; each excludes xml.
DEFINITION = ('mode', 'bridge', 'forward_dev', 'mtu', 'domain', 'mac', 'ipv4', 'ipv6', 'dns')
# What libvirt fills in when a definition leaves it out.
LIBVIRT_FILLED = ('uuid', 'bridge', 'mac')


def network_spec(params):
    """Validated desired network: ``(spec, strict)``; ``strict`` when it is a
    whole XML document, whose omissions are wanted absent."""
    name = v.plain_name(params['name'], 'name')
    if params.get('xml'):
        return spec_from_xml(params['xml'], name), True
    return spec_from_options(params, name), False


def spec_from_options(params, name):
    spec = {'name': name}
    for key in DEFINITION:
        spec[key] = None
    mode = params.get('mode')
    if mode is not None and mode not in MODES:
        raise InvalidSpec('mode', '%r is not one of %s' % (mode, ', '.join(MODES)))
    spec['mode'] = mode
    if mode == 'bridge' and not params.get('bridge'):
        raise InvalidSpec('bridge', "mode 'bridge' uses an existing host bridge: name it in 'bridge'")
    if mode == 'direct' and not params.get('forward_dev'):
        raise InvalidSpec('forward_dev', "mode 'direct' needs the host device in 'forward_dev'")
    if params.get('forward_dev') and mode in ('isolated', 'bridge'):
        raise InvalidSpec('forward_dev', "has no meaning in mode %r" % mode)
    if mode == 'direct' and params.get('bridge'):
        raise InvalidSpec('bridge', "has no meaning in mode 'direct' (macvtap uses 'forward_dev')")
    if params.get('bridge') is not None:
        bridge = params['bridge']
        if not bridge or len(bridge) > 15 or '/' in bridge or ' ' in bridge:
            raise InvalidSpec('bridge', '%r is not a valid interface name (1-15 characters, no "/" or spaces)' % (bridge,))
        spec['bridge'] = bridge
    spec['forward_dev'] = params.get('forward_dev')
    if params.get('mtu') is not None:
        if not 68 <= params['mtu'] <= 65535:
            raise InvalidSpec('mtu', '%r is not between 68 and 65535' % (params['mtu'],))
        spec['mtu'] = params['mtu']
    spec['domain'] = params.get('domain')
    if spec['domain'] is not None and not re.match(_DOMAIN_RE, spec['domain']):
        raise InvalidSpec('domain', '%r is not a DNS domain name (labels of letters, digits and -, joined by .)'
                          % (spec['domain'],))
    if params.get('mac') is not None:
        spec['mac'] = v.mac_address(params['mac'], 'mac')
    for family, version in (('ipv4', 4), ('ipv6', 6)):
        if params.get(family) is not None:
            spec[family] = ip_spec(params[family], family, version)
    if params.get('dns') is not None:
        spec['dns'] = dns_spec(params['dns'])
    if mode in ('bridge', 'direct') and (spec['ipv4'] or spec['ipv6']):
        family = 'ipv4' if spec['ipv4'] else 'ipv6'
        raise InvalidSpec(family, "mode %r networks have no addresses of their own: libvirt manages none" % mode)
    return spec


def ip_spec(value, field, version):
    if not value.get('address'):
        raise InvalidSpec('%s.address' % field, 'an address with a prefix is required (example: 10.0.5.1/24)')
    iface = v.interface_address(value['address'], '%s.address' % field, version)
    network = iface.network
    dhcp = value.get('dhcp') or {}
    ranges = []
    for index, rng in enumerate(dhcp.get('ranges') or []):
        where = '%s.dhcp.ranges[%d]' % (field, index)
        if not rng.get('start') or not rng.get('end'):
            raise InvalidSpec(where, 'a range needs start and end')
        start = v.ip_address(rng['start'], where + '.start', network)
        end = v.ip_address(rng['end'], where + '.end', network)
        if start > end:
            raise InvalidSpec(where, 'start %s is after end %s' % (start, end))
        ranges.append({'start': str(start), 'end': str(end)})
    hosts = []
    for index, host in enumerate(dhcp.get('hosts') or []):
        where = '%s.dhcp.hosts[%d]' % (field, index)
        entry = {'ip': None, 'name': host.get('name') or None}
        if version == 4:
            entry['mac'] = v.mac_address(host['mac'], where + '.mac') if host.get('mac') else None
            if not entry['mac'] and not entry['name']:
                raise InvalidSpec(where, 'a DHCP host needs a mac or a name')
        else:
            entry['id'] = host.get('id') or None
            if host.get('mac'):
                raise InvalidSpec(where + '.mac', 'DHCPv6 hosts are matched by id (DUID) or name, not by MAC')
            if not entry['id'] and not entry['name']:
                raise InvalidSpec(where, 'a DHCPv6 host needs an id or a name')
        if not host.get('ip'):
            raise InvalidSpec(where + '.ip', 'a DHCP host needs the address to reserve')
        entry['ip'] = str(v.ip_address(host['ip'], where + '.ip', network))
        if entry['ip'] == str(iface.ip):
            raise InvalidSpec(where + '.ip', '%s is the network\'s own address' % entry['ip'])
        hosts.append(entry)
    v.unique([h.get('mac') for h in hosts], '%s.dhcp.hosts' % field, 'MAC')
    v.unique([h['ip'] for h in hosts], '%s.dhcp.hosts' % field, 'IP')
    v.unique([h['name'] for h in hosts], '%s.dhcp.hosts' % field, 'name')
    return {'address': str(iface.with_prefixlen), 'dhcp': sorted_dhcp({'ranges': ranges, 'hosts': hosts})}


def dns_spec(value):
    """Hosts and forwarders each, or None where not said: that part stays as it is."""
    return {'hosts': _dns_hosts(value['hosts']) if value.get('hosts') is not None else None,
            'forwarders': _dns_forwarders(value['forwarders']) if value.get('forwarders') is not None else None}


def _dns_hosts(value):
    hosts = []
    for index, host in enumerate(value):
        where = 'dns.hosts[%d]' % index
        if not host.get('ip'):
            raise InvalidSpec(where + '.ip', 'a DNS host needs an ip')
        names = host.get('hostnames') or []
        if not names:
            raise InvalidSpec(where + '.hostnames', 'a DNS host needs at least one hostname')
        hosts.append({'ip': str(v.ip_address(host['ip'], where + '.ip')), 'hostnames': list(names)})
    v.unique([h['ip'] for h in hosts], 'dns.hosts', 'IP')
    return sorted(hosts, key=lambda h: h['ip'])


def _dns_forwarders(value):
    return [str(v.ip_address(addr, 'dns.forwarders[%d]' % i)) for i, addr in enumerate(value)]


def spec_from_xml(xml, name):
    """A whole network XML: everything in it is desired, and what it leaves
    out is desired absent, except what libvirt fills in by itself."""
    parsed = parse_network_xml(xml, 'xml')
    if parsed['name'] and parsed['name'] != name:
        raise InvalidSpec('xml', 'the XML names network %r, but name is %r' % (parsed['name'], name))
    spec = dict(parsed, name=name)
    for key in LIBVIRT_FILLED:
        if spec.get(key) is None:
            del spec[key]
    return spec
