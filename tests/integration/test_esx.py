"""VMware ESX and vCenter through libvirt's esx driver, against govmomi's
vSphere simulator: VMware's own Go implementation of the vSphere API, which
the bed builds into a launcher (tests/bed/vcsim) that fills in what libvirt
needs of a real ESX. It is a simulator, not an ESX host: no guest runs, a
power-on flips a state, VMware Tools report nothing.

One ESX host and one vCenter per test session, each on a free 127.0.0.1 port
with TLS (a CA of the launcher's own) and a random password; stopped at the
end, and by the launcher itself should this process die (its stdin closes).
"""
import json
import os
import re
import secrets
import select
import subprocess
import sys
import textwrap

import pytest

from harness import BED_CACHE, run_playbook, unique_prefix
from test_targets import failure_report

LAUNCHER = os.path.join(BED_CACHE, 'vcsim', 'vcsim-virtkit')
USERNAME = 'root'
# What the simulator's models have: the ESX host's datastore, port group and VMs.
DATASTORE = 'LocalDS_0'
PORTGROUP = 'VM Network'
ESX_VMS = ['ha-host_VM0', 'ha-host_VM1']
VCENTER_VMS = ['DC0_H0_VM0']
SYSTEM_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt'
BIN = os.path.dirname(sys.executable)


def _start(mode, password, log):
    proc = subprocess.Popen([LAUNCHER, '-mode', mode, '-stdin-lifeline'], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=log, text=True,
                            env=dict(os.environ, VCSIM_PASSWORD=password))
    readable = select.select([proc.stdout], [], [], 30)[0]
    line = proc.stdout.readline() if readable else ''
    if not line:
        proc.kill()
        proc.wait()
        pytest.fail('the vSphere simulator (%s) did not start within 30 s; its log: %s' % (mode, log.name))
    return proc, json.loads(line)


@pytest.fixture(scope='session')
def vsphere(tmp_path_factory):
    """{esx_uri, vpx_uri (its host DC0_H0), password, esx, vpx (what each
    launcher printed: url, port, ca)}. URIs carry ?no_verify=1; *_verified_uri
    do not."""
    if not os.access(LAUNCHER, os.X_OK):
        pytest.fail('no vSphere simulator launcher at %s: run tests/bed/setup.sh' % LAUNCHER)
    tmp = tmp_path_factory.mktemp('vsphere')
    password = secrets.token_urlsafe(16)
    running = []
    try:
        with open(str(tmp / 'esx.log'), 'w') as esx_log, open(str(tmp / 'vpx.log'), 'w') as vpx_log:
            esx_proc, esx = _start('esx', password, esx_log)
            running.append(esx_proc)
            vpx_proc, vpx = _start('vpx', password, vpx_log)
            running.append(vpx_proc)
        esx_base = 'esx://127.0.0.1:%s/' % esx['port']
        vpx_base = 'vpx://127.0.0.1:%s/DC0/DC0_H0' % vpx['port']
        yield {'esx': esx, 'vpx': vpx, 'password': password, 'tmp': tmp,
               'esx_uri': esx_base + '?no_verify=1', 'vpx_uri': vpx_base + '?no_verify=1',
               'vpx_cluster_uri': 'vpx://127.0.0.1:%s/DC0/DC0_C0/DC0_C0_H0?no_verify=1' % vpx['port'],
               'esx_verified_uri': esx_base, 'vpx_verified_uri': vpx_base}
    finally:
        for proc in running:
            proc.stdin.close()  # the lifeline: the launcher exits
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def target_vars(vsphere, tmp_path):
    return {'vk_prefix': unique_prefix(), 'vk_tmp': str(tmp_path),
            'esx_uri': vsphere['esx_uri'], 'vpx_uri': vsphere['vpx_uri'], 'vpx_cluster_uri': vsphere['vpx_cluster_uri'],
            'esx_username': USERNAME, 'esx_password': vsphere['password'],
            'esx_datastore': DATASTORE, 'esx_portgroup': PORTGROUP, 'esx_vm': ESX_VMS[0]}


def play(tmp_path, tasks):
    playbook = tmp_path / 'play.yml'
    playbook.write_text('- hosts: localhost\n  gather_facts: false\n  tasks:\n' + textwrap.indent(tasks, '    '))
    return str(playbook)


@pytest.mark.parametrize('target', ['esx_domain', 'esx_info', 'esx_snapshot'])
def test_esx_target(target, vsphere, tmp_path):
    playbook = tmp_path / 'play.yml'
    playbook.write_text('- hosts: localhost\n  gather_facts: false\n  roles:\n    - role: %s\n' % target)
    result = run_playbook(str(playbook), target_vars(vsphere, tmp_path), timeout=600)
    assert result.returncode == 0, failure_report(result.stdout + result.stderr)


# -- the error table: what libvirt's esx driver lacks, and the path the driver takes --

def _driver(vsphere):
    from ansible_collections.virtkit.virt.plugins.module_utils.driver.libvirt_jobs import LibvirtJobDriver
    return LibvirtJobDriver(vsphere['esx_uri'], username=USERNAME, password=vsphere['password'])


# libvirt's esx driver puts a new VM's .vmx beside its first disk: it needs one.
ESX_VM_XML = """<domain type='vmware'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
<os><type arch='x86_64'>hvm</type></os><devices><disk type='file' device='disk'>
<source file='[%s] {name}/{name}.vmdk'/><target dev='sda' bus='scsi'/></disk></devices></domain>""" % DATASTORE

# (what, the call, the message it fails with; None: libvirt's other path works)
ERROR_TABLE = [
    ('pools: listAllStoragePools -> one name at a time', lambda d, vm: d.list_pools(), None),
    ('volumes: listAllVolumes -> one name at a time', lambda d, vm: d.list_volumes(DATASTORE), None),
    ('domain states: getAllDomainStats -> one domain at a time', lambda d, vm: d.list_domains(), None),
    ('host memory: node memory stats -> getInfo and getFreeMemory', lambda d, vm: d.host_summary(), None),
    ('memory: setMemoryFlags with flags -> setMemory (the limit)',
     lambda d, vm: d.set_domain_memory(vm, 32768, live=False, config=True), None),
    ('vCPUs: setVcpusFlags with VIR_DOMAIN_AFFECT_CONFIG -> setVcpus',
     lambda d, vm: d.set_domain_vcpus(vm, 2, live=False, config=True), None),
    ('memory size: setMaxMemory, powered off', lambda d, vm: d.set_domain_max_memory(vm, 131072), None),
    ('undefine: flags -> plain undefine', lambda d, vm: d.undefine_domain(vm), None),
    ('snapshots: listAllSnapshots -> one name at a time', lambda d, vm: d.list_snapshots(vm), None),
    ('metadata (tags)', lambda d, vm: d.set_domain_metadata(vm, '<t/>', 'vk', 'https://virtkit.dev/x', False, True),
     r"Failed to set the metadata of domain '.*': not supported by libvirt's esx driver \(virDomainSetMetadata\)"),
    ('IP addresses from DHCP leases', lambda d, vm: d.domain_addresses(vm, 'lease'),
     r"address source 'lease' is not supported by libvirt's esx driver"),
    ('IP addresses from the ARP table', lambda d, vm: d.domain_addresses(vm, 'arp'),
     r"address source 'arp' is not supported by libvirt's esx driver"),
    ('shutdown through ACPI (a mode)', lambda d, vm: d.shutdown_domain(vm, 'acpi'),
     r"shutdown mode 'acpi' is not supported by libvirt's esx driver"),
    ('device hot-plug', lambda d, vm: d.attach_device(vm, "<disk type='file' device='cdrom'><target dev='hdc'/></disk>",
                                                      live=False, config=True),
     r"not supported by libvirt's esx driver \(virDomainAttachDeviceFlags\)"),
    ('storage pool definition', lambda d, vm: d.define_pool("<pool type='dir'><name>x</name><target><path>/x</path>"
                                                            "</target></pool>"),
     r"not supported by libvirt's esx driver \(virStoragePoolDefineXML\)"),
    ('network DHCP leases', lambda d, vm: d.network_leases('vSwitch0'),
     r"not supported by libvirt's esx driver \(virNetworkGetDHCPLeases\)"),
    ('network start', lambda d, vm: d.start_network('vSwitch0'),
     r"not supported by libvirt's esx driver \(virNetworkCreate"),
]


@pytest.mark.parametrize('what, call, fails_with', ERROR_TABLE, ids=[row[0].split(':')[0] for row in ERROR_TABLE])
def test_error_table(what, call, fails_with, vsphere):
    from ansible_collections.virtkit.virt.plugins.module_utils.errors import NotFound, VirtError
    driver = _driver(vsphere)
    vm = '%s-table' % unique_prefix()
    try:
        driver.define_domain(ESX_VM_XML.format(name=vm))
        if fails_with is None:
            assert call(driver, vm) is not False
        else:
            with pytest.raises(VirtError) as error:
                call(driver, vm)
            assert re.search(fails_with, error.value.describe()), error.value.describe()
    finally:
        try:
            driver.undefine_domain(vm)
        except NotFound:
            pass
        driver.close()


def test_what_the_driver_learned_and_knows(vsphere):
    driver = _driver(vsphere)
    try:
        assert driver.unsupported('listAllStoragePools') is None  # not tried yet
        driver.list_pools()
        assert driver.unsupported('listAllStoragePools') == (
            "listAllStoragePools is not supported by libvirt's esx driver")
        assert driver.unsupported('redefine_domain').endswith("is not supported by libvirt's esx driver")
        assert 'memory size' in driver.unsupported('live_max_memory')
    finally:
        driver.close()


# -- TLS: no_verify, or the host's CA trusted as libcurl trusts it ------------------

def _host_info_play(tmp_path, uri, password):
    return play(tmp_path, textwrap.dedent('''\
        - virtkit.virt.host_info:
            uri: "{uri}"
            auth: {{username: {user}, password: "{password}"}}
          register: host
          ignore_errors: true
        - ansible.builtin.copy: {{content: "{{{{ host | to_json }}}}", dest: "{out}"}}
        ''').format(uri=uri, user=USERNAME, password=password, out=tmp_path / 'host.json'))


def test_certificate_verified_against_the_system_trust_store(vsphere, tmp_path):
    """libvirt's esx driver verifies the host's certificate and name with
    libcurl (GnuTLS), against the system's CA bundle: without ?no_verify=1 the
    simulator's CA must be in it. Shown in a mount namespace of this run only,
    where the bundle holds the simulator's CA too (the system keeps its own)."""
    uri = vsphere['esx_verified_uri']
    result = run_playbook(_host_info_play(tmp_path, uri, vsphere['password']))
    assert result.returncode == 0, result.stdout + result.stderr
    untrusted = json.loads((tmp_path / 'host.json').read_text())
    assert untrusted['failed'] and untrusted['error'] == 'connection'
    assert 'certificate' in untrusted['msg'] and 'update-ca-certificates' in untrusted['msg']
    assert '?no_verify=1' in untrusted['msg']

    bundle = tmp_path / 'ca-certificates.crt'
    with open(SYSTEM_CA_BUNDLE) as system:
        bundle.write_text(system.read() + open(vsphere['esx']['ca']).read() + open(vsphere['vpx']['ca']).read())
    trusting = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c',
                'mount --bind "$0" %s && exec "$@"' % SYSTEM_CA_BUNDLE, str(bundle)]
    for uri in (vsphere['esx_verified_uri'], vsphere['vpx_verified_uri']):
        result = run_playbook(_host_info_play(tmp_path, uri, vsphere['password']), wrapper=trusting)
        assert result.returncode == 0, result.stdout + result.stderr
        trusted = json.loads((tmp_path / 'host.json').read_text())
        assert not trusted.get('failed'), trusted.get('msg')
        assert trusted['host']['driver'] == 'ESX' and trusted['host']['uri'] == uri


# -- the password: vaulted, never in the output, even at -vvvv -------------------------

def _vault(tmp_path, name, secret):
    (tmp_path / 'vault-pass').write_text('vk-esx-test\n')
    return subprocess.run([os.path.join(BIN, 'ansible-vault'), 'encrypt_string', '--vault-password-file',
                           str(tmp_path / 'vault-pass'), '--name', name, '--', secret],  # a secret may start with '-'
                          capture_output=True, text=True, check=True).stdout


def test_the_password_is_never_shown_even_at_vvvv(vsphere, tmp_path):
    password = vsphere['password']
    vm = '%s-vm' % unique_prefix()
    (tmp_path / 'vars.yml').write_text(_vault(tmp_path, 'esx_password', password))
    playbook = tmp_path / 'play.yml'
    playbook.write_text(textwrap.dedent('''\
        - hosts: localhost
          gather_facts: false
          vars_files: [vars.yml]
          module_defaults:
            group/virtkit.virt.virt:
              uri: "{uri}"
              auth: {{username: {user}, password: "{{{{ esx_password }}}}"}}
          tasks:
            - virtkit.virt.host_info:
            - virtkit.virt.domain:
                name: {vm}
                virt_type: vmware
                memory: 64
                state: running
                disks: [{{path: "[{datastore}] {vm}/{vm}.vmdk"}}]
            - virtkit.virt.domain: {{name: {vm}, vcpus: 2}}
            - virtkit.virt.domain_info: {{name: {vm}}}
            - virtkit.virt.host_info:
                auth: {{username: {user}, password: "{{{{ esx_password }}}}-wrong"}}
              ignore_errors: true
            - virtkit.virt.domain: {{name: {vm}, state: absent}}
        ''').format(uri=vsphere['esx_uri'], user=USERNAME, vm=vm, datastore=DATASTORE))
    result = run_playbook(str(playbook), args=['-vvvv', '--diff', '--vault-password-file',
                                               str(tmp_path / 'vault-pass')])
    output = result.stdout + result.stderr
    assert result.returncode == 0, failure_report(output)
    assert 'changed=3' in output and 'ignored=1' in output
    assert 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER' in output  # the auth argument, as -vvvv shows it
    assert password not in output


# -- the inventory: an ESX host and a vCenter, per-URI vaulted credentials ----------------

def test_inventory_lists_esx_and_vcenter_guests(vsphere, tmp_path):
    password = vsphere['password']
    vaulted = _vault(tmp_path, 'password', password)
    entries = ''.join('  - uri: %s\n    auth:\n      username: %s\n%s' % (uri, USERNAME, textwrap.indent(vaulted, ' ' * 6))
                      for uri in (vsphere['esx_uri'], vsphere['vpx_uri']))
    source = tmp_path / 'vsphere.virt.yml'
    source.write_text('plugin: virtkit.virt.guests\ncache: true\ncache_plugin: ansible.builtin.jsonfile\n'
                      'cache_connection: %s\nuris:\n%s' % (tmp_path / 'cache', entries))
    output_file = tmp_path / 'inventory.json'
    env = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_INVENTORY_UNPARSED_WARNING='1',
               ANSIBLE_COLLECTIONS_PATH=os.environ.get('ANSIBLE_COLLECTIONS_PATH')
               or os.environ['VIRTKIT_COLLECTIONS_PATH'])
    proc = subprocess.run([os.path.join(BIN, 'ansible-inventory'), '-i', str(source), '--list', '-vvvv',
                           '--vault-password-file', str(tmp_path / 'vault-pass'), '--output', str(output_file)],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    data = json.loads(output_file.read_text())
    hostvars = data['_meta']['hostvars']

    def plain(value):
        return value['__ansible_unsafe'] if isinstance(value, dict) and '__ansible_unsafe' in value else value
    assert set(ESX_VMS + VCENTER_VMS) <= set(hostvars), sorted(hostvars)
    for name in ESX_VMS + VCENTER_VMS:
        host = dict((key, plain(value)) for key, value in hostvars[name].items())
        assert host['virt_type'] == 'vmware' and host['virt_persistent']
        assert host['virt_uri'] == (vsphere['esx_uri'] if name in ESX_VMS else vsphere['vpx_uri'])
        assert host['virt_driver'] == ('esx' if name in ESX_VMS else 'vpx')
        assert host['virt_host'] == '127.0.0.1'
    assert set(ESX_VMS) <= set(data['virt_esx']['hosts']) and set(VCENTER_VMS) <= set(data['virt_vpx']['hosts'])
    cached = ''.join((tmp_path / 'cache' / name).read_text() for name in os.listdir(str(tmp_path / 'cache')))
    assert ESX_VMS[0] in cached
    for text in (proc.stdout, proc.stderr, output_file.read_text(), cached):
        assert password not in text
