import shutil
import subprocess

import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.engine.plan import diff_specified
from ansible_collections.virtkit.virt.plugins.module_utils.storage.pool_spec import pool_spec
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.storage import (
    build_pool_xml, build_volume_xml, octal_mode, parse_pool_xml, parse_volume_xml)

# What libvirt 9 returns for a dir pool defined with only a name and a path.
LIBVIRT_DIR_POOL = """
<pool type='dir'>
  <name>images</name>
  <uuid>cbb0ad51-0431-4fb6-a7d9-66c3b7dbbe0c</uuid>
  <capacity unit='bytes'>270553174016</capacity>
  <allocation unit='bytes'>24064995328</allocation>
  <available unit='bytes'>246488178688</available>
  <source>
  </source>
  <target>
    <path>/var/lib/vk/images</path>
    <permissions>
      <mode>0711</mode>
      <owner>0</owner>
      <group>0</group>
    </permissions>
  </target>
</pool>
"""

# A logical pool: libvirt fills in the volume group name, format and target path.
LIBVIRT_LOGICAL_POOL = """
<pool type='logical'>
  <name>vg</name>
  <uuid>ef88d1ec-a282-41d4-8e6a-8d61dc64fc4e</uuid>
  <capacity unit='bytes'>62914560</capacity>
  <allocation unit='bytes'>0</allocation>
  <available unit='bytes'>62914560</available>
  <source>
    <device path='/dev/loop1'/>
    <device path='/dev/loop0'/>
    <name>vg</name>
    <format type='lvm2'/>
  </source>
  <target>
    <path>/dev/vg</path>
  </target>
</pool>
"""

LIBVIRT_OVERLAY = """
<volume type='file'>
  <name>o.qcow2</name>
  <key>/p/o.qcow2</key>
  <capacity unit='bytes'>16777216</capacity>
  <allocation unit='bytes'>200704</allocation>
  <physical unit='bytes'>196616</physical>
  <target>
    <path>/p/o.qcow2</path>
    <format type='qcow2'/>
    <permissions><mode>0600</mode><owner>0</owner><group>0</group></permissions>
    <timestamps><atime>1795916892.216369500</atime></timestamps>
  </target>
  <backingStore>
    <path>/p/a.qcow2</path>
    <format type='qcow2'/>
  </backingStore>
</volume>
"""

POOLS = [
    {'name': 'p', 'type': 'dir', 'path': '/var/lib/x', 'permissions': {'mode': '0755', 'owner': 0, 'group': 107}},
    {'name': 'p', 'type': 'fs', 'path': '/mnt/x', 'source': {'devices': ['/dev/loop0'], 'format': 'ext4'}},
    {'name': 'p', 'type': 'netfs', 'path': '/mnt/x', 'source': {'host': 'nfs.example', 'dir': '/export', 'format': 'nfs'}},
    {'name': 'p', 'type': 'logical', 'source': {'devices': ['/dev/loop0', '/dev/loop1'], 'name': 'vg0', 'format': 'lvm2'}},
    {'name': 'p', 'type': 'logical', 'path': '/dev/vg0', 'source': {'name': 'vg0'}},
    {'name': 'p', 'type': 'disk', 'path': '/dev', 'source': {'devices': ['/dev/sdb'], 'format': 'gpt'}},
    {'name': 'p', 'type': 'iscsi', 'path': '/dev/disk/by-path',
     'source': {'host': '10.0.0.5', 'devices': ['iqn.2024-01.com.example:disk1']}},
    {'name': 'p', 'type': 'rbd', 'source': {'host': 'mon1', 'name': 'rbdpool'}},
    {'name': 'p', 'type': 'zfs', 'source': {'name': 'tank', 'devices': ['/dev/sdc']}},
    {'name': 'p', 'type': 'zfs', 'path': '/dev/zvol/tank', 'source': {'name': 'tank'}},
]

VOLUMES = [
    {'name': 'a.raw', 'capacity': 1048576, 'allocation': 0},
    {'name': 'a.qcow2', 'capacity': 1048576, 'allocation': 1048576, 'format': 'qcow2',
     'permissions': {'mode': '0640', 'owner': 0, 'group': 0}},
    {'name': 'o.qcow2', 'format': 'qcow2', 'backing': {'path': '/p/a.qcow2', 'format': 'qcow2'}},
    {'name': 'o2.qcow2', 'capacity': 2097152, 'format': 'qcow2', 'backing': {'path': '/srv/base.img'}},
]


@pytest.mark.parametrize('spec', POOLS, ids=lambda s: s['type'])
def test_pool_round_trip(spec):
    assert diff_specified(spec, parse_pool_xml(build_pool_xml(spec))) == []


@pytest.mark.parametrize('spec', VOLUMES, ids=lambda s: s['name'])
def test_volume_round_trip(spec):
    parsed = parse_volume_xml(build_volume_xml(spec))
    assert diff_specified(dict(spec, permissions=None), parsed) == []


def _validate(tmp_path, xml, kind):
    path = tmp_path / ('%s.xml' % kind)
    path.write_text(xml)
    out = subprocess.run(['virt-xml-validate', str(path), kind], capture_output=True, text=True, check=False)
    assert out.returncode == 0, xml + out.stdout + out.stderr


needs_validator = pytest.mark.skipif(not shutil.which('virt-xml-validate'),
                                     reason='virt-xml-validate (libvirt-clients) not installed')


@needs_validator
@pytest.mark.parametrize('spec', POOLS, ids=lambda s: s['type'])
def test_generated_pool_xml_is_valid(tmp_path, spec):
    _validate(tmp_path, build_pool_xml(spec), 'storagepool')


@needs_validator
@pytest.mark.parametrize('spec', VOLUMES, ids=lambda s: s['name'])
def test_generated_volume_xml_is_valid(tmp_path, spec):
    _validate(tmp_path, build_volume_xml(spec), 'storagevol')


@needs_validator
def test_redefinition_xml_is_valid(tmp_path):
    spec = pool_spec({'name': 'vg', 'path': None, 'source': {'devices': ['/dev/loop2']}, 'permissions': None})
    _validate(tmp_path, build_pool_xml(spec, base=LIBVIRT_LOGICAL_POOL), 'storagepool')


def test_libvirt_filled_values_are_no_change():
    desired = pool_spec({'name': 'images', 'type': 'dir', 'path': '/var/lib/vk/images/', 'source': None,
                         'permissions': None})
    assert diff_specified(desired, parse_pool_xml(LIBVIRT_DIR_POOL)) == []
    desired = pool_spec({'name': 'vg', 'type': 'logical', 'path': None, 'permissions': None,
                         'source': {'devices': ['/dev/loop0', '/dev/loop1']}})
    assert diff_specified(desired, parse_pool_xml(LIBVIRT_LOGICAL_POOL)) == []


def test_parse_pool_sizes_and_permissions():
    parsed = parse_pool_xml(LIBVIRT_DIR_POOL)
    assert parsed['capacity'] == 270553174016 and parsed['available'] == 246488178688
    assert parsed['permissions'] == {'mode': '0711', 'owner': 0, 'group': 0}
    assert parsed['source']['devices'] == []


def test_redefinition_keeps_uuid_and_replaces_only_what_is_named():
    spec = {'name': 'images', 'type': None, 'path': None, 'source': None,
            'permissions': {'mode': '0750', 'owner': None, 'group': None}}
    xml = build_pool_xml(spec, base=LIBVIRT_DIR_POOL)
    parsed = parse_pool_xml(xml)
    assert parsed['uuid'] == 'cbb0ad51-0431-4fb6-a7d9-66c3b7dbbe0c'
    assert parsed['permissions'] == {'mode': '0750', 'owner': 0, 'group': 0}
    assert parsed['path'] == '/var/lib/vk/images'
    assert parsed['capacity'] is None  # sizes are reported, never defined


def test_redefinition_replaces_the_device_list():
    spec = {'name': 'vg', 'type': None, 'path': None, 'permissions': None,
            'source': {'devices': ['/dev/loop2'], 'host': None, 'dir': None, 'name': None, 'format': None}}
    parsed = parse_pool_xml(build_pool_xml(spec, base=LIBVIRT_LOGICAL_POOL))
    assert parsed['source']['devices'] == ['/dev/loop2']
    assert parsed['source']['name'] == 'vg' and parsed['path'] == '/dev/vg'


def test_parse_libvirt_overlay():
    parsed = parse_volume_xml(LIBVIRT_OVERLAY)
    assert parsed['backing'] == {'path': '/p/a.qcow2', 'format': 'qcow2'}
    assert parsed['key'] == '/p/o.qcow2' and parsed['type'] == 'file'
    assert parsed['capacity'] == 16777216 and parsed['allocation'] == 200704


def test_sizes_in_other_units():
    parsed = parse_volume_xml("<volume><name>v</name><capacity unit='MiB'>2</capacity>"
                              "<allocation>512</allocation><target/></volume>")
    assert parsed['capacity'] == 2097152 and parsed['allocation'] == 512


@pytest.mark.parametrize('value,expected', [('755', '0755'), ('0700', '0700'), (0o644, '0644'), ('1777', '1777')])
def test_octal_mode(value, expected):
    assert octal_mode(value) == expected
