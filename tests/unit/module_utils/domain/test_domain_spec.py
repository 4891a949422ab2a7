import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.domain.spec import (
    defines_something, domain_spec, remove_storage_spec, wait_spec, xml_secrets)
from ansible_collections.virtkit.virt.plugins.module_utils.engine.plan import diff_specified
from ansible_collections.virtkit.virt.plugins.module_utils.errors import InvalidSpec
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.domain import parse_domain_xml

OPTIONS = ('virt_type', 'arch', 'machine', 'memory', 'max_memory', 'vcpus', 'max_vcpus', 'cpu', 'firmware', 'boot',
           'kernel', 'initrd', 'cmdline', 'disks', 'interfaces', 'graphics', 'console', 'guest_agent', 'rng',
           'cloud_init', 'tags', 'xml', 'xml_patches', 'wait_for_ip')


def params(**kw):
    base = dict((key, None) for key in OPTIONS)
    base.update(name='vm1', state='running', virt_type='auto')
    base.update(kw)
    return base


def test_sizes_and_defaults():
    spec, xml = domain_spec(params(memory='2G', max_memory=4096, vcpus=2))
    assert xml is None
    assert spec['memory_kib'] == 2 * 1024 * 1024 and spec['max_memory_kib'] == 4096 * 1024
    assert spec['virt_type'] is None  # auto: decided against the host
    assert spec['disks'] is None and spec['interfaces'] is None and spec['tags'] is None


def test_devices_are_normalised():
    spec = domain_spec(params(
        memory=512,
        disks=[{'volume': 'a.qcow2', 'pool': 'default'}, {'path': '/dev/vg/b', 'bus': 'scsi', 'target': 'sdb'},
               {'size': '10G', 'pool': 'default'}, {'device': 'cdrom'}],
        interfaces=[{'network': 'lab'}, {'bridge': 'br0', 'mac': '52:54:00:AA:BB:CC', 'model': 'e1000'}],
        console={'file': '/var/log/vm1.log'}, graphics={'type': 'vnc', 'password': 'pw'}, tags={'n': 1, 'ok': True}))[0]
    disks = spec['disks']
    assert (disks[0]['pool'], disks[0]['volume'], disks[0]['device']) == ('default', 'a.qcow2', None)
    assert disks[1]['path'] == '/dev/vg/b' and disks[1]['target'] == 'sdb'
    assert disks[2]['create'] == {'capacity': 10 * 1024 ** 3, 'backing_volume': None}
    assert disks[3]['path'] == '' and disks[3]['device'] == 'cdrom'
    assert spec['interfaces'][1]['mac'] == '52:54:00:aa:bb:cc'
    assert spec['interfaces'][0]['type'] == 'network' and spec['interfaces'][0]['model'] is None
    assert spec['console'] == {'type': 'file', 'path': '/var/log/vm1.log'}
    assert spec['tags'] == {'n': '1', 'ok': 'true'}


@pytest.mark.parametrize('kw,field', [
    (dict(memory='lots'), 'memory'),
    (dict(memory='512KiB'), 'memory'),
    (dict(memory=2048, max_memory=1024), 'memory'),
    (dict(vcpus=0), 'vcpus'),
    (dict(vcpus=4, max_vcpus=2), 'vcpus'),
    (dict(virt_type='vmware2'), 'virt_type'),
    (dict(virt_type='vmware', memory=250), 'memory'),
    (dict(virt_type='vmware', memory=256, max_memory='1023MiB'), 'max_memory'),
    (dict(cpu={'mode': 'fast'}), 'cpu.mode'),
    (dict(cpu={'mode': 'custom'}), 'cpu.model'),
    (dict(cpu={'mode': 'host-model', 'model': 'x'}), 'cpu.model'),
    (dict(boot=['hd', 'usb']), 'boot[1]'),
    (dict(kernel='vmlinuz'), 'kernel'),
    (dict(kernel='', cmdline='quiet'), 'kernel'),
    (dict(disks=[{'path': '/a', 'target': 'vda'}, {'path': '/b', 'target': 'vda'}]), 'disks[1].target'),
    (dict(disks=[{'volume': 'a'}]), 'disks[0].pool'),
    (dict(disks=[{'pool': 'a'}]), 'disks[0].volume'),
    (dict(disks=[{}]), 'disks[0]'),
    (dict(disks=[{'path': 'relative.img'}]), 'disks[0].path'),
    (dict(disks=[{'path': '/a', 'pool': 'p'}]), 'disks[0].pool'),
    (dict(disks=[{'size': '10G'}]), 'disks[0].pool'),
    (dict(disks=[{'path': '/a', 'target': 'vdb', 'bus': 'sata'}]), 'disks[0].target'),
    (dict(disks=[{'path': '/a', 'target': 'nvme0'}]), 'disks[0].target'),
    (dict(disks=[{'path': '/a', 'bus': 'floppy'}]), 'disks[0].bus'),
    (dict(disks=[{'path': '/a', 'cache': 'fast'}]), 'disks[0].cache'),
    (dict(disks=[{'path': '/a', 'format': 'zip'}]), 'disks[0].format'),
    (dict(disks=[{'path': '/a.iso', 'device': 'cdrom', 'bus': 'virtio'}]), 'disks[0].bus'),
    (dict(disks=[{'size': '1', 'pool': 'p', 'device': 'cdrom'}]), 'disks[0].device'),
    (dict(interfaces=[{'model': 'virtio'}]), 'interfaces[0]'),
    (dict(interfaces=[{'network': 'a', 'bridge': 'b'}]), 'interfaces[0]'),
    (dict(interfaces=[{'network': 'a', 'mac': 'nope'}]), 'interfaces[0].mac'),
    (dict(interfaces=[{'network': 'a', 'mac': '52:54:00:00:00:01'}, {'bridge': 'b', 'mac': '52:54:00:00:00:01'}]),
     'interfaces[1].mac'),
    (dict(graphics={'type': 'rdp'}), 'graphics.type'),
    (dict(graphics={'type': 'vnc', 'listen': 'everywhere'}), 'graphics.listen'),
    (dict(graphics={'type': 'vnc', 'password': '123456789'}), 'graphics.password'),
    (dict(console='serial'), 'console'),
    (dict(console={'file': 'x.log'}), 'console.file'),
    (dict(tags={'a b': 1}), 'tags'),
    (dict(virt_type='xen', guest_agent=True), 'guest_agent'),
    (dict(name='a/b'), 'name'),
    (dict(xml='<domain><name>vm1</name'), 'xml'),
    (dict(xml='<network><name>vm1</name></network>'), 'xml'),
    (dict(xml="<domain type='kvm'><name>other</name><memory>1</memory></domain>"), 'xml'),
    (dict(xml_patches=[{'xpath': '/domain/[', 'value': 1}]), 'xml_patches[0].xpath'),
    (dict(xml_patches=[{'xpath': '/domain/on_reboot'}]), 'xml_patches[0].value'),
    (dict(xml_patches=[{'xpath': '/domain/on_reboot', 'value': 'x', 'remove': True}]), 'xml_patches[0].value'),
    (dict(xml_patches=[{'xpath': '/domain/devices', 'xml': '<sound'}]), 'xml_patches[0].xml'),
    (dict(xml="<domain type='kvm'><name>vm1</name><memory>1</memory></domain>",
          xml_patches=[{'xpath': '/domain/devices/sound', 'remove': True}]), 'xml_patches[0].xpath'),
])
def test_bad_input_names_the_field(kw, field):
    with pytest.raises(InvalidSpec) as info:
        domain_spec(params(**kw))
    assert info.value.field == field, info.value.describe()


def test_a_duplicate_disk_target_or_mac_names_both_items():
    disks = [{'path': '/a', 'target': 'vda'}, {'path': '/b'}, {'path': '/c', 'target': 'vda'}]
    with pytest.raises(InvalidSpec) as info:
        domain_spec(params(disks=disks))
    assert info.value.describe() == 'Invalid disks[2].target: duplicate of disks[0] (vda)'
    # MACs compare as libvirt stores them (lower case, colons)
    interfaces = [{'network': 'a'}, {'network': 'a', 'mac': '52:54:00:AA:00:01'}, {'bridge': 'b', 'mac': '52-54-00-aa-00-01'}]
    with pytest.raises(InvalidSpec) as info:
        domain_spec(params(interfaces=interfaces))
    assert info.value.describe() == 'Invalid interfaces[2].mac: duplicate of interfaces[1] (52:54:00:aa:00:01)'


def test_wait_and_remove_storage():
    assert wait_spec(params()) is None
    assert wait_spec(params(wait_for_ip={'timeout': None, 'sources': None})) == \
        {'timeout': 300, 'sources': ['lease', 'arp', 'agent']}
    with pytest.raises(InvalidSpec) as info:
        wait_spec(params(wait_for_ip={'sources': ['dns']}))
    assert info.value.field == 'wait_for_ip.sources[0]'
    with pytest.raises(InvalidSpec) as info:
        wait_spec(params(state='shutdown', wait_for_ip={}))
    assert info.value.field == 'wait_for_ip'
    assert [remove_storage_spec(x) for x in (None, False, True, 'all', 'yes')] == [False, False, True, 'all', True]
    with pytest.raises(InvalidSpec):
        remove_storage_spec('some')


def test_only_power_state_defines_nothing():
    assert not defines_something(params())
    assert defines_something(params(memory=1))
    assert defines_something(params(virt_type='qemu'))


USER_XML = """<domain type='qemu'>
  <name>vm1</name>
  <memory unit='MiB'>256</memory>
  <os><type>hvm</type></os>
  <devices>
    <disk type='file' device='disk'><source file='/x.img'/><target dev='vda'/></disk>
    <interface type='network'><source network='lab'/></interface>
  </devices>
</domain>"""

LIBVIRT_XML = """<domain type='qemu'>
  <name>vm1</name><uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>
  <memory unit='KiB'>262144</memory><currentMemory unit='KiB'>262144</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type><boot dev='hd'/></os>
  <cpu mode='custom' match='exact' check='none'><model fallback='forbid'>qemu64</model></cpu>
  <devices>
    <disk type='file' device='disk'><source file='/x.img'/><target dev='vda' bus='virtio'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/></disk>
    <interface type='network'><mac address='52:54:00:12:34:56'/><source network='lab'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/></interface>
  </devices>
</domain>"""


def test_xml_spec_is_strict_but_leaves_libvirt_filled_values_out():
    spec, xml = domain_spec(params(xml=USER_XML))
    assert xml == USER_XML
    for key in ('uuid', 'machine', 'arch', 'cpu', 'boot'):
        assert key not in spec
    current = parse_domain_xml(LIBVIRT_XML)
    spec['interfaces'][0]['mac'] = '52:54:00:12:34:56'  # what domain/devices.py carries over
    assert diff_specified(spec, current, strict=True) == []
    with_graphics = LIBVIRT_XML.replace('</devices>', "<graphics type='vnc'/></devices>")
    assert [c.path for c in diff_specified(spec, parse_domain_xml(with_graphics), strict=True)] == ['graphics.type']


def test_patches_apply_to_user_xml():
    spec, xml = domain_spec(params(xml=USER_XML, xml_patches=[{'xpath': '/domain/memory', 'value': 512}]))
    assert spec['memory_kib'] == 512 * 1024 and '512' in xml


def test_the_display_passwords_in_a_users_xml_and_patches_are_secrets():
    params = {
        'xml': "<domain><devices><graphics type='vnc' passwd='a&amp;b'/>"
               '<graphics type="spice" passwd = "Sp1ce"/></devices></domain>',
        'xml_patches': [{'xpath': '/domain/devices/graphics', 'attribute': 'passwd', 'value': 'P4tch'},
                        {'xpath': '/domain/devices', 'xml': "<graphics type='vnc' passwd='Fr4g'/>"},
                        {'xpath': '/domain/on_reboot', 'value': 'destroy'},
                        {'xpath': '/domain/devices/graphics', 'attribute': 'passwd', 'value': ''}],
    }
    assert xml_secrets(params) == {'a&amp;b', 'a&b', 'Sp1ce', 'P4tch', 'Fr4g'}
    assert xml_secrets({'xml': None, 'xml_patches': None}) == set()
    assert xml_secrets({'xml': "<domain><name>passwd</name></domain>"}) == set()
