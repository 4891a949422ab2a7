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
        _put_dns(root, spec['dns'])
    for family in ('ipv4', 'ipv6'):
        if spec.get(family) is not None:
            _put_ip(root, family, spec[family])
    return x.to_string(root)


def _put_ip(root, family, ip):
    """The ``family`` <ip> in the place of the current one: libvirt addresses
    an <ip> of a running network by its position (ip_index), which a
    redefinition should not move under it."""
    new = build_ip_element(ip, family) if ip else None
    old = _ip_elements(root, family)
    for each in old[1:]:
        root.remove(each)
    if old and new is not None:
        root.replace(old[0], new)
    elif old:
        root.remove(old[0])
    elif new is not None:
        root.append(new)


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


def _put_dns(root, dns):
    """The forwarders and hosts ``dns`` names replace the current ones; those
    it leaves out (None) stay, as do TXT and SRV records and forwarders of a
    domain alone, which the model does not cover."""
    el = x.child(root, 'dns')
    if dns.get('forwarders') is not None:
        for old in el.findall('forwarder[@addr]'):
            el.remove(old)
        for index, addr in enumerate(dns['forwarders']):
            el.insert(index, x.element('forwarder', {'addr': addr}))
    if dns.get('hosts') is not None:
        for old in el.findall('host'):
            el.remove(old)
        for host in dns['hosts']:
            el.append(build_dns_host_element(host))
    if not len(el) and not el.attrib:
        root.remove(el)


def _ip_family(ip):
    return 'ipv6' if (ip.get('family') == 'ipv6' or ':' in (ip.get('address') or '')) else 'ipv4'


def _ip_elements(root, family):
    return [ip for ip in root.findall('ip') if _ip_family(ip) == family]


def ip_index(xml, family):
    """The position among a network's <ip> elements of the ``family`` one the
    parser reads (None without one): the parentIndex virNetworkUpdate needs
    to change its DHCP hosts and ranges. Without it libvirt takes the first
    <ip> with DHCP, whatever its family."""
    ips = x.parse(xml, 'xml', 'network').findall('ip')
    return next((index for index, ip in enumerate(ips) if _ip_family(ip) == family), None)


def _address(text):
    """An IP address as libvirt writes it (IPv6 in lower case, zeros
    compressed), so a user's XML compares equal to libvirt's; what is no
    address stays as written, for libvirt's schema to name."""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


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
        hosts = [{'ip': _address(h.get('ip')), 'hostnames': [n.text for n in h.findall('hostname')]}
                 for h in dns.findall('host')]
        result['dns'] = {'hosts': sorted(hosts, key=lambda h: h['ip']),
                         'forwarders': [_address(f.get('addr')) for f in dns.findall('forwarder') if f.get('addr')]}
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
            host = {'ip': _address(h.get('ip')), 'name': h.get('name')}
            if family == 'ipv6':
                # As written: libvirt keeps a DUID as given, in either case.
                host['id'] = h.get('id')
            else:
                host['mac'] = (h.get('mac') or '').lower() or None
            hosts.append(host)
        parsed['dhcp'] = sorted_dhcp({
            'ranges': [{'start': _address(r.get('start')), 'end': _address(r.get('end'))} for r in dhcp.findall('range')],
            'hosts': hosts})
    return parsed
