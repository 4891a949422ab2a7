"""Connection handling of the driver layer against the real daemon."""
import signal

import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.driver.connection import connect
from ansible_collections.virtkit.virt.plugins.module_utils.errors import ConnectionFailed, InvalidSpec
from ansible_collections.virtkit.virt.plugins.module_utils.driver.libvirt_driver import LibvirtDriver

from harness import unique_prefix
from private_daemon import PrivateDaemon


@pytest.fixture(scope='module')
def private_daemon():
    """A libvirtd of this test's own: the host's daemon is shared by every
    test running at the time and is never restarted (private_daemon.py)."""
    daemon = PrivateDaemon(unique_prefix())
    daemon.start()
    yield daemon
    left = daemon.stop()
    assert not left, left


def test_one_reconnect_after_the_daemon_restarted(private_daemon):
    """A connection dropped under a driver is reopened once, transparently."""
    driver = LibvirtDriver(private_daemon.uri())
    try:
        before = driver.host_summary()['hostname']
        first_conn = driver._conn  # pylint: disable=protected-access
        private_daemon.restart(signal.SIGTERM)
        assert driver.host_summary()['hostname'] == before
        assert driver._conn is not first_conn  # pylint: disable=protected-access
    finally:
        driver.close()
        driver.close()  # closing twice is harmless


def test_a_daemon_that_stays_away_is_said_after_a_bounded_wait(private_daemon):
    driver = LibvirtDriver(private_daemon.uri())
    driver.reconnect_wait = 2
    try:
        driver.list_domains()
        private_daemon.kill(signal.SIGKILL)
        with pytest.raises(ConnectionFailed) as info:
            driver.list_domains()
        assert 'went away during the call' in info.value.describe()
        assert 'did not answer again within 2 s' in info.value.describe()
    finally:
        driver.close()
        private_daemon.start()


def test_unreachable_daemon_names_uri_and_attempt():
    driver = LibvirtDriver('qemu+tcp://127.0.0.1:1/system')
    with pytest.raises(ConnectionFailed) as info:
        driver.list_domains()
    message = info.value.describe()
    assert "qemu+tcp://127.0.0.1:1/system" in message and 'tried a read-write connection' in message
    assert driver._conn is None  # pylint: disable=protected-access


def test_connect_validates_before_opening():
    with pytest.raises(InvalidSpec):
        connect({'uri': 'not a uri'})
    driver = connect({'uri': 'test:///default'}, readonly=True)
    try:
        assert [d['name'] for d in driver.list_domains()] == ['test']
    finally:
        driver.close()
