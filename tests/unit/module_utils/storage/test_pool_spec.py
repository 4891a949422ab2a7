import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.errors import InvalidSpec
from ansible_collections.virtkit.virt.plugins.module_utils.storage.pool_spec import check_complete, pool_spec


def params(**kw):
    base = dict(name='p1', state='active', autostart=None, type=None, path=None, source=None, permissions=None,
                build=True, purge=False, force=False)
    base.update(kw)
    return base


def source(**kw):
    base = dict(devices=None, host=None, dir=None, name=None, format=None)
    base.update(kw)
    return base


def test_spec_normalises():
    spec = pool_spec(params(type='logical', source=source(devices=['/dev/sdc', '/dev/sdb'])))
    assert spec['source']['devices'] == ['/dev/sdb', '/dev/sdc']
    assert spec['source']['name'] is None and spec['path'] is None
    spec = pool_spec(params(type='dir', path='/srv//images/', permissions={'mode': '755', 'owner': 0, 'group': None}))
    assert spec['path'] == '/srv/images'
    assert spec['permissions'] == {'mode': '0755', 'owner': 0, 'group': None}


def test_an_unquoted_mode_is_refused_telling_to_quote_it():
    with pytest.raises(InvalidSpec) as info:
        pool_spec(params(permissions={'mode': 420, 'owner': None, 'group': None}))
    assert 'quote' in info.value.describe() and '420' in info.value.describe()


def test_unsaid_is_none():
    spec = pool_spec(params())
    assert spec == {'name': 'p1', 'type': None, 'path': None, 'source': None, 'permissions': None}


@pytest.mark.parametrize('kw,field', [
    (dict(name='a/b'), 'name'),
    (dict(name='..'), 'name'),
    (dict(name=''), 'name'),
    (dict(name='a\x00b'), 'name'),
    (dict(type='lvm'), 'type'),
    (dict(path='relative/dir'), 'path'),
    (dict(type='dir', source=source(devices=['/dev/sdb'])), 'source.devices'),
    (dict(type='fs', source=source(devices=['/dev/sdb', '/dev/sdc'])), 'source.devices'),
    (dict(type='fs', source=source(devices=['sdb'])), 'source.devices[0]'),
    (dict(type='fs', source=source(devices=['/dev/sdb'], format='nfs')), 'source.format'),
    (dict(type='logical', source=source(host='server')), 'source.host'),
    (dict(type='logical', source=source(devices=['/dev/sdb', '/dev/sdb'])), 'source.devices'),
    (dict(type='iscsi', source=source(devices=['/dev/sdb'])), 'source.devices[0]'),
    (dict(type='netfs', source=source(dir='export')), 'source.dir'),
    (dict(type='rbd', path='/x'), 'path'),
    (dict(source=source(devices=[''])), 'source.devices[0]'),
    (dict(permissions={'mode': '9x', 'owner': None, 'group': None}), 'permissions.mode'),
    (dict(permissions={'mode': '17777', 'owner': None, 'group': None}), 'permissions.mode'),
    (dict(permissions={'mode': None, 'owner': -5, 'group': None}), 'permissions.owner'),
    # YAML's unquoted 0644 arrives as 420: never read as the mode 0420.
    (dict(permissions={'mode': 420, 'owner': None, 'group': None}), 'permissions.mode'),
    (dict(permissions={'mode': 755, 'owner': None, 'group': None}), 'permissions.mode'),
    (dict(permissions={'mode': True, 'owner': None, 'group': None}), 'permissions.mode'),
    (dict(type='logical', permissions={'mode': None, 'owner': 0, 'group': None}), 'permissions'),
    (dict(type='rbd', permissions={'mode': '0755', 'owner': None, 'group': None}), 'permissions'),
])
def test_bad_input_names_the_field(kw, field):
    with pytest.raises(InvalidSpec) as info:
        pool_spec(params(**kw))
    assert info.value.field == field, info.value.describe()


@pytest.mark.parametrize('kind,kw,field', [
    ('dir', {}, 'path'),
    ('fs', dict(path='/mnt/a'), 'source.devices'),
    ('netfs', dict(path='/mnt/a', source=source(host='nfs')), 'source.dir'),
    ('iscsi', dict(path='/dev/disk/by-path', source=source(devices=['iqn.2024-01.com.example:a'])), 'source.host'),
    ('rbd', dict(source=source(host='mon')), 'source.name'),
    ('zfs', {}, 'source.name'),
])
def test_a_new_pool_needs_what_its_type_needs(kind, kw, field):
    spec = pool_spec(params(type=kind, **kw))
    with pytest.raises(InvalidSpec) as info:
        check_complete(spec, kind)
    assert info.value.field == field


def test_complete_specs_pass():
    check_complete(pool_spec(params(type='logical')), 'logical')
    check_complete(pool_spec(params(type='dir', path='/srv/x')), 'dir')
    check_complete(pool_spec(params(type='fs', path='/srv/x', source=source(devices=['/dev/loop0']))), 'fs')
