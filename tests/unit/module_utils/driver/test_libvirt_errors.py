"""How the libvirt driver reads libvirt's failures, on libvirt's test driver."""
import gc

import pytest


def _with_a_freed_domain_in_a_cycle(conn, threshold, call):
    """``call()`` with a libvirt object that only the cycle collector frees,
    and the collector due after ``threshold`` allocations: somewhere in the
    call, that object's ``__del__`` frees it through libvirt."""
    saved = gc.get_threshold()
    gc.collect()
    cycle = {'domain': conn.lookupByName('test')}
    cycle['itself'] = cycle
    del cycle
    gc.set_threshold(threshold)
    try:
        return call()
    finally:
        gc.set_threshold(*saved)
        gc.collect()


def test_a_failure_whose_reason_was_cleared_is_made_again():
    """An unsupported call (listing nwfilters: not in the test driver) falls
    back to the other way; also when the cycle collector ran between the
    failure and libvirt-python reading its reason (a libvirt object freed
    there clears it, and the error says only "...() failed")."""
    libvirt = pytest.importorskip('libvirt')
    from ansible_collections.virtkit.virt.plugins.module_utils.driver.libvirt_driver import LibvirtDriver

    probe = LibvirtDriver('test:///default', readonly=True)
    try:
        conn = probe._connection()

        def reason(threshold):
            try:
                _with_a_freed_domain_in_a_cycle(conn, threshold, lambda: conn.listAllNWFilters(0))
            except libvirt.libvirtError as exc:
                return exc.get_error_code()
        lost_at = [threshold for threshold in range(1, 40) if reason(threshold) is None]
    finally:
        probe.close()
    assert lost_at, 'the collector never cleared the reason: this test shows nothing'

    retried = []
    for threshold in range(1, 40):
        driver = LibvirtDriver('test:///default', readonly=True)
        try:
            conn = driver._connection()
            calls = []

            def preferred():
                calls.append(threshold)
                return conn.listAllNWFilters(0)
            assert _with_a_freed_domain_in_a_cycle(conn, threshold, lambda: driver._run(
                'list', 'nwfilters', lambda _conn: driver._either(
                    'listAllNWFilters', preferred, lambda: 'one at a time'))) == 'one at a time'
            assert driver.unsupported('listAllNWFilters') == (
                "listAllNWFilters is not supported by libvirt's test driver")
            if len(calls) == 2:
                retried.append(threshold)
            else:
                assert len(calls) == 1
        finally:
            driver.close()
    assert retried, 'the reason was never lost inside the driver: this test shows nothing'


@pytest.mark.parametrize('redo, tries', [(None, 2), (False, 1)])
def test_a_real_failure_without_its_reason_is_raised(redo, tries):
    """Made once more where the call is safe to repeat, then raised as it is."""
    libvirt = pytest.importorskip('libvirt')
    from ansible_collections.virtkit.virt.plugins.module_utils.driver.libvirt_driver import LibvirtDriver
    from ansible_collections.virtkit.virt.plugins.module_utils.errors import DriverError
    driver = LibvirtDriver('test:///default', readonly=True)
    calls = []

    def reasonless(conn):
        calls.append(1)
        conn.getVersion()  # succeeds: libvirt holds no reason now
        raise libvirt.libvirtError('something() failed')
    try:
        with pytest.raises(DriverError, match=r'something\(\) failed'):
            driver._run('do', 'something', reasonless, redo=redo)
    finally:
        driver.close()
    assert len(calls) == tries


def test_a_connection_refused_says_why_also_when_the_collector_cleared_the_reason():
    """Opening a connection is safe to try again: a failure without its reason
    is, and the message says libvirt's reason, not "virConnectOpen() failed"."""
    libvirt = pytest.importorskip('libvirt')
    from ansible_collections.virtkit.virt.plugins.module_utils.driver.libvirt_driver import LibvirtDriver
    from ansible_collections.virtkit.virt.plugins.module_utils.errors import ConnectionFailed
    missing = 'test:///nonexistent/virtkit-no-such-file.xml'
    base = libvirt.open('test:///default')
    try:
        def opened(threshold, call):
            try:
                _with_a_freed_domain_in_a_cycle(base, threshold, call)
            except (libvirt.libvirtError, ConnectionFailed) as exc:
                return exc
            raise AssertionError('%s opened' % missing)
        lost_at = [threshold for threshold in range(1, 40)
                   if opened(threshold, lambda: libvirt.open(missing)).err is None]
        assert lost_at, 'the collector never cleared the reason: this test shows nothing'
        for threshold in lost_at:
            error = opened(threshold, LibvirtDriver(missing)._open)
            assert "failed to parse xml document '/nonexistent/virtkit-no-such-file.xml'" in error.message, (
                threshold, error.message)
    finally:
        base.close()
