import shutil
import subprocess

import pytest
from lxml import etree

from ansible_collections.virtkit.virt.plugins.module_utils.engine.plan import diff_specified
from ansible_collections.virtkit.virt.plugins.module_utils.errors import InvalidSpec
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.domain import (
    build_domain_xml, forget_bus_layout, machine_family, parse_domain_summary, parse_domain_xml)
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.domain_devices import (
    device_xml, graphics_password_xml, source_update_xml, without_address)
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.user_xml import complete_user_xml

SPEC = {
    'name': 'vk-guest', 'virt_type': 'qemu', 'memory_kib': 262144, 'vcpus': 1,
    'kernel': '/var/cache/virtkit-bed/vmlinuz', 'initrd': '/var/cache/virtkit-bed/initrd.img',
    'cmdline': 'console=ttyS0',
    'interfaces': [{'network': 'vk-net', 'model': 'virtio'}],
    'console': {'type': 'file', 'path': '/tmp/vk-guest.log'},
    'tags': {'role': 'web', 'env': 'test'},
}

# What libvirt adds once the domain above is defined: uuid, machine type, MAC,
# PCI addresses, controllers, an alias, a CPU model.
LIBVIRT_DEFINED = """
<domain type='qemu'>
  <name>vk-guest</name>
  <uuid>c7a5fdbd-cdaf-9455-926a-d65c16db1809</uuid>
  <metadata>
    <virtkit:tags xmlns:virtkit="https://virtkit.dev/xmlns/virt/1.0">
      <virtkit:tag name="env">test</virtkit:tag>
      <virtkit:tag name="role">web</virtkit:tag>
    </virtkit:tags>
    <other:thing xmlns:other="https://example.invalid/other">kept</other:thing>
  </metadata>
  <memory unit='KiB'>262144</memory>
  <currentMemory unit='KiB'>262144</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>
    <kernel>/var/cache/virtkit-bed/vmlinuz</kernel>
    <initrd>/var/cache/virtkit-bed/initrd.img</initrd>
    <cmdline>console=ttyS0</cmdline>
    <boot dev='hd'/>
  </os>
  <features><acpi/><apic/></features>
  <cpu mode='custom' match='exact' check='none'><model fallback='forbid'>qemu64</model></cpu>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' discard='unmap'/>
      <source file='/var/lib/libvirt/images/a.qcow2'/>
      <target dev='vda' bus='virtio'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>
    </disk>
    <disk type='volume' device='cdrom'>
      <source pool='default' volume='seed.iso'/>
      <target dev='sda' bus='sata'/>
      <readonly/>
      <address type='drive' controller='0' bus='0' target='0' unit='0'/>
    </disk>
    <controller type='usb' index='0' model='piix3-uhci'>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x2'/>
    </controller>
    <controller type='pci' index='0' model='pci-root'/>
    <interface type='network'>
      <mac address='52:54:00:3B:9F:11'/>
      <source network='vk-net'/>
      <model type='virtio'/>
      <alias name='net0'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>
    </interface>
    <serial type='file'>
      <source path='/tmp/vk-guest.log'/>
      <target type='isa-serial' port='0'><model name='isa-serial'/></target>
    </serial>
    <console type='file'>
      <source path='/tmp/vk-guest.log'/>
      <target type='serial' port='0'/>
    </console>
    <graphics type='vnc' port='-1' autoport='yes' passwd='s3cret'><listen type='address'/></graphics>
    <memballoon model='virtio'/>
  </devices>
</domain>
"""


def test_libvirt_filled_values_are_not_changes():
    current = parse_domain_xml(LIBVIRT_DEFINED)
    assert current['interfaces'][0]['mac'] == '52:54:00:3b:9f:11'
    assert current['machine'] == 'pc-i440fx-7.2'
    assert current['tags'] == {'env': 'test', 'role': 'web'}
    assert diff_specified(SPEC, current) == []


def test_parse_models_devices_and_settings():
    current = parse_domain_xml(LIBVIRT_DEFINED)
    assert current['disks'] == [
        {'target': 'vda', 'bus': 'virtio', 'device': 'disk', 'type': 'file', 'path': '/var/lib/libvirt/images/a.qcow2',
         'pool': None, 'volume': None, 'format': 'qcow2', 'cache': None, 'readonly': False},
        {'target': 'sda', 'bus': 'sata', 'device': 'cdrom', 'type': 'volume', 'path': None, 'pool': 'default',
         'volume': 'seed.iso', 'format': None, 'cache': None, 'readonly': True}]
    assert current['graphics'] == {'type': 'vnc', 'listen': None, 'password': 's3cret'}
    assert current['cpu'] == {'mode': 'custom', 'model': 'qemu64'}
    assert current['boot'] == ['hd'] and current['firmware'] == 'bios'
    assert (current['memory_kib'], current['max_memory_kib'], current['vcpus'], current['max_vcpus']) == \
        (262144, 262144, 1, 1)
    assert current['guest_agent'] is False and current['rng'] is False


def test_round_trip_and_units():
    parsed = parse_domain_xml(build_domain_xml(SPEC, uuid='c7a5fdbd-cdaf-9455-926a-d65c16db1809'))
    assert diff_specified(SPEC, parsed) == []
    assert parsed['uuid'] == 'c7a5fdbd-cdaf-9455-926a-d65c16db1809'
    gib = parse_domain_xml("<domain type='kvm'><name>x</name><memory unit='GiB'>2</memory></domain>")
    assert gib['memory_kib'] == gib['max_memory_kib'] == 2 * 1024 * 1024
    assert gib['kernel'] == '' and gib['console'] == {'type': 'none', 'path': None}


def test_full_spec_round_trips():
    spec = dict(SPEC, max_memory_kib=524288, vcpus=2, max_vcpus=4, cpu={'mode': 'custom', 'model': 'Skylake-Client'},
                firmware='uefi', boot=['cdrom', 'hd'], machine='q35', arch='x86_64',
                disks=[{'target': 'vda', 'bus': 'virtio', 'device': 'disk', 'pool': 'p', 'volume': 'v',
                        'format': 'qcow2', 'cache': 'none', 'readonly': False},
                       {'target': 'sdb', 'bus': 'sata', 'device': 'cdrom', 'path': '/x.iso', 'readonly': True},
                       {'target': 'sdc', 'bus': 'sata', 'device': 'cdrom', 'path': ''}],
                interfaces=[{'network': 'n', 'mac': '52:54:00:00:00:01', 'model': 'virtio'},
                            {'bridge': 'br0', 'model': 'e1000'}, {'direct': 'eth0'}],
                graphics={'type': 'spice', 'listen': '0.0.0.0', 'password': 'pw'},
                console={'type': 'pty'}, guest_agent=True, rng=True)
    parsed = parse_domain_xml(build_domain_xml(spec))
    assert diff_specified(spec, parsed) == []
    assert [i['type'] for i in parsed['interfaces']] == ['network', 'bridge', 'direct']


def test_a_changed_value_is_seen():
    current = parse_domain_xml(LIBVIRT_DEFINED)
    changes = diff_specified(dict(SPEC, memory_kib=524288), current)
    assert [c.path for c in changes] == ['memory_kib']


def test_redefinition_patches_the_current_xml():
    spec = {'name': 'vk-guest', 'memory_kib': 131072, 'vcpus': 2, 'max_vcpus': 2, 'tags': {'role': 'db'},
            'disks': [{'target': 'vda', 'path': '/var/lib/libvirt/images/a.qcow2'},
                      {'target': 'vdb', 'bus': 'virtio', 'device': 'disk', 'path': '/dev/vg/data'}],
            'interfaces': [{'mac': '52:54:00:3b:9f:11', 'network': 'other'}, {'network': 'vk-net', 'model': 'virtio'}],
            'graphics': {'type': 'vnc', 'listen': '127.0.0.1'}, 'kernel': '', 'initrd': '', 'cmdline': ''}
    xml = build_domain_xml(spec, base=LIBVIRT_DEFINED, uuid='c7a5fdbd-cdaf-9455-926a-d65c16db1809')
    parsed = parse_domain_xml(xml)
    # What the spec says changed ...
    assert parsed['memory_kib'] == 131072 and parsed['max_memory_kib'] == 262144
    assert parsed['vcpus'] == parsed['max_vcpus'] == 2
    assert parsed['tags'] == {'role': 'db'}
    assert [d['target'] for d in parsed['disks']] == ['vda', 'vdb']
    assert parsed['disks'][1]['type'] == 'block' and parsed['disks'][1]['path'] == '/dev/vg/data'
    assert parsed['interfaces'][0]['network'] == 'other'
    assert parsed['interfaces'][1]['mac'] is None  # libvirt picks one
    assert parsed['kernel'] == parsed['initrd'] == parsed['cmdline'] == ''
    assert parsed['graphics'] == {'type': 'vnc', 'listen': '127.0.0.1', 'password': 's3cret'}
    # ... everything else survived: addresses, driver tuning, the cdrom, controllers, other metadata.
    assert "slot='0x05'" in xml.replace('"', "'") and "discard='unmap'" in xml.replace('"', "'")
    assert 'seed.iso' not in xml  # the spec's disk list has no cdrom: it goes
    assert 'piix3-uhci' in xml and 'https://example.invalid/other' in xml
    assert "slot='0x03'" in xml.replace('"', "'")  # the interface kept its PCI address


def test_removing_devices_consoles_and_tags():
    spec = {'name': 'vk-guest', 'disks': [], 'interfaces': [], 'console': {'type': 'none'},
            'graphics': {'type': 'none'}, 'tags': {}, 'guest_agent': False, 'rng': False}
    parsed = parse_domain_xml(build_domain_xml(spec, base=LIBVIRT_DEFINED))
    assert parsed['disks'] == [] and parsed['interfaces'] == []
    assert parsed['console'] == {'type': 'none', 'path': None}
    assert parsed['graphics']['type'] == 'none' and parsed['tags'] == {}


def test_bad_domain_xml_names_the_field():
    with pytest.raises(InvalidSpec) as info:
        parse_domain_xml('<domain><name>x</name', field='xml')
    assert info.value.field == 'xml'


def test_device_xml_and_addresses():
    disk = device_xml(LIBVIRT_DEFINED, 'disk', 'vda')
    assert '<address' in disk and '<address' not in without_address(disk)
    assert device_xml(LIBVIRT_DEFINED, 'interface', '52:54:00:3b:9f:11').startswith('<interface')
    assert device_xml(LIBVIRT_DEFINED, 'disk', 'vdz') is None


def test_machine_family_change_forgets_the_bus_layout():
    assert machine_family('pc-i440fx-7.2') == machine_family('pc') == 'pc'
    assert machine_family('pc-q35-7.2') == machine_family('q35') == 'q35'
    xml = forget_bus_layout(LIBVIRT_DEFINED)
    assert "type='pci'" not in xml.replace('"', "'") and 'piix3-uhci' not in xml
    assert "type='drive'" in xml.replace('"', "'")


def test_user_xml_is_completed_with_what_libvirt_chose():
    user = ("<domain type='qemu'><name>vk-guest</name><memory>1024</memory><os><type>hvm</type></os>"
            "<devices><interface type='network'><source network='n'/></interface></devices></domain>")
    xml = complete_user_xml(user, uuid='c7a5fdbd-cdaf-9455-926a-d65c16db1809', macs={0: '52:54:00:00:00:09'},
                            machine='pc-i440fx-7.2')
    parsed = parse_domain_xml(xml)
    assert parsed['uuid'] == 'c7a5fdbd-cdaf-9455-926a-d65c16db1809'
    assert parsed['interfaces'][0]['mac'] == '52:54:00:00:00:09'
    assert parsed['machine'] == 'pc-i440fx-7.2'


# Every domain type the module offers, with what each needs (hypervisors that are
# not on this host: the XML must still be valid for them).
VALIDATED = {
    'kvm': {}, 'qemu': {}, 'test': {},
    'xen': {'disks': [{'target': 'xvda', 'bus': 'xen', 'device': 'disk', 'path': '/dev/vg/xen1', 'format': 'raw'}],
            'interfaces': [{'bridge': 'xenbr0'}]},
    'vmware': {'disks': [{'target': 'sda', 'bus': 'scsi', 'device': 'disk', 'path': '[datastore1] vm/vm.vmdk'}],
               'interfaces': [{'bridge': 'VM Network', 'model': 'vmxnet3'}], 'console': None},
    'hyperv': {'disks': [{'target': 'sda', 'bus': 'scsi', 'device': 'disk', 'path': 'C:\\vms\\a.vhdx'}],
               'interfaces': [{'bridge': 'Default Switch'}], 'console': None},
    'vbox': {'disks': [{'target': 'sda', 'bus': 'sata', 'device': 'disk', 'path': '/vms/a.vdi', 'format': 'vdi'}],
             'interfaces': [{'network': 'vboxnet0', 'model': 'virtio'}], 'console': None},
    # Virtuozzo (libvirt's vz driver); POWER's phyp driver is gone from libvirt (its schema keeps the name only).
    'vz': {'disks': [{'target': 'sda', 'bus': 'scsi', 'device': 'disk', 'path': '/vz/vmprivate/a/harddisk.hdd'}],
           'interfaces': [{'bridge': 'br0'}], 'console': None},
    'bhyve': {'disks': [{'target': 'vda', 'bus': 'virtio', 'device': 'disk', 'path': '/vm/a.img', 'format': 'raw'}],
              'interfaces': [{'bridge': 'bridge0', 'model': 'virtio'}], 'console': {'type': 'file', 'path': '/vm/c'}},
}


@pytest.mark.skipif(not shutil.which('virt-xml-validate'), reason='virt-xml-validate (libvirt-clients) not installed')
@pytest.mark.parametrize('virt_type', sorted(VALIDATED))
def test_generated_xml_is_valid(tmp_path, virt_type):
    spec = dict(SPEC, virt_type=virt_type, vcpus=1, max_vcpus=2, max_memory_kib=524288, boot=['hd', 'cdrom'],
                disks=[{'target': 'vda', 'bus': 'virtio', 'device': 'disk', 'pool': 'p', 'volume': 'v', 'format': 'qcow2',
                        'cache': 'none', 'readonly': False},
                       {'target': 'sdb', 'bus': 'sata', 'device': 'cdrom', 'path': ''}],
                graphics={'type': 'vnc', 'listen': '127.0.0.1', 'password': 'pw'}, firmware='uefi',
                cpu={'mode': 'host-model', 'model': None})
    spec.update(VALIDATED[virt_type])
    if virt_type in ('qemu', 'kvm'):
        spec.update(guest_agent=True, rng=True, cpu={'mode': 'custom', 'model': 'qemu64'}, machine='q35')
    path = tmp_path / 'dom.xml'
    path.write_text(build_domain_xml(spec))
    out = subprocess.run(['virt-xml-validate', str(path), 'domain'], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr + path.read_text()
    if virt_type not in ('qemu', 'kvm', 'test'):
        assert "type='%s'" % virt_type in path.read_text().replace('"', "'")


LIVE_MEDIA = """<domain type='qemu' id='3'><name>g</name><devices>
  <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='/x.iso' index='2'/>
    <backingStore/><target dev='sdb' bus='sata'/><readonly/><alias name='sata0-0-1'/>
    <address type='drive' controller='0' bus='0' target='0' unit='1'/></disk>
  <graphics type='vnc' port='5900' autoport='yes' listen='127.0.0.1' passwd='old'>
    <listen type='address' address='127.0.0.1'/></graphics>
  <interface type='network'><mac address='52:54:00:aa:bb:01'/>
    <source network='net1' portid='0b5e' bridge='vkb1'/><target dev='vnet3'/><model type='virtio'/>
    <alias name='net0'/><address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/></interface>
</devices></domain>"""
CONFIG_MEDIA = """<domain type='qemu'><name>g</name><devices>
  <disk type='volume' device='cdrom'><driver name='qemu' type='qcow2'/><source pool='p' volume='y.img'/>
    <target dev='sdb' bus='sata'/><readonly/><address type='drive' controller='0' bus='0' target='0' unit='1'/></disk>
  <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1' passwd='new'>
    <listen type='address' address='127.0.0.1'/></graphics>
  <interface type='bridge'><mac address='52:54:00:AA:BB:01'/><source bridge='br0'/><model type='virtio'/>
    <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/></interface>
</devices></domain>"""


def test_medium_update_keeps_the_running_device_but_its_medium():
    el = etree.fromstring(source_update_xml(LIVE_MEDIA, CONFIG_MEDIA, 'disk', 'sdb'))
    assert el.get('type') == 'volume' and el.find('driver').get('type') == 'qcow2'
    assert [(s.get('pool'), s.get('volume')) for s in el.findall('source')] == [('p', 'y.img')]
    assert el.find('alias').get('name') == 'sata0-0-1' and el.find('address').get('unit') == '1'
    ejected = CONFIG_MEDIA.replace("<source pool='p' volume='y.img'/>", '')
    el = etree.fromstring(source_update_xml(LIVE_MEDIA, ejected, 'disk', 'sdb'))
    assert el.find('source') is None
    assert source_update_xml(LIVE_MEDIA, CONFIG_MEDIA, 'disk', 'sdz') is None


def test_an_interface_moves_with_its_running_identity():
    el = etree.fromstring(source_update_xml(LIVE_MEDIA, CONFIG_MEDIA, 'interface', '52:54:00:aa:bb:01'))
    assert el.get('type') == 'bridge'
    assert [dict(s.attrib) for s in el.findall('source')] == [{'bridge': 'br0'}]
    assert [c.tag for c in el][:2] == ['mac', 'source']
    assert el.find('target').get('dev') == 'vnet3' and el.find('alias').get('name') == 'net0'


def test_graphics_password_update_changes_only_the_password():
    el = etree.fromstring(graphics_password_xml(LIVE_MEDIA, CONFIG_MEDIA))
    assert el.get('passwd') == 'new' and el.get('port') == '5900'
    assert graphics_password_xml(LIVE_MEDIA, CONFIG_MEDIA.replace(" passwd='new'", '')) is None


@pytest.mark.parametrize('xml', [
    LIBVIRT_DEFINED, LIVE_MEDIA, CONFIG_MEDIA, build_domain_xml(SPEC),
    "<domain type='lxc'><name>c</name><memory>65536</memory><os><type>exe</type><init>/sbin/init</init></os></domain>",
    "<domain type='test'><name>bare</name></domain>",
])
def test_the_summary_reads_what_the_whole_parse_reads(xml):
    whole, summary = parse_domain_xml(xml), parse_domain_summary(xml)
    assert summary == dict((key, whole[key]) for key in summary)
    assert set(summary) == {'name', 'uuid', 'virt_type', 'memory_kib', 'max_memory_kib', 'vcpus', 'max_vcpus',
                            'interfaces', 'tags'}


@pytest.mark.parametrize('xml, expected', [
    ("<domain type='kvm'><name>a</name><os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os></domain>",
     {'virt_type': 'kvm', 'arch': 'x86_64', 'machine': 'pc-q35-7.2'}),
    ("<domain type='lxc'><name>c</name><os><type>exe</type><init>/sbin/init</init></os></domain>",
     {'virt_type': 'lxc', 'arch': None, 'machine': None}),
    ("<domain type='test'><name>t</name></domain>", {'virt_type': 'test', 'arch': None, 'machine': None}),
])
def test_the_platform_is_read_alike_by_every_parser(xml, expected):
    """parse_domain_xml, the backup's domain_platform and the migration's view share xmlmodel.common.platform."""
    from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.backup import domain_platform
    from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.migration import migration_view
    parsed, view = parse_domain_xml(xml), migration_view(xml)
    assert domain_platform(xml) == expected
    assert dict((key, parsed[key]) for key in expected) == expected
    assert dict((key, view[key]) for key in expected) == expected
