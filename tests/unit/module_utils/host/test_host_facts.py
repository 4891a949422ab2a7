import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.engine.runner import execute
from ansible_collections.virtkit.virt.plugins.module_utils.host.facts import HostInfoManager, assess_kvm, local_cpu_flags
from ansible_collections.virtkit.virt.plugins.module_utils.storage.pool_facts import PoolInfoManager
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.host import parse_capabilities

CAPS = """
<capabilities>
  <host>
    <uuid>4c4c4544-0042-3510-8052-b3c04f4d3732</uuid>
    <cpu>
      <arch>x86_64</arch>
      <model>Skylake-Client-noTSX-IBRS</model>
      <vendor>Intel</vendor>
      <feature name='vmx'/>
      <feature name='hypervisor'/>
    </cpu>
  </host>
  <guest>
    <os_type>hvm</os_type>
    <arch name='x86_64'>
      <wordsize>64</wordsize>
      <machine maxCpus='255'>pc-i440fx-7.2</machine>
      <machine canonical='pc-i440fx-7.2' maxCpus='255'>pc</machine>
      <domain type='qemu'/>
      <domain type='kvm'/>
    </arch>
  </guest>
  <guest>
    <os_type>hvm</os_type>
    <arch name='i686'>
      <domain type='qemu'/>
    </arch>
  </guest>
</capabilities>
"""


def test_parse_capabilities():
    caps = parse_capabilities(CAPS)
    assert caps['arch'] == 'x86_64'
    assert caps['cpu_model'] == 'Skylake-Client-noTSX-IBRS'
    assert caps['domain_types'] == ['qemu', 'kvm']
    assert caps['guests'][0]['machines'] == ['pc', 'pc-i440fx-7.2']
    assert 'vmx' in caps['cpu_features']


def test_kvm_needs_the_domain_type():
    assert assess_kvm(['qemu'], 'x86_64', ['vmx'], True)[0] is False


def test_kvm_without_hardware_virtualisation_is_not_usable():
    usable, reason = assess_kvm(['qemu', 'kvm'], 'x86_64', ['fpu', 'hypervisor'], True)
    assert usable is False and 'vmx' in reason


def test_kvm_with_vmx_and_dev_kvm():
    assert assess_kvm(['qemu', 'kvm'], 'x86_64', ['vmx'], True)[0] is True
    assert assess_kvm(['qemu', 'kvm'], 'x86_64', ['svm'], False)[0] is False


def test_remote_host_without_cpu_facts_trusts_the_offer():
    assert assess_kvm(['kvm'], 'x86_64', None, None)[0] is True
    assert assess_kvm(['kvm'], 'aarch64', [], True)[0] is True


def test_local_cpu_flags(tmp_path):
    path = tmp_path / 'cpuinfo'
    path.write_text('processor\t: 0\nflags\t\t: fpu vme svm\n')
    assert local_cpu_flags(str(path)) == ['fpu', 'vme', 'svm']
    assert local_cpu_flags(str(tmp_path / 'missing')) is None


def test_a_running_pool_is_active_in_host_info_as_in_pool_info():
    """libvirt's test driver (test:///default, an active pool 'default-pool') through the libvirt driver."""
    pytest.importorskip('libvirt')
    params = {'uri': 'test:///default', 'auth': None}
    host = execute(HostInfoManager(dict(params)))
    pools = execute(PoolInfoManager(dict(params, name='default-pool')))
    assert [(p['name'], p['active'], p['state']) for p in host['host']['pools']] == [('default-pool', True, 'active')]
    assert pools['pools'][0]['state'] == 'active'
