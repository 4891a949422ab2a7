"""virtkit.virt.guests against the real daemon: real `ansible-inventory` and
`ansible-playbook` runs over qemu:///system and lxc:/// at once, and over
SSH to an sshd of our own on 127.0.0.1.

One module-scoped bed (frugal: the machine has 2 cores): an isolated network,
a running TCG guest with tags and a DHCP lease, a paused and a shut-off
guest, a busybox LXC container that takes a lease on the same network, and a
name defined on both drivers. Everything carries a unique prefix and is
removed at the end, also on failure.
"""
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time

import pytest

from harness import collections_path, free_subnets, unique_prefix, wait_for

BIN = os.path.dirname(sys.executable)
VIRTKIT_NS = 'https://virtkit.dev/xmlns/virt/1.0'
UNREACHABLE = 'qemu+tcp://127.0.0.1:1/system'


def virsh(uri, *args, check=True, stdin=None):
    return subprocess.run(['virsh', '-q', '-c', uri] + list(args), input=stdin, capture_output=True, text=True,
                          check=check, timeout=120)


def unwrap(value):
    """ansible-inventory 2.19 marks plugin values {"__ansible_unsafe": v}."""
    if isinstance(value, dict):
        if set(value) == {'__ansible_unsafe'}:
            return value['__ansible_unsafe']
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def ansible_env(tmp):
    return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_NOCOLOR='1',
                ANSIBLE_LOCAL_TEMP=str(tmp), ANSIBLE_INVENTORY_UNPARSED_WARNING='1',
                ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_DEPRECATION_WARNINGS='0')


def write_inventory(directory, name, options):
    path = os.path.join(str(directory), '%s.virt.yml' % name)
    with open(path, 'w') as handle:
        json.dump(dict({'plugin': 'virtkit.virt.guests'}, **options), handle)  # JSON is YAML
    return path


def inventory(path, *extra, tmp, env=None):
    """(rc, parsed --list output or None, stderr and stdout)."""
    output = os.path.join(str(tmp), 'inventory-output.json')
    if os.path.exists(output):
        os.unlink(output)
    proc = subprocess.run([os.path.join(BIN, 'ansible-inventory'), '-i', path, '--list', '--output', output]
                          + list(extra), capture_output=True, text=True, env=dict(ansible_env(tmp), **(env or {})),
                          timeout=300,
                          check=False)
    data = None
    if proc.returncode == 0:
        with open(output) as handle:
            data = unwrap(json.load(handle))
    return proc.returncode, data, proc.stderr + proc.stdout


def members(data, group):
    return set(data.get(group, {}).get('hosts', []))


# -- the bed ----------------------------------------------------------------------

def guest_xml(name, net, kernel, initrd, log, mac, tags, paused_only=False):
    tag_xml = ''.join('<virtkit:tag name="%s">%s</virtkit:tag>' % kv for kv in sorted(tags.items()))
    boot = '' if paused_only else (
        '<kernel>%s</kernel><initrd>%s</initrd><cmdline>console=ttyS0 virtkit.hostname=%s</cmdline>'
        % (kernel, initrd, name))
    devices = '' if paused_only else (
        "<interface type='network'><mac address='%s'/><source network='%s'/><model type='virtio'/></interface>"
        "<serial type='file'><source path='%s'/><target port='0'/></serial>" % (mac, net, log))
    return textwrap.dedent('''\
        <domain type='qemu'>
          <name>%s</name>
          <metadata><virtkit:tags xmlns:virtkit="%s">%s</virtkit:tags></metadata>
          <memory unit='MiB'>%d</memory>
          <vcpu>1</vcpu>
          <os><type arch='x86_64'>hvm</type>%s</os>
          <features><acpi/></features>
          <devices>%s</devices>
        </domain>''') % (name, VIRTKIT_NS, tag_xml, 32 if paused_only else 256, boot, devices)


def container_xml(name, net, rootfs, mac):
    init = ('export PATH=/bin; ip link set lo up; ip link set eth0 up; '
            'exec udhcpc -f -i eth0 -x hostname:%s -s /udhcpc.script' % name)
    return textwrap.dedent('''\
        <domain type='lxc'>
          <name>%s</name>
          <metadata><virtkit:tags xmlns:virtkit="%s"><virtkit:tag name="role">ct</virtkit:tag></virtkit:tags></metadata>
          <memory unit='MiB'>64</memory>
          <os><type>exe</type><init>/bin/sh</init><initarg>-c</initarg><initarg>%s</initarg></os>
          <devices>
            <filesystem type='mount'><source dir='%s'/><target dir='/'/></filesystem>
            <interface type='network'><mac address='%s'/><source network='%s'/></interface>
            <console type='pty'/>
          </devices>
        </domain>''') % (name, VIRTKIT_NS, init, rootfs, mac, net)


def busybox_rootfs(root, script):
    os.makedirs(os.path.join(root, 'bin'))
    shutil.copy('/bin/busybox', os.path.join(root, 'bin', 'busybox'))
    for applet in ('sh', 'ip', 'udhcpc', 'sleep', 'echo', 'cat', 'ls'):
        os.symlink('busybox', os.path.join(root, 'bin', applet))
    shutil.copy(script, os.path.join(root, 'udhcpc.script'))
    os.chmod(os.path.join(root, 'udhcpc.script'), 0o755)
    for name in ('proc', 'sys', 'dev', 'tmp', 'etc'):
        os.makedirs(os.path.join(root, name), exist_ok=True)


def leases(uri, net):
    out = virsh(uri, 'net-dhcp-leases', net, check=False).stdout
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 5 and ':' in parts[2]:
            found[parts[2].lower()] = parts[4].split('/')[0]
    return found


@pytest.fixture(scope='module')
def bed(bed, tmp_path_factory):  # pylint: disable=redefined-outer-name
    tmp = tmp_path_factory.mktemp('inventory')
    prefix = unique_prefix()
    subnet = free_subnets(1)[0]
    hosts = list(subnet.hosts())
    net = '%s-net' % prefix
    names = {key: '%s-%s' % (prefix, key) for key in ('web', 'pause', 'off', 'ct', 'dup')}
    mac_web, mac_ct = '52:54:00:%s:%s:01' % (prefix[2:4], prefix[4:6]), '52:54:00:%s:%s:02' % (prefix[2:4], prefix[4:6])
    qemu, lxc = 'qemu:///system', 'lxc:///'
    created = []
    try:
        virsh(qemu, 'net-create', '/dev/stdin', stdin=(
            "<network><name>%s</name><bridge name='%s-br' stp='off' delay='0'/>"
            "<ip address='%s' netmask='%s'><dhcp><range start='%s' end='%s'/></dhcp></ip></network>"
            % (net, prefix, hosts[0], subnet.netmask, hosts[99], hosts[149])))
        created.append((qemu, 'net', net))
        # The guest boots while the rest is defined.
        virsh(qemu, 'define', '/dev/stdin', stdin=guest_xml(
            names['web'], net, bed['kernel'], bed['initrd'], str(tmp / 'web.log'), mac_web,
            {'role': 'web', 'env': 'ci-test'}))
        created.append((qemu, 'dom', names['web']))
        virsh(qemu, 'start', names['web'])
        virsh(qemu, 'define', '/dev/stdin', stdin=guest_xml(
            names['pause'], net, None, None, None, None, {'role': 'db'}, paused_only=True))
        created.append((qemu, 'dom', names['pause']))
        virsh(qemu, 'start', '--paused', names['pause'])
        for key in ('off', 'dup'):
            virsh(qemu, 'define', '/dev/stdin', stdin=guest_xml(
                names[key], net, None, None, None, None, {}, paused_only=True))
            created.append((qemu, 'dom', names[key]))
        rootfs = str(tmp / 'rootfs')
        busybox_rootfs(rootfs, os.path.join(os.path.dirname(__file__), '..', 'bed', 'guest', 'udhcpc.script'))
        virsh(lxc, 'define', '/dev/stdin', stdin=container_xml(names['ct'], net, rootfs, mac_ct))
        created.append((lxc, 'dom', names['ct']))
        virsh(lxc, 'start', names['ct'])
        # The same name on the other driver: must not merge with the QEMU one.
        virsh(lxc, 'define', '/dev/stdin', stdin=container_xml(names['dup'], net, rootfs,
                                                               '52:54:00:%s:%s:03' % (prefix[2:4], prefix[4:6])))
        created.append((lxc, 'dom', names['dup']))

        def both_leased():
            got = leases(qemu, net)
            return got if mac_web in got and mac_ct in got else None
        found = wait_for(both_leased, 90, what='DHCP leases of the guest and the container on %s' % net)
        yield {'prefix': prefix, 'names': names, 'net': net, 'tmp': tmp, 'ip_web': found[mac_web],
               'sasl': (bed['sasl_uri'], bed['sasl_username'], bed['sasl_password']),
               'ip_ct': found[mac_ct], 'mac_web': mac_web, 'created': created}
    finally:
        for uri, kind, name in reversed(created):
            if kind == 'dom':
                virsh(uri, 'destroy', name, check=False)
                virsh(uri, 'undefine', name, check=False)
            else:
                virsh(uri, 'net-destroy', name, check=False)
                if not virsh(uri, 'net-info', name, check=False).returncode == 0:
                    for leftover in ('/var/run/libvirt/network/%s' % name, '/var/run/libvirt/network/%s.pid' % name):
                        shutil.rmtree(leftover, ignore_errors=True) if os.path.isdir(leftover) else (
                            os.path.exists(leftover) and os.unlink(leftover))


# -- local URIs ---------------------------------------------------------------------

def test_qemu_and_lxc_at_once_with_an_unreachable_uri(bed):
    names = bed['names']
    path = write_inventory(bed['tmp'], 'local', {
        'uris': ['qemu:///system', 'lxc:///', UNREACHABLE], 'timeout': 20,
        'name_pattern': '^%s-' % bed['prefix'],
        'ip_sources': ['lease', 'agent', 'arp'],
        'keyed_groups': [{'key': 'virt_tags.role | default("none")', 'prefix': 'role'}],
        'compose': {'vk_ram': 'virt_memory_mib * 2'},
        'groups': {'small': 'virt_memory_mib < 100'},
    })
    rc, data, err = inventory(path, '-vvv', tmp=bed['tmp'])
    assert rc == 0, err
    hostvars = data['_meta']['hostvars']
    dup_lxc = '%s_localhost_lxc' % names['dup']
    assert set(hostvars) == {names['web'], names['pause'], names['off'], names['ct'], names['dup'], dup_lxc}

    web, ct = hostvars[names['web']], hostvars[names['ct']]
    # lease addresses become ansible_host, for a VM and a container alike
    assert web['ansible_host'] == bed['ip_web'] and web['virt_ips'] == [bed['ip_web']]
    assert ct['ansible_host'] == bed['ip_ct']
    assert 'ansible_connection' not in ct
    assert web['virt_interfaces'] == [{'mac': bed['mac_web'], 'type': 'network', 'network': bed['net'],
                                       'bridge': None, 'model': 'virtio', 'addresses': [bed['ip_web']]}]
    assert (web['virt_state'], web['virt_type'], web['virt_driver'], web['virt_uri']) == (
        'running', 'qemu', 'qemu', 'qemu:///system')
    assert (web['virt_memory_mib'], web['virt_vcpus'], web['virt_autostart']) == (256, 1, False)
    assert web['virt_host'] is None  # a local URI: this machine
    assert web['virt_tags'] == {'role': 'web', 'env': 'ci-test'} and len(web['virt_uuid']) == 36
    assert (ct['virt_type'], ct['virt_driver'], ct['virt_uri']) == ('lxc', 'lxc', 'lxc:///')
    # no address for a guest that does not run, even with a lease left in dnsmasq
    assert 'ansible_host' not in hostvars[names['off']] and hostvars[names['off']]['virt_ips'] == []

    assert members(data, 'virt_running') >= {names['web'], names['ct']}
    assert names['pause'] in members(data, 'virt_paused')
    assert {names['off'], names['dup'], dup_lxc} <= members(data, 'virt_shutoff')
    assert members(data, 'virt_qemu') == {names['web'], names['pause'], names['off'], names['dup']}
    assert members(data, 'virt_lxc') == {names['ct'], dup_lxc}
    assert members(data, 'virt_host_localhost') == set(hostvars)
    assert members(data, 'virt_tag_role_web') == {names['web']}
    assert members(data, 'virt_tag_env_ci_test') == {names['web']}  # sanitised
    assert members(data, 'virt_tag_role_ct') == {names['ct'], dup_lxc}
    # Constructable: keyed_groups, compose, groups
    assert members(data, 'role_db') == {names['pause']} and names['off'] in members(data, 'role_none')
    assert web['vk_ram'] == 512
    assert members(data, 'small') == {names['pause'], names['off'], names['dup'], names['ct'], dup_lxc}

    # one warning for the unreachable URI, one for the shared name; the failing
    # sources (ARP fails on this host; the guest has no agent channel) were skipped
    assert 'could not list %s' % UNREACHABLE in err and 'the other hosts are listed' in err
    assert "2 guests are named '%s'" % names['dup'] in err
    assert 'skipped address source arp' in err


def test_strict_makes_an_unreachable_uri_fatal(bed):
    path = write_inventory(bed['tmp'], 'strict', {
        'uris': ['qemu:///system', UNREACHABLE], 'strict': True, 'name_pattern': '^%s-' % bed['prefix']})
    # The source fails as a whole (Ansible then warns, and stops with this setting).
    rc, data, err = inventory(path, tmp=bed['tmp'])
    assert rc == 0 and data['_meta']['hostvars'] == {}
    assert 'could not list %s' % UNREACHABLE in err and 'Connection refused' in err
    rc, _data, err = inventory(path, tmp=bed['tmp'], env={'ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED': '1'})
    assert rc != 0 and 'could not list %s' % UNREACHABLE in err


def test_filters_states_and_options(bed):
    names = bed['names']
    path = write_inventory(bed['tmp'], 'filtered', {
        'uris': ['qemu:///system', 'lxc:///'], 'name_pattern': '^%s-' % bed['prefix'],
        'states': ['running', 'paused'],
        'filters': [{'exclude': "virt_tags.role | default('') == 'db'"}, {'include': "virt_driver == 'lxc'"},
                    {'include': "'web' in virt_name"}, {'exclude': True}],
        'ansible_host_from': 'name', 'container_connection': True, 'qualify_names': True,
        'default_groups': False,
    })
    rc, data, err = inventory(path, tmp=bed['tmp'])
    assert rc == 0, err
    hostvars = data['_meta']['hostvars']
    web, ct = '%s_localhost_qemu' % names['web'], '%s_localhost_lxc' % names['ct']
    assert set(hostvars) == {web, ct}
    assert hostvars[web]['ansible_host'] == names['web']  # the guest's own name, not the qualified one
    assert hostvars[ct]['ansible_connection'] == 'virtkit.virt.lxc'
    assert hostvars[ct]['ansible_host'] == names['ct']
    assert not [g for g in data if g.startswith('virt_')]


def test_raw_in_a_container_through_the_lxc_connection(bed):
    """The inventory's container hosts, as they come, run `raw` through virtkit.virt.lxc."""
    names = bed['names']
    path = write_inventory(bed['tmp'], 'containers', {
        'uris': ['lxc:///'], 'name_pattern': '^%s-' % bed['prefix'], 'container_connection': True})
    playbook = bed['tmp'] / 'raw.yml'
    playbook.write_text(textwrap.dedent("""\
        - hosts: virt_lxc:&virt_running
          gather_facts: false
          tasks:
            - raw: echo "INSIDE $(cat /proc/1/cmdline | tr '\\0' ' ')"
              register: inside
            - debug:
                msg: "{{ inventory_hostname }} says {{ inside.stdout | trim }}"
        """))
    proc = subprocess.run([os.path.join(BIN, 'ansible-playbook'), '-i', path, str(playbook)],
                          capture_output=True, text=True, env=ansible_env(bed['tmp']), timeout=300, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    # PID 1 in the container is its init (which exec'd udhcpc), not the host's
    assert '%s says INSIDE udhcpc -f -i eth0' % names['ct'] in out
    assert 'ok=2' in out and names['dup'] not in out.split('PLAY RECAP')[1]  # shut off: not in the play


def test_cache_flush_and_refresh_inventory(bed):
    prefix = bed['prefix']
    cache_dir = bed['tmp'] / 'cache'
    path = write_inventory(bed['tmp'], 'cached', {
        'uris': ['qemu:///system'], 'name_pattern': '^%s-' % prefix, 'cache': True,
        'cache_plugin': 'ansible.builtin.jsonfile', 'cache_connection': str(cache_dir), 'cache_timeout': 3600})
    late, later = '%s-late' % prefix, '%s-later' % prefix
    try:
        rc, data, err = inventory(path, '--flush-cache', tmp=bed['tmp'])
        assert rc == 0, err
        assert late not in data['_meta']['hostvars'] and os.listdir(str(cache_dir))
        virsh('qemu:///system', 'define', '/dev/stdin',
              stdin=guest_xml(late, None, None, None, None, None, {}, paused_only=True))
        rc, data, err = inventory(path, tmp=bed['tmp'])
        assert rc == 0, err
        assert late not in data['_meta']['hostvars']  # the cached listing
        rc, data, err = inventory(path, '--flush-cache', tmp=bed['tmp'])
        assert rc == 0, err
        assert data['_meta']['hostvars'][late]['virt_state'] == 'shutoff'

        # meta: refresh_inventory lists anew in the middle of a playbook
        playbook = bed['tmp'] / 'refresh.yml'
        playbook.write_text(textwrap.dedent('''\
            - hosts: localhost
              gather_facts: false
              tasks:
                - assert:
                    that: ["'{late}' in groups.all", "'{later}' not in groups.all"]
                - command: virsh -q -c qemu:///system define {xml}
                - meta: refresh_inventory
            - hosts: {later}
              gather_facts: false
              tasks:
                - debug:
                    msg: "REFRESHED {{{{ inventory_hostname }}}} {{{{ virt_state }}}} {{{{ groups.virt_shutoff | length }}}}"
            ''').format(late=late, later=later, xml=bed['tmp'] / 'later.xml'))
        (bed['tmp'] / 'later.xml').write_text(guest_xml(later, None, None, None, None, None, {}, paused_only=True))
        proc = subprocess.run([os.path.join(BIN, 'ansible-playbook'), '-i', path, str(playbook),
                               '-e', 'ansible_python_interpreter=%s' % sys.executable, '-c', 'local'],
                              capture_output=True, text=True, env=ansible_env(bed['tmp']), timeout=300, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert 'REFRESHED %s shutoff' % later in proc.stdout
    finally:
        for name in (late, later):
            virsh('qemu:///system', 'undefine', name, check=False)


def test_credentials_per_uri_vaulted_never_logged_nor_cached(bed):
    """A SASL listener (the bed's qemu+tcp on 127.0.0.1) with a vaulted
    password, beside the same daemon asked with a wrong one."""
    uri, username, password = bed['sasl']
    tmp = bed['tmp']
    (tmp / 'vault-pass').write_text('vk-inventory-test\n')
    vaulted = subprocess.run(
        [os.path.join(BIN, 'ansible-vault'), 'encrypt_string', '--vault-password-file', str(tmp / 'vault-pass'),
         '--name', 'password', '--', password], capture_output=True, text=True, env=ansible_env(tmp), check=True).stdout
    wrong_uri = uri.replace('127.0.0.1', 'localhost')
    good_entry = '  - uri: %s\n    auth:\n      username: %s\n%s' % (uri, username, textwrap.indent(vaulted, ' ' * 6))
    wrong_entry = '  - uri: %s\n    auth: {username: %s, password: not-the-password}\n' % (wrong_uri, username)

    def run(name, entries):
        path = tmp / ('%s.virt.yml' % name)
        path.write_text('plugin: virtkit.virt.guests\nname_pattern: "^%s-web$"\ncache: true\n'
                        'cache_plugin: ansible.builtin.jsonfile\ncache_connection: %s\nuris:\n%s'
                        % (bed['prefix'], tmp / 'sasl-cache', ''.join(entries)))
        rc, data, err = inventory(str(path), '-vvvv', '--vault-password-file', str(tmp / 'vault-pass'), tmp=tmp)
        assert rc == 0, err
        return data, err

    # the wrong password: a warning, the other URI still listed
    data, err_wrong = run('sasl_both', [good_entry, wrong_entry])
    assert set(data['_meta']['hostvars']) == {bed['names']['web']}, err_wrong
    web = data['_meta']['hostvars'][bed['names']['web']]
    assert web['virt_uri'] == uri and web['ansible_host'] == bed['ip_web'] and web['virt_host'] == '127.0.0.1'
    assert 'could not list %s' % wrong_uri in err_wrong and 'the other hosts are listed' in err_wrong
    # all good: the listing is cached, and no password is in it nor in what was printed
    data, err = run('sasl', [good_entry])
    assert set(data['_meta']['hostvars']) == {bed['names']['web']}, err
    cached = ''.join((tmp / 'sasl-cache' / name).read_text() for name in os.listdir(str(tmp / 'sasl-cache')))
    assert bed['names']['web'] in cached
    for text in (err_wrong, err, cached, json.dumps(data)):
        assert password not in text and 'not-the-password' not in text

    # bad input names the item, before anything is listed
    bad = write_inventory(tmp, 'badauth', {'uris': [{'uri': uri, 'auth': {'user': username}}]})
    rc, _data, err = inventory(bad, tmp=tmp, env={'ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED': '1'})
    assert rc != 0 and 'Invalid uris[0].auth: unknown key(s) user' in err


# -- SSH -------------------------------------------------------------------------------

# The sshd fixture (our own sshd on 127.0.0.1) is in conftest.py, shared with the
# lxc connection tests.


def ssh_options(sshd_info, known_hosts='known_hosts'):
    return {'ssh_hosts': ['127.0.0.1'], 'ssh_port': sshd_info['port'], 'ssh_user': 'root',
            'ssh_key_file': str(sshd_info['dir'] / 'client'),
            'known_hosts_file': str(sshd_info['dir'] / known_hosts)}


@pytest.mark.parametrize('helper', ['libvirt-python', 'virsh'])
def test_ssh_hosts(bed, sshd, helper, tmp_path):
    python = sys.executable
    if helper == 'virsh':
        # A Python without libvirt-python on the "host": a bare virtualenv.
        subprocess.run([sys.executable, '-m', 'venv', '--without-pip', str(tmp_path / 'bare')], check=True)
        python = str(tmp_path / 'bare' / 'bin' / 'python')
    names = bed['names']
    path = write_inventory(bed['tmp'], 'ssh', dict(
        ssh_options(sshd), ssh_uris=['qemu:///system', 'lxc:///'], ssh_python=python,
        uris=['qemu:///system'], name_pattern='^%s-(web|ct)$' % bed['prefix']))
    rc, data, err = inventory(path, '-vvv', tmp=bed['tmp'])
    assert rc == 0, err
    hostvars = data['_meta']['hostvars']
    # the same guest through qemu:///system and through SSH: two hosts, the later qualified
    web_ssh, ct_ssh = '%s_127.0.0.1_qemu' % names['web'], names['ct']  # ct: listed once, keeps its name
    assert set(hostvars) == {names['web'], web_ssh, ct_ssh}
    assert hostvars[web_ssh]['ansible_host'] == bed['ip_web']
    assert hostvars[web_ssh]['virt_host'] == '127.0.0.1' and hostvars[web_ssh]['virt_uri'] == 'qemu:///system'
    assert hostvars[web_ssh]['virt_tags'] == {'role': 'web', 'env': 'ci-test'}
    assert hostvars[ct_ssh]['ansible_host'] == bed['ip_ct'] and hostvars[ct_ssh]['virt_type'] == 'lxc'
    assert members(data, 'virt_host_127_0_0_1') == {web_ssh, ct_ssh}
    assert 'listed through %s' % helper in err


@pytest.mark.parametrize('known_hosts, says', [
    ('wrong_known_hosts', 'does not match the one in'),
    ('empty_known_hosts', 'is not in'),
])
def test_ssh_host_key_refused(bed, sshd, known_hosts, says):
    path = write_inventory(bed['tmp'], 'badkey', dict(ssh_options(sshd, known_hosts),
                                                      name_pattern='^%s-' % bed['prefix']))
    rc, data, err = inventory(path, tmp=bed['tmp'])
    assert rc == 0, err
    assert data['_meta']['hostvars'] == {}
    assert says in err and 'refused' in err and str(sshd['dir'] / known_hosts) in err
    started = time.monotonic()
    path = write_inventory(bed['tmp'], 'badkey_strict', dict(ssh_options(sshd, known_hosts), strict=True))
    rc, _data, err = inventory(path, tmp=bed['tmp'], env={'ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED': '1'})
    assert rc != 0 and says in err
    assert time.monotonic() - started < 60
