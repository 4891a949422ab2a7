"""Integration tests run real ansible-playbook against the real libvirtd.

Each target under targets/ has the layout ansible-test uses
(targets/NAME/tasks/main.yml) and runs as a role in a generated playbook.
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import BED_CACHE, bed_facts  # noqa: E402  (path set just above)


@pytest.fixture(scope='session')
def bed():
    facts = bed_facts()
    if not facts:
        pytest.fail('the test bed is not ready: run tests/bed/setup.sh (no %s/guest.env)' % BED_CACHE)
    return facts


def _free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture(scope='session')
def sshd(tmp_path_factory):
    """An sshd of our own on 127.0.0.1 with generated host and client keys,
    a matching known_hosts, a wrong one and an empty one."""
    import socket
    import subprocess
    import textwrap
    from harness import wait_for
    if not os.path.exists('/usr/sbin/sshd'):
        pytest.fail('openssh-server is not installed: tests/bed/setup.sh installs it')
    tmp = tmp_path_factory.mktemp('sshd')
    port = _free_port()
    for key in ('host', 'client', 'other_host'):
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', str(tmp / key)], check=True)
    (tmp / 'authorized_keys').write_text((tmp / 'client.pub').read_text())
    (tmp / 'sshd_config').write_text(textwrap.dedent('''\
        Port {port}
        ListenAddress 127.0.0.1
        HostKey {tmp}/host
        PidFile {tmp}/sshd.pid
        AuthorizedKeysFile {tmp}/authorized_keys
        PermitRootLogin prohibit-password
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        UsePAM no
        StrictModes no
        ''').format(port=port, tmp=tmp))
    host_key = (tmp / 'host.pub').read_text().split()
    other_key = (tmp / 'other_host.pub').read_text().split()
    (tmp / 'known_hosts').write_text('[127.0.0.1]:%d %s %s\n' % (port, host_key[0], host_key[1]))
    (tmp / 'wrong_known_hosts').write_text('[127.0.0.1]:%d %s %s\n' % (port, other_key[0], other_key[1]))
    (tmp / 'empty_known_hosts').write_text('')
    os.makedirs('/run/sshd', exist_ok=True)
    with open(str(tmp / 'sshd.log'), 'w') as log:
        proc = subprocess.Popen(['/usr/sbin/sshd', '-D', '-e', '-f', str(tmp / 'sshd_config')],
                                stdout=subprocess.DEVNULL, stderr=log)
    try:
        def accepting():
            try:
                socket.create_connection(('127.0.0.1', port), timeout=1).close()
                return True
            except OSError:
                return proc.poll() is not None and pytest.fail((tmp / 'sshd.log').read_text())
        wait_for(accepting, 20, interval=0.2, what='sshd on 127.0.0.1:%d' % port)
        yield {'port': port, 'dir': tmp}
    finally:
        proc.terminate()
        proc.wait(timeout=20)
