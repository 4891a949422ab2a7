import shutil
import subprocess

import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.domain.live import key_differs
from ansible_collections.virtkit.virt.plugins.module_utils.engine.plan import diff_specified
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel import common as x
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.container import CONTAINER_KEYS
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.domain import build_domain_xml, parse_domain_xml

RANGE = {'start': 0, 'target': 100000, 'count': 65536}
SPEC = {
    'name': 'ct1', 'virt_type': 'lxc', 'memory_kib': 65536, 'max_memory_kib': 65536, 'vcpus': 2, 'max_vcpus': 2,
    'init': '/bin/sh', 'init_args': ['-c', 'exec sleep "1000"'], 'init_env': {'B': '2', 'A': 'one & <two>'},
    'rootfs': '/srv/ct1', 'cpu_shares': 512, 'host_network': False,
    'mounts': [{'source': '/srv/data', 'target': '/mnt/data', 'readonly': True},
               {'source': '/srv/data/inner', 'target': '/mnt/data/inner', 'readonly': False}],
    'idmap': {'uid': [RANGE], 'gid': [RANGE, {'start': 65536, 'target': 300000, 'count': 10}]},
    'interfaces': [{'network': 'lab', 'mac': '52:54:00:00:00:01', 'model': None}],
    'tags': {'role': 'web'},
}

# What libvirt 9.0 made of a container defined from the module's XML: UUID,
# arch, emulator, accessmode, the console's target, clock and lifecycle
# actions, a resource partition once it ran, and a template filesystem the
# module does not model.
LIBVIRT_DEFINED = """<domain type='lxc'>
  <name>ct1</name>
  <uuid>fd5274ac-b31a-4eed-ab25-81025dcfce28</uuid>
  <metadata>
    <ns0:tags xmlns:ns0="https://virtkit.dev/xmlns/virt/1.0">
      <ns0:tag name="role">web</ns0:tag>
    </ns0:tags>
  </metadata>
  <memory unit='KiB'>65536</memory>
  <currentMemory unit='KiB'>65536</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <cputune>
    <shares>512</shares>
  </cputune>
  <resource>
    <partition>/machine</partition>
  </resource>
  <os>
    <type arch='x86_64'>exe</type>
    <init>/bin/sh</init>
    <initarg>-c</initarg>
    <initarg>exec sleep &quot;1000&quot;</initarg>
    <initenv name='A'>one &amp; &lt;two&gt;</initenv>
    <initenv name='B'>2</initenv>
  </os>
  <idmap>
    <uid start='0' target='100000' count='65536'/>
    <gid start='0' target='100000' count='65536'/>
    <gid start='65536' target='300000' count='10'/>
  </idmap>
  <features>
    <privnet/>
  </features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/lib/libvirt/libvirt_lxc</emulator>
    <filesystem type='mount' accessmode='passthrough'>
      <source dir='/srv/ct1'/>
      <target dir='/'/>
    </filesystem>
    <filesystem type='mount' accessmode='passthrough'>
      <source dir='/srv/data'/>
      <target dir='/mnt/data'/>
      <readonly/>
    </filesystem>
    <filesystem type='mount' accessmode='passthrough'>
      <source dir='/srv/data/inner'/>
      <target dir='/mnt/data/inner'/>
    </filesystem>
    <filesystem type='ram' accessmode='passthrough'>
      <source usage='1024' units='KiB'/>
      <target dir='/run'/>
    </filesystem>
    <interface type='network'>
      <mac address='52:54:00:00:00:01'/>
      <source network='lab'/>
    </interface>
    <console type='pty'>
      <target type='lxc' port='0'/>
    </console>
  </devices>
</domain>"""


def differences(desired, current):
    return [key for key in desired if key_differs(key, desired, current)]


def test_a_new_container_round_trips():
    parsed = parse_domain_xml(build_domain_xml(SPEC))
    assert differences(SPEC, parsed) == []
    assert parsed['console'] == {'type': 'pty', 'path': None}  # libvirt's LXC driver needs one


def test_libvirt_s_own_definition_is_no_change():
    current = parse_domain_xml(LIBVIRT_DEFINED)
    assert differences(SPEC, current) == []
    assert current['rootfs'] == '/srv/ct1' and current['host_network'] is False


def test_what_libvirt_added_and_other_filesystems_survive_a_redefinition():
    spec = dict(SPEC, init_env={'A': 'changed'}, cpu_shares=256, idmap={},
                mounts=[{'source': '/srv/new', 'target': '/mnt/new', 'readonly': False},
                        {'source': '/srv/data', 'target': '/mnt/data', 'readonly': False}])
    xml = build_domain_xml(spec, base=LIBVIRT_DEFINED, uuid='fd5274ac-b31a-4eed-ab25-81025dcfce28')
    parsed = parse_domain_xml(xml)
    assert differences(spec, parsed) == []
    root = x.parse(xml, 'xml', 'domain')
    assert root.find('devices/emulator') is not None and root.find('resource/partition') is not None
    targets = [x.attr(el, 'target', 'dir') for el in root.findall('devices/filesystem')]
    # the rootfs first, the mounts in the order given, the ram filesystem left alone
    assert targets == ['/', '/mnt/new', '/mnt/data', '/run']
    kept = [el for el in root.findall('devices/filesystem') if x.attr(el, 'target', 'dir') == '/mnt/data'][0]
    assert kept.get('accessmode') == 'passthrough' and kept.find('readonly') is None
    assert root.find('idmap') is None
    assert parsed['init_env'] == {'A': 'changed'}


def test_the_host_network_and_root():
    shared = parse_domain_xml(build_domain_xml(dict(SPEC, host_network=True, interfaces=[], rootfs='')))
    assert shared['host_network'] is True and shared['rootfs'] == '' and shared['interfaces'] == []
    assert build_domain_xml(dict(SPEC, host_network=True, interfaces=[])).count('privnet') == 0
    # interfaces give a container its own network namespace with or without <privnet/>
    without_privnet = LIBVIRT_DEFINED.replace('<privnet/>', '')
    assert parse_domain_xml(without_privnet)['host_network'] is False
    back = parse_domain_xml(build_domain_xml(dict(SPEC, host_network=False), base=without_privnet))
    assert back['host_network'] is False


def test_whole_mappings_compare_whole():
    current = parse_domain_xml(LIBVIRT_DEFINED)
    assert differences({'init_env': {'A': 'one & <two>'}}, current) == ['init_env']  # B left out: removed
    assert differences({'idmap': {}}, current) == ['idmap']
    assert differences({'tags': {}}, current) == ['tags']
    assert differences({'init_env': None, 'idmap': None}, current) == []  # not said


def test_mounts_compare_in_order():
    current = parse_domain_xml(LIBVIRT_DEFINED)
    swapped = list(reversed(SPEC['mounts']))
    assert [c.path for c in diff_specified({'mounts': swapped}, current)] != []


def test_only_containers_have_container_keys():
    vm = parse_domain_xml("<domain type='kvm'><name>vm</name><memory>1024</memory><os><type>hvm</type></os></domain>")
    assert not any(key in vm for key in CONTAINER_KEYS)
    ct = parse_domain_xml("<domain type='lxc'><name>c</name><memory>1024</memory><os><type>exe</type>"
                          "<init>/sbin/init</init></os></domain>")
    assert ct['init'] == '/sbin/init' and ct['init_args'] == [] and ct['init_env'] == {}
    assert ct['rootfs'] == '' and ct['mounts'] == [] and ct['idmap'] == {} and ct['cpu_shares'] is None
    assert ct['host_network'] is True  # no interface, no <privnet/>: libvirt shares the host's


@pytest.mark.skipif(not shutil.which('virt-xml-validate'), reason='virt-xml-validate (libvirt-clients) not installed')
@pytest.mark.parametrize('name, spec, base', [
    ('new', SPEC, None),
    ('shared', dict(SPEC, rootfs='', host_network=True, interfaces=[], idmap={}, mounts=[]), None),
    ('redefined', dict(SPEC, init_env={}, idmap={}, mounts=[]), LIBVIRT_DEFINED),
])
def test_generated_xml_is_valid(tmp_path, name, spec, base):
    path = tmp_path / ('%s.xml' % name)
    path.write_text(build_domain_xml(spec, base=base))
    out = subprocess.run(['virt-xml-validate', str(path), 'domain'], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr + path.read_text()
