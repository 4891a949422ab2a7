"""The container manager end to end on libvirt's test driver, with a host
description that has one running container (every connection starts from
it again). The test driver is not the LXC driver: no init PID, no host
names, but the whole spec → XML → diff → plan path is the real one."""
import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.container.manager import ContainerManager
from ansible_collections.virtkit.virt.plugins.module_utils.engine.runner import execute

libvirt = pytest.importorskip('libvirt')

OPTIONS = ('autostart', 'rootfs', 'share_host_root', 'share_host_network', 'init', 'env', 'hostname', 'memory',
           'vcpus', 'cpu_shares', 'interfaces', 'mounts', 'idmap', 'tags', 'xml', 'xml_patches', 'wait_for_ip',
           'auth')

HOST = """<node>
  <cpu><mhz>2000</mhz><model>i686</model></cpu>
  <domain type='lxc'>
    <name>ct1</name>
    <uuid>c7a5fdbd-cdaf-9455-926a-d65c16db1809</uuid>
    <memory unit='MiB'>64</memory>
    <os><type>exe</type><init>/bin/sh</init><initarg>-c</initarg><initarg>sleep 1000</initarg>
      <initenv name='A'>1</initenv><initenv name='B'>2</initenv></os>
    <devices>
      <filesystem type='mount'><source dir='{rootfs}'/><target dir='/'/></filesystem>
      <filesystem type='mount'><source dir='{share}'/><target dir='/mnt/share'/><readonly/></filesystem>
      <console type='pty'/>
    </devices>
  </domain>
  <domain type='test'>
    <name>vm1</name>
    <memory unit='MiB'>64</memory>
    <os><type>hvm</type></os>
  </domain>
</node>"""


@pytest.fixture
def host(tmp_path):
    for name in ('rootfs', 'share'):
        (tmp_path / name).mkdir()
    (tmp_path / 'rootfs' / 'bin').mkdir()
    (tmp_path / 'rootfs' / 'bin' / 'sh').write_text('')
    path = tmp_path / 'host.xml'
    path.write_text(HOST.format(rootfs=tmp_path / 'rootfs', share=tmp_path / 'share'))
    return tmp_path


def run(host, check=False, **kw):
    params = dict((key, None) for key in OPTIONS)
    params.update(uri='test://%s/host.xml' % host, state='running', live=True, restart=False, shutdown_timeout=5,
                  force=False)
    params.update(kw)
    return execute(ContainerManager(params, check), want_diff=True)


def same(host, **kw):
    spec = dict(name='ct1', rootfs={'path': str(host / 'rootfs')}, memory=64, init=['/bin/sh', '-c', 'sleep 1000'],
                env={'A': '1', 'B': 2}, mounts=[{'source': str(host / 'share'), 'target': '/mnt/share',
                                                 'readonly': True}])
    spec.update(kw)
    return spec


def test_the_container_as_it_is_changes_nothing_and_check_mode_agrees(host):
    for check in (True, False):
        result = run(host, check=check, **same(host))
        assert not result.get('failed'), result.get('msg')
        assert result['changed'] is False and result['actions'] == [], result
    facts = result['container']
    assert facts['init'] == ['/bin/sh', '-c', 'sleep 1000'] and facts['env'] == {'A': '1', 'B': '2'}
    assert facts['rootfs'] == str(host / 'rootfs') and facts['memory'] == 64
    assert facts['mounts'] == [{'source': str(host / 'share'), 'target': '/mnt/share', 'readonly': True}]
    assert facts['init_pid'] is None and facts['hostname'] is None  # not libvirt's LXC driver on this host


def test_memory_and_cpu_shares_change_live(host):
    predicted = run(host, check=True, **same(host, memory=48))
    done = run(host, **same(host, memory=48))
    assert predicted['actions'] == done['actions'] == ['redefine', 'set memory to 48 MiB (live)']
    assert not done['restart_required'] and done['container']['memory'] == 48
    assert predicted['diff']['before']['memory_kib'] == 65536 and predicted['diff']['after']['memory_kib'] == 49152
    more = run(host, check=True, **same(host, memory=128))
    assert more['actions'] == ['redefine'] and more['restart_required']
    assert any('memory change takes effect when the container restarts' in w for w in more['warnings'])
    shares = run(host, check=True, **same(host, cpu_shares=256))
    assert shares['actions'] == ['redefine', 'set cpu shares to 256 (live)'] and not shares['restart_required']


def test_what_only_a_restart_changes(host):
    cases = [(dict(env={'A': '1'}), 'env'), (dict(init='/bin/sh -c "sleep 5"'), 'init'), (dict(vcpus=2), 'vcpus'),
             (dict(mounts=[]), 'mounts'), (dict(share_host_network=False), 'share_host_network')]
    for change, option in cases:
        result = run(host, **same(host, **change))
        assert not result.get('failed'), result.get('msg')
        assert result['actions'] == ['redefine'], (option, result['actions'])
        assert result['restart_required'], option
        assert any(w.startswith("container 'ct1': %s change takes effect" % option) for w in result['warnings']), \
            (option, result['warnings'])


def test_removing_an_environment_variable_shows_in_the_diff(host):
    result = run(host, check=True, **same(host, env={'A': '1'}))
    assert result['diff']['before']['init_env'] == {'A': '1', 'B': '2'}
    assert result['diff']['after']['init_env'] == {'A': '1'}


def test_a_new_container(host):
    result = run(host, check=True, name='ct2', rootfs={'path': str(host / 'rootfs')}, memory=32, init='/bin/sh')
    assert not result.get('failed'), result.get('msg')
    assert result['actions'] == ['define', 'start']
    after = result['diff']['after']
    assert after['virt_type'] == 'lxc' and after['host_network'] is False and after['init_args'] == []
    done = run(host, name='ct2', rootfs={'path': str(host / 'rootfs')}, memory=32, init='/bin/sh', tags={'a': 'b'})
    assert done['container']['state'] == 'running' and done['container']['share_host_network'] is False
    assert done['container']['tags'] == {'a': 'b'}


def test_a_new_container_needs_its_rootfs_memory_and_init(host):
    result = run(host, name='ct2', memory=32, init='/bin/sh')
    assert result['failed'] and result['msg'].startswith('Invalid rootfs: a new container needs')
    result = run(host, name='ct2', rootfs={'path': str(host / 'rootfs')}, init='/bin/sh')
    assert result['failed'] and result['msg'] == 'Invalid memory: a new container needs its memory'
    result = run(host, name='ct2', rootfs={'path': str(host / 'rootfs')}, memory=32)
    assert result['failed'] and result['msg'].startswith("Invalid init: the default, '/sbin/init' is not in")
    result = run(host, name='ct2')
    assert result['failed'] and "container 'ct2' does not exist; to define it give rootfs" in result['msg']


def test_a_virtual_machine_is_not_a_container(host):
    result = run(host, name='vm1', state='running')
    assert result['failed'] and result['error'] == 'conflict'
    assert 'it is a test domain, not a container' in result['msg']


def test_the_host_name_needs_the_lxc_driver_here(host):
    result = run(host, **same(host, hostname='web1'))
    assert result['failed'] and result['msg'].startswith('Invalid hostname: is set inside the running container')


def test_power_states(host):
    assert run(host, name='ct1', state='paused')['actions'] == ['pause']
    assert run(host, name='ct1', state='destroyed')['actions'] == ['destroy']
    assert run(host, name='ct1', state='absent')['actions'] == ['destroy', 'undefine']


def test_libvirt_s_own_xml_changes_nothing_and_patches_reach_the_rest(host):
    conn = libvirt.open('test://%s/host.xml' % host)
    xml = conn.lookupByName('ct1').XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    conn.close()
    result = run(host, name='ct1', xml=xml)
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] is False and result['actions'] == []
    patched = run(host, **same(host, xml_patches=[{'xpath': '/domain/on_reboot', 'value': 'destroy'}]))
    assert patched['actions'] == ['redefine'] and patched['restart_required']
    contradicting = run(host, **same(host, xml_patches=[{'xpath': '/domain/os/init', 'value': '/bin/other'}]))
    assert contradicting['failed'] and contradicting['msg'].startswith('Invalid xml_patches: the patches change init')
