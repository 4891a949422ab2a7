"""A pool's permissions: set on the directory that is there, compared as it
really is, refused where the task cannot reach it."""
import os
import stat

import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.errors import InvalidSpec
from ansible_collections.virtkit.virt.plugins.module_utils.storage.pool_manager import PoolManager
from ansible_collections.virtkit.virt.tests.unit.fake_driver import FakeDriver
from ansible_collections.virtkit.virt.tests.unit.module_utils.storage.test_storage_managers import (
    pool_params, run as run_manager)


def run(driver, params, check=False):
    return run_manager(PoolManager, driver, params, check)


def facts(driver):
    manager = PoolManager(pool_params(), check_mode=True)
    manager.validate()
    manager.driver = driver
    return manager.facts(None)


def perms(mode=None, owner=None, group=None):
    return {'mode': mode, 'owner': owner, 'group': group}


def pool_xml(path, mode, kind='dir', source=''):
    return ("<pool type='%s'><name>p</name><uuid>u-p</uuid>%s<target><path>%s</path>"
            "<permissions><mode>%s</mode></permissions></target></pool>" % (kind, source, path, mode))


def mode_of(path):
    return '%04o' % stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def directory(tmp_path):
    path = tmp_path / 'pool'
    path.mkdir()
    os.chmod(str(path), 0o420)
    return str(path)


def test_a_changed_mode_is_set_on_the_directory_predicted_and_then_unchanged(directory):
    driver = FakeDriver(uri='qemu:///system')
    driver.add_pool('p', pool_xml(directory, '0420'))
    params = pool_params(path=directory, permissions=perms('0755'))
    plan = run(driver, params, check=True)
    assert plan.action_names == ['redefine', 'set permissions']
    assert plan.before['permissions'] == {'mode': '0420'} and plan.after['permissions'] == {'mode': '0755'}
    assert mode_of(directory) == '0420' and driver.changes() == []
    plan = run(driver, params)
    assert plan.action_names == ['redefine', 'set permissions'] and not plan.restart_required
    assert mode_of(directory) == '0755'
    assert driver.called('refresh_pool') == [{'name': 'p'}]  # libvirt's XML shows the directory as refreshed
    assert facts(driver)['permissions']['mode'] == '0755'
    plan = run(driver, params)
    assert plan.action_names == []


def test_the_directory_is_compared_as_it_is_not_as_the_definition_says(directory):
    driver = FakeDriver(uri='qemu:///system')
    driver.add_pool('p', pool_xml(directory, '0755'))  # someone ran chmod behind libvirt's back
    plan = run(driver, pool_params(path=directory, permissions=perms('0755')))
    assert plan.action_names == ['set permissions'] and mode_of(directory) == '0755'


def test_owner_and_group_are_set_too(directory):
    driver = FakeDriver(uri='qemu:///system')
    driver.add_pool('p', pool_xml(directory, '0420'))
    me = os.stat(directory)
    plan = run(driver, pool_params(path=directory, permissions=perms('0750', me.st_uid, me.st_gid)))
    assert plan.action_names == ['redefine', 'set permissions'] and mode_of(directory) == '0750'
    plan = run(driver, pool_params(path=directory, permissions=perms('0750', me.st_uid, me.st_gid)))
    assert plan.action_names == []


def test_facts_show_the_directory_as_it_is(directory):
    driver = FakeDriver(uri='qemu:///system')
    driver.add_pool('p', pool_xml(directory, '0755'))
    assert facts(driver)['permissions']['mode'] == '0420'


def test_an_fs_pool_started_by_the_task_gets_them_once_mounted(directory):
    driver = FakeDriver(uri='qemu:///system')
    driver.add_pool('p', pool_xml(directory, '0420', 'fs', "<source><device path='/dev/loop9'/></source>"),
                    active=False)
    plan = run(driver, pool_params(permissions=perms('0711')), check=True)
    assert plan.action_names == ['redefine', 'start', 'set permissions']


def test_an_fs_pool_left_inactive_changes_its_definition_and_says_so(directory):
    driver = FakeDriver(uri='qemu:///system')
    driver.add_pool('p', pool_xml(directory, '0420', 'fs', "<source><device path='/dev/loop9'/></source>"),
                    active=False)
    plan = run(driver, pool_params(state='inactive', permissions=perms('0711')))
    assert plan.action_names == ['redefine'] and mode_of(directory) == '0420'
    assert any('permissions not set' in w for w in plan.warnings)


def test_a_change_on_a_remote_host_is_refused_before_anything(directory):
    driver = FakeDriver(uri='qemu+ssh://elsewhere/system')
    driver.add_pool('p', pool_xml(directory, '0420'))
    for check in (True, False):
        with pytest.raises(InvalidSpec) as info:
            run(driver, pool_params(permissions=perms('0755')), check=check)
        assert info.value.field == 'permissions' and driver.changes() == []
    plan = run(driver, pool_params(permissions=perms('0420')))  # nothing to change: fine
    assert plan.action_names == []


def test_a_new_remote_dir_pool_takes_them_from_libvirt_s_build():
    driver = FakeDriver(uri='qemu+ssh://elsewhere/system')
    plan = run(driver, pool_params(path='/srv/p', permissions=perms('0711')), check=True)
    assert plan.action_names == ['define', 'build', 'start']


def test_a_new_dir_pool_over_a_directory_that_is_there_sets_them(directory):
    driver = FakeDriver(uri='qemu:///system')
    plan = run(driver, pool_params(path=directory, permissions=perms('0750')), check=True)
    assert plan.action_names == ['define', 'build', 'start', 'set permissions']
    plan = run(driver, pool_params(path=directory + '-new', permissions=perms('0750')), check=True)
    assert plan.action_names == ['define', 'build', 'start']  # the build makes it with them


def test_a_running_fs_pool_whose_filesystem_this_task_cannot_see_refuses_a_change(directory):
    # libvirt can mount in a mount namespace of its own: the mount point here is not the pool's directory.
    driver = FakeDriver(uri='qemu:///system')
    driver.add_pool('p', pool_xml(directory, '0755', 'fs', "<source><device path='/dev/loop9'/></source>"))
    with pytest.raises(InvalidSpec) as info:
        run(driver, pool_params(permissions=perms('0711')), check=True)
    assert info.value.field == 'permissions' and mode_of(directory) == '0420'
    plan = run(driver, pool_params(permissions=perms('0755')))  # what libvirt reports: nothing to do
    assert plan.action_names == []
