"""Fixtures of the domain tests: ``host``, one test:///default host (a
running domain 'test') kept for several tasks, and ``run``, a domain task on
it as the module runs it, with its diff (one_host.py). A test file's own
fixture of the same name takes precedence."""
import pytest

from ansible_collections.virtkit.virt.tests.unit.module_utils.domain.one_host import kept_open, task_runner


@pytest.fixture
def host():
    libvirt_driver = pytest.importorskip(
        'ansible_collections.virtkit.virt.plugins.module_utils.driver.libvirt_driver')
    driver = libvirt_driver.LibvirtDriver('test:///default')
    close = kept_open(driver)
    yield driver
    close()


@pytest.fixture
def run(host):  # pylint: disable=redefined-outer-name
    return task_runner(host)
