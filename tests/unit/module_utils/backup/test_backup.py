"""Backups: the spec, the XML, and the manager's plans and job handling against the fake driver."""
import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.backup import manager as backup_manager
from ansible_collections.virtkit.virt.plugins.module_utils.backup.facts import BackupInfoManager
from ansible_collections.virtkit.virt.plugins.module_utils.backup.manager import BackupManager
from ansible_collections.virtkit.virt.plugins.module_utils.backup.spec import backup_file, backup_spec
from ansible_collections.virtkit.virt.plugins.module_utils.errors import Conflict, DriverError, InvalidSpec, NotFound, Timeout
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.backup import (
    backup_supported, build_backup_xml, build_checkpoint_xml, domain_platform, parse_checkpoint_xml)
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.common import parse
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.storage import parse_volume_xml
from ansible_collections.virtkit.virt.tests.unit.fake_driver import FakeDriver

DOMAIN = """<domain type='qemu'><name>vm</name><memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type></os>
  <devices>
    <disk type='volume' device='disk'><driver name='qemu' type='{fmt}'/><source pool='p' volume='vm.qcow2'/>
      <target dev='vda' bus='virtio'/></disk>
    <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='/iso/seed.iso'/>
      <target dev='sda' bus='sata'/><readonly/></disk>
  </devices></domain>"""
CAPS = "<domainCapabilities><features><backup supported='{0}'/></features></domainCapabilities>"
CHECKPOINT = """<domaincheckpoint><name>{name}</name>{parent}<creationTime>{time}</creationTime>
  <disks><disk name='vda' checkpoint='bitmap' bitmap='{name}'/><disk name='sda' checkpoint='no'/></disks>
</domaincheckpoint>"""
POOL = "<pool type='dir'><name>{0}</name><target><path>/{0}</path></target></pool>"


def host(state='running', fmt='qcow2', compat='1.1', checkpoints=(), supported='yes'):
    driver = FakeDriver(uri='qemu:///system')
    driver.add_pool('p', POOL.format('p'))
    driver.add_pool('bk', POOL.format('bk'))
    driver.add_volume('p', 'vm.qcow2', 16 * 1024 ** 2, fmt=fmt)
    driver.add_domain('vm', state=state, xml=DOMAIN.format(fmt=fmt))
    volume_xml = driver.volume_xml
    driver.script('volume_xml', volume_xml('p', 'vm.qcow2').replace(
        '<compat>1.1</compat>', '<compat>%s</compat>' % compat if compat else ''), pool='p', name='vm.qcow2')
    driver.script('domain_capabilities', CAPS.format(supported))
    driver.script('block_info', {'capacity': 16 * 1024 ** 2, 'allocation': 0, 'physical': 0})
    driver.script('list_checkpoints', [{'name': name, 'xml': xml} for name, xml in checkpoints])
    driver.script('list_pools', [{'name': 'p', 'active': True}, {'name': 'bk', 'active': True}])
    driver.script('job_stats', {'type': 'completed', 'data_total': 16777216, 'data_processed': 16777216,
                                'time_elapsed': 40, 'errmsg': None}, completed=True)
    driver.script('job_stats', {'type': 'none'}, completed=False)
    return driver


def checkpoint(name, parent=None, time=1):
    return (name, CHECKPOINT.format(name=name, time=time,
                                    parent='<parent><name>%s</name></parent>' % parent if parent else ''))


def params(**kw):
    base = dict(domain='vm', name='b1', state='present', mode='full', since=None, target={'pool': 'bk', 'dir': None},
                disks=None, checkpoint=True, description=None, timeout=None)
    base.update(kw)
    return base


def run(driver, check=False, **kw):
    manager = BackupManager(params(**kw), check_mode=check)
    manager.validate()
    manager.driver = driver
    plan = manager.plan()
    if not check:
        plan.apply()
    return plan, manager


# -- spec and XML -----------------------------------------------------------------------

@pytest.mark.parametrize('kw, field', [
    (dict(target={}), 'target'),
    (dict(target={'pool': 'bk', 'dir': '/x'}), 'target'),
    (dict(target={'dir': 'relative'}), 'target.dir'),
    (dict(since='b0'), 'since'),
    (dict(mode='incremental', since='b1'), 'since'),
    (dict(mode='differential'), 'mode'),
    (dict(disks=[]), 'disks'),
    (dict(disks=['vda', 'vda']), 'disks'),
    (dict(timeout=0), 'timeout'),
])
def test_bad_specs_name_their_field(kw, field):
    with pytest.raises(InvalidSpec) as err:
        backup_spec(params(**kw))
    assert err.value.field == field


def test_the_request_and_checkpoint_xml():
    xml = build_backup_xml({'incremental': 'b1', 'disks': [
        {'name': 'vda', 'backup': True, 'file': '/bk/vm-b2-vda.qcow2'}, {'name': 'sda', 'backup': False}]})
    root = parse(xml, 'x', 'domainbackup')
    assert root.get('mode') == 'push' and root.find('incremental').text == 'b1'
    vda, sda = root.findall('disks/disk')
    assert (vda.get('backup'), vda.get('backupmode'), vda.find('target').get('file'), vda.find('driver').get('type')) \
        == ('yes', 'incremental', '/bk/vm-b2-vda.qcow2', 'qcow2')
    assert sda.get('backup') == 'no'
    cp = parse_checkpoint_xml(build_checkpoint_xml({'name': 'b2', 'description': 'nightly', 'disks': [
        {'name': 'vda', 'checkpoint': 'bitmap'}, {'name': 'sda', 'checkpoint': 'no'}]}))
    assert cp['name'] == 'b2' and cp['description'] == 'nightly' and cp['disks'][1]['checkpoint'] == 'no'
    assert backup_supported(CAPS.format('yes')) is True and backup_supported(CAPS.format('no')) is False
    assert backup_supported('<domainCapabilities/>') is None
    assert domain_platform(DOMAIN.format(fmt='raw')) == {'virt_type': 'qemu', 'arch': 'x86_64',
                                                         'machine': 'pc-i440fx-7.2'}
    assert domain_platform("<domain type='lxc'><os><type>exe</type></os></domain>") == {
        'virt_type': 'lxc', 'arch': None, 'machine': None}
    assert backup_file('vm', 'b1', 'vda') == 'vm-b1-vda.qcow2'


# -- a full backup --------------------------------------------------------------------------

def test_a_full_backup_of_the_running_guest():
    driver = host()
    plan, _m = run(driver, check=True)
    assert plan.action_names == ['full backup of vda to /bk'] and driver.changes() == []
    # the host is asked what it offers guests of this domain's platform
    assert driver.called('domain_capabilities')[0] == {'virt_type': 'qemu', 'arch': 'x86_64',
                                                       'machine': 'pc-i440fx-7.2', 'emulator': None}
    assert plan.after == {'name': 'b1', 'mode': 'full', 'since': None, 'files': ['/bk/vm-b1-vda.qcow2'],
                          'checkpoint': 'b1'}
    plan, manager = run(driver)
    made = parse_volume_xml(driver.called('create_volume')[0]['xml'])
    assert (made['name'], made['format'], made['compat'], made['capacity'], made['backing']) == \
        ('vm-b1-vda.qcow2', 'qcow2', '1.1', 16777216, None)
    begin = driver.called('begin_backup')[0]
    assert begin['reuse_external'] is True
    assert parse_checkpoint_xml(begin['checkpoint_xml'])['disks'] == [
        {'name': 'vda', 'checkpoint': 'bitmap', 'bitmap': None}, {'name': 'sda', 'checkpoint': 'no', 'bitmap': None}]
    facts = manager.facts(plan)
    assert facts['exists'] and facts['mode'] == 'full' and facts['job']['data_total'] == 16777216
    assert [f['path'] for f in facts['files']] == ['/bk/vm-b1-vda.qcow2']


def test_a_backup_whose_files_are_there_is_not_made_again():
    driver = host(checkpoints=[checkpoint('b1')])
    driver.add_volume('bk', 'vm-b1-vda.qcow2', 16 * 1024 ** 2, fmt='qcow2')
    plan, _m = run(driver)
    assert plan.action_names == [] and driver.changes() == []


def test_a_checkpoint_without_its_files_is_refused():
    driver = host(checkpoints=[checkpoint('b1')])
    with pytest.raises(Conflict, match='give the new one another name'):
        run(driver)


def test_a_shut_off_guest_is_started_paused_and_powered_off_again():
    driver = host(state='shutoff')
    plan, _m = run(driver)
    assert plan.action_names == ['start paused for the backup (its CPUs do not run)', 'full backup of vda to /bk',
                                 'power off again']
    assert [name for name, _a in driver.changes()][:1] == ['start_domain_paused']
    assert driver.changes()[-1] == ('destroy_domain', {'name': 'vm'})


@pytest.mark.parametrize('kw, words', [
    (dict(fmt='raw'), 'disk vda is raw'),
    (dict(compat=None), 'qcow2 v2 files'),
    (dict(supported='no'), "<backup supported='no'/>"),
])
def test_what_cannot_be_backed_up_is_refused_before_anything(kw, words):
    driver = host(**kw)
    for check in (True, False):
        with pytest.raises(Conflict) as err:
            run(driver, check=check)
        assert words in err.value.message
    assert driver.changes() == []


def test_raw_disks_without_a_checkpoint():
    driver = host(fmt='raw')
    plan, _m = run(driver, checkpoint=False)
    assert plan.action_names == ['full backup of vda to /bk']
    assert driver.called('begin_backup')[0]['checkpoint_xml'] is None


def test_a_directory_target_that_is_not_one(tmp_path):
    not_dir = tmp_path / 'file'
    not_dir.write_text('')
    with pytest.raises(Conflict, match='is not a directory'):
        run(host(), target={'pool': None, 'dir': str(not_dir)})


def test_a_directory_no_pool_holds_gets_a_transient_pool(tmp_path):
    driver = host()
    driver.script('create_transient_pool', 'virtkit-tmp-1')
    driver.add_pool('virtkit-tmp-1', POOL.format('virtkit-tmp-1'))  # what the transient pool is in the fake
    plan, _m = run(driver, target={'pool': None, 'dir': str(tmp_path)})
    assert plan.action_names == ['full backup of vda to %s' % tmp_path]
    assert driver.called('create_volume')[0]['pool'] == 'virtkit-tmp-1'
    assert driver.called('stop_pool') == [{'name': 'virtkit-tmp-1'}]


# -- incremental ------------------------------------------------------------------------------

def test_an_incremental_backup_lies_on_the_newest_one():
    driver = host(checkpoints=[checkpoint('b1', time=1), checkpoint('b2', parent='b1', time=2)])
    driver.add_volume('bk', 'vm-b2-vda.qcow2', 16 * 1024 ** 2, fmt='qcow2')
    plan, _m = run(driver, name='b3', mode='incremental')
    assert plan.action_names == ['incremental backup of vda since b2 to /bk']
    made = parse_volume_xml(driver.called('create_volume')[0]['xml'])
    assert made['backing'] == {'path': '/bk/vm-b2-vda.qcow2', 'format': 'qcow2'}
    assert parse(driver.called('begin_backup')[0]['xml'], 'x', 'domainbackup').find('incremental').text == 'b2'


@pytest.mark.parametrize('checkpoints, files, kw, error, words', [
    ([], [], {}, Conflict, 'make a full backup first'),
    ([checkpoint('b1')], [], {}, Conflict, 'the files of backup \'b1\' are not in /bk'),
    ([checkpoint('b1')], ['vm-b1-vda.qcow2'], dict(since='b0'), NotFound, "has no checkpoint 'b0' (it has: b1)"),
])
def test_an_incremental_backup_needs_its_base(checkpoints, files, kw, error, words):
    driver = host(checkpoints=checkpoints)
    for name in files:
        driver.add_volume('bk', name, 1, fmt='qcow2')
    with pytest.raises(error) as err:
        run(driver, name='b2', mode='incremental', **kw)
    assert words in err.value.message and driver.changes() == []


# -- the job ------------------------------------------------------------------------------------

def test_a_failed_job_leaves_no_checkpoint_and_no_file():
    driver = host()
    driver.script('job_stats', {'type': 'failed', 'errmsg': 'No space left on device'}, completed=True)
    # none before the job; b1, made with it, when the failure is undone
    driver.script('list_checkpoints', [], [{'name': 'b1', 'xml': checkpoint('b1')[1]}])
    with pytest.raises(DriverError, match='ended failed: No space left on device'):
        run(driver)
    assert driver.called('delete_checkpoint') == [{'domain': 'vm', 'name': 'b1', 'metadata_only': False}]
    assert driver.called('delete_volume') == [{'pool': 'bk', 'name': 'vm-b1-vda.qcow2', 'wipe': False}]


def test_a_job_that_outlasts_the_timeout_is_aborted_and_undone(monkeypatch):
    driver = host(state='shutoff')
    driver.script('job_stats', {'type': 'unbounded'}, completed=False)
    clock = iter(range(0, 1000, 10))
    monkeypatch.setattr(backup_manager.time, 'time', lambda: next(clock))
    monkeypatch.setattr(backup_manager.time, 'sleep', lambda _s: None)
    with pytest.raises(Timeout, match='did not end within 30 s'):
        run(driver, timeout=30)
    assert driver.called('abort_job') == [{'domain': 'vm'}]
    assert driver.called('delete_volume') == [{'pool': 'bk', 'name': 'vm-b1-vda.qcow2', 'wipe': False}]
    assert driver.changes()[-1] == ('destroy_domain', {'name': 'vm'})  # started paused for it, off again


# -- deleting -------------------------------------------------------------------------------------

def test_deleting_refuses_a_base_of_later_backups_and_starts_a_shut_off_guest_paused():
    driver = host(state='shutoff', checkpoints=[checkpoint('b1', time=1), checkpoint('b2', parent='b1', time=2)])
    driver.add_volume('bk', 'vm-b1-vda.qcow2', 1, fmt='qcow2')
    driver.add_volume('bk', 'vm-b2-vda.qcow2', 1, fmt='qcow2')
    with pytest.raises(Conflict, match='the files of backup b2 lie on these'):
        run(driver, state='absent')
    plan, _m = run(driver, name='b2', state='absent', check=True)
    assert plan.action_names == ['start paused to delete the checkpoint (its CPUs do not run)',
                                 'delete checkpoint b2', 'power off again', 'delete vm-b2-vda.qcow2 from /bk']


def test_info_lists_checkpoints_with_their_files():
    driver = host(checkpoints=[checkpoint('b2', parent='b1', time=2), checkpoint('b1', time=1)])
    driver.add_volume('bk', 'vm-b1-vda.qcow2', 1, fmt='qcow2')
    manager = BackupInfoManager({'domain': 'vm', 'target': {'pool': 'bk', 'dir': None}}, check_mode=False)
    manager.validate()
    manager.driver = driver
    facts = manager.facts(None)
    assert [(c['name'], c['parent'], c['children']) for c in facts] == [('b1', None, ['b2']), ('b2', 'b1', [])]
    assert [f['path'] for f in facts[0]['files']] == ['/bk/vm-b1-vda.qcow2'] and facts[1]['files'] == []


def test_a_remote_directory_needs_a_pool(tmp_path):
    driver = host()
    driver.uri = 'qemu+ssh://hv1/system'
    with pytest.raises(Conflict, match='no pool holds'):
        run(driver, target={'pool': None, 'dir': str(tmp_path)})
    assert driver.changes() == []
