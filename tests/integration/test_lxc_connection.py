"""The virtkit.virt.lxc connection plugin against real LXC containers:
a Debian rootfs with Python (ordinary modules) and a busybox one (raw), on
the controller and through SSH to 127.0.0.1, and refused host keys."""
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import pytest

from harness import run_playbook, unique_prefix, wait_for

CONTAINER_XML = """<domain type='lxc'>
  <name>{name}</name>
  <memory unit='MiB'>256</memory>
  <os><type>exe</type><init>/bin/sh</init><initarg>-c</initarg><initarg>exec sleep 100000</initarg></os>
  <devices>
    <filesystem type='mount'><source dir='{rootfs}'/><target dir='/'/></filesystem>
    <console type='pty'/>
  </devices>
</domain>"""

PLAY = """
- hosts: all
  gather_facts: true
  tasks:
    - name: Facts came from inside the container
      ansible.builtin.assert:
        that:
          - ansible_distribution == 'Debian'
          - ansible_python.executable == '/usr/bin/python3'
    - ansible.builtin.copy: {content: "hello\\n", dest: "/root/{{ file_id }}.txt"}
      register: first
    - ansible.builtin.copy: {content: "hello\\n", dest: "/root/{{ file_id }}.txt"}
      register: second
    - ansible.builtin.command: cat /root/{{ file_id }}.txt
      register: out
      changed_when: false
    - ansible.builtin.command: id -un
      become: true
      become_method: su
      become_user: nobody
      become_flags: "-s /bin/sh"
      register: who
      changed_when: false
    - ansible.builtin.fetch: {src: "/root/{{ file_id }}.txt", dest: "{{ fetch_to }}/", flat: true}
    - ansible.builtin.assert:
        that: [first is changed, second is not changed, out.stdout == 'hello', who.stdout == 'nobody']
"""


def virsh(*args, stdin=None):
    return subprocess.run(['virsh', '-q', '-c', 'lxc:///'] + list(args), input=stdin, text=True,
                          capture_output=True, check=False)


def start_container(name, rootfs, template=CONTAINER_XML, **values):
    defined = virsh('define', '/dev/stdin', stdin=template.format(name=name, rootfs=rootfs, **values))
    assert defined.returncode == 0, defined.stderr
    started = virsh('start', name)
    assert started.returncode == 0, started.stderr
    wait_for(lambda: virsh('domstate', name).stdout.strip() == 'running', 30, interval=0.2,
             what='container %s to run' % name)


def remove_container(name):
    virsh('destroy', name)
    virsh('undefine', name)


@pytest.fixture(scope='module')
def python_container(bed, tmp_path_factory):
    source = os.path.join(os.environ.get('VIRTKIT_BED_CACHE', '/var/cache/virtkit-bed'), 'rootfs-python')
    if not os.path.exists(os.path.join(source, 'usr', 'bin', 'python3')):
        pytest.fail('the bed has no Python rootfs at %s: run tests/bed/setup.sh' % source)
    tmp = tmp_path_factory.mktemp('pyct')
    rootfs = str(tmp / 'rootfs')
    subprocess.run(['cp', '-a', '--reflink=auto', source, rootfs], check=True)  # the cache stays pristine
    name = unique_prefix() + '-py'
    try:
        start_container(name, rootfs)
        yield name
    finally:
        remove_container(name)
        shutil.rmtree(rootfs, ignore_errors=True)


@pytest.fixture(scope='module')
def busybox_container(tmp_path_factory):
    rootfs = tmp_path_factory.mktemp('bbct') / 'rootfs'
    (rootfs / 'bin').mkdir(parents=True)
    shutil.copy('/bin/busybox', str(rootfs / 'bin' / 'busybox'))
    for applet in ('sh', 'sleep', 'cat', 'echo', 'id', 'ls'):
        os.symlink('busybox', str(rootfs / 'bin' / applet))
    name = unique_prefix() + '-bb'
    try:
        start_container(name, str(rootfs))
        yield name
    finally:
        remove_container(name)


USERNS_XML = """<domain type='lxc'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  <os><type>exe</type><init>/bin/sh</init><initarg>-c</initarg><initarg>exec sleep 100000</initarg></os>
  <features><privnet/></features>
  <idmap><uid start='0' target='{base}' count='65536'/><gid start='0' target='{base}' count='65536'/></idmap>
  <devices>
    <filesystem type='mount'><source dir='{rootfs}'/><target dir='/'/></filesystem>
    <console type='pty'/>
  </devices>
</domain>"""
USERNS_BASE = 300000


@pytest.fixture(scope='module')
def userns_container():
    """A busybox container in a user namespace: its root is host uid USERNS_BASE."""
    # Not under pytest's private (0700) tmp: the mapped root must reach its rootfs.
    top = tempfile.mkdtemp(prefix='vk-userns-', dir='/var/tmp')
    rootfs = pathlib.Path(top) / 'rootfs'
    name = unique_prefix() + '-ns'
    try:
        os.chmod(top, 0o755)
        for sub in ('bin', 'tmp', 'root'):
            (rootfs / sub).mkdir(parents=True)
        shutil.copy('/bin/busybox', str(rootfs / 'bin' / 'busybox'))
        for applet in ('sh', 'sleep', 'cat', 'echo', 'id', 'ls', 'rm', 'mkdir', 'chmod'):
            os.symlink('busybox', str(rootfs / 'bin' / applet))
        subprocess.run(['chown', '-R', '%d:%d' % (USERNS_BASE, USERNS_BASE), str(rootfs)], check=True)
        start_container(name, rootfs, USERNS_XML, base=USERNS_BASE)
        yield name, rootfs
    finally:
        remove_container(name)
        shutil.rmtree(top, ignore_errors=True)


USERNS_PLAY = """
- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.raw: id -u; id -g; (echo made > /root/{{ file_id }} && cat /root/{{ file_id }}) 2>/dev/null || echo cannot-write
      register: out
    - ansible.builtin.raw: exit 7
      register: failing
      ignore_errors: true
    - ansible.builtin.assert:
        that:
          - out.stdout_lines == expect_lines
          - failing.rc == 7
"""


@pytest.mark.parametrize('how', ['controller', 'ssh', 'ssh-no-libvirt-python'])
def test_a_user_namespace_container_is_entered_as_its_root(userns_container, sshd, tmp_path, how):
    name, rootfs = userns_container
    hostvars = {'ansible_connection': 'virtkit.virt.lxc'}
    expect = '0'
    if how != 'controller':
        hostvars = dict(ssh_vars(sshd, 'known_hosts'), virt_lxc_python=sys.executable)
    if how == 'ssh-no-libvirt-python':
        subprocess.run([sys.executable, '-m', 'venv', '--without-pip', str(tmp_path / 'bare')], check=True)
        hostvars['virt_lxc_python'] = str(tmp_path / 'bare' / 'bin' / 'python')
        expect = '65534'  # virsh lxc-enter-namespace: the unmapped host root is nobody
    lines = [expect, expect, 'made' if expect == '0' else 'cannot-write']
    result = play(tmp_path, name, hostvars, USERNS_PLAY.replace('expect_lines', repr(lines)))
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-6000:]
    if expect == '0':
        made = rootfs / 'root' / tmp_path.name
        assert made.read_text() == 'made\n' and made.stat().st_uid == USERNS_BASE  # the container's root
        assert 'run as nobody' not in out
    else:
        assert 'no libvirt-python on the container host' in out and 'run as nobody' in out


def play(tmp_path, host, hostvars, text=PLAY):
    inventory = tmp_path / 'inventory.ini'
    inventory.write_text('%s %s\n' % (host, ' '.join('%s=%s' % item for item in hostvars.items())))
    playbook = tmp_path / 'play.yml'
    playbook.write_text(text)
    env_inventory = ['-i', str(inventory)]
    # Each test writes its own file: the container is shared by the module.
    return run_playbook(str(playbook), {'fetch_to': str(tmp_path / 'fetched'), 'file_id': tmp_path.name},
                        inventory=env_inventory)


def test_ordinary_modules_on_the_controller(python_container, tmp_path):
    result = play(tmp_path, python_container, {'ansible_connection': 'virtkit.virt.lxc',
                                               'ansible_python_interpreter': '/usr/bin/python3'})
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert (tmp_path / 'fetched' / (tmp_path.name + '.txt')).read_text() == 'hello\n'


def test_raw_in_a_busybox_container(busybox_container, tmp_path):
    text = """
- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.raw: echo inside; id -u; ls /
      register: out
    - ansible.builtin.raw: exit 7
      register: failing
      ignore_errors: true
    - ansible.builtin.assert:
        that:
          - out.stdout_lines[:2] == ['inside', '0']
          - "'bin' in out.stdout_lines"
          - failing.rc == 7
"""
    result = play(tmp_path, busybox_container, {'ansible_connection': 'virtkit.virt.lxc'}, text)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]


def test_a_stopped_container_is_unreachable(tmp_path):
    text = "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.raw: 'true'\n"
    result = play(tmp_path, 'vk-no-such-container', {'ansible_connection': 'virtkit.virt.lxc'}, text)
    assert result.returncode != 0
    assert 'UNREACHABLE' in result.stdout and 'vk-no-such-container' in result.stdout


def ssh_vars(sshd, known_hosts):
    return {'ansible_connection': 'virtkit.virt.lxc', 'ansible_python_interpreter': '/usr/bin/python3',
            'virt_host': '127.0.0.1', 'virt_port': sshd['port'], 'virt_user': 'root',
            'virt_key_file': str(sshd['dir'] / 'client'),
            'virt_known_hosts_file': str(sshd['dir'] / known_hosts)}


def test_ordinary_modules_through_ssh(python_container, sshd, tmp_path):
    result = play(tmp_path, python_container, ssh_vars(sshd, 'known_hosts'))
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert (tmp_path / 'fetched' / (tmp_path.name + '.txt')).read_text() == 'hello\n'


@pytest.mark.parametrize('known_hosts,says', [('wrong_known_hosts', 'does not match'),
                                              ('empty_known_hosts', 'is not in')])
def test_ssh_host_key_refused(python_container, sshd, tmp_path, known_hosts, says):
    text = "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.raw: 'true'\n"
    result = play(tmp_path, python_container, ssh_vars(sshd, known_hosts), text)
    assert result.returncode != 0
    assert 'UNREACHABLE' in result.stdout and says in result.stdout and 'refused' in result.stdout
