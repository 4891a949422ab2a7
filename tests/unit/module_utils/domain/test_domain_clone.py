"""Clones (clone_from): the clone's XML, and the whole path on libvirt's test
driver (a host described in a file, fresh for every connection), and the
undo of the copies against the fake driver."""
import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.domain.clone import clone_spec, copy_name
from ansible_collections.virtkit.virt.plugins.module_utils.domain.manager import DomainManager
from ansible_collections.virtkit.virt.plugins.module_utils.engine.runner import execute
from ansible_collections.virtkit.virt.plugins.module_utils.errors import DriverError, InvalidSpec
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.clone import clone_record, clone_xml
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.domain import parse_domain_xml
from ansible_collections.virtkit.virt.tests.unit.fake_driver import FakeDriver

SOURCE = """<domain type='{kind}' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
    <name>src</name>
    <uuid>0cafe000-0000-4000-8000-000000000001</uuid>
    <metadata>
      <virtkit:tags xmlns:virtkit='https://virtkit.dev/xmlns/virt/1.0'><virtkit:tag name='role'>template</virtkit:tag></virtkit:tags>
    </metadata>
    <memory unit='MiB'>64</memory>
    <os><type>hvm</type>{nvram}</os>
    {runstate}
    <devices>
      <disk type='volume' device='disk'>
        <driver name='qemu' type='qcow2'/><source pool='p' volume='src.qcow2'/><target dev='vda' bus='virtio'/>
      </disk>
      <disk type='file' device='cdrom'>
        <source file='/pools/p/seed.iso'/><target dev='sda' bus='sata'/><readonly/>
      </disk>
      <disk type='volume' device='disk'>
        <driver name='qemu' type='raw'/><source pool='p' volume='src-cidata.iso'/><target dev='vdc' bus='virtio'/>
        <readonly/>
      </disk>
      <interface type='network'><mac address='52:54:00:aa:bb:cc'/><source network='net'/><target dev='vnet3'/></interface>
      <graphics type='vnc' port='5905' autoport='no' websocket='5700'/>
    </devices>
  </domain>"""
HOST = """<node>
  <cpu><mhz>2000</mhz><model>i686</model></cpu>
  {domain}
  <pool type='dir'>
    <name>p</name>
    <target><path>/pools/p</path></target>
    <volume type='file'><name>src.qcow2</name><capacity unit='bytes'>16777216</capacity>
      <target><path>/pools/p/src.qcow2</path><format type='qcow2'/></target></volume>
    <volume type='file'><name>src-cidata.iso</name><capacity unit='bytes'>65536</capacity>
      <target><path>/pools/p/src-cidata.iso</path><format type='raw'/></target></volume>
  </pool>
  <network><name>net</name><bridge name='vkt0'/><ip address='192.168.222.1' netmask='255.255.255.0'/></network>
</node>"""
OPTIONS = ('autostart', 'arch', 'machine', 'memory', 'max_memory', 'vcpus', 'max_vcpus', 'cpu', 'firmware', 'boot',
           'kernel', 'initrd', 'cmdline', 'disks', 'interfaces', 'graphics', 'console', 'guest_agent', 'rng',
           'cloud_init', 'tags', 'xml', 'xml_patches', 'wait_for_ip', 'auth', 'clone_from')


def source(kind='test', nvram='', running=False):
    return SOURCE.format(kind=kind, nvram=nvram, runstate='' if running else '<test:runstate>5</test:runstate>')


def params(**kw):
    base = dict((key, None) for key in OPTIONS)
    base.update(state='present', virt_type='auto', live=True, restart=False, shutdown_timeout=120, force=False,
                remove_storage=False)
    base.update(kw)
    return base


def run(uri, check=False, **kw):
    return execute(DomainManager(params(uri=uri, **kw), check), want_diff=True)


@pytest.fixture
def host(tmp_path):
    def make(running=False):
        path = tmp_path / 'host.xml'
        path.write_text(HOST.format(domain=source(running=running)))
        return 'test://%s' % path
    return make


# -- the clone's XML ------------------------------------------------------------------

def test_the_clone_xml_is_the_source_s_made_new():
    xml = clone_xml(source(kind='qemu', nvram='<nvram>/var/lib/libvirt/qemu/nvram/src_VARS.fd</nvram>'), 'c1',
                    {'vda': {'pool': 'p', 'volume': 'c1-vda.qcow2', 'format': 'qcow2'}},
                    nvram='/var/lib/libvirt/qemu/nvram/c1_VARS.fd',
                    record={'source': 'src', 'snapshot': None, 'linked': True}, drop=('vdc',))
    parsed = parse_domain_xml(xml)
    assert parsed['name'] == 'c1' and parsed['uuid'] is None
    assert [(d['target'], d['pool'], d['volume'], d['path']) for d in parsed['disks']] == \
        [('vda', 'p', 'c1-vda.qcow2', None), ('sda', None, None, '/pools/p/seed.iso')]
    assert parsed['interfaces'][0]['mac'] is None and parsed['interfaces'][0]['network'] == 'net'
    assert 'vnet3' not in xml and '5905' not in xml and 'websocket' not in xml and 'autoport="yes"' in xml
    assert '<nvram>/var/lib/libvirt/qemu/nvram/c1_VARS.fd</nvram>' in xml
    assert parsed['tags'] == {'role': 'template'}  # the tags stay; the clone's own option replaces them
    assert clone_record(xml) == {'source': 'src', 'snapshot': None, 'linked': True}
    assert clone_record(source()) is None


def test_a_fresh_nvram_when_the_source_has_none_yet():
    xml = clone_xml(source(kind='qemu', nvram="<nvram template='/ovmf/VARS.fd'>/nv/src_VARS.fd</nvram>"), 'c1', {},
                    nvram='')
    assert "<nvram template='/ovmf/VARS.fd'/>" in xml or '<nvram template="/ovmf/VARS.fd"/>' in xml


def test_copy_names_and_the_spec():
    assert copy_name('c1', 'vda', 'src.qcow2', False) == 'c1-vda.qcow2'
    assert copy_name('c1', 'vdb', 'data.img', True) == 'c1-vdb.qcow2'
    assert copy_name('c1', 'vdb', 'data', False) == 'c1-vdb'
    assert clone_spec({'name': 'src', 'linked': None, 'snapshot': None}) == {'name': 'src', 'linked': False,
                                                                             'snapshot': None}
    with pytest.raises(InvalidSpec) as err:
        clone_spec({'name': 'a/b'})
    assert err.value.field == 'clone_from.name'


# -- on libvirt's test driver -------------------------------------------------------------

def test_a_full_clone_copies_writable_disks_and_shares_the_rest(host):
    uri = host()
    for check in (True, False):
        result = run(uri, check=check, name='c1', clone_from={'name': 'src', 'linked': False}, memory=32,
                     tags={'role': 'web'})
        assert not result.get('failed'), result['msg']
        assert result['actions'] == ['volume p/c1-vda.qcow2: clone p/src.qcow2', 'define']
        assert result['diff']['after']['cloned_from'] == {'source': 'src', 'snapshot': None, 'linked': False}
    domain = result['domain']
    assert domain['cloned_from'] == {'source': 'src', 'snapshot': None, 'linked': False}
    assert sorted((d['target'], d['volume'] or d['path']) for d in domain['disks']) == \
        [('sda', '/pools/p/seed.iso'), ('vda', 'c1-vda.qcow2'), ('vdc', 'src-cidata.iso')]
    assert domain['interfaces'][0]['mac'] != '52:54:00:aa:bb:cc'
    assert domain['memory'] == 32 and domain['tags'] == {'role': 'web'}


def test_with_cloud_init_the_source_s_seed_is_left_out(host):
    pytest.importorskip('pycdlib')
    result = run(host(), name='c1', clone_from={'name': 'src', 'linked': True}, cloud_init={'user_data': 'x'},
                 check=True)
    assert not result.get('failed'), result['msg']
    assert result['actions'][0] == 'volume p/c1-vda.qcow2: create overlay on /pools/p/src.qcow2'
    assert result['actions'][1].startswith('volume p/c1-cidata.iso: create cloud-init seed')
    volumes = [d.get('volume') for d in result['diff']['after']['disks']]
    assert 'src-cidata.iso' not in volumes and 'c1-cidata.iso' in volumes


def test_a_running_source_is_refused(host):
    result = run(host(running=True), name='c1', clone_from={'name': 'src', 'linked': True})
    assert result['failed'] and result['error'] == 'conflict'
    assert "domain 'src' is running; a clone is made from a shut-off domain" in result['msg']


def test_unknown_source_and_snapshot(host):
    uri = host()
    result = run(uri, name='c1', clone_from={'name': 'nosuch'})
    assert result['failed'] and "clone_from.name: domain 'nosuch' does not exist" in result['msg']
    result = run(uri, name='c1', clone_from={'name': 'src', 'snapshot': 'nosuch'})
    assert result['failed'] and "clone_from.snapshot: domain 'src' has no snapshot 'nosuch'" in result['msg']


def test_an_existing_domain_is_not_cloned_again(host):
    result = run(host(), name='src', clone_from={'name': 'other'})
    assert not result.get('failed'), result['msg']
    assert result['actions'] == [] and result['warnings'] == ["domain 'src' exists and is no clone; clone_from is "
                                                              "left alone"]
    result = run(host(), name='src', clone_from={'name': 'src'})
    assert result['failed'] and 'names the domain itself' in result['msg']


# -- the undo, against the fake driver ------------------------------------------------------

def fake_host():
    driver = FakeDriver(uri='qemu:///system')
    driver.add_pool('p', "<pool type='dir'><name>p</name><target><path>/pools/p</path></target></pool>")
    driver.add_volume('p', 'src.qcow2', 16 * 1024 ** 2, fmt='qcow2')
    driver.add_volume('p', 'src2.qcow2', 16 * 1024 ** 2, fmt='qcow2')
    driver.add_volume('p', 'src-cidata.iso', 65536, fmt='raw')
    xml = source(kind='qemu').replace(
        "</devices>", "<disk type='volume' device='disk'><driver name='qemu' type='qcow2'/>"
                      "<source pool='p' volume='src2.qcow2'/><target dev='vdb' bus='virtio'/></disk></devices>")
    driver.add_domain('src', state='shutoff', xml=xml)
    driver.add_network('net')
    return driver


def manager(driver, **kw):
    m = DomainManager(params(uri='qemu:///system', **kw), False)
    m.validate()
    m.driver = driver
    return m


def test_copies_are_deleted_when_a_later_one_fails():
    driver = fake_host()
    driver.script('create_volume', DriverError('no space left'), clone_from=('p', 'src2.qcow2'))
    plan = manager(driver, name='c1', clone_from={'name': 'src'}).plan()
    assert plan.action_names == ['volume p/c1-vda.qcow2: clone p/src.qcow2', 'volume p/c1-vdb.qcow2: clone p/src2.qcow2',
                                 'define']
    with pytest.raises(DriverError):
        plan.apply()
    # The first copy was made (with its partial marker, deleted once full);
    # the second failed: the first is deleted again, and nothing of c1 stays.
    assert {'pool': 'p', 'name': 'c1-vda.qcow2', 'wipe': False} in driver.called('delete_volume')
    assert [v for v in driver.pools['p']['volumes'] if v.startswith('c1')] == [] and 'c1' not in driver.domains


def test_copies_are_deleted_when_the_definition_fails():
    driver = fake_host()
    driver.script('define_domain', DriverError('bad XML'))
    plan = manager(driver, name='c1', clone_from={'name': 'src', 'linked': True}).plan()
    with pytest.raises(DriverError):
        plan.apply()
    assert sorted(args['name'] for args in driver.called('delete_volume')) == ['c1-vda.qcow2', 'c1-vdb.qcow2']
    assert sorted(driver.pools['p']['volumes']) == ['src-cidata.iso', 'src.qcow2', 'src2.qcow2']


def test_a_copy_that_exists_is_refused():
    driver = fake_host()
    driver.add_volume('p', 'c1-vdb.qcow2', 1)
    with pytest.raises(Exception, match="would be volume 'c1-vdb.qcow2' in pool 'p', which exists already"):
        manager(driver, name='c1', clone_from={'name': 'src'}).plan()
    assert driver.changes() == []


def test_a_uefi_source_s_nvram_is_copied_through_a_transient_pool():
    driver = fake_host()
    driver.domains['src']['xml'] = driver.domains['src']['xml'].replace(
        '<os><type>hvm</type>', '<os><type>hvm</type><nvram>/nv/src_VARS.fd</nvram>')
    driver.script('list_pools', [{'name': 'p', 'active': True}])
    driver.script('create_transient_pool', 'virtkit-tmp-1')
    driver.add_pool('virtkit-tmp-1', "<pool type='dir'><name>virtkit-tmp-1</name><target><path>/nv</path></target></pool>")
    driver.add_volume('virtkit-tmp-1', 'src_VARS.fd', 540672, fmt='raw')
    plan = manager(driver, name='c1', clone_from={'name': 'src'}).plan()
    assert 'copy NVRAM /nv/src_VARS.fd to /nv/c1_VARS.fd' in plan.action_names
    plan.apply()
    copies = [c for c in driver.called('create_volume') if c['pool'] == 'virtkit-tmp-1']
    assert copies and copies[0]['clone_from'] == ('virtkit-tmp-1', 'src_VARS.fd')
    assert driver.called('stop_pool') == [{'name': 'virtkit-tmp-1'}]
    assert '<nvram>/nv/c1_VARS.fd</nvram>' in driver.called('define_domain')[0]['xml']
