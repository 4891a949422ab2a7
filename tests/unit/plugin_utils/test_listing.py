"""The raw listing: bulk reads, agent rules, skipped sources, time limits;
the SSH helper's virsh parsing and its shipped program (run here locally)."""
import json
import shutil
import subprocess
import sys
import threading
import time

import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.driver.parallel import JobTimeout, run_bounded
from ansible_collections.virtkit.virt.plugins.module_utils.errors import DriverError
from ansible_collections.virtkit.virt.plugins.plugin_utils.listing import collect_listing
from ansible_collections.virtkit.virt.plugins.plugin_utils.remote_listing import (
    _quote, parse_virsh_addresses, parse_virsh_leases)
from ansible_collections.virtkit.virt.plugins.plugin_utils.ssh import listing_payload

AGENT = 'org.qemu.guest_agent.0'


class FakeDriver:
    def __init__(self, domains, networks=('net0', 'net1'), agent_delay=0, agent_fails=()):
        self.domains = domains
        self.networks = networks
        self.calls = []
        self.agent_delay = agent_delay
        self.agent_fails = agent_fails

    def list_domains_with_xml(self):
        self.calls.append(('list',))
        return self.domains

    def list_networks(self):
        self.calls.append(('networks',))
        return [{'name': n, 'active': True} for n in self.networks] + [{'name': 'down', 'active': False}]

    def network_leases(self, name):
        self.calls.append(('leases', name))
        if name == 'net1':
            raise DriverError('no dnsmasq', resource='network %r' % name, action='read DHCP leases of')
        return [{'mac': '52:54:00:00:00:01', 'ip': '192.168.130.5'}]

    def domain_addresses(self, name, source):
        self.calls.append((source, name))
        time.sleep(self.agent_delay)
        if name in self.agent_fails:
            raise DriverError('agent not connected', resource='domain %r' % name, action='read agent addresses of')
        return [{'name': 'eth0', 'mac': '52:54:00:00:00:01', 'addresses': []}]


def dom(name, state, agent=False):
    xml = '<domain><name>%s</name>%s</domain>' % (name, '<channel><target name="%s"/></channel>' % AGENT if agent else '')
    return {'name': name, 'state': state, 'xml': xml}


def test_leases_once_per_network_and_failures_skipped():
    domains = [dom('a%d' % i, 'running') for i in range(20)]
    driver = FakeDriver(domains)
    listing = collect_listing(driver, ip_sources=['lease'], agent_channel=AGENT)
    assert [c for c in driver.calls if c[0] == 'leases'] == [('leases', 'net0'), ('leases', 'net1')]
    assert listing['leases'] == {'net0': [{'mac': '52:54:00:00:00:01', 'ip': '192.168.130.5'}]}
    assert len(listing['skipped']) == 1 and 'no dnsmasq' in listing['skipped'][0]


def test_agent_only_for_running_guests_with_the_channel():
    domains = [dom('run-agent', 'running', agent=True), dom('run-plain', 'running'),
               dom('paused-agent', 'paused', agent=True), dom('off-agent', 'shutoff', agent=True),
               dom('run-agent-broken', 'running', agent=True)]
    driver = FakeDriver(domains, agent_fails=('run-agent-broken',))
    listing = collect_listing(driver, ip_sources=['agent'], agent_channel=AGENT)
    assert [c[1] for c in driver.calls if c[0] == 'agent'] == ['run-agent', 'run-agent-broken']
    assert set(listing['addresses']) == {'run-agent'}
    assert any('agent not connected' in s for s in listing['skipped'])
    assert not [c for c in driver.calls if c[0] in ('leases', 'networks')]


def test_nothing_but_the_list_when_no_guest_runs():
    driver = FakeDriver([dom('off', 'shutoff', agent=True)])
    collect_listing(driver, ip_sources=['lease', 'agent', 'arp'], agent_channel=AGENT)
    assert driver.calls == [('list',)]


def test_agent_time_limit():
    domains = [dom('slow%d' % i, 'running', agent=True) for i in range(10)]
    driver = FakeDriver(domains, agent_delay=0.3)
    started = time.monotonic()
    listing = collect_listing(driver, ip_sources=['agent'], agent_timeout=1, agent_channel=AGENT)
    assert time.monotonic() - started < 2
    assert 1 <= len(listing['addresses']) < 10
    assert any('no answer within 1s' in s for s in listing['skipped'])


def test_run_bounded_order_concurrency_and_timeout():
    running, peak, lock = [0], [0], threading.Lock()

    def job(value, delay):
        def run():
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            time.sleep(delay)
            with lock:
                running[0] -= 1
            if value == 'boom':
                raise ValueError('boom')
            return value
        return run
    jobs = [job('a', 0.2), job('hang', 5), job('boom', 0.1), job('b', 0.2), job('c', 0.2)]
    started = time.monotonic()
    results = run_bounded(jobs, concurrency=2, timeout=1)
    elapsed = time.monotonic() - started
    assert elapsed < 2.5
    assert results[0] == (True, 'a') and results[3] == (True, 'b') and results[4] == (True, 'c')
    assert not results[1][0] and isinstance(results[1][1], JobTimeout)
    assert not results[2][0] and isinstance(results[2][1], ValueError)
    assert peak[0] <= 2


def test_run_bounded_side_by_side():
    started = time.monotonic()
    results = run_bounded([lambda: time.sleep(0.5) or i for i in range(4)], concurrency=8, timeout=5)
    assert time.monotonic() - started < 1.2
    assert [outcome[0] for outcome in results] == [True] * 4


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


def test_list_domains_with_xml_bulk_and_default():
    pytest.importorskip('libvirt')
    from ansible_collections.virtkit.virt.plugins.module_utils.driver.interface import Driver
    from ansible_collections.virtkit.virt.plugins.module_utils.driver.libvirt_driver import LibvirtDriver
    driver = LibvirtDriver('test:///default', readonly=True)
    try:
        bulk = driver.list_domains_with_xml()
        # the interface's default, one domain_xml call per domain, gives the same records
        assert Driver.list_domains_with_xml(driver) == bulk
    finally:
        driver.close()
    (record,) = bulk
    assert record['name'] == 'test' and record['state'] == 'running' and record['persistent']
    assert record['xml'].startswith('<domain') and '<name>test</name>' in record['xml']


def test_list_domains_with_xml_many_domains_in_order(tmp_path):
    """Several XML readers on one connection: every domain, each with its own XML."""
    pytest.importorskip('libvirt')
    from ansible_collections.virtkit.virt.plugins.module_utils.driver.interface import Driver
    from ansible_collections.virtkit.virt.plugins.module_utils.driver.libvirt_driver import LibvirtDriver
    host = tmp_path / 'host.xml'
    host.write_text('<node><cpu><mhz>2000</mhz><nodes>1</nodes><sockets>1</sockets><cores>2</cores>'
                    '<threads>1</threads></cpu><memory>8388608</memory>%s</node>' % ''.join(
                        "<domain type='test'><name>d%02d</name><memory unit='MiB'>%d</memory>"
                        "<os><type>hvm</type></os></domain>" % (i, 64 + i) for i in range(37)))
    driver = LibvirtDriver('test://%s' % host, readonly=True)
    try:
        bulk = driver.list_domains_with_xml()
        assert Driver.list_domains_with_xml(driver) == bulk
    finally:
        driver.close()
    assert sorted(r['name'] for r in bulk) == ['d%02d' % i for i in range(37)]
    for record in bulk:
        assert '<name>%s</name>' % record['name'] in record['xml']
        assert "<memory unit='KiB'>%d</memory>" % ((64 + int(record['name'][1:])) * 1024) in record['xml']


def test_in_threads_keeps_order_and_raises_the_first_error():
    pytest.importorskip('libvirt')
    from ansible_collections.virtkit.virt.plugins.module_utils.driver.libvirt_driver import _in_threads
    seen = set()

    def slow_square(n):
        seen.add(threading.current_thread().name)
        time.sleep(0.001 * (n % 3))
        return n * n
    assert _in_threads(list(range(50)), slow_square, 4) == [n * n for n in range(50)]
    assert len(seen) == 4
    assert _in_threads([], slow_square, 4) == []

    def fails_on_7(n):
        if n == 7:
            raise ValueError('seven')
        return n
    with pytest.raises(ValueError, match='seven'):
        _in_threads(list(range(20)), fails_on_7, 3)
