import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.engine.plan import (
    Change, Plan, diff_specified, prune, restrict)
from ansible_collections.virtkit.virt.plugins.module_utils.errors import DriverError


def test_only_specified_keys_are_compared():
    current = {'name': 'a', 'uuid': 'u-1', 'memory_kib': 1024, 'interfaces': [{'network': 'n', 'mac': '52:54:00:00:00:01'}]}
    desired = {'name': 'a', 'memory_kib': 1024, 'interfaces': [{'network': 'n', 'mac': None}]}
    assert diff_specified(desired, current) == []


def test_changes_carry_paths():
    current = {'memory_kib': 1024, 'interfaces': [{'network': 'n', 'model': 'virtio'}]}
    desired = {'memory_kib': 2048, 'interfaces': [{'network': 'n', 'model': 'e1000'}]}
    assert diff_specified(desired, current) == [
        Change('memory_kib', 1024, 2048),
        Change('interfaces[0].model', 'virtio', 'e1000'),
    ]


def test_list_length_change_is_one_change():
    changes = diff_specified({'a': [1, 2]}, {'a': [1]})
    assert changes == [Change('a', [1], [1, 2])]


def test_missing_current_is_a_change():
    assert diff_specified({'dns': {'hosts': []}}, {'dns': None}) == [Change('dns', None, {'hosts': []})]


def test_restrict_and_prune():
    current = {'name': 'a', 'uuid': 'x', 'ipv4': {'address': '10.0.0.1/24', 'dhcp': None}}
    desired = {'name': 'a', 'ipv4': {'address': '10.0.0.1/24'}, 'mtu': None}
    assert restrict(current, desired) == {'name': 'a', 'ipv4': {'address': '10.0.0.1/24'}}
    assert prune({'a': None, 'b': [{'c': None, 'd': 1}]}) == {'b': [{'d': 1}]}


def test_plan_runs_actions_in_order_and_names_the_failing_one():
    done = []
    plan = Plan('network', 'n1')
    assert not plan.changed
    plan.add('define', lambda: done.append('define'))
    plan.add('start', lambda: done.append('start'))
    assert plan.changed and plan.action_names == ['define', 'start']
    plan.apply()
    assert done == ['define', 'start']

    def boom():
        raise DriverError('refused')
    failing = Plan('network', 'n1')
    failing.add('start', boom)
    with pytest.raises(DriverError) as info:
        failing.apply()
    assert info.value.describe() == "Failed to start network 'n1': refused"
