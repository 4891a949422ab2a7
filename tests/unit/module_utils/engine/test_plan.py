import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.engine.plan import (
    Change, Kept, Plan, diff_specified, prune, restrict)
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


def test_a_failing_step_undoes_the_earlier_ones_newest_first():
    done = []

    def boom():
        raise DriverError('Source device does not exist')
    plan = Plan('pool', 'p')
    plan.add('define', lambda: done.append('define'), undo=lambda: done.append('undefine'))
    plan.add('start', lambda: done.append('start'), undo=lambda: done.append('stop'))
    plan.add('build', boom)
    with pytest.raises(DriverError) as info:
        plan.apply()
    assert done == ['define', 'start', 'stop', 'undefine']
    assert info.value.describe() == "Failed to build pool 'p': Source device does not exist"
    assert plan.outcome.done == ['define', 'start'] and plan.outcome.undone == ['start', 'define']
    assert plan.outcome.left == [] and plan.outcome.describe() == 'undone: start, define'


def test_what_cannot_be_undone_stays_and_is_said():
    def boom():
        raise DriverError('no')

    def broken_undo():
        raise DriverError('daemon away')
    plan = Plan('domain', 'd')
    plan.add('redefine', lambda: None)
    plan.add('create volume', lambda: None, undo=broken_undo)
    plan.add('build', lambda: None, undo=lambda: Kept('the filesystem on /dev/x stays'))
    plan.add('start', boom)
    with pytest.raises(DriverError):
        plan.apply()
    assert plan.outcome.undone == []
    assert plan.outcome.left == ['redefine', 'create volume (undoing it failed: daemon away)',
                                 'build (the filesystem on /dev/x stays)']


def test_an_undo_that_answers_something_else_than_kept_is_undone():
    """A driver call as undo answers what libvirt said (defineXML: the
    domain's name): the redefinition taken back is undone, not "left (vm1)"."""
    def boom():
        raise DriverError('no')
    plan = Plan('domain', 'vm1')
    plan.add('redefine', lambda: 'vm1', undo=lambda: 'vm1')
    plan.add('create volume', lambda: None, undo=lambda: Kept(''))
    plan.add('start', boom)
    with pytest.raises(DriverError):
        plan.apply()
    assert plan.outcome.undone == ['create volume', 'redefine'] and plan.outcome.left == []
    assert plan.outcome.describe() == 'undone: create volume, redefine'


def test_an_interruption_is_undone_too():
    done = []

    def interrupted():
        raise KeyboardInterrupt
    plan = Plan('volume', 'p/v')
    plan.add('create', lambda: done.append('create'), undo=lambda: done.append('delete'))
    plan.add('upload', interrupted)
    with pytest.raises(KeyboardInterrupt):
        plan.apply()
    assert done == ['create', 'delete'] and plan.outcome.undone == ['create']
