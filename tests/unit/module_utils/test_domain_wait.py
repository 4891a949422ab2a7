import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.domain.facts import read_addresses, wait_for_addresses
from ansible_collections.virtkit.virt.plugins.module_utils.domain.power import wait_for_state
from ansible_collections.virtkit.virt.plugins.module_utils.errors import DriverError, NotFound, Timeout


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


class Driver:
    """Answers address and state queries from scripts, one answer per call."""

    def __init__(self, addresses=None, states=None, broken=()):
        self.addresses = addresses or {}
        self.states = list(states or [])
        self.broken = broken
        self.calls = []

    def domain_addresses(self, name, source):
        self.calls.append(source)
        if source in self.broken:
            raise DriverError('wrong nlmsg len')
        script = self.addresses.get(source) or [[]]
        return script.pop(0) if len(script) > 1 else script[0]

    def domain_status(self, name):
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        if state is None:
            raise NotFound('gone')
        return {'state': state}


LEASE = [{'name': 'vnet0', 'mac': '52:54:00:00:00:01',
          'addresses': [{'type': 'ipv4', 'addr': '192.168.150.101', 'prefix': 24}]}]


def test_a_failing_source_is_skipped_and_reported():
    clock = Clock()
    driver = Driver(addresses={'lease': [[], [], LEASE]}, broken=('arp',))
    found, broken = wait_for_addresses(driver, 'vm', ['lease', 'arp', 'agent'], 60, clock=clock, sleep=clock.sleep)
    assert found == {'52:54:00:00:00:01': ['192.168.150.101']}
    assert list(broken) == ['arp']
    assert driver.calls.count('arp') == 1  # not asked again once broken
    assert clock.now == 4.0


def test_no_address_in_time_names_each_source():
    clock = Clock()
    with pytest.raises(Timeout) as info:
        wait_for_addresses(Driver(broken=('arp',)), 'vm', ['lease', 'arp'], 10, clock=clock, sleep=clock.sleep)
    assert 'lease: no address yet' in info.value.message and 'arp: failed: wrong nlmsg len' in info.value.message
    with pytest.raises(Timeout) as info:
        wait_for_addresses(Driver(broken=('arp', 'agent')), 'vm', ['arp', 'agent'], 10, clock=clock, sleep=clock.sleep)
    assert 'no source of IP addresses works here' in info.value.message


def test_link_local_addresses_do_not_count():
    link_local = [{'mac': '52:54:00:00:00:01', 'addresses': [{'type': 'ipv6', 'addr': 'fe80::1', 'prefix': 64}]}]
    assert read_addresses(Driver(addresses={'agent': [link_local]}), 'vm', ['agent']) == {}


def test_wait_for_state():
    clock = Clock()
    assert wait_for_state(Driver(states=['running', 'running', 'shutoff']), 'vm', ('shutoff',), 5,
                          clock=clock, sleep=clock.sleep)
    assert not wait_for_state(Driver(states=['running']), 'vm', ('shutoff',), 5, clock=clock, sleep=clock.sleep)
    assert wait_for_state(Driver(states=[None]), 'vm', ('shutoff',), 5, clock=clock, sleep=clock.sleep)
