"""The raw listing: bulk reads, agent rules, skipped sources, time limits;
the SSH helper's virsh parsing and its shipped program (run here locally)."""
import json
import shutil
import subprocess
import sys
import time

import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.errors import DriverError
from ansible_collections.virtkit.virt.plugins.plugin_utils.listing import collect_listing
from ansible_collections.virtkit.virt.plugins.plugin_utils.remote_listing import (
    _quote, parse_virsh_addresses, parse_virsh_leases)
from ansible_collections.virtkit.virt.plugins.plugin_utils.ssh import listing_payload
from ansible_collections.virtkit.virt.tests.unit.fake_driver import FakeDriver

AGENT = 'org.qemu.guest_agent.0'


def listing_driver(domains, agent_delay=0, agent_fails=()):
    """Guests, and networks net0 (one lease), net1 (its dnsmasq gone) and down (inactive)."""
    driver = FakeDriver()
    for name, state, xml in domains:
        driver.add_domain(name, state, xml)
    driver.add_network('net0', leases=[{'mac': '52:54:00:00:00:01', 'ip': '192.168.130.5'}])
    driver.add_network('net1')
    driver.add_network('down', active=False)
    driver.script('network_leases', DriverError('no dnsmasq', resource="network 'net1'", action='read DHCP leases of'),
                  name='net1')
    for name in agent_fails:
        driver.script('domain_addresses', DriverError('agent not connected', resource='domain %r' % name,
                                                      action='read agent addresses of'), name=name)
    driver.delay('domain_addresses', agent_delay)
    return driver


def asked(driver, source):
    return [call['name'] for call in driver.called('domain_addresses') if call['source'] == source]


def dom(name, state, agent=False):
    xml = '<domain><name>%s</name>%s</domain>' % (name, '<channel><target name="%s"/></channel>' % AGENT if agent else '')
    return name, state, xml


def test_leases_once_per_network_and_failures_skipped():
    domains = [dom('a%d' % i, 'running') for i in range(20)]
    driver = listing_driver(domains)
    listing = collect_listing(driver, ip_sources=['lease'], agent_channel=AGENT)
    assert driver.called('network_leases') == [{'name': 'net0'}, {'name': 'net1'}]
    assert listing['leases'] == {'net0': [{'mac': '52:54:00:00:00:01', 'ip': '192.168.130.5'}]}
    assert len(listing['skipped']) == 1 and 'no dnsmasq' in listing['skipped'][0]


def test_agent_only_for_running_guests_with_the_channel():
    domains = [dom('run-agent', 'running', agent=True), dom('run-plain', 'running'),
               dom('paused-agent', 'paused', agent=True), dom('off-agent', 'shutoff', agent=True),
               dom('run-agent-broken', 'running', agent=True)]
    driver = listing_driver(domains, agent_fails=('run-agent-broken',))
    listing = collect_listing(driver, ip_sources=['agent'], agent_channel=AGENT)
    assert asked(driver, 'agent') == ['run-agent', 'run-agent-broken']
    assert set(listing['addresses']) == {'run-agent'}
    assert any('agent not connected' in s for s in listing['skipped'])
    assert not driver.called('network_leases') and not driver.called('list_networks')


def test_nothing_but_the_list_when_no_guest_runs():
    driver = listing_driver([dom('off', 'shutoff', agent=True)])
    collect_listing(driver, ip_sources=['lease', 'agent', 'arp'], agent_channel=AGENT)
    assert driver.names() == ['list_domains_with_xml']


def test_agent_time_limit():
    domains = [dom('slow%d' % i, 'running', agent=True) for i in range(10)]
    driver = listing_driver(domains, agent_delay=0.3)
    started = time.monotonic()
    listing = collect_listing(driver, ip_sources=['agent'], agent_timeout=1, agent_channel=AGENT)
    assert time.monotonic() - started < 2
    assert 1 <= len(listing['addresses']) < 10
    assert any('no answer within 1s' in s for s in listing['skipped'])


LEASES = """ Expiry Time           MAC address         Protocol   IP address           Hostname        Client ID or DUID
-----------------------------------------------------------------------------------------------------------------
 2026-11-29 02:58:43   52:54:00:B2:1a:22   ipv4       192.168.201.132/24   virtkit-guest   01:52:54:00:b2:1a:22
 2026-11-29 02:59:00   52:54:00:b2:1a:23   ipv6       fd00::5/64           -               00:04:aa
"""
DOMIFADDR = """ Name       MAC address          Protocol     Address
-------------------------------------------------------------------------------
 lo         00:00:00:00:00:00    ipv4         127.0.0.1/8
 -          -                    ipv6         ::1/128
 eth0       52:54:00:b2:1a:22    ipv4         192.168.201.132/24
 -          -                    ipv6         fe80::5054:ff:feb2:1a22/64
"""


def test_parse_virsh_tables():
    assert parse_virsh_leases(LEASES) == [
        {'mac': '52:54:00:b2:1a:22', 'ip': '192.168.201.132', 'prefix': 24, 'hostname': 'virtkit-guest',
         'expiry': None, 'type': 'ipv4'},
        {'mac': '52:54:00:b2:1a:23', 'ip': 'fd00::5', 'prefix': 64, 'hostname': None, 'expiry': None,
         'type': 'ipv6'}]
    interfaces = parse_virsh_addresses(DOMIFADDR)
    assert [(i['name'], i['mac'], [a['addr'] for a in i['addresses']]) for i in interfaces] == [
        ('lo', '00:00:00:00:00:00', ['127.0.0.1', '::1']),
        ('eth0', '52:54:00:b2:1a:22', ['192.168.201.132', 'fe80::5054:ff:feb2:1a22'])]
    assert parse_virsh_leases('') == [] and parse_virsh_addresses('') == []


def test_quote_for_virsh():
    assert _quote('web 1') == "'web 1'"
    assert _quote("it's") == '"it\'s"'


def _run_payload(force_virsh):
    payload = listing_payload({'uris': ['test:///default'], 'ip_sources': ['lease', 'agent', 'arp'],
                               'agent_timeout': 2, 'agent_channel': AGENT, 'force_virsh': force_virsh})
    # from /, where the collection is not importable: the program brings its own modules
    proc = subprocess.run([sys.executable, '-'], input=payload, capture_output=True, text=True, timeout=60,
                          cwd='/', check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)['listings']


@pytest.mark.parametrize('force_virsh', [False, True])
def test_shipped_program_lists_the_test_driver(force_virsh):
    pytest.importorskip('libvirt')
    if force_virsh and not shutil.which('virsh'):
        pytest.skip('virsh is not installed')
    (answer,) = _run_payload(force_virsh)
    assert answer['helper'] == ('virsh' if force_virsh else 'libvirt-python')
    listing = answer['listing']
    assert [(d['name'], d['state']) for d in listing['domains']] == [('test', 'running')]
    assert listing['domains'][0]['xml'].startswith('<domain')
    # the test driver has no DHCP leases (skipped, said) but answers domifaddr
    assert listing['leases'] == {} and any(s.startswith('lease: ') for s in listing['skipped'])
    assert listing['addresses']['test']['arp'][0]['addresses'][0]['addr'] == '192.168.122.3'
    assert 'agent' not in listing['addresses']['test']  # no agent channel in its XML
