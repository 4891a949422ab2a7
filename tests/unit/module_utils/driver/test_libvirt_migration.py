"""The libvirt driver's migration calls: the options as libvirt's flags and
typed parameters, and snapshot metadata on libvirt's test driver."""
import pytest

libvirt = pytest.importorskip('libvirt')

from ansible_collections.virtkit.virt.plugins.module_utils.driver.libvirt_jobs import LibvirtJobDriver  # noqa: E402
from ansible_collections.virtkit.virt.plugins.module_utils.errors import DriverError  # noqa: E402


class StubDomain:
    def __init__(self, fail=None):
        self.calls, self.fail = [], fail

    def migrate3(self, dconn, params, flags):
        self.calls.append(('migrate3', dconn, params, flags))
        if self.fail:
            raise self.fail

    def migrateToURI3(self, uri, params, flags):
        self.calls.append(('migrateToURI3', uri, params, flags))


class StubConnection:
    """The connection the move opens for itself: it looks the domain up there and closes it after."""

    def __init__(self, dom):
        self.dom, self.looked_up, self.closed = dom, [], False

    def lookupByName(self, name):
        self.looked_up.append(name)
        return self.dom

    def close(self):
        self.closed = True


def drivers(monkeypatch, dom):
    source, dest = LibvirtJobDriver('qemu+tcp://hv1/system'), LibvirtJobDriver('qemu+tcp://hv2/system')
    connections = {source: 'source-connection', dest: 'dest-connection'}
    for driver in (source, dest):
        monkeypatch.setattr(driver, '_connection', lambda driver=driver: connections[driver])
    source.opened = []

    def open_own():
        source.opened.append(StubConnection(dom))
        return source.opened[-1]
    monkeypatch.setattr(source, '_open', open_own)
    return source, dest


def test_the_move_has_a_connection_of_its_own_and_closes_it(monkeypatch):
    """libvirt's client can hold a call made on a connection that waits for the
    move's long call until that call returns: the job's abort would go out too late."""
    dom = StubDomain()
    source, dest = drivers(monkeypatch, dom)
    source.migrate_domain('vm', dest.uri, destination=dest)
    own, = source.opened
    assert own.looked_up == ['vm'] and own.closed
    assert dom.calls[0][0] == 'migrate3'  # on the domain looked up there


def test_a_managed_live_copy(monkeypatch):
    dom = StubDomain()
    source, dest = drivers(monkeypatch, dom)
    source.migrate_domain('vm', dest.uri, destination=dest, copy_storage='all', disks=['vda'], bandwidth=50,
                          migrate_uri='tcp://10.0.0.2', auto_converge=True)
    (method, conn, params, flags), = dom.calls
    assert method == 'migrate3' and conn == 'dest-connection'
    assert params == {libvirt.VIR_MIGRATE_PARAM_URI: 'tcp://10.0.0.2', libvirt.VIR_MIGRATE_PARAM_BANDWIDTH: 50,
                      libvirt.VIR_MIGRATE_PARAM_MIGRATE_DISKS: ['vda']}
    assert flags == (libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PERSIST_DEST | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
                     | libvirt.VIR_MIGRATE_NON_SHARED_DISK | libvirt.VIR_MIGRATE_AUTO_CONVERGE)


def test_offline_tunnelled_and_the_rest(monkeypatch):
    dom = StubDomain()
    source, _dest = drivers(monkeypatch, dom)
    source.migrate_domain('vm', 'qemu+ssh://hv2/system', offline=True, persistent=False, undefine_source=False,
                          tunnelled=True, unsafe=True)
    source.migrate_domain('vm', 'qemu+ssh://hv2/system', peer_to_peer=True, copy_storage='incremental', postcopy=True,
                          disks=['vda'])
    (method, uri, params, flags), second = dom.calls
    assert method == 'migrateToURI3' and uri == 'qemu+ssh://hv2/system' and params == {}
    assert flags == (libvirt.VIR_MIGRATE_OFFLINE | libvirt.VIR_MIGRATE_PERSIST_DEST | libvirt.VIR_MIGRATE_PEER2PEER
                     | libvirt.VIR_MIGRATE_TUNNELLED | libvirt.VIR_MIGRATE_UNSAFE)
    assert second[0] == 'migrateToURI3' and second[2] == {libvirt.VIR_MIGRATE_PARAM_MIGRATE_DISKS: ['vda']}
    assert second[3] == (libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PERSIST_DEST | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
                         | libvirt.VIR_MIGRATE_NON_SHARED_INC | libvirt.VIR_MIGRATE_PEER2PEER
                         | libvirt.VIR_MIGRATE_POSTCOPY)


def test_libvirt_s_refusal_is_a_driver_error_and_never_retried(monkeypatch):
    error = libvirt.libvirtError('refused')
    error.err = (libvirt.VIR_ERR_OPERATION_INVALID, 0, 'Requested operation is not valid: offline migration cannot '
                 'handle non-shared storage', 0, None, None, None, 0, 0)
    dom = StubDomain(fail=error)
    source, dest = drivers(monkeypatch, dom)
    with pytest.raises(DriverError) as caught:
        source.migrate_domain('vm', dest.uri, destination=dest)
    assert caught.value.describe() == ("Failed to migrate domain 'vm': Requested operation is not valid: offline "
                                       "migration cannot handle non-shared storage")
    assert len(dom.calls) == 1
    own, = source.opened
    assert own.closed  # also when libvirt refused


def test_snapshot_metadata_is_read_redefined_and_forgotten():
    driver = LibvirtJobDriver('test:///default')
    try:
        conn = driver._connection()
        dom = conn.lookupByName('test')
        for name in ('one', 'two'):
            dom.snapshotCreateXML('<domainsnapshot><name>%s</name></domainsnapshot>' % name, 0)
        listed = driver.list_snapshots('test')
        assert sorted((s['name'], s['current']) for s in listed) == [('one', False), ('two', True)]
        xml = dict((s['name'], s['xml']) for s in listed)
        # The test driver has no metadata-only delete (the integration tests use QEMU's).
        with pytest.raises(DriverError) as caught:
            driver.delete_snapshot('test', 'one', children=True, metadata_only=True)
        assert 'unsupported flags (0x2)' in caught.value.message
        driver.delete_snapshot('test', 'one', children=True)
        assert driver.list_snapshots('test') == []
        for name in ('one', 'two'):
            assert driver.create_snapshot('test', xml[name], redefine=True) == name
        driver.create_snapshot('test', xml['two'], redefine=True, current=True)
        assert sorted((s['name'], s['current']) for s in driver.list_snapshots('test')) == [('one', False),
                                                                                            ('two', True)]
    finally:
        driver.close()


def test_what_the_test_driver_lacks_says_so():
    driver = LibvirtJobDriver('test:///default')
    try:
        for call in (lambda: driver.migration_stats('test'), lambda: driver.abort_job('test'),
                     lambda: driver.compare_cpu("<cpu mode='custom'><model>qemu64</model></cpu>")):
            with pytest.raises(DriverError) as caught:
                call()
            assert caught.value.unsupported and "not supported by libvirt's test driver" in caught.value.message
    finally:
        driver.close()
