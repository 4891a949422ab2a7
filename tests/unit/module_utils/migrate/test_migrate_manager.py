"""The migrate manager end to end on two fake hosts: one path from both
hosts' state to a plan; check mode predicts the real run; what would fail is
refused before anything moves; a failed migration is taken back."""
import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.engine import runner
from ansible_collections.virtkit.virt.plugins.module_utils.errors import DriverError
from ansible_collections.virtkit.virt.plugins.module_utils.migrate import manager as manager_module
from ansible_collections.virtkit.virt.plugins.module_utils.migrate.manager import MigrateManager
from ansible_collections.virtkit.virt.plugins.module_utils.migrate.spec import DEFAULTS
from ansible_collections.virtkit.virt.tests.unit.fake_driver import FakeDriver

SOURCE, DEST = 'qemu+tcp://hv1/system', 'qemu+tcp://hv2/system'
MiB = 1024 ** 2

CAPS = """<capabilities><host><uuid>{uuid}</uuid><cpu><arch>x86_64</arch><model>Skylake</model></cpu></host>
<guest><os_type>hvm</os_type><arch name='x86_64'><machine canonical='pc-i440fx-7.2'>pc</machine>
<machine>pc-i440fx-7.2</machine><domain type='qemu'/>{kvm}</arch></guest></capabilities>"""

DOMAIN = """<domain type='{virt}'><name>vm</name><uuid>{uuid}</uuid>
<os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type></os>{cpu}
<devices>
  <disk type='file' device='disk'><driver name='qemu' type='qcow2' cache='{cache}'/>
    <source file='/pools/{pool}/vm.qcow2'/><target dev='vda' bus='virtio'/></disk>
  <interface type='network'><mac address='52:54:00:00:00:01'/><source network='net'/></interface>
</devices></domain>"""

SNAPSHOT = ("<domainsnapshot><name>{name}</name>{parent}<creationTime>{time}</creationTime>"
            "<domain><name>vm</name></domain></domainsnapshot>")


def pool_xml(name):
    return "<pool type='dir'><name>%s</name><target><path>/pools/%s</path></target></pool>" % (name, name)


def hosts(state='running', pool='shared', cache='none', virt='qemu', cpu='', on_dest=True, kvm_there=True):
    """Two fake hosts with the pools ``shared`` (one directory both see: the
    disk is on both) and ``local`` (each its own), the network ``net``, and
    the domain ``vm`` on the source."""
    src, dst = FakeDriver(SOURCE), FakeDriver(DEST)
    src.capabilities = CAPS.format(uuid='11111111-1111-1111-1111-111111111111', kvm="<domain type='kvm'/>")
    dst.capabilities = CAPS.format(uuid='22222222-2222-2222-2222-222222222222',
                                   kvm="<domain type='kvm'/>" if kvm_there else '')
    for driver in (src, dst):
        for name in ('shared', 'local'):
            driver.add_pool(name, pool_xml(name))
        driver.add_network('net')
        driver.add_volume('shared', 'base.qcow2', 16 * MiB, 'qcow2', content=b'base')
    src.add_volume(pool, 'vm.qcow2', 16 * MiB, 'qcow2', content=b'QFI\xfb' + b'x' * 100)
    if pool == 'shared' and on_dest:
        dst.add_volume(pool, 'vm.qcow2', 16 * MiB, 'qcow2', content=b'QFI\xfb' + b'x' * 100)
    src.add_domain('vm', state=state, xml=DOMAIN.format(virt=virt, uuid='u-vm', pool=pool, cache=cache, cpu=cpu))
    return src, dst


@pytest.fixture
def run(monkeypatch):
    def run(src, dst, check=False, **params):
        monkeypatch.setattr(MigrateManager, 'connector', staticmethod(lambda *_a, **_k: src))
        monkeypatch.setattr(manager_module, 'connect_jobs', lambda *_a, **_k: dst)
        full = dict(DEFAULTS, uri=SOURCE, dest_uri=DEST, name='vm', auth=None)
        full.update(params)
        return runner.execute(MigrateManager(full, check), want_diff=True)
    return run


def changes(driver):
    """What changed a host (a pool refresh only re-reads a directory)."""
    return [name for name, _args in driver.changes() if name != 'refresh_pool']


def test_check_mode_predicts_the_move_and_a_second_run_changes_nothing(run):
    src, dst = hosts()
    predicted = run(src, dst, check=True)
    assert not predicted.get('failed'), predicted.get('msg')
    assert predicted['changed'] and predicted['actions'] == ['migrate live to %s' % DEST]
    assert changes(src) == [] and changes(dst) == []
    assert predicted['migration']['host'] == 'source' and predicted['migration']['moved'] is False
    assert predicted['diff']['before'] == {'uri': SOURCE, 'state': 'running'}
    assert predicted['diff']['after'] == {'uri': DEST, 'state': 'running', 'persistent': True}

    done = run(src, dst)
    assert done['actions'] == predicted['actions'] and done['migration']['moved'] is True
    assert done['migration']['host'] == 'destination' and done['migration']['uri'] == DEST
    call, = src.called('migrate_domain')
    assert call['destination'] is dst and call['live'] is True and call['offline'] is False
    assert call['copy_storage'] == 'none' and call['disks'] is None and call['undefine_source'] is True
    assert 'vm' not in src.domains and dst.domains['vm']['state'] == 'running'

    for check in (True, False):
        again = run(src, dst, check=check)
        assert again['changed'] is False and again['actions'] == [], again
        assert again['migration']['host'] == 'destination' and again['migration']['state'] == 'running'


def test_the_options_reach_libvirt(run):
    src, dst = hosts()
    result = run(src, dst, live=False, persistent=False, bandwidth=100, auto_converge=True,
                 migrate_uri='tcp://10.0.0.2', unsafe=True)
    assert result['actions'] == ['migrate paused (live: false) to %s' % DEST], result
    call, = src.called('migrate_domain')
    assert (call['live'], call['persistent'], call['bandwidth'], call['auto_converge'], call['migrate_uri'],
            call['unsafe']) == (False, False, 100, True, 'tcp://10.0.0.2', True)


def test_peer_to_peer_leaves_the_destination_to_the_source_daemon(run):
    src, dst = hosts()
    result = run(src, dst, tunnelled=True)
    assert result['actions'] == ['migrate live to %s, tunnelled' % DEST]
    call, = src.called('migrate_domain')
    assert call['destination'] is None and call['tunnelled'] is True and call['dest_uri'] == DEST
    assert 'vm' in dst.domains


def test_on_both_hosts_is_a_conflict_showing_both(run):
    src, dst = hosts()
    dst.add_domain('vm', state='shutoff')
    dst.domains['vm']['uuid'] = 'other'
    result = run(src, dst)
    assert result['failed'] and result['error'] == 'conflict'
    assert result['msg'] == ("Failed to migrate domain 'vm': it exists on both hosts: on the source (%s) running "
                             "(uuid u-vm), on the destination (%s) shutoff (uuid other); nothing was moved - "
                             "remove one of them first" % (SOURCE, DEST))
    assert changes(src) == changes(dst) == []


def test_the_definition_a_move_left_behind_is_undefined_or_kept(run):
    src, dst = hosts(state='shutoff')
    dst.add_domain('vm', state='running')
    dst.domains['vm']['uuid'] = 'u-vm'
    assert run(src, dst, undefine_source=False)['changed'] is False
    result = run(src, dst)
    assert result['actions'] == ['undefine on the source (it runs on the destination already)']
    assert 'vm' not in src.domains and result['migration']['host'] == 'destination'


def test_on_neither_host_is_not_found(run):
    src, dst = hosts()
    del src.domains['vm']
    result = run(src, dst)
    assert result['failed'] and result['error'] == 'not found'
    assert 'not on the source (%s), not on the destination (%s)' % (SOURCE, DEST) in result['msg']


def test_a_shut_off_guest_moves_offline_and_its_disk_is_streamed(run):
    src, dst = hosts(state='shutoff', pool='local')
    predicted = run(src, dst, check=True, copy_storage='all')
    done = run(src, dst, copy_storage='all')
    assert predicted['actions'] == done['actions'] == [
        'destination: volume local/vm.qcow2: create', 'copy volume local/vm.qcow2 to the destination (104B)',
        'migrate offline (definition only) to %s' % DEST], done
    assert dst.pools['local']['volumes']['vm.qcow2']['content'] == src.pools['local']['volumes']['vm.qcow2']['content']
    call, = src.called('migrate_domain')
    assert call['offline'] is True and call['persistent'] is True and call['copy_storage'] == 'none'
    assert done['migration']['mode'] == 'offline' and done['migration']['progress']['streamed'] == 104
    assert any('local/vm.qcow2' in w for w in done['warnings'])  # the source keeps its copy


def test_a_running_guest_s_disk_is_copied_into_a_volume_made_first(run):
    src, dst = hosts(pool='local')
    result = run(src, dst, copy_storage='all')
    assert result['actions'] == ['destination: volume local/vm.qcow2: create',
                                 'migrate live to %s, copying disks vda (all)' % DEST], result
    created = dst.pools['local']['volumes']['vm.qcow2']
    assert (created['capacity'], created['format'], created['backing']) == (16 * MiB, 'qcow2', None)
    call, = src.called('migrate_domain')
    assert call['copy_storage'] == 'all' and call['disks'] == ['vda']


def test_an_incremental_copy_needs_the_backing_file_there(run):
    src, dst = hosts(pool='local')
    src.pools['local']['volumes']['vm.qcow2']['backing'] = '/pools/shared/base.qcow2'
    result = run(src, dst, copy_storage='incremental')
    assert result['actions'][0] == 'destination: volume local/vm.qcow2: create overlay on /pools/shared/base.qcow2'
    assert dst.pools['local']['volumes']['vm.qcow2']['backing'] == '/pools/shared/base.qcow2'

    src, dst = hosts(pool='local')
    src.pools['local']['volumes']['vm.qcow2']['backing'] = '/pools/shared/base.qcow2'
    del dst.pools['shared']['volumes']['base.qcow2']
    result = run(src, dst, copy_storage='incremental')
    assert result['failed'] and ('disk vda (/pools/local/vm.qcow2) is an overlay on /pools/shared/base.qcow2, which '
                                 'the destination does not have (an incremental copy needs its backing file there)'
                                 in result['msg']), result['msg']


def test_an_unused_volume_there_is_overwritten_a_used_one_refused(run):
    src, dst = hosts(pool='local')
    dst.add_volume('local', 'vm.qcow2', 16 * MiB, 'qcow2')
    result = run(src, dst, copy_storage='all', check=True)
    assert result['actions'][0] == 'destination: volume local/vm.qcow2 (unused there) is overwritten by the copy'
    dst.add_domain('other', state='shutoff', xml=DOMAIN.format(virt='qemu', uuid='u-o', pool='local', cache='none',
                                                               cpu='').replace('<name>vm', '<name>other'))
    result = run(src, dst, copy_storage='all')
    assert result['failed'] and "volume local/vm.qcow2 on the destination is in use by domain 'other'" in result['msg']


def test_an_old_volume_there_is_refused_for_an_incremental_copy(run):
    src, dst = hosts(pool='local')
    src.pools['local']['volumes']['vm.qcow2']['backing'] = '/pools/shared/base.qcow2'
    dst.add_volume('local', 'vm.qcow2', 16 * MiB, 'qcow2', '/pools/shared/base.qcow2')
    result = run(src, dst, copy_storage='incremental')
    assert result['failed'] and ('volume local/vm.qcow2 exists on the destination (unused there), and an incremental '
                                 'copy writes only' in result['msg']), result['msg']
    assert dst.changes() == [] and src.changes() == []


def test_everything_that_would_fail_is_said_at_once_before_anything_moves(run):
    src, dst = hosts(pool='local', cache='unsafe',
                     cpu="<cpu mode='custom' match='exact'><model>Skylake</model></cpu>")
    del dst.networks['net']
    dst.script('compare_cpu', {'result': 'incompatible', 'reason': 'Host CPU does not provide required features: avx'})
    result = run(src, dst)
    assert result['failed'] and result['error'] == 'conflict'
    assert result['msg'] == (
        "Failed to migrate domain 'vm': it cannot move to %s: the destination cannot offer the guest CPU: Host CPU does "
        "not provide required features: avx; interface 0 (52:54:00:00:00:01): network 'net' does not exist on the "
        "destination; disk vda (/pools/local/vm.qcow2) is not on the destination (its pool 'local' there has no such "
        "volume); copy_storage: all copies it while the guest moves; disk vda (/pools/local/vm.qcow2) uses cache mode 'unsafe', which never "
        "flushes: on shared storage the destination can read data the source has not written yet (use cache none, "
        "directsync or writeback, copy the storage, or set unsafe: true); nothing was moved" % DEST)
    assert changes(src) == changes(dst) == []


def test_a_disk_of_another_size_there_is_not_shared(run):
    src, dst = hosts()
    dst.pools['shared']['volumes']['vm.qcow2']['capacity'] = 8 * MiB
    result = run(src, dst)
    assert result['failed'] and ('disk vda (/pools/shared/vm.qcow2) has another capacity on the destination (8MiB '
                                 'there, 16MiB here): the hosts do not share it' in result['msg']), result['msg']


def test_one_host_twice_and_a_missing_domain_type_are_refused(run):
    src, dst = hosts()
    dst.capabilities = src.capabilities
    result = run(src, dst)
    assert result['failed'] and 'the source and the destination are the same host (host UUID 1111' in result['msg']
    src, dst = hosts(virt='kvm', kvm_there=False)
    result = run(src, dst)
    assert result['failed'] and "the destination offers no 'kvm' domains for x86_64 (it offers qemu)" in result['msg']


def test_host_passthrough_compares_the_source_host_s_cpu(run):
    src, dst = hosts(virt='kvm', cpu="<cpu mode='host-passthrough'/>")
    dst.script('compare_cpu', {'result': 'incompatible', 'reason': 'Host CPU does not provide required features: avx'})
    result = run(src, dst)
    assert result['failed'] and ("the destination cannot offer the guest passes the source host's CPU through "
                                 "(host-passthrough)" in result['msg']), result['msg']
    call, = dst.called('compare_cpu')
    assert '<model>Skylake</model>' in call['xml'] and call['virt_type'] == 'kvm'


def snapshots(src):
    src.add_snapshot('vm', SNAPSHOT.format(name='one', parent='', time=1))
    src.add_snapshot('vm', SNAPSHOT.format(name='two', parent='<parent><name>one</name></parent>', time=2), current=True)


def test_snapshots_are_refused_unless_their_metadata_moves(run):
    src, dst = hosts()
    snapshots(src)
    result = run(src, dst)
    assert result['failed'] and 'it has 2 snapshot(s) (one, two), whose metadata libvirt would leave behind' in \
        result['msg']
    result = run(src, dst, snapshot_metadata='move')
    assert result['actions'] == ['source: remove the metadata of 2 snapshot(s) (one, two) to move it',
                                 'migrate live to %s' % DEST, 'destination: redefine the 2 snapshot(s)'], result
    assert src.called('delete_snapshot') == [{'domain': 'vm', 'name': 'one', 'children': True, 'metadata_only': True}]
    assert [(c['xml'].split('<name>')[1].split('<')[0], c['redefine'], c['current'])
            for c in dst.called('create_snapshot')] == [('one', True, False), ('two', True, False), ('two', True, True)]
    assert [s['name'] for s in dst.snapshots['vm'].values() if s['current']] == ['two']


def test_snapshots_do_not_travel_with_a_copy(run):
    src, dst = hosts(pool='local')
    snapshots(src)
    result = run(src, dst, snapshot_metadata='move', copy_storage='all')
    assert result['failed'] and 'their data is in the disks, which a copy does not carry' in result['msg']


def test_a_failed_migration_takes_back_the_volumes_and_the_snapshot_metadata(run):
    src, dst = hosts(pool='local')
    src.script('migrate_domain', DriverError('Unsafe migration: Migration without shared storage is unsafe'))
    result = run(src, dst, copy_storage='all')
    assert result['failed'] and result['error'] == 'driver'
    assert result['msg'] == (
        "Failed to migrate domain 'vm': Unsafe migration: Migration without shared storage is unsafe; libvirt does not "
        "know the file system of a disk as a shared one (NFS, GFS2, OCFS2, CephFS, ...): if both hosts really see the "
        "same files there, set unsafe: true; else copy_storage: all; the domain is still on the source (%s), running "
        "(undone: destination: volume local/vm.qcow2: create)" % SOURCE)
    assert not result['changed']
    assert 'vm.qcow2' not in dst.pools['local']['volumes']

    src, dst = hosts()
    snapshots(src)
    src.script('migrate_domain', DriverError('no route to host'))
    result = run(src, dst, snapshot_metadata='move')
    assert result['failed'] and 'undone: source: remove the metadata of 2 snapshot(s) (one, two)' in result['msg']
    assert sorted(s['name'] for s in src.snapshots['vm'].values()) == ['one', 'two']
    assert [s['name'] for s in src.snapshots['vm'].values() if s['current']] == ['two']


def test_past_its_timeout_the_job_is_aborted_and_the_guest_stays(run):
    src, dst = hosts()
    src.delay('migrate_domain', 1.5)
    src.script('migrate_domain', DriverError("operation aborted: job 'migration out' canceled by client"))
    src.script('migration_stats', {'type': 'unbounded', 'memory_total': 200 * MiB, 'memory_processed': 50 * MiB})
    result = run(src, dst, timeout=1)
    assert result['failed'] and result['error'] == 'timeout'
    assert result['msg'] == ("Failed to migrate domain 'vm': it did not finish within timeout (1 s) (50.0 MiB of 200.0 "
                             "MiB of memory sent): the migration was aborted; the domain is still on the source (%s), "
                             "running" % SOURCE)
    assert src.called('abort_job')[0] == {'domain': 'vm'}


def test_a_move_that_went_on_past_its_abort_is_a_move_and_says_what_libvirt_answered(run):
    src, dst = hosts()
    src.delay('migrate_domain', 1.3)
    src.script('abort_job', DriverError('Requested operation is not valid: no job is active on the domain'))
    result = run(src, dst, timeout=1)
    assert not result.get('failed') and result['changed'], result
    warning, = [w for w in result['warnings'] if 'ran out' in w]
    assert warning.startswith("domain 'vm': timeout (1 s) ran out, but the migration finished all the same "
                              "(asked to abort at 1."), warning
    assert 's (refused: Requested operation is not valid: no job is active on the domain)' in warning, warning
    assert src.called('abort_job')[0] == {'domain': 'vm'}


def test_a_shut_off_guest_needs_persistent(run):
    src, dst = hosts(state='shutoff')
    result = run(src, dst, persistent=False)
    assert result['failed'] and result['msg'].startswith('Invalid persistent: the domain is shutoff')


def test_an_unreachable_destination_fails_naming_it(run):
    from ansible_collections.virtkit.virt.plugins.module_utils.errors import ConnectionFailed
    src, dst = hosts()
    dst.script('domain_status', ConnectionFailed('unable to connect to server at 127.0.0.1:1: Connection refused',
                                                 resource='libvirt at %r' % DEST, action='connect to'))
    result = run(src, dst)
    assert result['failed'] and result['error'] == 'connection'
    assert result['msg'] == ("Failed to connect to libvirt at '%s': unable to connect to server at 127.0.0.1:1: "
                             "Connection refused (the destination, dest_uri)" % DEST)
    assert src.called('migrate_domain') == []


def test_a_shared_disk_s_pool_missing_there_is_refused_and_a_disk_outside_pools_only_warned(run):
    src, dst = hosts()
    del dst.pools['shared']
    result = run(src, dst)
    assert result['failed'] and ("disk vda (/pools/shared/vm.qcow2): pool 'shared', which has it here, does not "
                                 "exist on the destination (define it there for the same directory, /pools/shared)"
                                 in result['msg']), result['msg']
    src, dst = hosts()
    src.domains['vm']['xml'] = src.domains['vm']['xml'].replace('/pools/shared/vm.qcow2', '/srv/vm.qcow2')
    result = run(src, dst)
    assert result['changed'] and result['warnings'] == [
        'disk vda (/srv/vm.qcow2): no storage pool on the destination has /srv, so whether the destination sees '
        'this disk was not checked (libvirt fails the migration before the guest moves if it does not)']
