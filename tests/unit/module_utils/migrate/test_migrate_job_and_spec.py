"""The watched migration job, the options' checks and the XML a migration reads."""
import threading

import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.errors import DriverError, InvalidSpec, NotFound
from ansible_collections.virtkit.virt.plugins.module_utils.migrate.job import MigrationJob, Outcome
from ansible_collections.virtkit.virt.plugins.module_utils.migrate.spec import DEFAULTS, migration_spec
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.migration import (
    host_cpu_xml, migration_view, snapshot_summary, volume_physical)
from ansible_collections.virtkit.virt.tests.unit.fake_driver import FakeDriver

ACTIVE = {'type': 'unbounded', 'memory_total': 100, 'memory_processed': 10, 'memory_iteration': 1}


def blocking(seconds):
    """A migration that takes ``seconds``."""
    done = threading.Event()
    return lambda: done.wait(seconds)


def test_the_downtime_is_set_once_and_post_copy_starts_once_memory_flows():
    source = FakeDriver()
    source.script('migration_stats', {'type': 'unbounded', 'memory_processed': 0}, ACTIVE)
    outcome = MigrationJob(source, 'vm', blocking(1.2), max_downtime=50, postcopy=True, interval=0.1).run()
    assert outcome.error is None and not outcome.aborted and outcome.postcopy
    assert source.called('set_migration_max_downtime') == [{'name': 'vm', 'milliseconds': 50}]
    assert source.called('start_postcopy') == [{'name': 'vm'}]  # not before memory flowed, and once
    assert outcome.progress == ACTIVE


def test_a_move_of_a_second_is_read_often_and_keeps_the_figures_of_its_disks():
    """A small guest whose disks are copied moves within a second: read at the
    interval alone (0.5 s), its disks' phase went unseen."""
    source = FakeDriver()
    disks = dict(ACTIVE, disk_total=8 << 20, disk_processed=8 << 20, disk_remaining=0)
    source.script('migration_stats', {'type': 'none'}, {'type': 'none'}, disks, ACTIVE)
    outcome = MigrationJob(source, 'vm', blocking(0.7)).run()
    reads = len(source.called('migration_stats'))
    assert 4 <= reads <= 8, reads  # every 0.1 s, not every 0.5 s
    assert outcome.progress == dict(ACTIVE, disk_total=8 << 20, disk_processed=8 << 20, disk_remaining=0)
    assert ACTIVE == {'type': 'unbounded', 'memory_total': 100, 'memory_processed': 10, 'memory_iteration': 1}


def test_a_refused_switch_is_a_note_and_a_gone_domain_none():
    source = FakeDriver()
    source.script('migration_stats', ACTIVE)
    source.script('start_postcopy', DriverError('Enable postcopy with migrate_set_capability'))
    source.script('set_migration_max_downtime', NotFound('gone'))
    outcome = MigrationJob(source, 'vm', blocking(0.5), max_downtime=50, postcopy=True, interval=0.1).run()
    assert not outcome.postcopy
    assert outcome.notes == ['could not switch to post-copy: Enable postcopy with migrate_set_capability']


def test_the_job_is_aborted_when_the_time_is_up_and_the_error_kept():
    source = FakeDriver()
    source.script('migration_stats', ACTIVE)
    aborted = threading.Event()
    source.script('abort_job', None)
    original = source.abort_job

    def abort(domain):
        original(domain)
        aborted.set()
    source.abort_job = abort

    def migrate():
        aborted.wait(10)
        raise DriverError('operation aborted')
    outcome = MigrationJob(source, 'vm', migrate, timeout=0.3, interval=0.1).run()
    assert outcome.aborted and not outcome.still_running and str(outcome.error) == 'operation aborted'
    assert 0.3 <= outcome.elapsed < 5
    assert source.called('abort_job') == [{'domain': 'vm'}]


def test_an_abort_refused_while_libvirt_prepares_is_tried_again():
    source = FakeDriver()
    accepted = threading.Event()
    source.script('abort_job', DriverError('Requested operation is not valid: no job is active on the domain'),
                  DriverError('Requested operation is not valid: no job is active on the domain'), None)

    def migrate():
        while len(source.called('abort_job')) < 3:
            accepted.wait(0.05)
        raise DriverError('operation aborted')
    outcome = MigrationJob(source, 'vm', migrate, timeout=0.2, interval=0.05).run()
    assert outcome.aborted and outcome.abort_error is None and str(outcome.error) == 'operation aborted'
    assert len(source.called('abort_job')) == 3  # and none after libvirt took it
    assert [asked['answer'] for asked in outcome.aborts] == [
        'Requested operation is not valid: no job is active on the domain'] * 2 + ['accepted']
    history = outcome.abort_history()
    assert history.startswith('asked to abort at 0.') and history.count('refused: Requested operation') == 2
    assert history.endswith(' s (accepted)'), history


def test_an_abort_libvirt_took_but_the_move_went_on_is_asked_again():
    source = FakeDriver()
    source.script('migration_stats', ACTIVE)

    def migrate():
        # The first abort came before QEMU's migration began: only the second one ends it.
        while len(source.called('abort_job')) < 2:
            threading.Event().wait(0.05)
        raise DriverError('operation aborted')
    outcome = MigrationJob(source, 'vm', migrate, timeout=0.2, interval=0.05, abort_again=0.3).run()
    assert outcome.aborted and not outcome.still_running and str(outcome.error) == 'operation aborted'
    assert len(source.called('abort_job')) == 2


def test_a_refused_abort_is_kept_and_a_finished_move_stays_a_move():
    source = FakeDriver()
    source.script('abort_job', DriverError('cannot abort migration in post-copy mode'))
    outcome = MigrationJob(source, 'vm', blocking(0.5), timeout=0.2, interval=0.1).run()
    assert outcome.aborted and outcome.error is None
    assert outcome.abort_error.message == 'cannot abort migration in post-copy mode'
    assert 'refused: cannot abort migration in post-copy mode' in outcome.abort_history()


def test_the_history_says_which_abort_got_no_answer_and_how_long_reads_took():
    """What the result tells a user whose move went on after its timeout."""
    outcome = Outcome()
    assert outcome.abort_history() == 'no abort asked'
    outcome.aborts = [{'at': 1.04, 'answer': 'accepted'}, {'at': 3.1, 'answer': None}]
    outcome.slowest_read = 4.9
    assert outcome.abort_history() == 'asked to abort at 1.0 s (accepted), 3.1 s (no answer)'
    outcome.slowest_read = 31.2
    assert outcome.abort_history().endswith('3.1 s (no answer); reading the job took up to 31 s')


def test_a_read_of_the_job_that_hangs_is_measured():
    source = FakeDriver()
    slow = threading.Event()
    original = source.migration_stats

    def stats(name, completed=False):
        slow.wait(0.3)
        return original(name, completed)
    source.migration_stats = stats
    outcome = MigrationJob(source, 'vm', blocking(0.4), interval=0.05).run()
    assert outcome.error is None and 0.25 <= outcome.slowest_read < 1.5


def params(**kw):
    base = dict(DEFAULTS, name='vm', uri='qemu:///system', dest_uri='qemu+ssh://hv2/system')
    base.update(kw)
    return base


@pytest.mark.parametrize('options, field, detail', [
    ({'dest_uri': 'qemu:///system'}, 'dest_uri', 'is the source URI (uri) itself: qemu:///system'),
    ({'dest_uri': 'hv2'}, 'dest_uri', "'hv2' is not a libvirt URI"),
    ({'migrate_uri': 'hv2'}, 'migrate_uri', "'hv2' is not a migration URI"),
    ({'tunnelled': True, 'migrate_uri': 'tcp://10.0.0.2'}, 'migrate_uri', 'a tunnelled migration sends its data'),
    ({'postcopy': True, 'copy_storage': 'all'}, 'postcopy', 'post-copy cannot copy storage'),
    ({'postcopy': True, 'live': False}, 'postcopy', 'post-copy is a way of live migration'),
    ({'timeout': 0}, 'timeout', 'must be a positive number of seconds (got 0)'),
    ({'bandwidth': -1}, 'bandwidth', 'must be a positive number of MiB/s'),
    ({'name': 'a/b'}, 'name', ''),
])
def test_bad_options_name_themselves(options, field, detail):
    with pytest.raises(InvalidSpec) as caught:
        migration_spec(params(**options))
    assert caught.value.field == field and detail in caught.value.detail


def test_good_options_pass():
    spec = migration_spec(params(migrate_uri='tcp://[fd00::2]:49200', timeout=60, dest_auth={'username': 'u'}))
    assert spec['copy_storage'] == 'none' and spec['dest_auth'] == {'username': 'u'} and spec['live'] is True


DOMAIN = """<domain type='kvm'><name>vm</name><uuid>u</uuid>
<os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os><cpu mode='host-model' check='partial'/>
<devices><emulator>/usr/bin/qemu-system-x86_64</emulator>
<disk type='volume' device='disk'><driver name='qemu' type='qcow2' cache='none'/>
  <source pool='p' volume='v.qcow2'/><target dev='vda'/></disk>
<disk type='file' device='cdrom'><source file='/isos/seed.iso'/><target dev='sda'/><readonly/></disk>
<disk type='file' device='disk'><source file='/data/shared.img'/><target dev='vdb'/><shareable/>
  <backingStore type='file'><source file='/data/base.img'/></backingStore></disk>
<disk type='network' device='disk'><source protocol='rbd' name='pool/img'/><target dev='vdc'/></disk>
<interface type='network'><mac address='52:54:00:AA:00:01'/><source network='lab'/></interface>
<interface type='bridge'><source bridge='br0'/></interface>
</devices></domain>"""


def test_the_migration_view_of_a_domain():
    view = migration_view(DOMAIN)
    assert (view['virt_type'], view['arch'], view['machine'], view['emulator']) == (
        'kvm', 'x86_64', 'pc-q35-7.2', '/usr/bin/qemu-system-x86_64')
    assert view['cpu']['mode'] == 'host-model' and view['cpu']['xml'].startswith('<cpu mode="host-model"')
    vda, sda, vdb, vdc = view['disks']
    assert (vda['type'], vda['pool'], vda['volume'], vda['cache'], vda['readonly']) == ('volume', 'p', 'v.qcow2',
                                                                                        'none', False)
    assert sda['readonly'] and sda['path'] == '/isos/seed.iso'
    assert vdb['shareable'] and vdb['backing'] == '/data/base.img'
    assert vdc['type'] == 'network' and vdc['path'] == 'rbd:pool/img'
    assert view['interfaces'] == [{'type': 'network', 'mac': '52:54:00:aa:00:01', 'network': 'lab', 'bridge': None},
                                  {'type': 'bridge', 'mac': None, 'network': None, 'bridge': 'br0'}]
    assert migration_view("<domain type='qemu'><name>x</name></domain>")['cpu'] == {'mode': None, 'xml': None}


def test_snapshots_hosts_and_volumes():
    assert snapshot_summary('<domainsnapshot><name>b</name><parent><name>a</name></parent>'
                            '<creationTime>17</creationTime></domainsnapshot>') == {'name': 'b', 'parent': 'a',
                                                                                    'created': 17}
    caps = "<capabilities><host><cpu><arch>x86_64</arch><model>EPYC</model></cpu></host></capabilities>"
    assert '<model>EPYC</model>' in host_cpu_xml(caps)
    assert host_cpu_xml('<capabilities><host/></capabilities>') is None
    assert volume_physical("<volume><name>v</name><physical unit='KiB'>2</physical></volume>") == 2048
    assert volume_physical('<volume><name>v</name></volume>') is None


def test_the_module_documents_the_defaults_the_engine_takes():
    """The module's argument spec is checked against its documentation by
    ansible-test (validate-modules); this checks the documentation against
    the defaults migration_spec fills in for an option not given."""
    import yaml
    from ansible_collections.virtkit.virt.plugins.modules import migrate
    options = yaml.safe_load(migrate.DOCUMENTATION)['options']
    assert set(options) == set(DEFAULTS)
    assert dict((name, option.get('default')) for name, option in options.items()) == DEFAULTS
