import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.container.spec import (
    ADDRESS_SOURCES, container_spec, defines_something, hostname_spec, rootfs_spec)
from ansible_collections.virtkit.virt.plugins.module_utils.domain.spec import wait_spec
from ansible_collections.virtkit.virt.plugins.module_utils.engine.plan import diff_specified
from ansible_collections.virtkit.virt.plugins.module_utils.errors import InvalidSpec
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.domain import parse_domain_xml

OPTIONS = ('rootfs', 'share_host_root', 'share_host_network', 'init', 'env', 'hostname', 'memory', 'vcpus',
           'cpu_shares', 'interfaces', 'mounts', 'idmap', 'tags', 'xml', 'xml_patches', 'wait_for_ip')
RANGE = {'start': 0, 'target': 100000, 'count': 65536}


def params(**kw):
    base = dict((key, None) for key in OPTIONS)
    base.update(name='ct1', state='running')
    base.update(kw)
    return base


def spec_of(**kw):
    spec, xml = container_spec(params(**kw))
    assert xml is None
    return spec


def test_options_become_the_canonical_domain_of_a_container():
    spec = spec_of(rootfs={'path': '/srv/ct1/'}, memory='512MiB', vcpus=2, cpu_shares=512,
                   init="/bin/sh -c 'exec sleep 1000'", env={'A': 1, 'B': True, 'C': None},
                   mounts=[{'source': '/srv/data', 'target': '/mnt/data/', 'readonly': True},
                           {'source': '/srv/x', 'target': '/mnt/x'}],
                   interfaces=[{'network': 'lab'}], tags={'role': 'web'})
    assert spec['virt_type'] == 'lxc'
    # libvirt's LXC driver starts a container with <memory> as its limit: memory is both
    assert spec['memory_kib'] == spec['max_memory_kib'] == 512 * 1024
    assert spec['vcpus'] == spec['max_vcpus'] == 2
    assert (spec['init'], spec['init_args']) == ('/bin/sh', ['-c', 'exec sleep 1000'])
    assert spec['init_env'] == {'A': '1', 'B': 'true', 'C': ''}
    assert spec['rootfs'] == '/srv/ct1'
    assert spec['mounts'] == [{'source': '/srv/data', 'target': '/mnt/data', 'readonly': True},
                              {'source': '/srv/x', 'target': '/mnt/x', 'readonly': False}]
    assert spec['interfaces'][0]['network'] == 'lab' and spec['tags'] == {'role': 'web'}
    assert spec['cpu_shares'] == 512
    assert spec['host_network'] is None and spec['idmap'] is None
    # what only virtual machines have is never compared
    assert all(spec[key] is None for key in ('disks', 'graphics', 'console', 'kernel', 'machine'))


def test_not_said_is_none():
    spec = spec_of(memory=64)
    for key in ('init', 'init_args', 'init_env', 'rootfs', 'mounts', 'idmap', 'cpu_shares', 'interfaces', 'tags',
                'host_network', 'vcpus'):
        assert spec[key] is None, key


def test_init_as_list_or_command_line():
    listed = spec_of(init=['/bin/sh', '-c', 'echo "a b"'])
    split = spec_of(init='/bin/sh -c \'echo "a b"\'')
    assert (listed['init'], listed['init_args']) == (split['init'], split['init_args']) == \
        ('/bin/sh', ['-c', 'echo "a b"'])
    assert spec_of(init='/sbin/init')['init_args'] == []


def test_sharing_the_host():
    assert spec_of(share_host_root=True)['rootfs'] == ''
    assert spec_of(share_host_root=False, rootfs={'path': '/srv/a'})['rootfs'] == '/srv/a'
    assert spec_of(share_host_network=True, interfaces=[])['host_network'] is True
    assert spec_of(share_host_network=False)['host_network'] is False


def test_a_user_namespace_has_its_own_network_namespace():
    spec = spec_of(idmap={'uid': RANGE, 'gid': [RANGE]})
    assert spec['idmap'] == {'uid': [RANGE], 'gid': [RANGE]}
    assert spec['host_network'] is False


def test_idmap_ranges_are_sorted_and_may_be_several():
    ranges = [{'start': 1000, 'target': 300000, 'count': 10}, {'start': 0, 'target': 200000, 'count': 1000}]
    spec = spec_of(idmap={'uid': ranges, 'gid': RANGE})
    assert [r['start'] for r in spec['idmap']['uid']] == [0, 1000]


def test_an_empty_idmap_removes_the_user_namespace():
    assert spec_of(idmap={})['idmap'] == {}
    assert spec_of(idmap={'uid': None, 'gid': None})['idmap'] == {}  # what the module's suboptions make of {}


def test_rootfs_archive_and_checksum():
    digest = 'ab' * 32
    url = 'https://example.org/r.tar.xz'
    assert rootfs_spec({'path': '/srv/a', 'archive': url, 'checksum': 'sha256:' + digest.upper()}) == \
        {'path': '/srv/a', 'archive': url, 'checksum': digest}
    assert rootfs_spec({'path': '/srv/a', 'archive': '/srv/images/r.tar'})['checksum'] is None


@pytest.mark.parametrize('kw, field', [
    (dict(rootfs={'path': 'srv/a'}), 'rootfs.path'),
    (dict(rootfs={'path': '/'}), 'rootfs.path'),
    (dict(rootfs={'path': '/srv/../etc'}), 'rootfs.path'),
    (dict(rootfs={'path': '/srv/a', 'archive': 'r.tar'}), 'rootfs.archive'),
    (dict(rootfs={'path': '/srv/a', 'archive': '/srv/images/../r.tar'}), 'rootfs.archive'),
    (dict(rootfs={'path': '/srv/a', 'checksum': 'ab' * 32}), 'rootfs.checksum'),
    (dict(rootfs={'path': '/srv/a', 'archive': '/r.tar', 'checksum': 'md5:abc'}), 'rootfs.checksum'),
    (dict(rootfs='/srv/a'), 'rootfs'),
    (dict(rootfs={'path': '/srv/a'}, share_host_root=True), 'share_host_root'),
    (dict(init='bin/sh'), 'init'),
    (dict(init=[]), 'init'),
    (dict(init="/bin/sh -c 'unclosed"), 'init'),
    (dict(init=['/bin/sh', {'a': 1}]), 'init[1]'),
    (dict(env={'1A': 'x'}), 'env'),
    (dict(env={'A-B': 'x'}), 'env'),
    (dict(env={'A': ['x']}), 'env.A'),
    (dict(env=['A=1']), 'env'),
    (dict(cpu_shares=1), 'cpu_shares'),
    (dict(cpu_shares=True), 'cpu_shares'),
    (dict(vcpus=0), 'vcpus'),
    (dict(memory='lots'), 'memory'),
    (dict(memory=0.5), 'memory'),
    (dict(mounts=[{'source': '/srv/a', 'target': 'mnt'}]), 'mounts[0].target'),
    (dict(mounts=[{'source': '/srv/a', 'target': '/'}]), 'mounts[0].target'),
    (dict(mounts=[{'source': 'srv/a', 'target': '/mnt'}]), 'mounts[0].source'),
    (dict(mounts=[{'target': '/mnt'}]), 'mounts[0].source'),
    (dict(mounts=[{'source': '/a', 'target': '/mnt'}, {'source': '/b', 'target': '/mnt/'}]), 'mounts'),
    (dict(mounts=[{'source': '/a', 'target': '/mnt', 'readonly': 'yes'}]), 'mounts[0].readonly'),
    (dict(idmap={'uid': RANGE}), 'idmap.gid'),
    (dict(idmap={'uid': RANGE, 'gid': RANGE, 'pid': RANGE}), 'idmap'),
    (dict(idmap={'uid': {'start': 1, 'target': 100000, 'count': 10}, 'gid': RANGE}), 'idmap.uid'),
    (dict(idmap={'uid': [RANGE, {'start': 500, 'target': 300000, 'count': 10}], 'gid': RANGE}), 'idmap.uid'),
    (dict(idmap={'uid': RANGE, 'gid': [RANGE, {'start': 70000, 'target': 100005, 'count': 10}]}), 'idmap.gid'),
    (dict(idmap={'uid': {'start': 0, 'target': -1, 'count': 10}, 'gid': RANGE}), 'idmap.uid[0].target'),
    (dict(idmap={'uid': {'start': 0, 'target': 1, 'count': 0}, 'gid': RANGE}), 'idmap.uid[0].count'),
    (dict(idmap={'uid': {'start': 0, 'target': 4294967295, 'count': 2}, 'gid': RANGE}), 'idmap.uid[0].count'),
    (dict(idmap={'uid': [1, 2], 'gid': RANGE}), 'idmap.uid[0]'),
    (dict(idmap={'uid': RANGE, 'gid': RANGE}, share_host_network=True), 'share_host_network'),
    (dict(interfaces=[{'network': 'lab'}], share_host_network=True), 'share_host_network'),
    (dict(interfaces=[{'model': 'virtio'}]), 'interfaces[0]'),
    (dict(interfaces=[{'network': 'a', 'mac': '52:54:00:00:00:01'}, {'bridge': 'b', 'mac': '52:54:00:00:00:01'}]),
     'interfaces[1].mac'),
    (dict(tags={'a b': 1}), 'tags'),
    (dict(name='a/b'), 'name'),
    (dict(xml="<domain type='qemu'><name>ct1</name><memory>65536</memory><os><type>hvm</type></os></domain>"), 'xml'),
    (dict(xml="<domain type='lxc'><name>ct1</name><memory>65536</memory><os><type>exe</type></os></domain>"), 'xml'),
    (dict(xml="<domain type='lxc'><name>other</name><memory>1</memory><os><type>exe</type></os></domain>"), 'xml'),
    (dict(xml_patches=[{'xpath': '/domain/[', 'value': 1}]), 'xml_patches[0].xpath'),
])
def test_bad_input_names_the_field(kw, field):
    with pytest.raises(InvalidSpec) as info:
        container_spec(params(**kw))
    assert info.value.field == field, info.value.describe()


def test_host_names():
    assert hostname_spec('web-1.example.org') == 'web-1.example.org'
    for bad in ('-web', 'web_1', 'a b', 'x' * 65, ''):
        with pytest.raises(InvalidSpec) as info:
            hostname_spec(bad)
        assert info.value.field == 'hostname'


def test_containers_have_no_guest_agent_address_source():
    assert wait_spec(params(wait_for_ip={}), ADDRESS_SOURCES) == {'timeout': 300, 'sources': ['lease', 'arp']}
    with pytest.raises(InvalidSpec) as info:
        wait_spec(params(wait_for_ip={'sources': ['agent']}), ADDRESS_SOURCES)
    assert info.value.field == 'wait_for_ip.sources[0]'


def test_only_power_state_defines_nothing():
    assert not defines_something(params())
    assert defines_something(params(memory=64))
    assert defines_something(params(share_host_root=False))
    assert defines_something(params(xml='<domain/>'))


USER_XML = """<domain type='lxc'>
  <name>ct1</name>
  <memory unit='MiB'>64</memory>
  <os><type>exe</type><init>/bin/sh</init><initarg>-c</initarg><initarg>sleep 1000</initarg></os>
  <devices>
    <filesystem type='mount'><source dir='/srv/ct1'/><target dir='/'/></filesystem>
    <interface type='network'><source network='lab'/></interface>
    <console type='pty'/>
  </devices>
</domain>"""

LIBVIRT_XML = """<domain type='lxc'>
  <name>ct1</name><uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>
  <memory unit='KiB'>65536</memory><currentMemory unit='KiB'>65536</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <resource><partition>/machine</partition></resource>
  <os><type arch='x86_64'>exe</type><init>/bin/sh</init><initarg>-c</initarg><initarg>sleep 1000</initarg></os>
  <clock offset='utc'/><on_poweroff>destroy</on_poweroff>
  <devices>
    <emulator>/usr/lib/libvirt/libvirt_lxc</emulator>
    <filesystem type='mount' accessmode='passthrough'><source dir='/srv/ct1'/><target dir='/'/></filesystem>
    <interface type='network'><mac address='52:54:00:12:34:56'/><source network='lab'/></interface>
    <console type='pty'><target type='lxc' port='0'/></console>
  </devices>
</domain>"""


def test_xml_spec_is_strict_but_leaves_libvirt_filled_values_out():
    spec, xml = container_spec(params(xml=USER_XML))
    assert xml == USER_XML
    assert spec['virt_type'] == 'lxc' and spec['init'] == '/bin/sh' and spec['init_args'] == ['-c', 'sleep 1000']
    for key in ('uuid', 'arch', 'vcpus', 'cpu_shares'):
        assert key not in spec
    spec['interfaces'][0]['mac'] = '52:54:00:12:34:56'  # what domain/devices.py carries over
    assert diff_specified(spec, parse_domain_xml(LIBVIRT_XML), strict=True) == []
    with_mount = LIBVIRT_XML.replace('<console', "<filesystem type='mount'><source dir='/a'/><target dir='/b'/>"
                                     "</filesystem><console")
    assert [c.path for c in diff_specified(spec, parse_domain_xml(with_mount), strict=True)] == ['mounts']
