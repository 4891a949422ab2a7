"""Plans of the pool and volume managers against the in-memory fake driver."""
import io

import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.domain.storage import disk_volumes, resolve_formats
from ansible_collections.virtkit.virt.plugins.module_utils.engine.plan import Plan
from ansible_collections.virtkit.virt.plugins.module_utils.errors import Conflict, InvalidSpec, NotFound
from ansible_collections.virtkit.virt.plugins.module_utils.storage.importing_volume_manager import ImportingVolumeManager
from ansible_collections.virtkit.virt.plugins.module_utils.storage.pool_manager import PoolManager
from ansible_collections.virtkit.virt.plugins.module_utils.storage.volume_manager import VolumeManager
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.storage import parse_volume_xml
from ansible_collections.virtkit.virt.tests.unit.fake_driver import FakeDriver
from ansible_collections.virtkit.virt.tests.unit.seed_files import read_seed_files

MiB = 1024 ** 2


DIR_POOL = "<pool type='dir'><name>p</name><uuid>u-p</uuid><target><path>/pools/p</path></target></pool>"


def run(manager_class, driver, params, check=False):
    return run_manager(manager_class(params, check_mode=check), driver)


def run_manager(manager, driver):
    """``manager``'s plan on ``driver``, applied unless it is in check mode."""
    manager.validate()
    manager.driver = driver
    plan = manager.plan()
    if not manager.check_mode:
        plan.apply()
    return plan


def pool_params(**kw):
    base = dict(name='p', state='active', autostart=None, type=None, path=None, source=None, permissions=None,
                build=True, purge=False, force=False)
    base.update(kw)
    return base


def vol_params(**kw):
    base = {'name': 'v', 'pool': 'p', 'state': 'present', 'capacity': None, 'format': None, 'preallocate': False,
            'backing_volume': None, 'backing_path': None, 'clone_from': None, 'import': None, 'cloud_init': None,
            'allow_shrink': False, 'replace': False, 'wipe': False}
    base.update(kw)
    return base


# -- pools --------------------------------------------------------------------

def test_new_pool_is_defined_built_and_started():
    driver = FakeDriver()
    plan = run(PoolManager, driver, pool_params(path='/pools/p', autostart=True), check=True)
    assert plan.action_names == ['define', 'build', 'start', 'autostart on']
    assert driver.changes() == [] and plan.after['type'] == 'dir'


def test_fs_pool_build_never_overwrites():
    driver = FakeDriver()
    run(PoolManager, driver, pool_params(type='fs', path='/mnt/p', source={'devices': ['/dev/loop9']}))
    assert driver.called('build_pool') == [{'name': 'p', 'no_overwrite': True}]


def test_a_dir_pool_is_built_plainly():
    driver = FakeDriver()
    run(PoolManager, driver, pool_params(type='dir', path='/pools/p'))
    assert driver.called('build_pool') == [{'name': 'p', 'no_overwrite': False}]


def test_existing_pool_same_spec_changes_nothing_and_is_never_rebuilt():
    driver = FakeDriver()
    driver.add_pool('p', DIR_POOL)
    plan = run(PoolManager, driver, pool_params(type='dir', path='/pools/p/'))
    assert plan.action_names == []


def test_changed_definition_is_redefined_and_restart_reported():
    driver = FakeDriver()
    driver.add_pool('p', DIR_POOL)
    plan = run(PoolManager, driver, pool_params(path='/pools/q'))
    assert plan.action_names == ['redefine'] and plan.restart_required
    assert plan.before['path'] == '/pools/p' and plan.after['path'] == '/pools/q'
    assert '<uuid>u-p</uuid>' in driver.pools['p']['xml']


def test_type_never_changes():
    driver = FakeDriver()
    driver.add_pool('p', DIR_POOL)
    with pytest.raises(InvalidSpec) as info:
        run(PoolManager, driver, pool_params(type='fs', path='/pools/p', source={'devices': ['/dev/sdb']}))
    assert info.value.field == 'type'


def test_purge_refused_while_volumes_remain():
    driver = FakeDriver()
    driver.add_pool('p', DIR_POOL)
    driver.add_volume('p', 'disk.qcow2', MiB)
    with pytest.raises(Conflict) as info:
        run(PoolManager, driver, pool_params(state='absent', purge=True))
    assert 'disk.qcow2' in info.value.describe() and 'force' in info.value.describe()
    assert driver.changes() == []
    plan = run(PoolManager, driver, pool_params(state='absent', purge=True, force=True), check=True)
    assert plan.action_names == ['delete volume disk.qcow2', 'stop', 'delete storage', 'undefine']


def test_purge_of_an_inactive_pool_needs_force():
    driver = FakeDriver()
    driver.add_pool('p', DIR_POOL, active=False)
    with pytest.raises(Conflict):
        run(PoolManager, driver, pool_params(state='absent', purge=True))
    plan = run(PoolManager, driver, pool_params(state='absent', purge=True, force=True), check=True)
    assert plan.action_names == ['start', 'delete its volumes', 'stop', 'delete storage', 'undefine']


def test_absent_without_purge_keeps_storage():
    driver = FakeDriver()
    driver.add_pool('p', DIR_POOL)
    plan = run(PoolManager, driver, pool_params(state='absent'))
    assert plan.action_names == ['stop', 'undefine']


def test_purge_only_with_absent():
    with pytest.raises(InvalidSpec) as info:
        PoolManager(pool_params(purge=True)).validate()
    assert info.value.field == 'purge'


# -- volumes ------------------------------------------------------------------

def vol_driver():
    driver = FakeDriver()
    driver.add_pool('p', DIR_POOL)
    return driver


def test_new_volume_then_nothing():
    driver = vol_driver()
    plan = run(VolumeManager, driver, vol_params(capacity='16MiB', format='qcow2'))
    assert plan.action_names == ['create']
    assert plan.after == {'capacity': 16 * MiB, 'format': 'qcow2'}
    plan = run(VolumeManager, driver, vol_params(capacity='16MiB', format='qcow2'))
    assert plan.action_names == []


def test_new_volume_needs_a_capacity():
    with pytest.raises(InvalidSpec) as info:
        run(VolumeManager, vol_driver(), vol_params())
    assert info.value.field == 'capacity'


def test_grow_shrink_and_rounding():
    driver = vol_driver()
    driver.add_volume('p', 'v', 16 * MiB, 'qcow2')
    plan = run(VolumeManager, driver, vol_params(capacity='32MiB'), check=True)
    assert plan.action_names == ['grow from 16MiB to 32MiB']
    with pytest.raises(Conflict) as info:
        run(VolumeManager, driver, vol_params(capacity='8MiB'))
    assert 'allow_shrink' in info.value.describe() and 'capacity' in info.value.describe()
    plan = run(VolumeManager, driver, vol_params(capacity='8MiB', allow_shrink=True))
    assert driver.changes()[-1] == ('resize_volume', {'pool': 'p', 'name': 'v', 'capacity': 8 * MiB, 'shrink': True, 'allocate': False})
    plan = run(VolumeManager, driver, vol_params(capacity=8 * MiB - 100))
    assert plan.action_names == []  # qcow2 rounds up to whole sectors


def guest_xml(name, *disks):
    """A domain whose disks are ``(target, type, source)``."""
    devices = ''.join("<disk type='%s' device='disk'>%s<target dev='%s' bus='virtio'/></disk>"
                      % (kind, "<source pool='p' volume='%s'/>" % source.split('/')[1] if kind == 'volume'
                         else "<source file='%s'/>" % source, target)
                      for target, kind, source in disks)
    return "<domain type='kvm'><name>%s</name><devices>%s</devices></domain>" % (name, devices)


def test_a_volume_a_running_guest_uses_grows_through_the_guest():
    """The hypervisor holds the image open and locked: it grows it, and the
    guest sees the new size at once. A shut-off guest's disk is no user."""
    driver = vol_driver()
    driver.add_volume('p', 'v', 16 * MiB, 'qcow2')
    empty_cdrom = "<disk type='file' device='cdrom'><target dev='sda' bus='sata'/></disk></devices>"
    driver.add_domain('vm', xml=guest_xml('vm', ('vda', 'file', '/pools/p/other'), ('vdb', 'file', '/pools/p/v')))
    driver.add_domain('cd', xml=guest_xml('cd').replace('</devices>', empty_cdrom))  # no source: no user
    driver.add_domain('off', state='shutoff', xml=guest_xml('off', ('vda', 'volume', 'p/v')))
    predicted = run(VolumeManager, driver, vol_params(capacity='32MiB'), check=True)
    plan = run(VolumeManager, driver, vol_params(capacity='32MiB'))
    assert predicted.action_names == plan.action_names == ["grow from 16MiB to 32MiB (live, as disk vdb of 'vm')"]
    assert driver.changes() == [('resize_domain_disk', {'name': 'vm', 'target': 'vdb', 'capacity': 32 * MiB})]
    assert run(VolumeManager, driver, vol_params(capacity='32MiB')).action_names == []


def test_a_volume_a_running_guest_uses_is_never_shrunk_under_it():
    driver = vol_driver()
    driver.add_volume('p', 'v', 16 * MiB, 'qcow2')
    driver.add_domain('vm', xml=guest_xml('vm', ('vda', 'volume', 'p/v')))
    with pytest.raises(Conflict) as info:
        run(VolumeManager, driver, vol_params(capacity='8MiB', allow_shrink=True))
    assert str(info.value).startswith('capacity: 8MiB is smaller than its current 16MiB, '
                                      "and the running guest 'vm' uses this volume as disk vda")
    assert driver.changes() == []


def test_a_volume_several_running_guests_use_is_not_resized():
    driver = vol_driver()
    driver.add_volume('p', 'v', 16 * MiB, 'raw')
    driver.add_domain('a', xml=guest_xml('a', ('vdb', 'file', '/pools/p/v')))
    driver.add_domain('b', state='paused', xml=guest_xml('b', ('vdc', 'volume', 'p/v')))
    with pytest.raises(Conflict) as info:
        run(VolumeManager, driver, vol_params(capacity='32MiB'))
    assert str(info.value).startswith("capacity: the running guests 'a', 'b' all use this volume")
    assert driver.changes() == []


def test_a_block_volume_a_running_guest_uses_grows_in_its_pool_with_a_warning():
    """LVs and partitions grow through libvirt's pool, not through the
    guest: the warning says when the guest sees it."""
    driver = FakeDriver()
    driver.add_pool('p', DIR_POOL.replace("type='dir'", "type='logical'"))
    driver.add_volume('p', 'v', 16 * MiB, 'raw')
    driver.add_domain('vm', xml=guest_xml('vm', ('vda', 'file', '/pools/p/v')))
    plan = run(VolumeManager, driver, vol_params(capacity='32MiB'))
    assert plan.action_names == ['grow from 16MiB to 32MiB']
    assert driver.changes() == [('resize_volume', {'pool': 'p', 'name': 'v', 'capacity': 32 * MiB, 'shrink': False,
                                                   'allocate': False})]
    assert plan.warnings == ["volume 'v' in pool 'p': the running guest 'vm' sees its disk vda grown once it restarts "
                             "(libvirt grows the volumes of logical pools outside the guest)"]


def test_a_volume_a_running_guest_has_as_a_disk_or_under_one_is_never_deleted_nor_replaced():
    driver = vol_driver()
    driver.add_volume('p', 'v', 16 * MiB, 'qcow2')
    driver.add_volume('p', 'base', 16 * MiB, 'qcow2')
    driver.add_domain('off', state='shutoff', xml=guest_xml('off', ('vda', 'file', '/pools/p/v')))
    live = guest_xml('vm', ('vda', 'volume', 'p/v')).replace(
        "</disk>", "<backingStore type='file'><format type='qcow2'/><source file='/pools/p/base'/>"
                   "<backingStore/></backingStore></disk>")
    driver.add_domain('vm', state='paused', xml=live)
    for name, how in (('v', "'vm' (as disk vda)"), ('base', "'vm' (under disk vda)")):
        for check in (True, False):
            with pytest.raises(Conflict) as info:
                run(VolumeManager, driver, vol_params(name=name, state='absent'), check=check)
            assert str(info.value).startswith('state: the running guest %s uses this volume; deleting it' % how)
    # Replacing it would delete it first.
    with pytest.raises(Conflict) as info:
        run(VolumeManager, driver, vol_params(capacity='16MiB', format='raw', replace=True))
    assert str(info.value).startswith("replace: the running guest 'vm' (as disk vda) uses this volume")
    assert driver.changes() == []
    # A shut-off guest's disk: its definition is the user's to mend.
    del driver.domains['vm']
    assert run(VolumeManager, driver, vol_params(state='absent')).action_names == ['delete']
    assert driver.changes() == [('delete_volume', {'pool': 'p', 'name': 'v', 'wipe': False})]


def test_a_decimal_capacity_libvirt_rounded_to_whole_kib_is_no_shrink():
    driver = vol_driver()
    # What libvirt made of 100MB: qemu-img was told 97657KiB.
    driver.add_volume('p', 'v', 97657 * 1024, 'qcow2')
    for check in (True, False):
        plan = run(VolumeManager, driver, vol_params(capacity='100MB', format='qcow2'), check=check)
        assert plan.action_names == []
    assert 'list_domains' not in driver.names()  # nothing to resize: no running guest looked for
    plan = run(VolumeManager, driver, vol_params(capacity='101MB', format='qcow2'), check=True)
    assert plan.action_names == ['grow from 97657KiB to 101000000B']
    with pytest.raises(Conflict) as info:
        run(VolumeManager, driver, vol_params(capacity='99MB', format='qcow2'), check=True)
    assert 'allow_shrink' in info.value.describe()


def test_a_domain_disk_of_a_decimal_size_is_planned_the_same_way():
    driver = vol_driver()
    driver.add_volume('p', 'dom-disk0.qcow2', 97657 * 1024, 'qcow2')
    disks = [{'pool': 'p', 'create': {'capacity': 100 * 1000 ** 2, 'backing_volume': None}}]
    owned = disk_volumes('dom', disks, check_mode=False)
    resolve_formats(driver, disks, owned)
    plan = Plan('domain', 'dom')
    owned[0][1].plan_into(driver, plan)
    assert disks[0]['format'] == 'qcow2' and plan.action_names == []


def test_a_raw_file_is_made_to_the_byte_so_less_is_a_shrink():
    driver = vol_driver()
    driver.add_volume('p', 'v', 100 * 1000 ** 2 + 512, 'raw')
    with pytest.raises(Conflict):
        run(VolumeManager, driver, vol_params(capacity='100MB', format='raw'), check=True)


def test_format_mismatch_needs_replace():
    driver = vol_driver()
    driver.add_volume('p', 'v', 16 * MiB, 'raw')
    with pytest.raises(Conflict) as info:
        run(VolumeManager, driver, vol_params(format='qcow2'))
    assert 'replace' in info.value.describe()
    plan = run(VolumeManager, driver, vol_params(format='qcow2', capacity='16MiB', replace=True))
    assert plan.action_names == ['delete (to replace it)', 'create']


def test_overlay_on_a_volume():
    driver = vol_driver()
    driver.add_volume('p', 'base', 64 * MiB, 'qcow2')
    plan = run(VolumeManager, driver, vol_params(backing_volume={'name': 'base', 'pool': None}))
    assert plan.action_names == ['create overlay on /pools/p/base']
    assert driver.pools['p']['volumes']['v']['capacity'] == 64 * MiB
    plan = run(VolumeManager, driver, vol_params(backing_volume={'name': 'base', 'pool': None}))
    assert plan.action_names == []
    driver.add_volume('p', 'other', 64 * MiB, 'qcow2')
    with pytest.raises(Conflict) as info:
        run(VolumeManager, driver, vol_params(backing_volume={'name': 'other', 'pool': None}))
    assert 'overlay on /pools/p/base' in info.value.describe()


def test_overlay_on_a_missing_volume_names_the_field():
    with pytest.raises(NotFound) as info:
        run(VolumeManager, vol_driver(), vol_params(backing_volume={'name': 'nope', 'pool': None}))
    assert 'backing_volume' in info.value.describe()


def test_clone_then_grow():
    driver = vol_driver()
    driver.add_volume('p', 'gold', 16 * MiB, 'qcow2')
    plan = run(VolumeManager, driver, vol_params(clone_from={'name': 'gold', 'pool': None}, capacity='32MiB'))
    assert plan.action_names == ['clone p/gold', 'grow from 16MiB to 32MiB']
    marker, create = driver.called('create_volume')  # the marker says "being filled" while the clone runs
    assert parse_volume_xml(marker['xml'])['name'] == 'v.virtkit-partial'
    assert (create['pool'], parse_volume_xml(create['xml'])['name'], create['clone_from']) == ('p', 'v', ('p', 'gold'))
    assert sorted(driver.pools['p']['volumes']) == ['gold', 'v']  # the marker went when the clone was done
    plan = run(VolumeManager, driver, vol_params(clone_from={'name': 'gold', 'pool': None}, capacity='32MiB'))
    assert plan.action_names == []


def test_volume_in_a_missing_or_inactive_pool():
    with pytest.raises(NotFound):
        run(VolumeManager, FakeDriver(), vol_params(capacity='1MiB'))
    plan = run(VolumeManager, FakeDriver(), vol_params(state='absent'))
    assert plan.action_names == []
    driver = FakeDriver()
    driver.add_pool('p', DIR_POOL, active=False)
    with pytest.raises(Conflict):
        run(VolumeManager, driver, vol_params(capacity='1MiB'))


def test_absent_with_wipe():
    driver = vol_driver()
    driver.add_volume('p', 'v', MiB)
    plan = run(VolumeManager, driver, vol_params(state='absent', wipe=True))
    assert plan.action_names == ['wipe and delete']
    assert driver.changes() == [('delete_volume', {'pool': 'p', 'name': 'v', 'wipe': True})]
    plan = run(VolumeManager, driver, vol_params(state='absent'))
    assert plan.action_names == []


def test_cloud_init_seed_built_rebuilt_once_and_never_shown():
    pytest.importorskip('pycdlib')
    driver = vol_driver()
    data = {'user_data': 'secret-token-1', 'meta_data': None, 'network_config': None, 'vendor_data': None}
    plan = run(VolumeManager, driver, vol_params(cloud_init=data))
    assert len(plan.action_names) == 1 and plan.action_names[0].startswith('create cloud-init seed (sha256 ')
    content = driver.pools['p']['volumes']['v']['content']
    assert read_seed_files(content)['user-data'] == b'secret-token-1'
    plan = run(VolumeManager, driver, vol_params(cloud_init=data))
    assert plan.action_names == []
    changed = dict(data, user_data='secret-token-2')
    plan = run(VolumeManager, driver, vol_params(cloud_init=changed), check=True)
    assert plan.action_names[0].startswith('rebuild cloud-init seed')
    assert 'secret' not in repr(plan.diff()) + repr(plan.action_names)
    assert plan.before['cloud_init']['sha256'] != plan.after['cloud_init']['sha256']
    run(VolumeManager, driver, vol_params(cloud_init=changed))
    plan = run(VolumeManager, driver, vol_params(cloud_init=changed))
    assert plan.action_names == []


def test_a_plain_volume_is_not_a_seed():
    pytest.importorskip('pycdlib')
    driver = vol_driver()
    driver.add_volume('p', 'v', MiB, content=b'\0' * 40000)
    data = {'user_data': 'x', 'meta_data': None, 'network_config': None, 'vendor_data': None}
    with pytest.raises(Conflict) as info:
        run(VolumeManager, driver, vol_params(cloud_init=data))
    assert 'not a cloud-init seed' in info.value.describe()


def test_import_from_a_local_file(tmp_path):
    image = tmp_path / 'img.raw'
    image.write_bytes(b'\1' * 8192)
    driver = vol_driver()
    source = {'path': str(image), 'url': None, 'checksum': None, 'format': None, 'validate_certs': True}
    plan = run(ImportingVolumeManager, driver, vol_params(capacity='1MiB', **{'import': source}))
    assert plan.action_names == ['import %s' % image]
    assert driver.pools['p']['volumes']['v']['content'] == b'\1' * 8192
    assert driver.changes()[-1] == ('resize_volume', {'pool': 'p', 'name': 'v', 'capacity': MiB, 'shrink': False, 'allocate': False})
    assert driver.called('refresh_pool') == [{'name': 'p'}] * 2  # the free space, then the image's size


def test_failed_upload_leaves_nothing(tmp_path):
    image = tmp_path / 'img.raw'
    image.write_bytes(b'\1' * 8192)
    driver = vol_driver()
    driver.script('upload_volume', IOError('stream broke'))
    source = {'path': str(image), 'url': None, 'checksum': None, 'format': None, 'validate_certs': True}
    with pytest.raises(IOError):
        run(ImportingVolumeManager, driver, vol_params(**{'import': source}))
    assert driver.pools['p']['volumes'] == {}


def test_import_with_a_wrong_checksum_creates_nothing(tmp_path):
    image = tmp_path / 'img.raw'
    image.write_bytes(io.BytesIO(b'\1' * 8192).getvalue())
    driver = vol_driver()
    source = {'path': str(image), 'url': None, 'checksum': 'sha256:' + '0' * 64, 'format': None,
              'validate_certs': True}
    with pytest.raises(InvalidSpec) as info:
        run(ImportingVolumeManager, driver, vol_params(**{'import': source}))
    assert info.value.field == 'import.checksum'
    assert driver.pools['p']['volumes'] == {} and driver.changes() == []


def test_import_of_a_missing_file_fails_in_check_mode_too(tmp_path):
    source = {'path': str(tmp_path / 'nope.img'), 'url': None, 'checksum': None, 'format': None,
              'validate_certs': True}
    with pytest.raises(NotFound) as info:
        run(ImportingVolumeManager, vol_driver(), vol_params(**{'import': source}), check=True)
    assert 'import.path' in info.value.describe()


def test_overlay_on_a_file_outside_every_pool_reads_its_header(tmp_path):
    base = tmp_path / 'base.qcow2'
    base.write_bytes(b'QFI\xfb' + b'\0' * 20 + (24 * MiB).to_bytes(8, 'big') + b'\0' * 1000)
    driver = vol_driver()
    run(VolumeManager, driver, vol_params(backing_path=str(base)))
    created = driver.pools['p']['volumes']['v']
    assert created['backing'] == str(base) and created['capacity'] == 24 * MiB


def test_overlay_on_a_remote_file_outside_every_pool_is_refused():
    driver = vol_driver()
    driver.uri = 'qemu+ssh://root@hv1/system'
    with pytest.raises(NotFound) as info:
        run(VolumeManager, driver, vol_params(backing_path='/srv/base.qcow2'))
    assert 'backing_path' in info.value.describe() and driver.changes() == []


# -- a run that fails half way, interrupted runs, space, check mode (issue 19) -----

def test_a_new_pool_whose_build_fails_is_undefined_again():
    from ansible_collections.virtkit.virt.plugins.module_utils.errors import DriverError
    driver = FakeDriver()
    driver.script('build_pool', DriverError('Source device does not exist'))
    with pytest.raises(DriverError):
        run(PoolManager, driver, pool_params(type='fs', path='/mnt/p', source={'devices': ['/dev/loop9']}))
    assert [name for name, _args in driver.changes()] == ['define_pool', 'build_pool', 'undefine_pool']


def test_a_missing_source_device_is_refused_before_anything_on_this_host(tmp_path):
    driver = FakeDriver(uri='qemu:///system')
    with pytest.raises(InvalidSpec) as info:
        run(PoolManager, driver, pool_params(type='fs', path=str(tmp_path / 'mnt'),
                                             source={'devices': [str(tmp_path / 'no-such-device')]}))
    assert info.value.field == 'source.devices[0]' and driver.changes() == []
    plan = run(PoolManager, driver, pool_params(type='fs', path=str(tmp_path / 'mnt'),
                                                source={'devices': [str(tmp_path / 'no-such-device')]}), check=True)
    assert plan.action_names == ['define', 'build', 'start']  # an earlier task may make it


def test_a_volume_left_half_made_by_a_killed_run_is_made_again():
    driver = vol_driver()
    driver.add_volume('p', 'v', 16 * MiB)
    driver.add_volume('p', 'v.virtkit-partial', 0)  # the marker a killed import left
    driver.add_volume('p', 'gold', 16 * MiB)
    plan = run(VolumeManager, driver, vol_params(clone_from={'name': 'gold', 'pool': None}))
    assert plan.action_names == ['delete v (half made by an interrupted run)',
                                 'delete v.virtkit-partial (left by an interrupted run)', 'clone p/gold']
    assert sorted(driver.pools['p']['volumes']) == ['gold', 'v']
    assert run(VolumeManager, driver, vol_params(clone_from={'name': 'gold', 'pool': None})).action_names == []


def test_a_failed_clone_leaves_neither_volume_nor_marker():
    from ansible_collections.virtkit.virt.plugins.module_utils.errors import DriverError
    driver = vol_driver()
    driver.add_volume('p', 'gold', 16 * MiB)
    full = DriverError('No space left on device')
    full.no_space = True  # as the libvirt driver marks it
    driver.script('create_volume', full, clone_from=('p', 'gold'))
    with pytest.raises(Conflict) as info:
        run(VolumeManager, driver, vol_params(clone_from={'name': 'gold', 'pool': None}))
    assert info.value.describe() == ("Failed to create volume 'v' in pool 'p': not enough space in pool 'p' "
                                     "(No space left on device)")
    assert sorted(driver.pools['p']['volumes']) == ['gold']


def test_not_enough_space_is_said_before_anything_is_made(tmp_path):
    driver = FakeDriver()
    driver.add_pool('p', DIR_POOL, available=8 * MiB)
    with pytest.raises(Conflict) as info:
        run(VolumeManager, driver, vol_params(capacity='16MiB', preallocate=True))
    assert "not enough space in pool 'p': a volume of 16MiB needs 16MiB, the pool has 8MiB free" in info.value.describe()
    image = tmp_path / 'big.img'
    image.write_bytes(b'\1' * (9 * MiB))
    source = {'path': str(image), 'url': None, 'checksum': None, 'format': None, 'validate_certs': True}
    with pytest.raises(Conflict) as info:
        run(ImportingVolumeManager, driver, vol_params(**{'import': source}))
    assert 'the image %s needs 9MiB' % image in info.value.describe()
    assert driver.pools['p']['volumes'] == {}
    # thin: made, with a warning
    plan = run(VolumeManager, driver, vol_params(capacity='1GiB'))
    assert plan.action_names == ['create'] and 'it is thin' in plan.warnings[0]


def test_check_mode_predicts_a_volume_in_a_pool_an_earlier_task_makes():
    driver = FakeDriver()
    plan = run(VolumeManager, driver, vol_params(capacity='16MiB'), check=True)
    assert plan.action_names == ['create'] and "pool 'p' does not exist" in plan.warnings[0]
    with pytest.raises(NotFound):
        run(VolumeManager, driver, vol_params(capacity='16MiB'))  # a real run still needs it
