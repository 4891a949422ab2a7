import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.engine.plan import diff_specified
from ansible_collections.virtkit.virt.plugins.module_utils.errors import Conflict, InvalidSpec
from ansible_collections.virtkit.virt.plugins.module_utils.network.manager import NetworkManager, live_updates, without_live_parts
from ansible_collections.virtkit.virt.plugins.module_utils.network.spec import network_spec
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.network import build_network_xml, parse_network_xml
from ansible_collections.virtkit.virt.tests.unit.fake_driver import FakeDriver


def params(**kw):
    base = dict(name='n1', state='active', autostart=None, mode=None, bridge=None, forward_dev=None, mtu=None,
                domain=None, mac=None, ipv4=None, ipv6=None, dns=None, restart=False, force=False, xml=None)
    base.update(kw)
    return base


IPV4 = {'address': '10.0.5.1/24', 'dhcp': {
    'ranges': [{'start': '10.0.5.100', 'end': '10.0.5.200'}],
    'hosts': [{'mac': '52:54:00:AA:00:02', 'ip': '10.0.5.12', 'name': 'b'},
              {'mac': '52:54:00:aa:00:01', 'ip': '10.0.5.11', 'name': None}]}}


def test_spec_normalises_and_sorts():
    spec, strict = network_spec(params(mode='isolated', ipv4=IPV4))
    assert not strict
    assert spec['ipv4']['dhcp']['hosts'][0] == {'mac': '52:54:00:aa:00:01', 'ip': '10.0.5.11', 'name': None}
    assert spec['mtu'] is None and spec['bridge'] is None


def test_spec_round_trips_through_libvirt_xml():
    spec = network_spec(params(
        mode='nat', bridge='vkbr9', mtu=9000, domain='lab.test', ipv4=IPV4,
        dns={'hosts': [{'ip': '10.0.5.11', 'hostnames': ['a']}], 'forwarders': []}))[0]
    assert diff_specified(spec, parse_network_xml(build_network_xml(spec))) == []


@pytest.mark.parametrize('kw,field', [
    (dict(ipv4={'address': '10.0.0.300/24'}), 'ipv4.address'),
    (dict(ipv4={'address': '10.0.0.1'}), 'ipv4.address'),
    (dict(ipv4={'address': '10.0.0.0/24'}), 'ipv4.address'),
    (dict(ipv4={'address': 'fd00::1/64'}), 'ipv4.address'),
    (dict(ipv6={'address': '10.0.0.1/24'}), 'ipv6.address'),
    (dict(ipv4={'address': '10.0.0.1/24', 'dhcp': {'ranges': [{'start': '10.0.0.9', 'end': '10.0.0.5'}]}}), 'ipv4.dhcp.ranges[0]'),
    (dict(ipv4={'address': '10.0.0.1/24', 'dhcp': {'ranges': [{'start': '10.0.0.9', 'end': '10.0.1.5'}]}}), 'ipv4.dhcp.ranges[0].end'),
    (dict(ipv4={'address': '10.0.0.1/24', 'dhcp': {'hosts': [{'mac': '52:54:00:00:00:01', 'ip': '10.0.1.5'}]}}), 'ipv4.dhcp.hosts[0].ip'),
    (dict(ipv4={'address': '10.0.0.1/24', 'dhcp': {'hosts': [{'mac': '52:54:00:00:00:01', 'ip': '10.0.0.1'}]}}), 'ipv4.dhcp.hosts[0].ip'),
    (dict(ipv4={'address': '10.0.0.1/24', 'dhcp': {'hosts': [
        {'mac': '52:54:00:00:00:01', 'ip': '10.0.0.5'}, {'mac': '52:54:00:00:00:01', 'ip': '10.0.0.6'}]}}), 'ipv4.dhcp.hosts'),
    (dict(ipv4={'address': '10.0.0.1/24', 'dhcp': {'hosts': [
        {'mac': '52:54:00:00:00:01', 'ip': '10.0.0.5'}, {'mac': '52:54:00:00:00:02', 'ip': '10.0.0.5'}]}}), 'ipv4.dhcp.hosts'),
    (dict(ipv4={'address': '10.0.0.1/24', 'dhcp': {'hosts': [{'mac': '01:54:00:00:00:01', 'ip': '10.0.0.5'}]}}), 'ipv4.dhcp.hosts[0].mac'),
    (dict(mode='tunnel'), 'mode'),
    (dict(mode='bridge'), 'bridge'),
    (dict(mode='direct'), 'forward_dev'),
    (dict(mode='bridge', bridge='br0', ipv4={'address': '10.0.0.1/24'}), 'ipv4'),
    (dict(bridge='a-very-long-bridge-name'), 'bridge'),
    (dict(mtu=10), 'mtu'),
    (dict(mac='nope'), 'mac'),
    (dict(dns={'hosts': [{'ip': '10.0.0.5', 'hostnames': []}]}), 'dns.hosts[0].hostnames'),
    (dict(dns={'forwarders': ['dns.example']}), 'dns.forwarders[0]'),
    (dict(name='a/b'), 'name'),
    (dict(name='..'), 'name'),
    (dict(xml='<domain/>'), 'xml'),
    (dict(xml='<network><name>other</name></network>'), 'xml'),
    (dict(xml='<network'), 'xml'),
])
def test_bad_input_names_the_field(kw, field):
    with pytest.raises(InvalidSpec) as info:
        network_spec(params(**kw))
    assert info.value.field == field, info.value.describe()


def test_xml_spec_is_strict_but_leaves_libvirt_filled_values_out():
    spec, strict = network_spec(params(xml="<network><name>n1</name><ip address='10.0.5.1' prefix='24'/></network>"))
    assert strict
    assert 'uuid' not in spec and 'bridge' not in spec and 'mac' not in spec
    libvirt_xml = ("<network><name>n1</name><uuid>8f7c3e7a-0000-4000-8000-000000000001</uuid>"
                   "<bridge name='virbr3' stp='on' delay='0'/><mac address='52:54:00:01:02:03'/>"
                   "<ip address='10.0.5.1' netmask='255.255.255.0'/></network>")
    assert diff_specified(spec, parse_network_xml(libvirt_xml), strict=True) == []
    with_mtu = libvirt_xml.replace('<mac', "<mtu size='9000'/><mac")
    assert [c.path for c in diff_specified(spec, parse_network_xml(with_mtu), strict=True)] == ['mtu']


def test_live_updates_cover_hosts_ranges_and_dns():
    current = network_spec(params(ipv4=IPV4, dns={'hosts': [{'ip': '10.0.5.11', 'hostnames': ['a']}], 'forwarders': []}))[0]
    desired = {
        'ipv4': {'address': '10.0.5.1/24', 'dhcp': {
            'ranges': [{'start': '10.0.5.150', 'end': '10.0.5.200'}],
            'hosts': [{'mac': '52:54:00:aa:00:01', 'ip': '10.0.5.21', 'name': None},
                      {'mac': '52:54:00:aa:00:03', 'ip': '10.0.5.13', 'name': None}]}},
        'dns': {'hosts': [{'ip': '10.0.5.11', 'hostnames': ['a', 'aa']}], 'forwarders': []},
    }
    updates = [(update[0], update[1], update[3]) for update in live_updates(desired, current)]
    assert updates == [
        ('delete', 'ip-dhcp-host', 'remove ipv4 DHCP host 52:54:00:aa:00:02'),
        ('modify', 'ip-dhcp-host', 'modify ipv4 DHCP host 52:54:00:aa:00:01 (10.0.5.21)'),
        ('add-last', 'ip-dhcp-host', 'add ipv4 DHCP host 52:54:00:aa:00:03 (10.0.5.13)'),
        ('delete', 'ip-dhcp-range', 'remove ipv4 DHCP range 10.0.5.100-10.0.5.200'),
        ('add-last', 'ip-dhcp-range', 'add ipv4 DHCP range 10.0.5.150-10.0.5.200'),
        ('delete', 'dns-host', 'remove DNS host 10.0.5.11'),
        ('add-last', 'dns-host', 'add DNS host 10.0.5.11 (a, aa)'),
    ]
    rest = without_live_parts(desired, current)
    assert diff_specified(rest, current) == []


def test_a_new_subnet_is_not_a_live_update():
    current = network_spec(params(ipv4=IPV4))[0]
    desired = {'ipv4': {'address': '10.0.6.1/24', 'dhcp': {'ranges': [], 'hosts': []}}}
    assert live_updates(desired, current) == []
    assert [c.path for c in diff_specified(without_live_parts(desired, current), current)] == ['ipv4.address', 'ipv4.dhcp.ranges', 'ipv4.dhcp.hosts']


def test_redefinition_keeps_what_the_model_does_not_cover():
    base = ("<network><name>n1</name><uuid>8f7c3e7a-0000-4000-8000-000000000001</uuid>"
            "<forward mode='nat'/><bridge name='virbr3' stp='on' delay='0'/>"
            "<portgroup name='pg1' default='yes'/><ip address='10.0.5.1' prefix='24'/></network>")
    xml = build_network_xml({'name': 'n1', 'mtu': 1400, 'mode': 'route'}, base=base)
    assert "portgroup" in xml and 'stp="on"' in xml and 'mode="route"' in xml and '1400' in xml
    assert '8f7c3e7a' in xml


# -- DNS parts left out ------------------------------------------------------------

DNS_HOST = {'ip': '10.0.5.10', 'hostnames': ['db.lab.test']}


def current_with_dns_host():
    return parse_network_xml(build_network_xml(network_spec(params(ipv4=IPV4, dns={'hosts': [DNS_HOST]}))[0]))


def test_dns_forwarders_alone_leave_the_dns_hosts():
    desired = network_spec(params(dns={'forwarders': ['1.1.1.1']}))[0]
    assert desired['dns'] == {'hosts': None, 'forwarders': ['1.1.1.1']}
    current = current_with_dns_host()
    assert live_updates(desired, current) == []
    assert [c.path for c in diff_specified(without_live_parts(desired, current), current)] == ['dns.forwarders']
    assert parse_network_xml(build_network_xml(desired, base=build_network_xml(current)))['dns'] == {
        'hosts': [DNS_HOST], 'forwarders': ['1.1.1.1']}


def test_an_empty_list_of_dns_hosts_removes_them():
    desired = network_spec(params(dns={'hosts': []}))[0]
    assert desired['dns'] == {'hosts': [], 'forwarders': None}
    assert [update[3] for update in live_updates(desired, current_with_dns_host())] == ['remove DNS host 10.0.5.10']


# -- live updates of a network with two <ip> ----------------------------------------

# libvirt's XML of a running network with DHCP on both families.
DUAL_STACK = """
<network>
  <name>n1</name>
  <uuid>8f7c3e7a-0000-4000-8000-000000000002</uuid>
  <bridge name='virbr7' stp='on' delay='0'/>
  <mac address='52:54:00:01:02:07'/>
  <ip address='10.233.0.1' prefix='24'>
    <dhcp>
      <range start='10.233.0.100' end='10.233.0.199'/>
    </dhcp>
  </ip>
  <ip family='ipv6' address='fd00:233::1' prefix='64'>
    <dhcp>
      <range start='fd00:233::100' end='fd00:233::1ff'/>
    </dhcp>
  </ip>
</network>
"""

DUAL_IPV4 = {'address': '10.233.0.1/24', 'dhcp': {'ranges': [{'start': '10.233.0.100', 'end': '10.233.0.199'}]}}
DUAL_IPV6 = {'address': 'fd00:233::1/64', 'dhcp': {'ranges': [{'start': 'fd00:233::100', 'end': 'fd00:233::1ff'}]}}
V6_HOST = {'id': '0:3:0:1:52:54:0:aa:0:1', 'name': 'v6host', 'ip': 'fd00:233::10'}


def plan_dual_stack(ipv6, live=DUAL_STACK, config=DUAL_STACK):
    driver = FakeDriver()
    driver.add_network('n1')
    driver.script('network_xml', config, inactive=True)
    driver.script('network_xml', live, inactive=False)
    manager = NetworkManager(params(mode='isolated', ipv4=DUAL_IPV4, ipv6=ipv6), check_mode=False)
    manager.validate()
    manager.driver = driver
    plan = manager.plan()
    plan.apply()
    return plan, [(c['section'], c['parent_index'], c['live'], c['config']) for c in driver.called('update_network')]


def test_a_dhcpv6_host_goes_to_the_ipv6_element():
    plan, updates = plan_dual_stack(dict(DUAL_IPV6, dhcp=dict(DUAL_IPV6['dhcp'], hosts=[V6_HOST])))
    assert plan.action_names == ['add ipv6 DHCP host 0:3:0:1:52:54:0:aa:0:1 (fd00:233::10)']
    assert updates == [('ip-dhcp-host', 1, True, True)]


def test_a_dhcpv6_range_goes_to_the_ipv6_element():
    plan, updates = plan_dual_stack(dict(DUAL_IPV6, dhcp={'ranges': [{'start': 'fd00:233::100', 'end': 'fd00:233::1fe'}]}))
    assert plan.action_names == ['remove ipv6 DHCP range fd00:233::100-fd00:233::1ff',
                                 'add ipv6 DHCP range fd00:233::100-fd00:233::1fe']
    assert updates == [('ip-dhcp-range', 1, True, True)] * 2


def test_an_ip_element_placed_otherwise_in_the_definition_is_updated_there():
    reordered = with_ipv6_first(DUAL_STACK)
    plan, updates = plan_dual_stack(dict(DUAL_IPV6, dhcp=dict(DUAL_IPV6['dhcp'], hosts=[V6_HOST])), config=reordered)
    assert updates == [('ip-dhcp-host', 1, True, False), ('ip-dhcp-host', 0, False, True)]


def with_ipv6_first(xml):
    """``xml`` with its IPv6 <ip> first, as a pending redefinition may have it."""
    head, ipv4, ipv6 = xml.split('  <ip')
    return head + '  <ip' + ipv6.replace('</network>', '') + '  <ip' + ipv4 + '</network>\n'


def test_a_restart_that_would_cut_running_guests_off_needs_force():
    """libvirt does not reconnect a running guest's interface to the bridge
    a restarted network makes anew: restart true with guests on it is
    refused, naming them, unless force; forced, it warns."""
    def run(**kw):
        driver = FakeDriver()
        driver.add_network('n1')
        driver.script('network_xml', DUAL_STACK)
        on_it = "<domain><name>%s</name><devices><interface type='network'><source network='n1'/></interface>" \
                "</devices></domain>"
        driver.add_domain('vm', xml=on_it % 'vm')
        driver.add_domain('off', state='shutoff', xml=on_it % 'off')
        manager = NetworkManager(params(mode='isolated', ipv4=DUAL_IPV4, ipv6=DUAL_IPV6, mtu=9000, restart=True, **kw),
                                 check_mode=False)
        manager.validate()
        manager.driver = driver
        plan = manager.plan()
        plan.apply()
        return plan, driver

    with pytest.raises(Conflict) as info:
        run()
    assert str(info.value) == ('running guests use it: vm; restarting it cuts them off until each restarts (libvirt '
                               'does not reconnect their interfaces); stop them first, or set force: true')
    plan, driver = run(force=True)
    assert plan.action_names == ['redefine', 'restart']
    assert [name for name, _args in driver.changes()] == ['define_network', 'stop_network', 'start_network']
    assert plan.warnings == ["network 'n1': running guests on it lose their link until each restarts "
                             "(libvirt does not reconnect their interfaces): vm"]
