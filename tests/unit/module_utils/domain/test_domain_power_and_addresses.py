"""Waiting for a power state (domain/power.py) and for IP addresses (domain/facts.py)."""
import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.domain.facts import (
    ADDRESS_POLL_INTERVAL, read_addresses, wait_for_addresses)
from ansible_collections.virtkit.virt.plugins.module_utils.domain.power import wait_for_state
from ansible_collections.virtkit.virt.plugins.module_utils.errors import Conflict, DriverError, NotFound, Timeout
from ansible_collections.virtkit.virt.tests.unit.fake_driver import FakeDriver


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def address_driver(addresses=None, broken=()):
    """Address answers scripted per source, one per call; ``broken`` sources fail. The guest runs."""
    driver = FakeDriver()
    driver.add_domain('vm', state='running')
    for source, answers in (addresses or {}).items():
        driver.script('domain_addresses', *answers, source=source)
    for source in broken:
        driver.script('domain_addresses', DriverError('wrong nlmsg len'), source=source)
    return driver


def state_driver(states):
    """The domain's state on each call (None: it is gone)."""
    driver = FakeDriver()
    driver.script('domain_status', *[NotFound('gone') if state is None else {'state': state} for state in states])
    return driver


LEASE = [{'name': 'vnet0', 'mac': '52:54:00:00:00:01',
          'addresses': [{'type': 'ipv4', 'addr': '192.168.150.101', 'prefix': 24}]}]


def test_a_failing_source_is_skipped_and_reported():
    clock = Clock()
    driver = address_driver(addresses={'lease': [[], [], LEASE]}, broken=('arp',))
    found, broken = wait_for_addresses(driver, 'vm', ['lease', 'arp', 'agent'], 60, clock=clock, sleep=clock.sleep)
    assert found == {'52:54:00:00:00:01': ['192.168.150.101']}
    assert list(broken) == ['arp']
    asked = [call['source'] for call in driver.called('domain_addresses')]
    assert asked.count('arp') == 1  # not asked again once broken
    assert clock.now == 2 * ADDRESS_POLL_INTERVAL  # asked three times: found on the third


def test_a_guest_that_stops_while_waited_for_is_said_at_once_with_its_state():
    clock = Clock()
    driver = address_driver()
    driver.script('domain_status', {'name': 'vm', 'state': 'running'}, {'name': 'vm', 'state': 'running'},
                  {'name': 'vm', 'state': 'shutoff', 'reason': 'crashed'})
    with pytest.raises(Conflict) as info:
        wait_for_addresses(driver, 'vm', ['lease'], 300, interval=2.0, clock=clock, sleep=clock.sleep)
    assert clock.now == 4.0  # the third look, not the timeout
    assert info.value.describe() == ("Failed to wait for an IP address of domain 'vm': it stopped while the task "
                                     "waited for its IP address (after 4 s of 300): it is shutoff (crashed)")
    driver.script('domain_status', NotFound('gone'))
    with pytest.raises(Conflict) as info:
        wait_for_addresses(driver, 'vm', ['lease'], 300, clock=clock, sleep=clock.sleep, kind='container')
    assert info.value.describe() == ("Failed to wait for an IP address of container 'vm': it was undefined while the "
                                     "task waited for its IP address")


def test_a_guest_on_its_way_down_is_looked_at_again_and_said_with_how_it_ended():
    clock = Clock()
    driver = address_driver()
    driver.script('domain_status', {'name': 'vm', 'state': 'shutdown', 'reason': 'user'},
                  {'name': 'vm', 'state': 'shutoff', 'reason': 'shutdown'})
    with pytest.raises(Conflict) as info:
        wait_for_addresses(driver, 'vm', ['lease'], 300, interval=2.0, clock=clock, sleep=clock.sleep)
    assert clock.now == 2.0  # the second look
    assert info.value.message.endswith('it is shutoff (shutdown)')
    # One that stays on its way down is waited for until the timeout, like a running one.
    driver.script('domain_status', *[{'name': 'vm', 'state': 'shutdown'}] * 10)
    with pytest.raises(Timeout):
        wait_for_addresses(driver, 'vm', ['lease'], 10, interval=2.0, clock=clock, sleep=clock.sleep)


def test_no_address_in_time_names_each_source():
    clock = Clock()
    with pytest.raises(Timeout) as info:
        wait_for_addresses(address_driver(broken=('arp',)), 'vm', ['lease', 'arp'], 10, clock=clock, sleep=clock.sleep)
    assert 'lease: no address yet' in info.value.message and 'arp: failed: wrong nlmsg len' in info.value.message
    with pytest.raises(Timeout) as info:
        wait_for_addresses(address_driver(broken=('arp', 'agent')), 'vm', ['arp', 'agent'], 10,
                           clock=clock, sleep=clock.sleep)
    assert 'no source of IP addresses works here' in info.value.message


def test_link_local_addresses_do_not_count():
    link_local = [{'mac': '52:54:00:00:00:01', 'addresses': [{'type': 'ipv6', 'addr': 'fe80::1', 'prefix': 64}]}]
    assert read_addresses(address_driver(addresses={'agent': [link_local]}), 'vm', ['agent']) == {}


def test_wait_for_state():
    clock = Clock()
    assert wait_for_state(state_driver(['running', 'running', 'shutoff']), 'vm', ('shutoff',), 5,
                          clock=clock, sleep=clock.sleep)
    assert not wait_for_state(state_driver(['running']), 'vm', ('shutoff',), 5, clock=clock, sleep=clock.sleep)
    assert wait_for_state(state_driver([None]), 'vm', ('shutoff',), 5, clock=clock, sleep=clock.sleep)
