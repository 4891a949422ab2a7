"""Naming, grouping, filtering and address picking of the guests inventory."""
import re

import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.errors import InvalidSpec
from ansible_collections.virtkit.virt.plugins.plugin_utils.inventory_model import (
    assign_hostnames, check_options, compile_name_pattern, connection_vars, default_groups, guest_vars, guests_from_listing,
    passes_filters, sanitize_group_name, source_qualifiers, uri_driver, uri_entries, uri_host, wanted)

MAC = '52:54:00:aa:bb:01'
MAC2 = '52:54:00:aa:bb:02'


def domain_xml(name='web1', dom_type='kvm', tags=None, macs=(MAC,), agent=False):
    tag_xml = ''
    if tags:
        tag_xml = ('<metadata><virtkit:tags xmlns:virtkit="https://virtkit.dev/xmlns/virt/1.0">%s'
                   '</virtkit:tags></metadata>' % ''.join(
                       '<virtkit:tag name="%s">%s</virtkit:tag>' % item for item in sorted(tags.items())))
    ifaces = ''.join("<interface type='network'><mac address='%s'/><source network='net%d'/>"
                     "<model type='virtio'/></interface>" % (mac, i) for i, mac in enumerate(macs))
    channel = ("<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
               if agent else '')
    return ("<domain type='%s'><name>%s</name><uuid>c7a5fdbd-cdaf-9455-926a-d65c16db1809</uuid>%s"
            "<memory unit='MiB'>1024</memory><currentMemory unit='MiB'>512</currentMemory>"
            "<vcpu current='1'>2</vcpu><os><type>hvm</type></os><devices>%s%s</devices></domain>"
            % (dom_type, name, tag_xml, ifaces, channel))


def record(name='web1', state='running', **kwargs):
    return {'name': name, 'uuid': None, 'id': 1 if state == 'running' else None, 'state': state,
            'persistent': True, 'autostart': False, 'xml': domain_xml(name, **kwargs)}


SOURCE = {'uri': 'qemu:///system', 'host': 'localhost', 'driver': 'qemu', 'qualifier': 'localhost'}


@pytest.mark.parametrize('raw, safe', [
    ('virt_host_hv1.example.com', 'virt_host_hv1_example_com'),
    ('virt_tag_role_web-front', 'virt_tag_role_web_front'),
    ('virt_tag_k_a b/c:d', 'virt_tag_k_a_b_c_d'),
    ('virt_tag_x_\u00fcn\u00ef', 'virt_tag_x__n_'),
])
def test_sanitize_group_name(raw, safe):
    assert sanitize_group_name(raw) == safe
    assert re.match(r'^[A-Za-z_][A-Za-z0-9_]*$', safe)


@pytest.mark.parametrize('uri, host, driver', [
    ('qemu:///system', 'localhost', 'qemu'),
    ('lxc:///', 'localhost', 'lxc'),
    ('qemu+ssh://root@hv1.example.com/system', 'hv1.example.com', 'qemu'),
    ('qemu+tcp://10.0.0.5:16509/system', '10.0.0.5', 'qemu'),
    ('test:///default', 'localhost', 'test'),
])
def test_uri_host_and_driver(uri, host, driver):
    assert uri_host(uri) == host
    assert uri_driver(uri) == driver


def test_source_qualifiers_unique():
    assert source_qualifiers([{'host': 'hv1', 'driver': 'qemu'}, {'host': 'hv2', 'driver': 'qemu'}]) == ['hv1', 'hv2']
    # two drivers on one host: the driver tells them apart
    assert source_qualifiers([{'host': 'localhost', 'driver': 'qemu'}, {'host': 'localhost', 'driver': 'lxc'},
                              {'host': 'hv2', 'driver': 'qemu'}]) == ['localhost_qemu', 'localhost_lxc', 'hv2']
    # same host and driver twice (system and session): an index
    labels = source_qualifiers([{'host': 'localhost', 'driver': 'qemu'}, {'host': 'localhost', 'driver': 'qemu'}])
    assert len(set(labels)) == 2


def test_assign_hostnames_qualifies_the_later_duplicate():
    guests = [{'name': 'web', 'qualifier': 'hv1'}, {'name': 'db', 'qualifier': 'hv1'},
              {'name': 'web', 'qualifier': 'hv2'}]
    hostnames, clashes = assign_hostnames(guests)
    assert hostnames == ['web', 'db', 'web_hv2']
    assert clashes == [('web', ['web', 'web_hv2'])]


def test_assign_hostnames_qualify_all():
    guests = [{'name': 'web', 'qualifier': 'hv1'}, {'name': 'web', 'qualifier': 'hv2'}]
    assert assign_hostnames(guests, qualify_all=True) == (['web_hv1', 'web_hv2'], [])


def test_assign_hostnames_never_merges_with_a_real_name():
    # a guest really named web_hv2 on hv1, and web on hv1 and hv2
    guests = [{'name': 'web_hv2', 'qualifier': 'hv1'}, {'name': 'web', 'qualifier': 'hv1'},
              {'name': 'web', 'qualifier': 'hv2'}]
    hostnames, _clashes = assign_hostnames(guests)
    assert len(set(hostnames)) == 3
    assert hostnames[:2] == ['web_hv2', 'web']


def test_wanted_by_state_and_pattern():
    rec = record('web1', 'paused')
    assert wanted(rec)
    assert wanted(rec, states=['paused', 'running'])
    assert not wanted(rec, states=['running'])
    assert wanted(rec, name_re=compile_name_pattern('^web'))
    assert not wanted(rec, name_re=compile_name_pattern('^db'))


def test_passes_filters_first_true_decides():
    truth = {'a': True, 'b': False}
    evaluate = truth.get
    assert passes_filters([], evaluate)
    assert passes_filters([{'exclude': 'b'}], evaluate)
    assert not passes_filters([{'exclude': 'a'}], evaluate)
    assert passes_filters([{'include': 'a'}, {'exclude': 'a'}], evaluate)
    assert not passes_filters([{'include': 'b'}, {'exclude': 'a'}], evaluate)


def test_guest_vars_from_xml_and_leases():
    listing = {'domains': [], 'leases': {'net0': [{'mac': MAC.upper(), 'ip': '192.168.130.10'}],
                                         'other': [{'mac': MAC, 'ip': '10.9.9.9'}]},
               'addresses': {}}
    host_vars = guest_vars(record(tags={'role': 'web', 'env': 'prod'}), SOURCE, listing)
    assert host_vars['virt_ips'] == ['192.168.130.10']  # a lease of another network is not this NIC's
    assert host_vars['virt_interfaces'] == [{'mac': MAC, 'type': 'network', 'network': 'net0', 'bridge': None,
                                             'model': 'virtio', 'addresses': ['192.168.130.10']}]
    assert host_vars['virt_memory_mib'] == 512
    assert host_vars['virt_vcpus'] == 1
    assert host_vars['virt_type'] == 'kvm'
    assert host_vars['virt_tags'] == {'env': 'prod', 'role': 'web'}
    assert host_vars['virt_uuid'] == 'c7a5fdbd-cdaf-9455-926a-d65c16db1809'
    assert host_vars['virt_host'] == 'localhost' and host_vars['virt_driver'] == 'qemu'


def test_guest_vars_source_order_and_unusable_addresses():
    agent = [{'name': 'lo', 'mac': '00:00:00:00:00:00',
              'addresses': [{'type': 'ipv4', 'addr': '127.0.0.1', 'prefix': 8}]},
             {'name': 'eth1', 'mac': MAC2, 'addresses': [
                 {'type': 'ipv6', 'addr': 'fe80::1', 'prefix': 64},
                 {'type': 'ipv6', 'addr': 'fd00::5', 'prefix': 64},
                 {'type': 'ipv4', 'addr': '10.1.1.5', 'prefix': 24}]},
             {'name': 'eth0', 'mac': MAC, 'addresses': [{'type': 'ipv4', 'addr': '192.168.130.10', 'prefix': 24}]}]
    listing = {'leases': {'net0': [{'mac': MAC, 'ip': '192.168.130.10'}]},
               'addresses': {'web1': {'agent': agent}}}
    rec = record(macs=(MAC, MAC2), agent=True)
    agent_first = guest_vars(rec, SOURCE, listing, ip_sources=['agent', 'lease'])
    assert agent_first['virt_ips'] == ['fd00::5', '10.1.1.5', '192.168.130.10']
    assert connection_vars(agent_first) == {'ansible_host': '10.1.1.5'}  # the first IPv4
    lease_first = guest_vars(rec, SOURCE, listing, ip_sources=['lease', 'agent'])
    assert lease_first['virt_ips'][0] == '192.168.130.10'
    lease_only = guest_vars(rec, SOURCE, listing, ip_sources=['lease'])
    assert lease_only['virt_ips'] == ['192.168.130.10']


def test_shut_off_guest_has_no_addresses():
    listing = {'leases': {'net0': [{'mac': MAC, 'ip': '192.168.130.10'}]}, 'addresses': {}}
    host_vars = guest_vars(record(state='shutoff'), SOURCE, listing)
    assert host_vars['virt_ips'] == []
    assert connection_vars(host_vars) == {}


def test_default_groups():
    host_vars = guest_vars(record(state='paused', tags={'role': 'web', 'tier': 'front-end', 'bare': ''}),
                           dict(SOURCE, host='hv1.example.com'), {'leases': {}, 'addresses': {}})
    assert default_groups(host_vars) == ['virt_paused', 'virt_host_hv1_example_com', 'virt_qemu',
                                         'virt_tag_bare', 'virt_tag_role_web', 'virt_tag_tier_front_end']


def test_connection_vars():
    base = {'virt_name': 'ct1', 'virt_ips': ['fd00::1', '192.168.130.7'], 'virt_type': 'lxc', 'virt_driver': 'lxc'}
    assert connection_vars(base) == {'ansible_host': '192.168.130.7'}
    assert connection_vars(base, 'name') == {'ansible_host': 'ct1'}
    assert connection_vars(base, 'none') == {}
    assert connection_vars(base, 'ip', container_connection=True) == {
        'ansible_connection': 'virtkit.virt.lxc', 'ansible_host': 'ct1'}
    vm = dict(base, virt_type='kvm', virt_driver='qemu')
    assert connection_vars(vm, 'ip', container_connection=True) == {'ansible_host': '192.168.130.7'}


def test_guests_from_listing_filters_and_reports_bad_xml():
    bad = dict(record('broken'), xml='<domain><name>broken')
    listing = {'domains': [record('web1'), record('db1', 'shutoff'), bad], 'leases': {}, 'addresses': {}}
    guests, problems = guests_from_listing(listing, SOURCE, states=['running'])
    assert [g['name'] for g in guests] == ['web1']
    assert guests[0]['qualifier'] == 'localhost'
    assert len(problems) == 1 and 'broken' in problems[0]


def test_container_connection_vars_per_source():
    from ansible_collections.virtkit.virt.plugins.plugin_utils.inventory_model import container_host_vars
    ct = {'virt_name': 'ct1', 'virt_ips': [], 'virt_type': 'lxc', 'virt_driver': 'lxc'}
    local = {'uri': 'lxc:///', 'host': 'localhost'}
    assert connection_vars(ct, container_connection=True, source=local) == {
        'ansible_connection': 'virtkit.virt.lxc', 'ansible_host': 'ct1', 'virt_lxc_uri': 'lxc:///'}
    assert container_host_vars({'uri': 'lxc+ssh://admin@hv1:2222/', 'host': 'hv1'}) == {
        'virt_lxc_uri': 'lxc:///', 'virt_user': 'admin', 'virt_port': 2222}
    assert container_host_vars({'uri': 'lxc+tls://hv1/', 'host': 'hv1'}) == {'virt_lxc_uri': 'lxc:///'}
    ssh = {'uri': 'lxc:///', 'host': 'hv2',
           'ssh': {'virt_user': 'root', 'virt_port': 22, 'virt_key_file': None, 'virt_known_hosts_file': '/k'}}
    assert container_host_vars(ssh) == {'virt_lxc_uri': 'lxc:///', 'virt_user': 'root', 'virt_port': 22,
                                        'virt_known_hosts_file': '/k'}


def test_virt_host_is_null_for_a_local_uri():
    listing = {'domains': [record()], 'leases': {}, 'addresses': {}}
    (guest,), _problems = guests_from_listing(listing, dict(SOURCE, virt_host=None))
    assert guest['vars']['virt_host'] is None
    assert 'virt_host_localhost' in guest['groups']


class Vaulted(object):
    """Stands for a vaulted value: not a str, str() gives the plain text."""

    def __str__(self):
        return 's3cret'


def test_uri_entries_plain_and_with_auth():
    entries = uri_entries(['qemu:///system',
                           {'uri': 'qemu+tcp://127.0.0.1:16509/system', 'auth': {'username': 'u', 'password': 'p'}},
                           {'uri': 'lxc:///'},
                           {'uri': 'esx://vc/', 'auth': {'username': 'root', 'password': Vaulted()}}])
    assert entries == [('qemu:///system', None),
                       ('qemu+tcp://127.0.0.1:16509/system', {'username': 'u', 'password': 'p'}),
                       ('lxc:///', None),
                       ('esx://vc/', {'username': 'root', 'password': 's3cret'})]
    assert uri_entries([]) == [] and uri_entries(None) == []


class _TaggedInt(int):
    """What ansible-core 2.19 gives for an integer read from a file (_AnsibleTaggedInt)."""


@pytest.mark.parametrize('items, field, words', [
    ([42], 'uris[0]', 'expected a URI or a dictionary with uri and auth, got int'),
    ([_TaggedInt(5)], 'uris[0]', 'expected a URI or a dictionary with uri and auth, got int'),
    ([['qemu+ssh://u:secret@h/system']], 'uris[0]', 'expected a URI or a dictionary with uri and auth, got list'),
    (['qemu:///system', 'not a uri'], 'uris[1]', 'is not a libvirt URI'),
    ([{'url': 'qemu:///system'}], 'uris[0]', 'unknown key(s) url'),
    ([{'auth': {'username': 'u'}}], 'uris[0].uri', 'a libvirt URI is required'),
    ([{'uri': 'qemu:///system', 'auth': 'u:p'}], 'uris[0].auth', 'expected a dictionary'),
    ([{'uri': 'qemu:///system', 'auth': {'user': 'u'}}], 'uris[0].auth', 'unknown key(s) user'),
    ([{'uri': 'qemu:///system', 'auth': {'username': 7}}], 'uris[0].auth.username', 'expected a string'),
])
def test_uri_entries_name_the_bad_item(items, field, words):
    with pytest.raises(InvalidSpec) as caught:
        uri_entries(items)
    assert caught.value.field == field
    assert words in caught.value.detail
    assert 'secret' not in caught.value.describe()


OPTION_DEFAULTS = {'concurrency': 64, 'timeout': 30, 'agent_timeout': 2, 'name_pattern': None, 'filters': None,
                   'ssh_hosts': None}


@pytest.mark.parametrize('given, field, detail', [
    (['plugin', 'uris', 'ip_source'], 'ip_source', 'is no option of virtkit.virt.guests; did you mean ip_sources?'),
    (['plugin', 'colour'], 'colour', 'is no option of virtkit.virt.guests (ansible-doc -t inventory '
                                     'virtkit.virt.guests lists them)'),
    # every unknown key is named at once, each with its closest option
    (['plugin', 'uri', 'stats', 'ip_source'], 'ip_source, stats, uri',
     'are no options of virtkit.virt.guests; did you mean ip_sources (for ip_source), states (for stats), '
     'uris (for uri)?'),
    (['plugin', 'colour', 'ip_source'], 'colour, ip_source',
     'are no options of virtkit.virt.guests; did you mean ip_sources (for ip_source)? (ansible-doc -t inventory '
     'virtkit.virt.guests lists them)'),
])
def test_a_key_of_the_file_that_is_no_option_is_named(given, field, detail):
    """Ansible passes over such keys: a misspelt option kept its default."""
    known = ['uris', 'ip_sources', 'states', 'compose', 'keyed_groups']
    with pytest.raises(InvalidSpec) as raised:
        check_options(OPTION_DEFAULTS.get, given=given, known=known)
    assert (raised.value.field, raised.value.detail) == (field, detail)
    check_options(OPTION_DEFAULTS.get, given=['plugin', 'uris', 'ip_sources'], known=known)
