# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Network XML ⇄ canonical dict.

Canonical form (every key optional but ``name``)::

    {name, mode, bridge, forward_dev, mtu, domain, mac,
     ipv4: {address: 'A.B.C.D/P', dhcp: {ranges: [{start, end}], hosts: [{mac, ip, name}]}},
     ipv6: {...same...},
     dns: {hosts: [{ip, hostnames: [...]}], forwarders: [...]}}

``mode`` is one of isolated (no <forward>), nat, route, open, bridge (an
existing host bridge) and direct (macvtap on a host device). The parser drops
what libvirt adds on its own (uuid, stp/delay, generated MAC is kept but only
compared when the user names one) and sorts lists whose order means nothing,
so builder and parser round-trip.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel import common as x

MODES = ('isolated', 'nat', 'route', 'open', 'bridge', 'direct')


def _host_key(host):
    return (host.get('mac') or '', host.get('name') or '', host.get('ip') or '')


def sorted_dhcp(dhcp):
    if dhcp is None:
        return None
    return {'ranges': sorted(dhcp.get('ranges') or [], key=lambda r: (r.get('start'), r.get('end'))),
            'hosts': sorted(dhcp.get('hosts') or [], key=_host_key)}


def networks_of_domain(domain_xml):
    """The networks a domain's XML puts its interfaces on (``<interface
    type='network'><source network=.../>``), as a set: what a network asks of
    its guests, without the domain parser (as large as the whole network module)."""
    root = x.parse(domain_xml, 'xml', 'domain')
    return set(source.get('network') for source in root.iterfind("devices/interface[@type='network']/source")
               if source.get('network'))


# -- build -------------------------------------------------------------------

def build_network_xml(spec, base=None, uuid=None):
    """XML for ``spec``. With ``base`` (the current XML), only the parts the
    spec names are replaced: what the model does not cover (portgroups, QoS,
    ...) and what libvirt filled in survive a redefinition."""
    root = x.parse(base, 'xml', 'network') if base else x.element('network')
    x.put(root, 'name', x.element('name', text=spec['name']))
    if uuid:
        x.put(root, 'uuid', x.element('uuid', text=uuid))
    if spec.get('mode') is not None:
        x.put(root, 'forward', _forward_element(spec['mode'], spec.get('forward_dev')))
    elif spec.get('forward_dev') is not None and root.find('forward') is not None:
        root.find('forward').set('dev', spec['forward_dev'])
    if spec.get('bridge') is not None:
        x.child(root, 'bridge').set('name', spec['bridge'])
    for key, tag, attr in (('mtu', 'mtu', 'size'), ('mac', 'mac', 'address'), ('domain', 'domain', 'name')):
        if spec.get(key) is not None:
            x.put(root, tag, x.element(tag, {attr: spec[key]}))
    if spec.get('dns') is not None:
        x.put(root, 'dns', _dns_element(spec['dns']))
    for family in ('ipv4', 'ipv6'):
        if spec.get(family) is not None:
            for old in _ip_elements(root, family):
                root.remove(old)
            if spec[family]:
                root.append(build_ip_element(spec[family], family))
    return x.to_string(root)


def _forward_element(mode, dev):
    if mode in ('nat', 'route', 'open'):
        return x.element('forward', {'mode': mode, 'dev': dev})
    if mode == 'bridge':
        return x.element('forward', {'mode': 'bridge'})
    if mode == 'direct':
        forward = x.element('forward', {'mode': 'bridge'})
        x.sub(forward, 'interface', {'dev': dev})
        return forward
    return None  # isolated: no <forward>


def _dns_element(dns):
    if not (dns.get('hosts') or dns.get('forwarders')):
        return None
    el = x.element('dns')
    for addr in dns.get('forwarders') or []:
        x.sub(el, 'forwarder', {'addr': addr})
    for host in dns.get('hosts') or []:
        el.append(build_dns_host_element(host))
    return el


def _ip_family(ip):
    return 'ipv6' if (ip.get('family') == 'ipv6' or ':' in (ip.get('address') or '')) else 'ipv4'


def _ip_elements(root, family):
    return [ip for ip in root.findall('ip') if _ip_family(ip) == family]


def build_ip_element(ip, family):
    iface = ipaddress.ip_interface(ip['address'])
    attrs = {'address': str(iface.ip), 'prefix': iface.network.prefixlen}
    if family == 'ipv6':
        attrs = dict(family='ipv6', **attrs)
    el = x.element('ip', attrs)
    dhcp = ip.get('dhcp')
    if dhcp and (dhcp.get('ranges') or dhcp.get('hosts')):
        dhcp_el = x.sub(el, 'dhcp')
        for rng in dhcp.get('ranges') or []:
            x.sub(dhcp_el, 'range', {'start': rng['start'], 'end': rng['end']})
        for host in dhcp.get('hosts') or []:
            dhcp_el.append(build_dhcp_host_element(host, family))
    return el


def build_dhcp_host_element(host, family='ipv4'):
    if family == 'ipv6':
        # DHCPv6 identifies hosts by DUID or name, never by MAC.
        return x.element('host', {'id': host.get('id'), 'name': host.get('name'), 'ip': host.get('ip')})
    return x.element('host', {'mac': host.get('mac'), 'name': host.get('name'), 'ip': host.get('ip')})


def build_dns_host_element(host):
    el = x.element('host', {'ip': host['ip']})
    for name in host.get('hostnames') or []:
        x.sub(el, 'hostname', text=name)
    return el


# -- parse -------------------------------------------------------------------

def parse_network_xml(xml, field='xml'):
    root = x.parse(xml, field, 'network')
    forward = root.find('forward')
    bridge = root.find('bridge')
    result = {
        'name': x.text(root, 'name'),
        'uuid': x.text(root, 'uuid'),
        'bridge': bridge.get('name') if bridge is not None else None,
        'forward_dev': None,
        'mtu': x.attr(root, 'mtu', 'size', int),
        'domain': x.attr(root, 'domain', 'name'),
        'mac': x.attr(root, 'mac', 'address', str.lower),
        'ipv4': {},
        'ipv6': {},
        'dns': None,
    }
    if forward is None:
        result['mode'] = 'isolated'
    else:
        mode = forward.get('mode') or 'nat'
        devices = [i.get('dev') for i in forward.findall('interface')]
        if mode in ('nat', 'route', 'open'):
            result['mode'] = mode
            result['forward_dev'] = forward.get('dev')
        elif mode == 'bridge' and result['bridge']:
            result['mode'] = 'bridge'
        elif mode in ('bridge', 'private', 'vepa', 'passthrough'):
            result['mode'] = 'direct'
            result['forward_dev'] = forward.get('dev') or (devices[0] if devices else None)
        else:
            result['mode'] = mode  # hostdev and others: reported as libvirt names them
    for ip in root.findall('ip'):
        family = _ip_family(ip)
        if not result[family]:
            result[family] = parse_ip_element(ip, family)
    dns = root.find('dns')
    result['dns'] = {'hosts': [], 'forwarders': []}
    if dns is not None:
        hosts = [{'ip': h.get('ip'), 'hostnames': [n.text for n in h.findall('hostname')]}
                 for h in dns.findall('host')]
        result['dns'] = {'hosts': sorted(hosts, key=lambda h: h['ip']),
                         'forwarders': [f.get('addr') for f in dns.findall('forwarder') if f.get('addr')]}
    return result


def parse_ip_element(ip, family):
    if ip.get('prefix'):
        address = '%s/%s' % (ip.get('address'), ip.get('prefix'))
    elif ip.get('netmask'):
        address = '%s/%s' % (ip.get('address'), ip.get('netmask'))
    else:
        address = ip.get('address')
    parsed = {'address': str(ipaddress.ip_interface(address).with_prefixlen),
              'dhcp': {'ranges': [], 'hosts': []}}
    dhcp = ip.find('dhcp')
    if dhcp is not None:
        hosts = []
        for h in dhcp.findall('host'):
            host = {'ip': h.get('ip'), 'name': h.get('name')}
            if family == 'ipv6':
                host['id'] = h.get('id')
            else:
                host['mac'] = (h.get('mac') or '').lower() or None
            hosts.append(host)
        parsed['dhcp'] = sorted_dhcp({
            'ranges': [{'start': r.get('start'), 'end': r.get('end')} for r in dhcp.findall('range')],
            'hosts': hosts})
    return parsed
