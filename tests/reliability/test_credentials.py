"""Permission and credentials: a read-only connection for a changing task, a
SASL user with a wrong password, an SSH host whose key changed (inventory and
lxc connection): clear refusals, nothing changed, and no secret in any
output even at -vvvv. Every output of the suite is checked for every
password, key and token it used (suite.Report.scan); this file adds the
ones only it uses."""
import json
import os
import secrets
import subprocess
import sys

import pytest

from helpers import make_dir_pool, remove
from suite import collections_path, difference, run_module, run_play

pytestmark = pytest.mark.usefixtures('report')


@pytest.fixture(scope='module')
def shutoff_domain(daemon, prefix):
    name = '%s-ro' % prefix
    xml = ("<domain type='qemu'><name>%s</name><memory unit='MiB'>128</memory><os><type arch='x86_64'>hvm</type>"
           "</os></domain>" % name)
    assert daemon.virsh('define', '/dev/stdin', stdin=xml).returncode == 0
    yield name
    remove(daemon, ('domain', name))


def test_a_read_only_connection_for_a_changing_task(daemon, report, shutoff_domain, tmp_path):
    before = daemon.snapshot()
    result = run_module('domain', {'uri': daemon.uri(readonly=True), 'name': shutoff_domain, 'state': 'present',
                                   'memory': 192}, tmp_path, report)
    assert result.get('failed') and 'read-only' in result['msg'] and result['changed'] is False, result
    assert 'Traceback' not in result['msg']
    assert difference(before, daemon.snapshot()) == ''
    report.add('credentials', 'a changing task over a read-only connection (the daemon\'s read-only socket)',
               'domain memory 128 -> 192 MiB', result['msg'], left='nothing (the definition unchanged)')


SASL_PLAY = """- hosts: localhost
  gather_facts: false
  tasks:
    - name: A network over SASL
      virtkit.virt.network:
        uri: "{{ sasl_uri }}"
        auth: {username: "{{ sasl_user }}", password: "{{ sasl_password }}"}
        name: "{{ net }}"
        mode: isolated
        state: inactive
"""


def test_a_sasl_user_with_a_wrong_password(daemon, report, prefix, tmp_path):
    port, user, right = daemon.sasl
    wrong = report.secret('a wrong SASL password', 'wrong-' + secrets.token_urlsafe(12))
    uri = 'qemu+tcp://127.0.0.1:%d/system' % port
    net = '%s-sasl' % prefix
    before = daemon.snapshot()
    rc, out = run_play(SASL_PLAY, tmp_path, report, dict(sasl_uri=uri, sasl_user=user, sasl_password=wrong, net=net),
                       verbosity=4, name='sasl-wrong')
    assert rc != 0 and 'authentication failed' in out, out[-3000:]
    assert difference(before, daemon.snapshot()) == ''
    saw = ' '.join(next(line.strip() for line in out.splitlines() if 'authentication failed' in line).split())
    try:
        rc, out = run_play(SASL_PLAY, tmp_path, report, dict(sasl_uri=uri, sasl_user=user, sasl_password=right,
                                                             net=net), verbosity=4, name='sasl-right')
        assert rc == 0, out[-3000:]
    finally:
        remove(daemon, ('network', net))
    report.add('credentials', 'a SASL user with a wrong password (qemu+tcp, the private daemon\'s own listener), '
               'run at -vvvv', 'network task with auth {username, password}', saw,
               left='nothing; the right password then worked; neither password in any output')


def ssh_known_hosts(sshd, name):
    return str(sshd['dir'] / name)


def test_an_ssh_host_with_a_changed_key_inventory(daemon, report, sshd, tmp_path):
    key = report.secret('SSH client private key', (sshd['dir'] / 'client').read_text().strip().splitlines()[1])
    assert key
    config = tmp_path / 'ssh.virt.yml'
    config.write_text(json.dumps({'plugin': 'virtkit.virt.guests', 'ssh_hosts': ['127.0.0.1'],
                                  'ssh_port': sshd['port'], 'ssh_user': 'root',
                                  'ssh_key_file': str(sshd['dir'] / 'client'),
                                  'known_hosts_file': ssh_known_hosts(sshd, 'wrong_known_hosts'), 'strict': True}))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_NOCOLOR='1',
               ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED='1')
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-inventory'), '-i', str(config),
                           '--list', '-vvvv'], capture_output=True, text=True, env=env, timeout=120, check=False)
    out = report.scan(proc.stdout + proc.stderr, 'inventory, changed host key')
    assert proc.returncode != 0 and 'does not match the one in' in out and 'refused' in out
    saw = next(line.strip() for line in out.splitlines() if 'does not match' in line)
    report.add('credentials', 'inventory over SSH to a host whose key changed (strict), -vvvv',
               'ansible-inventory --list -vvvv', saw, left='nothing')


LXC_PLAY = """- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.raw: 'true'
"""


def test_an_ssh_host_with_a_changed_key_lxc_connection(daemon, report, sshd, tmp_path):
    inventory = tmp_path / 'hosts.yml'
    inventory.write_text(json.dumps({'all': {'hosts': {'some-container': {
        'ansible_connection': 'virtkit.virt.lxc', 'virt_host': '127.0.0.1', 'virt_port': sshd['port'],
        'virt_user': 'root', 'virt_key_file': str(sshd['dir'] / 'client'),
        'virt_known_hosts_file': ssh_known_hosts(sshd, 'wrong_known_hosts')}}}}))
    play = tmp_path / 'lxc.yml'
    play.write_text(LXC_PLAY)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_NOCOLOR='1')
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', str(inventory),
                           str(play), '-vvvv'], capture_output=True, text=True, env=env, timeout=180, check=False)
    out = report.scan(proc.stdout + proc.stderr, 'lxc connection, changed host key')
    assert proc.returncode != 0 and 'UNREACHABLE' in out and 'does not match' in out and 'refused' in out
    saw = next(line.strip() for line in out.splitlines() if 'does not match' in line)
    report.add('credentials', 'the lxc connection plugin over SSH to a host whose key changed, -vvvv',
               'a raw task in a container on that host', saw, left='nothing (nothing ran there)')


SECRETS_PLAY = """- hosts: localhost
  gather_facts: false
  module_defaults:
    group/virtkit.virt.virt:
      uri: "{{ uri }}"
  tasks:
    - name: A guest with a VNC password
      virtkit.virt.domain:
        name: "{{ prefix }}-vnc"
        virt_type: qemu
        memory: 128
        state: present
        graphics: {type: vnc, password: "{{ vnc_password }}"}
    - name: A guest from XML with a display password, and a patch that sets another
      virtkit.virt.domain:
        name: "{{ prefix }}-xmlpw"
        state: present
        xml: >-
          <domain type='qemu'><name>{{ prefix }}-xmlpw</name><memory unit='MiB'>128</memory>
          <os><type arch='x86_64'>hvm</type></os>
          <devices><graphics type='vnc' passwd='{{ xml_password }}'/></devices></domain>
        xml_patches:
          - {xpath: /domain/devices/graphics, attribute: passwd, value: "{{ patch_password }}"}
    - name: A cloud-init seed with a token in its user data
      virtkit.virt.volume:
        name: seed.iso
        pool: "{{ pool }}"
        cloud_init:
          user_data: "#cloud-config\\nwrite_files: [{path: /etc/token, content: {{ token }}}]\\n"
    - name: An image from a URL with credentials (nothing listens there)
      virtkit.virt.volume:
        name: from-url.img
        pool: "{{ pool }}"
        import: {url: "http://ci:{{ url_password }}@127.0.0.1:9/image.img"}
      ignore_errors: true
      register: fetched
    - name: The failure said why without the password
      ansible.builtin.assert:
        that: [fetched is failed, "'Failed to fetch' in fetched.msg"]
      when: not ansible_check_mode  # check mode fetches nothing
"""


def test_no_secret_at_vvvv_in_tasks_that_carry_them(daemon, report, prefix, tmp_path):
    pool = '%s-sec' % prefix
    make_dir_pool(daemon, pool, str(tmp_path / 'pool'))
    values = dict(uri=daemon.uri(), prefix=prefix, pool=pool,
                  vnc_password=report.secret('VNC password', 'Vk' + secrets.token_hex(3)),
                  token=report.secret('cloud-init token', 'tok-' + secrets.token_hex(12)),
                  url_password=report.secret('URL password', 'pw' + secrets.token_hex(8)),
                  xml_password=report.secret("VNC password in a user's XML", 'Xp' + secrets.token_hex(3)),
                  patch_password=report.secret('VNC password in an XML patch', 'Pp' + secrets.token_hex(3)))
    try:
        for check in (True, False):
            rc, out = run_play(SECRETS_PLAY, tmp_path, report, values, check=check, verbosity=4,
                               name='secrets-%s' % ('check' if check else 'real'),
                               env={'ANSIBLE_DIFF_ALWAYS': '1'})
            assert rc == 0, out[-4000:]
        fetch = ' '.join(next(line for line in out.splitlines() if 'Failed to fetch' in line).split())
        report.add('credentials', 'tasks carrying a VNC password (an option, in a user\'s XML, in an XML patch), a '
                   'cloud-init token and a URL password, check mode and real, --diff, -vvvv',
                   'domain (options, xml and xml_patches), volume (seed), volume (import from URL)',
                   'ok; none of the five in any output; the import failed with: %s' % fetch,
                   left='the guests and the seed, as asked (removed after)')
    finally:
        remove(daemon, ('domain', '%s-vnc' % prefix), ('domain', '%s-xmlpw' % prefix), ('pool', pool))
