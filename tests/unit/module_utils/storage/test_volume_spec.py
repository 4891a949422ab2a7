import hashlib

import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.errors import InvalidSpec
from ansible_collections.virtkit.virt.plugins.module_utils.storage.volume_spec import volume_spec


def params(**kw):
    base = {'name': 'v1', 'pool': 'p1', 'state': 'present', 'capacity': None, 'format': None, 'preallocate': False,
            'backing_volume': None, 'backing_path': None, 'clone_from': None, 'import': None, 'cloud_init': None,
            'allow_shrink': False, 'replace': False, 'wipe': False}
    base.update(kw)
    return base


def imp(**kw):
    base = {'path': None, 'url': None, 'checksum': None, 'format': None, 'validate_certs': True}
    base.update(kw)
    return base


def ci(**kw):
    base = {'user_data': None, 'meta_data': None, 'network_config': None, 'vendor_data': None}
    base.update(kw)
    return base


SHA = hashlib.sha256(b'x').hexdigest()


def test_empty_volume():
    spec = volume_spec(params(capacity='64MiB', format='qcow2'))
    assert spec['capacity'] == 64 * 1024 ** 2 and spec['format'] == 'qcow2' and spec['source'] is None


def test_esx_names_volumes_by_folder_too():
    spec = volume_spec(params(name='web1/web1.vmdk', pool='datastore1', capacity='8G', format='vmdk'))
    assert spec['name'] == 'web1/web1.vmdk' and spec['format'] == 'vmdk'


def test_bare_capacity_is_bytes():
    assert volume_spec(params(capacity='1048576'))['capacity'] == 1048576
    assert volume_spec(params(capacity=4096))['capacity'] == 4096
    assert volume_spec(params(capacity='1GB'))['capacity'] == 10 ** 9


def test_overlay_defaults_to_qcow2_and_its_own_pool():
    spec = volume_spec(params(backing_volume={'name': 'base', 'pool': None}))
    assert spec['format'] == 'qcow2'
    assert spec['source'] == {'kind': 'backing', 'volume': {'name': 'base', 'pool': 'p1'}, 'path': None, 'format': 'qcow2'}
    spec = volume_spec(params(backing_path='/srv//base.img'))
    assert spec['source']['path'] == '/srv/base.img'


def test_clone_and_import():
    assert volume_spec(params(clone_from={'name': 'gold', 'pool': 'other'}))['source'] == {
        'kind': 'clone', 'name': 'gold', 'pool': 'other'}
    spec = volume_spec(params(**{'import': imp(url='http://127.0.0.1:8000/a.img', checksum='SHA256:' + SHA.upper())}))
    assert spec['source']['checksum'] == ('sha256', SHA)
    assert spec['source']['url'] == 'http://127.0.0.1:8000/a.img'
    spec = volume_spec(params(format='raw', **{'import': imp(path='/srv/a.img')}))
    assert spec['source']['format'] == 'raw'


def test_cloud_init_files_and_hash():
    spec = volume_spec(params(cloud_init=ci(user_data={'packages': ['htop']})))
    files = spec['source']['files']
    assert files['user-data'].startswith(b'#cloud-config\n{')
    assert files['meta-data'] == b'instance-id: v1\n'
    assert 'network-config' not in files
    assert len(spec['source']['sha256']) == 64
    same = volume_spec(params(cloud_init=ci(user_data={'packages': ['htop']})))
    other = volume_spec(params(cloud_init=ci(user_data={'packages': ['vim']})))
    assert same['source']['sha256'] == spec['source']['sha256'] != other['source']['sha256']


def test_cloud_init_text_is_kept_as_it_is():
    spec = volume_spec(params(cloud_init=ci(user_data='#!/bin/sh\necho hi\n', network_config='version: 2\n')))
    assert spec['source']['files']['user-data'] == b'#!/bin/sh\necho hi\n'
    assert spec['source']['files']['network-config'] == b'version: 2\n'


def test_absent_needs_only_names():
    spec = volume_spec(params(state='absent', capacity='not a size'))
    assert spec['source'] is None and spec['capacity'] is None


@pytest.mark.parametrize('kw,field', [
    (dict(name='a/../b'), 'name'),
    (dict(name='/a'), 'name'),
    (dict(name='..'), 'name'),
    (dict(name=''), 'name'),
    (dict(pool='../p'), 'pool'),
    (dict(capacity='12 parsecs'), 'capacity'),
    (dict(capacity='0'), 'capacity'),
    (dict(format='qcow3'), 'format'),
    (dict(backing_volume={'name': 'b', 'pool': None}, clone_from={'name': 'c', 'pool': None}), 'clone_from'),
    (dict(backing_volume={'name': 'v1', 'pool': None}), 'backing_volume'),
    (dict(backing_volume={'name': 'x/y', 'pool': None}), 'backing_volume.name'),
    (dict(backing_volume={'name': 'b', 'pool': '..'}), 'backing_volume.pool'),
    (dict(backing_volume={'name': 'b', 'pool': None}, format='raw'), 'format'),
    (dict(backing_path='base.img'), 'backing_path'),
    (dict(clone_from={'name': '..', 'pool': None}), 'clone_from.name'),
    (dict(clone_from={'name': 'v1', 'pool': 'p1'}), 'clone_from'),
    ({'import': imp()}, 'import'),
    ({'import': imp(path='/a', url='http://h/a')}, 'import'),
    ({'import': imp(url='file:///etc/shadow')}, 'import.url'),
    ({'import': imp(path='relative.img')}, 'import.path'),
    ({'import': imp(path='/a', checksum='abc')}, 'import.checksum'),
    ({'import': imp(path='/a', checksum='sha256:abc')}, 'import.checksum'),
    ({'import': imp(path='/a', checksum='crc32:abcdabcd')}, 'import.checksum'),
    ({'import': imp(path='/a', format='qcow9')}, 'import.format'),
    (dict(format='raw', **{'import': imp(path='/a', format='qcow2')}), 'import.format'),
    (dict(cloud_init=ci()), 'cloud_init'),
    (dict(cloud_init=ci(user_data='x'), capacity='1M'), 'capacity'),
    (dict(cloud_init=ci(user_data='x'), format='qcow2'), 'format'),
    (dict(cloud_init=ci(user_data=42)), 'cloud_init.user_data'),
    (dict(clone_from={'name': 'c', 'pool': None}, preallocate=True), 'preallocate'),
])
def test_bad_input_names_the_field(kw, field):
    with pytest.raises(InvalidSpec) as info:
        volume_spec(params(**kw))
    assert info.value.field == field, info.value.describe()


def test_errors_never_carry_seed_content():
    with pytest.raises(InvalidSpec) as info:
        volume_spec(params(cloud_init=ci(user_data='s3cr3t-token'), capacity='1M'))
    assert 's3cr3t' not in info.value.describe()


def test_credentials_in_a_url_are_never_shown():
    spec = volume_spec(params(**{'import': imp(url='https://bob:hunter2@images.example/a.qcow2?x=1')}))
    assert spec['source']['url'] == 'https://bob:hunter2@images.example/a.qcow2?x=1'
    assert spec['source']['shown'] == 'https://***@images.example/a.qcow2?x=1'
    spec = volume_spec(params(**{'import': imp(url='http://127.0.0.1:8080/a.raw')}))
    assert spec['source']['shown'] == 'http://127.0.0.1:8080/a.raw'
