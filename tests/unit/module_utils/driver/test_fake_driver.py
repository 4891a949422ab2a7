"""The shared fake driver keeps to the driver interface: every method, every argument."""
import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.driver.interface import Driver
from ansible_collections.virtkit.virt.plugins.module_utils.errors import DriverError
from ansible_collections.virtkit.virt.tests.unit.fake_driver import FakeDriver


def test_every_interface_method_with_its_signature():
    for name, declared in vars(Driver).items():
        if callable(declared) and not name.startswith('_'):
            assert hasattr(FakeDriver, name), name


def test_arguments_are_recorded_by_name_with_defaults_and_none_is_lost():
    driver = FakeDriver()
    driver.build_pool('p')
    driver.build_pool('p', no_overwrite=True)
    driver.build_pool(name='p', no_overwrite=False)
    assert driver.called('build_pool') == [{'name': 'p', 'no_overwrite': False}, {'name': 'p', 'no_overwrite': True},
                                           {'name': 'p', 'no_overwrite': False}]


def test_a_call_the_interface_refuses_fails():
    with pytest.raises(TypeError):
        FakeDriver().build_pool('p', overwrite=False)
    with pytest.raises(TypeError):
        FakeDriver().resize_volume('p', 'v')


def test_scripts_answer_in_turn_and_raise():
    driver = FakeDriver()
    driver.script('domain_status', {'state': 'running'}, DriverError('gone wrong'), name='vm')
    assert driver.domain_status('vm') == {'state': 'running'}
    for _turn in range(2):  # the last answer again and again
        with pytest.raises(DriverError):
            driver.domain_status('vm')
    assert driver.changes() == [] and driver.names() == ['domain_status'] * 3


def test_defaults_are_the_interface_s():
    driver = FakeDriver()
    driver.update_network('net', 'add-last', 'ip-dhcp-host', '<host/>')
    assert driver.called('update_network') == [{'name': 'net', 'command': 'add-last', 'section': 'ip-dhcp-host',
                                                'xml': '<host/>', 'parent_index': -1, 'live': True, 'config': True}]
