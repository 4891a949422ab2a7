import shutil
import subprocess

import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.engine.plan import diff_specified
from ansible_collections.virtkit.virt.plugins.module_utils.errors import InvalidSpec
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.network import (
    build_network_xml, ip_index, parse_network_xml)

# What libvirt 9 returns for an isolated network defined without uuid or MAC.
LIBVIRT_ISOLATED = """
<network>
  <name>vk-iso</name>
  <uuid>0b7d9d6e-2c7d-4f43-9d5a-3f8a7f1e2b11</uuid>
  <bridge name='vkbr0' stp='on' delay='0'/>
  <mac address='52:54:00:AB:cd:01'/>
  <ip address='192.168.213.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.213.100' end='192.168.213.200'/>
      <host mac='52:54:00:00:00:22' name='b' ip='192.168.213.22'/>
      <host mac='52:54:00:00:00:11' name='a' ip='192.168.213.11'/>
    </dhcp>
  </ip>
</network>
"""

SPEC = {
    'name': 'vk-iso', 'mode': 'isolated', 'bridge': 'vkbr0',
    'ipv4': {'address': '192.168.213.1/24', 'dhcp': {
        'ranges': [{'start': '192.168.213.100', 'end': '192.168.213.200'}],
        'hosts': [{'mac': '52:54:00:00:00:11', 'ip': '192.168.213.11', 'name': 'a'},
                  {'mac': '52:54:00:00:00:22', 'ip': '192.168.213.22', 'name': 'b'}]}},
}


def test_parse_drops_nothing_the_user_did_not_say_into_a_change():
    current = parse_network_xml(LIBVIRT_ISOLATED)
    assert current['mode'] == 'isolated'
    assert current['uuid'] == '0b7d9d6e-2c7d-4f43-9d5a-3f8a7f1e2b11'
    assert current['mac'] == '52:54:00:ab:cd:01'
    assert current['ipv4']['address'] == '192.168.213.1/24'
    assert diff_specified(SPEC, current) == []


def test_round_trip():
    xml = build_network_xml(SPEC)
    parsed = parse_network_xml(xml)
    assert diff_specified(SPEC, parsed) == []
    assert parsed['uuid'] is None


@pytest.mark.parametrize('spec,mode_xml', [
    ({'name': 'n', 'mode': 'nat', 'forward_dev': 'eth0'}, "<forward mode=\"nat\" dev=\"eth0\"/>"),
    ({'name': 'n', 'mode': 'route'}, "<forward mode=\"route\"/>"),
    ({'name': 'n', 'mode': 'bridge', 'bridge': 'br0'}, "<forward mode=\"bridge\"/>"),
])
def test_modes_round_trip(spec, mode_xml):
    xml = build_network_xml(spec)
    assert mode_xml in xml
    assert diff_specified(spec, parse_network_xml(xml)) == []


def test_direct_mode():
    spec = {'name': 'n', 'mode': 'direct', 'forward_dev': 'eth1'}
    xml = build_network_xml(spec)
    assert '<interface dev="eth1"/>' in xml
    assert diff_specified(spec, parse_network_xml(xml)) == []


def test_ipv6_and_dns_round_trip():
    spec = {'name': 'n', 'mode': 'isolated', 'domain': 'lab.test', 'mtu': 9000,
            'ipv6': {'address': 'fd00:1::1/64', 'dhcp': {'ranges': [{'start': 'fd00:1::100', 'end': 'fd00:1::1ff'}]}},
            'dns': {'hosts': [{'ip': '192.168.5.9', 'hostnames': ['db', 'db.lab.test']}], 'forwarders': ['192.0.2.53']}}
    parsed = parse_network_xml(build_network_xml(spec))
    assert diff_specified(spec, parsed) == []
    assert parsed['dns']['hosts'][0]['hostnames'] == ['db', 'db.lab.test']


# A user's XML with addresses written otherwise than libvirt writes them back.
USER_DUAL_STACK = """
<network>
  <name>n</name>
  <ip address='10.0.7.1' prefix='24'/>
  <ip family='ipv6' address='FD00:0232:0::1' prefix='64'>
    <dhcp>
      <range start='FD00:232::100' end='FD00:232::1FF'/>
      <host id='0:3:0:1:52:54:0:AA:0:1' name='v6host' ip='FD00:232::10'/>
    </dhcp>
  </ip>
  <dns>
    <forwarder addr='2001:DB8::53'/>
    <host ip='FD00:232::10'><hostname>v6host</hostname></host>
  </dns>
</network>
"""

# libvirt's definition of it: addresses in their canonical form, the DUID as written.
LIBVIRT_DUAL_STACK = """
<network>
  <name>n</name>
  <uuid>0b7d9d6e-2c7d-4f43-9d5a-3f8a7f1e2b12</uuid>
  <bridge name='virbr9' stp='on' delay='0'/>
  <mac address='52:54:00:ab:cd:02'/>
  <dns>
    <forwarder addr='2001:db8::53'/>
    <host ip='fd00:232::10'>
      <hostname>v6host</hostname>
    </host>
  </dns>
  <ip address='10.0.7.1' prefix='24'>
  </ip>
  <ip family='ipv6' address='fd00:232::1' prefix='64'>
    <dhcp>
      <range start='fd00:232::100' end='fd00:232::1ff'/>
      <host id='0:3:0:1:52:54:0:AA:0:1' name='v6host' ip='fd00:232::10'/>
    </dhcp>
  </ip>
</network>
"""


def test_addresses_compare_as_libvirt_writes_them():
    user = parse_network_xml(USER_DUAL_STACK)
    assert user['ipv6']['dhcp']['ranges'] == [{'start': 'fd00:232::100', 'end': 'fd00:232::1ff'}]
    assert user['ipv6']['dhcp']['hosts'][0]['ip'] == 'fd00:232::10'
    assert user['dns'] == {'hosts': [{'ip': 'fd00:232::10', 'hostnames': ['v6host']}], 'forwarders': ['2001:db8::53']}
    for filled_by_libvirt in ('uuid', 'bridge', 'mac'):
        del user[filled_by_libvirt]
    assert diff_specified(user, parse_network_xml(LIBVIRT_DUAL_STACK), strict=True) == []


def test_ip_index_is_the_position_among_all_ip_elements():
    assert ip_index(LIBVIRT_DUAL_STACK, 'ipv4') == 0
    assert ip_index(LIBVIRT_DUAL_STACK, 'ipv6') == 1
    ipv6_first = LIBVIRT_ISOLATED.replace('<ip address', "<ip family='ipv6' address='fd00::1' prefix='64'/><ip address")
    assert ip_index(ipv6_first, 'ipv4') == 1
    assert ip_index(ipv6_first, 'ipv6') == 0
    assert ip_index(LIBVIRT_ISOLATED, 'ipv6') is None


def test_a_redefined_ip_keeps_its_place():
    xml = build_network_xml({'name': 'n', 'ipv4': {'address': '10.0.8.1/24'}}, base=LIBVIRT_DUAL_STACK)
    assert ip_index(xml, 'ipv4') == 0 and ip_index(xml, 'ipv6') == 1
    assert parse_network_xml(xml)['ipv4']['address'] == '10.0.8.1/24'


def test_dns_parts_not_named_stay():
    forwarders_only = build_network_xml({'name': 'n', 'dns': {'forwarders': ['192.0.2.53'], 'hosts': None}},
                                        base=LIBVIRT_DUAL_STACK)
    assert parse_network_xml(forwarders_only)['dns'] == {
        'hosts': [{'ip': 'fd00:232::10', 'hostnames': ['v6host']}], 'forwarders': ['192.0.2.53']}
    no_hosts = build_network_xml({'name': 'n', 'dns': {'hosts': [], 'forwarders': None}}, base=LIBVIRT_DUAL_STACK)
    assert parse_network_xml(no_hosts)['dns'] == {'hosts': [], 'forwarders': ['2001:db8::53']}
    nothing = build_network_xml({'name': 'n', 'dns': {'hosts': [], 'forwarders': []}}, base=LIBVIRT_DUAL_STACK)
    assert '<dns' not in nothing


def test_not_a_network():
    with pytest.raises(InvalidSpec) as info:
        parse_network_xml('<domain/>')
    assert info.value.field == 'xml' and 'network' in str(info.value)
    with pytest.raises(InvalidSpec):
        parse_network_xml('<network>')


@pytest.mark.skipif(not shutil.which('virt-xml-validate'), reason='virt-xml-validate (libvirt-clients) not installed')
@pytest.mark.parametrize('spec', [
    SPEC,
    {'name': 'n', 'mode': 'nat', 'bridge': 'vkbr1', 'ipv4': {'address': '10.9.0.1/24'}},
    {'name': 'n', 'mode': 'bridge', 'bridge': 'br0'},
    {'name': 'n', 'mode': 'direct', 'forward_dev': 'eth1'},
])
def test_generated_xml_is_valid(tmp_path, spec):
    path = tmp_path / 'net.xml'
    path.write_text(build_network_xml(spec))
    out = subprocess.run(['virt-xml-validate', str(path), 'network'], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr


GUEST_INTERFACES = """
<domain type='kvm'>
  <name>g</name>
  <devices>
    <interface type='network'><mac address='52:54:00:00:00:01'/><source network='lan'/></interface>
    <interface type='network'><source network='lan' portgroup='p'/></interface>
    <interface type='bridge'><source bridge='net-named-bridge'/></interface>
    <interface type='direct'><source dev='eth0' mode='bridge'/></interface>
    <interface type='network'><source network='backend'/></interface>
    <interface type='user'/>
  </devices>
</domain>
"""


def test_networks_of_domain_are_those_the_domain_parser_reads():
    from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.domain import parse_domain_xml
    from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.network import networks_of_domain
    parsed = set(i['network'] for i in parse_domain_xml(GUEST_INTERFACES)['interfaces'] if i.get('network'))
    assert networks_of_domain(GUEST_INTERFACES) == parsed == {'lan', 'backend'}
    assert networks_of_domain("<domain type='lxc'><name>c</name><devices/></domain>") == set()
    with pytest.raises(InvalidSpec):
        networks_of_domain('<network/>')
