import shutil
import subprocess

import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.errors import InvalidSpec
from ansible_collections.virtkit.virt.plugins.module_utils.plan import diff_specified
from ansible_collections.virtkit.virt.plugins.module_utils.xml_domain import build_domain_xml, parse_domain_xml

SPEC = {
    'name': 'vk-guest', 'virt_type': 'qemu', 'memory_kib': 262144, 'vcpus': 1,
    'kernel': '/var/cache/virtkit-bed/vmlinuz', 'initrd': '/var/cache/virtkit-bed/initrd.img',
    'cmdline': 'console=ttyS0',
    'interfaces': [{'network': 'vk-net', 'model': 'virtio'}],
    'console': {'type': 'file', 'path': '/tmp/vk-guest.log'},
    'tags': {'role': 'web', 'env': 'test'},
}

# What libvirt adds once the domain above is defined: uuid, machine type, MAC,
# PCI addresses, controllers, an alias.
LIBVIRT_DEFINED = """
<domain type='qemu'>
  <name>vk-guest</name>
  <uuid>c7a5fdbd-cdaf-9455-926a-d65c16db1809</uuid>
  <metadata>
    <virtkit:tags xmlns:virtkit="https://virtkit.dev/xmlns/virt/1.0">
      <virtkit:tag name="env">test</virtkit:tag>
      <virtkit:tag name="role">web</virtkit:tag>
    </virtkit:tags>
  </metadata>
  <memory unit='KiB'>262144</memory>
  <currentMemory unit='KiB'>262144</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>
    <kernel>/var/cache/virtkit-bed/vmlinuz</kernel>
    <initrd>/var/cache/virtkit-bed/initrd.img</initrd>
    <cmdline>console=ttyS0</cmdline>
  </os>
  <features><acpi/></features>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
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


def test_round_trip_and_units():
    parsed = parse_domain_xml(build_domain_xml(SPEC, uuid='c7a5fdbd-cdaf-9455-926a-d65c16db1809'))
    assert diff_specified(SPEC, parsed) == []
    assert parsed['uuid'] == 'c7a5fdbd-cdaf-9455-926a-d65c16db1809'
    gib = parse_domain_xml("<domain type='kvm'><name>x</name><memory unit='GiB'>2</memory></domain>")
    assert gib['memory_kib'] == 2 * 1024 * 1024


def test_a_changed_value_is_seen():
    current = parse_domain_xml(LIBVIRT_DEFINED)
    changes = diff_specified(dict(SPEC, memory_kib=524288), current)
    assert [c.path for c in changes] == ['memory_kib']


def test_bad_domain_xml_names_the_field():
    with pytest.raises(InvalidSpec) as info:
        parse_domain_xml('<domain><name>x</name', field='xml')
    assert info.value.field == 'xml'


@pytest.mark.skipif(not shutil.which('virt-xml-validate'), reason='virt-xml-validate (libvirt-clients) not installed')
@pytest.mark.parametrize('virt_type', ['qemu', 'kvm'])
def test_generated_xml_is_valid(tmp_path, virt_type):
    path = tmp_path / 'dom.xml'
    path.write_text(build_domain_xml(dict(SPEC, virt_type=virt_type)))
    out = subprocess.run(['virt-xml-validate', str(path), 'domain'], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
