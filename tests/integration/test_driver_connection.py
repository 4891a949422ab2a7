"""Connection handling of the driver layer against the real daemon."""
import os
import signal
import subprocess

import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.driver.connection import connect
from ansible_collections.virtkit.virt.plugins.module_utils.errors import ConnectionFailed, InvalidSpec
from ansible_collections.virtkit.virt.plugins.module_utils.driver.libvirt_driver import LibvirtDriver

from harness import wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_one_reconnect_after_the_daemon_restarted():
    """A connection dropped under a driver is reopened once, transparently."""
    driver = LibvirtDriver('qemu:///system')
    try:
        before = driver.host_summary()['hostname']
        first_conn = driver._conn  # pylint: disable=protected-access
        # The host's daemon only: libvirtds inside test containers are not ours to kill.
        with open('/run/libvirtd.pid') as handle:
            pid = int(handle.read().strip())
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not os.path.exists('/proc/%d' % pid), 30, interval=0.2, what='libvirtd to exit')
        subprocess.run(['bash', os.path.join(ROOT, 'tests', 'bed', 'setup.sh')], check=True,
                       stdout=subprocess.DEVNULL)
        assert driver.host_summary()['hostname'] == before
        assert driver._conn is not first_conn  # pylint: disable=protected-access
    finally:
        driver.close()
        driver.close()  # closing twice is harmless


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
