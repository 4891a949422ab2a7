"""Check mode predicts what the real run does: against a pool that is not
there yet or not started, a volume goes through every check a real run makes
that needs no pool; a replaced volume keeps its capacity; an image from a
URL is fetched before the volume it replaces is deleted."""
import functools
import http.server
import threading
import uuid

import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.errors import Conflict, VirtError
from ansible_collections.virtkit.virt.plugins.module_utils.storage.importing_volume_manager import ImportingVolumeManager
from ansible_collections.virtkit.virt.plugins.module_utils.storage.volume_manager import VolumeManager
from ansible_collections.virtkit.virt.tests.unit.fake_driver import FakeDriver
from ansible_collections.virtkit.virt.tests.unit.module_utils.storage.test_storage_managers import (
    DIR_POOL, run, run_manager, vol_params)

MiB = 1024 ** 2
SRC_POOL = "<pool type='dir'><name>src</name><uuid>u-src</uuid><target><path>/pools/src</path></target></pool>"


def qcow2_header(virtual_size):
    return b'QFI\xfb' + b'\0' * 20 + virtual_size.to_bytes(8, 'big') + b'\0' * 1000


def imp(path=None, url=None, checksum=None, fmt=None):
    return {'import': {'path': path, 'url': url, 'checksum': checksum, 'format': fmt, 'validate_certs': True}}


def outcome(driver, params, check):
    """What a run says: its actions, or the message it fails with."""
    try:
        return 'changed', run(ImportingVolumeManager, driver, params, check=check).action_names
    except VirtError as exc:
        return 'failed', exc.describe()


def with_sources(pool=None):
    """The fake host: a pool ``src`` with the sources, and pool ``p`` as ``pool``
    says (None: not there; 'inactive'; 'active', empty)."""
    driver = FakeDriver()
    driver.add_pool('src', SRC_POOL)
    driver.add_volume('src', 'gold', 16 * MiB, 'qcow2')
    driver.add_volume('src', 'base', 16 * MiB, 'qcow2')
    if pool:
        driver.add_pool('p', DIR_POOL, active=pool == 'active')
    return driver


@pytest.fixture
def images(tmp_path):
    raw = tmp_path / 'image.raw'
    raw.write_bytes(b'\1' * 8192)
    qcow2 = tmp_path / 'image.qcow2'
    qcow2.write_bytes(qcow2_header(24 * MiB))
    sha = __import__('hashlib').sha256(raw.read_bytes()).hexdigest()
    return {'raw': str(raw), 'qcow2': str(qcow2), 'sha256': 'sha256:' + sha, 'missing': str(tmp_path / 'nope.img')}


SPECS = [
    # (what, params as a function of the images, the real run's outcome)
    ('empty, no capacity', lambda i: {}, ('failed', 'capacity')),
    ('empty, preallocated', lambda i: {'capacity': '16MiB', 'preallocate': True}, ('changed', ['create (preallocated)'])),
    ('import, right checksum', lambda i: imp(i['raw'], checksum=i['sha256']), ('changed', ['import {raw}'])),
    ('import, wrong checksum', lambda i: imp(i['raw'], checksum='sha256:' + '0' * 64), ('failed', 'import.checksum')),
    ('import, not there', lambda i: imp(i['missing']), ('failed', 'import.path')),
    ('import, format the header denies', lambda i: imp(i['raw'], fmt='qcow2'), ('failed', 'import.format')),
    ('import, capacity below the image', lambda i: dict(imp(i['qcow2']), capacity='8MiB'), ('failed', 'allow_shrink')),
    ('import, grown', lambda i: dict(imp(i['qcow2']), capacity='32MiB'), ('changed', ['import {qcow2}'])),
    ('clone, grown', lambda i: {'clone_from': {'name': 'gold', 'pool': 'src'}, 'capacity': '32MiB'},
     ('changed', ['clone src/gold', 'grow from 16MiB to 32MiB'])),
    ('clone, capacity below it', lambda i: {'clone_from': {'name': 'gold', 'pool': 'src'}, 'capacity': '8MiB'},
     ('failed', 'allow_shrink')),
    ('overlay on a volume', lambda i: {'backing_volume': {'name': 'base', 'pool': 'src'}},
     ('changed', ['create overlay on /pools/src/base'])),
    ('overlay on a file', lambda i: {'backing_path': i['qcow2']}, ('changed', ['create overlay on {qcow2}'])),
]


@pytest.mark.parametrize('pool', [None, 'inactive'])
@pytest.mark.parametrize('what, params, real', SPECS, ids=[spec[0] for spec in SPECS])
def test_check_mode_without_the_pool_predicts_the_real_run(images, pool, what, params, real):
    params = vol_params(**params(images))
    expected = outcome(with_sources('active'), params, check=False)
    kind, said = real
    assert expected[0] == kind
    if kind == 'failed':
        assert said in expected[1]
    else:
        assert expected[1] == [action.format(**images) for action in said]
    driver = with_sources(pool)
    predicted = outcome(driver, params, check=True)
    assert predicted == expected
    assert driver.changes() == []


def test_the_prediction_says_the_pool_is_missing_and_its_space_unchecked():
    driver = FakeDriver()
    driver.add_pool('p', DIR_POOL, active=False, available=MiB)
    plan = run(VolumeManager, driver, vol_params(capacity='16MiB', preallocate=True), check=True)
    assert plan.action_names == ['create (preallocated)']
    assert "pool 'p' is inactive" in plan.warnings[0] and 'free space unchecked' in plan.warnings[0]
    assert plan.before == {} and plan.after == {'capacity': 16 * MiB}


def planned(driver, params, check=True):
    """The plan, every warning of a run (the manager's and the plan's) and the facts it returns."""
    manager = VolumeManager(params, check_mode=check)
    plan = run_manager(manager, driver)
    return plan, manager.warnings + plan.warnings, manager.facts(plan)


def test_a_source_in_a_pool_not_there_yet_is_predicted_with_a_warning():
    plan, warnings, _facts = planned(FakeDriver(), vol_params(clone_from={'name': 'gold', 'pool': 'src'}))
    assert plan.action_names == ['clone src/gold']
    assert any("clone_from: volume 'gold' in pool 'src' does not exist" in warning for warning in warnings)


# -- against libvirt's test driver: a pool that is defined, not started ----------------

@pytest.fixture
def test_driver():
    libvirt_driver = pytest.importorskip(
        'ansible_collections.virtkit.virt.plugins.module_utils.driver.libvirt_driver')
    driver = libvirt_driver.LibvirtDriver('test:///default')
    names = {'pool': 'vk-%s' % uuid.uuid4().hex[:8], 'src': 'vk-%s' % uuid.uuid4().hex[:8]}
    for name in names.values():
        driver.define_pool("<pool type='dir'><name>%s</name><target><path>/%s</path></target></pool>" % (name, name))
    yield driver, names
    conn = driver._connection()
    for name in names.values():
        pool = conn.storagePoolLookupByName(name)
        if pool.isActive():
            for volume in pool.listAllVolumes():
                volume.delete()
            pool.destroy()
        pool.undefine()
    driver.close()


def test_a_source_in_an_inactive_pool_is_predicted_then_refused_naming_the_pool(test_driver):
    driver, names = test_driver
    params = vol_params(pool=names['pool'], backing_volume={'name': 'base', 'pool': names['src']})
    # Both pools stopped: check mode predicts the overlay (an earlier task may start them) ...
    plan, warnings, facts = planned(driver, params)
    assert plan.action_names == ['create overlay on %s/base' % names['src']]
    assert any("backing_volume: pool %r is inactive" % names['src'] in warning for warning in warnings)
    assert any("pool %r is inactive" % names['pool'] in warning for warning in warnings)
    assert facts == {'name': 'v', 'pool': names['pool'], 'exists': False}
    # ... and the real run, its own pool started, says which pool to start (not libvirt's "operation invalid").
    driver._connection().storagePoolLookupByName(names['pool']).create()
    with pytest.raises(Conflict) as info:
        run(VolumeManager, driver, params)
    assert info.value.describe() == ("Failed to create volume 'v' in pool %r: backing_volume: pool %r is inactive, "
                                     "so volume 'base' cannot be read; start it first" % (names['pool'], names['src']))


def test_check_mode_on_an_inactive_pool_then_the_real_run_once_it_is_started(test_driver):
    driver, names = test_driver
    for params, expected in ((vol_params(pool=names['pool']), 'failed'),
                             (vol_params(pool=names['pool'], capacity='4MiB', format='qcow2'), 'changed')):
        predicted = outcome(driver, params, check=True)
        driver._connection().storagePoolLookupByName(names['pool']).create()
        try:
            assert outcome(driver, params, check=False) == predicted
            assert predicted[0] == expected
        finally:
            driver._connection().storagePoolLookupByName(names['pool']).destroy()


# -- replace keeps the capacity -----------------------------------------------------

def replaced(driver, params, check=False):
    return run(ImportingVolumeManager, driver, vol_params(replace=True, **params), check=check)


def test_a_replaced_empty_volume_keeps_its_capacity():
    driver = with_sources('active')
    driver.add_volume('p', 'v', 48 * MiB, 'raw')
    plan = replaced(driver, {'format': 'qcow2'}, check=True)
    assert plan.action_names == ['delete (to replace it)', 'create']
    assert plan.diff()['before'] == {'capacity': 48 * MiB, 'format': 'raw'}
    assert plan.diff()['after'] == {'capacity': 48 * MiB, 'format': 'qcow2'}
    replaced(driver, {'format': 'qcow2'})
    assert driver.pools['p']['volumes']['v']['capacity'] == 48 * MiB
    assert replaced(driver, {'format': 'qcow2'}).action_names == []


def test_a_volume_replaced_by_an_import_keeps_its_capacity(images):
    driver = with_sources('active')
    driver.add_volume('p', 'v', 48 * MiB, 'qcow2', backing='/pools/src/base')
    plan = replaced(driver, imp(images['raw']), check=True)
    assert plan.action_names == ['delete (to replace it)', 'import %s' % images['raw']]
    assert plan.after['capacity'] == 48 * MiB
    replaced(driver, imp(images['raw']))
    volume = driver.pools['p']['volumes']['v']
    assert volume['capacity'] == 48 * MiB and volume['content'] == b'\1' * 8192 and volume['backing'] is None


def test_a_volume_replaced_by_a_clone_or_an_overlay_keeps_its_capacity():
    driver = with_sources('active')
    driver.add_volume('p', 'v', 48 * MiB, 'raw')
    clone = {'clone_from': {'name': 'gold', 'pool': 'src'}, 'format': 'qcow2'}
    assert replaced(driver, clone, check=True).action_names == [
        'delete (to replace it)', 'clone src/gold', 'grow from 16MiB to 48MiB']
    replaced(driver, clone)
    assert driver.pools['p']['volumes']['v']['capacity'] == 48 * MiB
    overlay = {'backing_volume': {'name': 'base', 'pool': 'src'}}
    replaced(driver, overlay)
    volume = driver.pools['p']['volumes']['v']
    assert volume['capacity'] == 48 * MiB and volume['backing'] == '/pools/src/base'


def test_a_replacement_larger_than_the_volume_is_not_cut(images):
    driver = with_sources('active')
    driver.add_volume('p', 'v', MiB, 'qcow2', backing='/pools/src/base')
    plan = replaced(driver, imp(images['qcow2']))
    assert plan.after['capacity'] == 24 * MiB
    assert driver.called('resize_volume') == []  # the image as it is (the fake reads no qcow2 header after an upload)
    driver.add_volume('p', 'w', MiB, 'raw')
    replaced(driver, {'name': 'w', 'clone_from': {'name': 'gold', 'pool': 'src'}, 'format': 'qcow2'})
    assert driver.pools['p']['volumes']['w']['capacity'] == 16 * MiB


def test_a_capacity_given_is_the_replacement_s(images):
    driver = with_sources('active')
    driver.add_volume('p', 'v', 48 * MiB, 'qcow2', backing='/pools/src/base')
    replaced(driver, dict(imp(images['raw']), capacity='4MiB'))
    assert driver.pools['p']['volumes']['v']['capacity'] == 4 * MiB


def test_a_replacement_s_space_counts_what_the_old_volume_frees(images):
    driver = FakeDriver()
    driver.add_pool('p', DIR_POOL, available=4096)
    driver.add_volume('p', 'v', 48 * MiB, 'qcow2', backing='/pools/src/base')
    driver.script('volume_xml', "<volume><name>v</name><capacity>50331648</capacity><allocation>8192</allocation>"
                  "<target><path>/pools/p/v</path><format type='qcow2'/></target>"
                  "<backingStore><path>/pools/src/base</path><format type='qcow2'/></backingStore></volume>",
                  name='v')
    plan = replaced(driver, imp(images['raw']), check=True)
    assert plan.action_names == ['delete (to replace it)', 'import %s' % images['raw']]
    driver.script('volume_xml', "<volume><name>v</name><capacity>50331648</capacity><allocation>2048</allocation>"
                  "<target><path>/pools/p/v</path><format type='qcow2'/></target>"
                  "<backingStore><path>/pools/src/base</path><format type='qcow2'/></backingStore></volume>",
                  name='v')
    with pytest.raises(Conflict) as info:
        replaced(driver, imp(images['raw']), check=True)
    assert 'needs 8KiB, the pool has 6KiB free' in info.value.describe()


# -- an image from a URL replaces a volume only once it is fetched and verified ---------

@pytest.fixture
def served(tmp_path):
    """An HTTP server on 127.0.0.1 serving ``tmp_path/www``; yields its base URL."""
    www = tmp_path / 'www'
    www.mkdir()
    handler = functools.partial(QuietHandler, directory=str(www))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield www, 'http://127.0.0.1:%d' % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def url_replacement_driver():
    driver = with_sources('active')
    driver.add_volume('p', 'v', 48 * MiB, 'qcow2', backing='/pools/src/base')
    return driver


@pytest.mark.parametrize('case', ['not there', 'wrong checksum', 'below the capacity asked for'])
def test_a_failed_download_leaves_the_volume_it_would_replace(served, case):
    www, base = served
    (www / 'image.qcow2').write_bytes(qcow2_header(24 * MiB))
    driver = url_replacement_driver()
    source = {'not there': imp(url=base + '/missing.img'),
              'wrong checksum': imp(url=base + '/image.qcow2', checksum='sha256:' + '0' * 64),
              'below the capacity asked for': dict(imp(url=base + '/image.qcow2'), capacity='8MiB')}[case]
    plan = replaced(driver, source, check=True)
    url = source['import']['url']
    assert plan.action_names == ['fetch %s' % url, 'delete (to replace it)', 'import %s' % url]
    with pytest.raises(VirtError):
        replaced(driver, source)
    assert driver.changes() == []
    assert driver.pools['p']['volumes']['v']['backing'] == '/pools/src/base'


def test_a_volume_is_replaced_by_an_image_from_a_url_once_it_is_fetched(served):
    www, base = served
    (www / 'image.raw').write_bytes(b'\2' * 8192)
    driver = url_replacement_driver()
    plan = replaced(driver, imp(url=base + '/image.raw'))
    assert plan.action_names == ['fetch %s/image.raw' % base, 'delete (to replace it)', 'import %s/image.raw' % base]
    assert [name for name, _args in driver.changes()][:2] == ['delete_volume', 'create_volume']
    volume = driver.pools['p']['volumes']['v']
    assert volume['content'] == b'\2' * 8192 and volume['capacity'] == 48 * MiB and volume['backing'] is None
    assert plan.outcome.done == plan.action_names


def test_a_fetched_image_is_removed_when_a_later_step_fails(served, monkeypatch):
    www, base = served
    (www / 'image.raw').write_bytes(b'\2' * 8192)
    driver = url_replacement_driver()
    driver.script('delete_volume', Conflict('volume is in use'))
    fetched = []
    from ansible_collections.virtkit.virt.plugins.module_utils.storage import volume_import
    original = volume_import.Image.__init__

    def remember(self, path, temporary):
        fetched.append(path)
        original(self, path, temporary)
    monkeypatch.setattr(volume_import.Image, '__init__', remember)
    with pytest.raises(Conflict):
        replaced(driver, imp(url=base + '/image.raw'))
    assert len(fetched) == 1 and not __import__('os').path.exists(fetched[0])
    assert driver.pools['p']['volumes']['v']['backing'] == '/pools/src/base'


def test_a_seed_replacing_a_volume_is_as_large_as_its_image():
    pytest.importorskip('pycdlib')
    driver = with_sources('active')
    driver.add_volume('p', 'v', 48 * MiB, 'raw', content=b'\0' * 40000)
    data = {'user_data': 'x', 'meta_data': None, 'network_config': None, 'vendor_data': None}
    plan = replaced(driver, {'cloud_init': data})
    assert plan.action_names[0] == 'delete (to replace it)'
    assert 'capacity' not in plan.diff()['before'] and 'capacity' not in plan.diff()['after']
    assert driver.pools['p']['volumes']['v']['capacity'] < MiB


def test_an_interrupted_download_leaves_no_file(served, monkeypatch):
    www, base = served
    (www / 'image.raw').write_bytes(b'\2' * 8192)
    from ansible_collections.virtkit.virt.plugins.module_utils.storage import volume_import
    made = []
    mkstemp = volume_import.tempfile.mkstemp

    def remembered(*args, **kwargs):
        made.append(mkstemp(*args, **kwargs))
        return made[-1]

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt()
    monkeypatch.setattr(volume_import.tempfile, 'mkstemp', remembered)
    monkeypatch.setattr('ansible.module_utils.urls.open_url', interrupted)
    with pytest.raises(KeyboardInterrupt):
        replaced(url_replacement_driver(), imp(url=base + '/image.raw'))
    assert len(made) == 1 and not __import__('os').path.exists(made[0][1])
