"""Helpers for the tests that boot the bed's real Debian guest (tests/bed/image.sh):
its facts, SSH keys made for the run, the cloud-init user data that seeds them,
the virtkit.virt.guests inventory that reaches the guest, and `ansible` ad hoc.

SSH host keys: the guest's ed25519 host key is made by the test and handed to
cloud-init in the seed (`ssh_keys`), and the test writes the matching
known_hosts line itself. Ansible then connects with StrictHostKeyChecking=yes:
no host key is trusted on first use, nothing is turned off, and a guest that
answers with that key has read our seed (a proof of its own).
"""
import json
import os
import shlex
import subprocess
import sys
import time

import guest_plays
from harness import BED_CACHE, collections_path, wait_for

# How long one boot may take here: SSH after 36-56 s on a quiet host, up to
# ~150 s with colleagues' TCG guests on the two cores (tests/bed/REAL_GUEST_NOTES.md).
BOOT_TIMEOUT = 420
GUEST_PYTHON = '/usr/bin/python3'
RUNCMD_FILE = '/var/tmp/virtkit-runcmd'


def debian_facts():
    """DEBIAN_IMAGE, DEBIAN_KERNEL, ... of the bed's debian.env (keys lower-cased), {} without it."""
    facts = {}
    path = os.path.join(BED_CACHE, 'debian.env')
    if os.path.exists(path):
        with open(path) as handle:
            for line in handle:
                line = line.strip()
                if line and not line.startswith('#') and '=' in line:
                    key, value = line.split('=', 1)
                    facts[key.strip().lower()] = shlex.split(value)[0] if value.strip() else ''
    return facts


def make_keys(directory, comment):
    """A client key (``id``) and a host key (``host``) for one guest, ed25519."""
    keys = {}
    for name in ('id', 'host'):
        path = os.path.join(str(directory), name)
        if not os.path.exists(path):
            subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', '%s-%s' % (comment, name),
                            '-f', path], check=True)
        with open(path) as handle:
            private = handle.read()
        with open(path + '.pub') as handle:
            public = handle.read().strip()
        keys[name] = {'path': path, 'private': private, 'public': public}
    return keys


def user_data(user, keys, marker, extra=None):
    """#cloud-config for one guest: the user with the client key and sudo,
    the host key, a runcmd marker. One string per runcmd entry: list items
    of a no_log option (user_data is one) would be masked wherever they
    show in the module's result."""
    data = {
        'users': [{'name': user, 'shell': '/bin/bash', 'sudo': 'ALL=(ALL) NOPASSWD:ALL', 'lock_passwd': True,
                   'ssh_authorized_keys': [keys['id']['public']]}],
        'ssh_keys': {'ed25519_private': keys['host']['private'], 'ed25519_public': keys['host']['public']},
        'runcmd': ['echo %s > %s' % (marker, RUNCMD_FILE)],
    }
    data.update(extra or {})
    return data


def write_known_hosts(path, entries):
    """``entries``: [(address, keys)]; the guest's own host key for its address."""
    with open(str(path), 'w') as handle:
        for address, keys in entries:
            handle.write('%s %s\n' % (address, ' '.join(keys['host']['public'].split()[:2])))


def ssh_args(known_hosts):
    return '-o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes -o ConnectTimeout=10' % known_hosts


def write_inventory(path, name_pattern, user, keys, known_hosts, ip_sources=('lease',)):
    """A virtkit.virt.guests inventory of the guests whose names match, with
    what Ansible needs to log in to them over SSH."""
    quote = json.dumps  # a YAML string that is also a Jinja2 string literal for compose
    lines = [
        'plugin: virtkit.virt.guests',
        'uris: [qemu:///system]',
        'name_pattern: %s' % quote(name_pattern),
        'ip_sources: %s' % json.dumps(list(ip_sources)),
        'compose:',
        '  ansible_user: %s' % quote(quote(user)),
        '  ansible_ssh_private_key_file: %s' % quote(quote(keys['id']['path'])),
        '  ansible_ssh_common_args: %s' % quote(quote(ssh_args(known_hosts))),
        '  ansible_python_interpreter: %s' % quote(quote(GUEST_PYTHON)),
    ]
    with open(str(path), 'w') as handle:
        handle.write('\n'.join(lines) + '\n')
    return str(path)


def ansible_env(**more):
    env = dict(os.environ,
               ANSIBLE_COLLECTIONS_PATH=collections_path(),
               ANSIBLE_NOCOLOR='1',
               ANSIBLE_RETRY_FILES_ENABLED='0',
               ANSIBLE_LOCALHOST_WARNING='0',
               ANSIBLE_PIPELINING='1',  # one SSH round trip per task: TCG guests are slow to answer
               ANSIBLE_CALLBACK_RESULT_FORMAT='yaml')
    env.update(more)
    return env


def run_ansible(tool, args, timeout=600):
    """``ansible``, ``ansible-inventory`` (``tool``) of this interpreter's environment; a CompletedProcess."""
    cmd = [os.path.join(os.path.dirname(sys.executable), tool)] + list(args)
    return subprocess.run(cmd, env=ansible_env(), capture_output=True, text=True, timeout=timeout, check=False)


# The inventory lists every domain of the host; one that another test
# undefines meanwhile can fail the whole URI ("could not list qemu:///system:
# ... Domain not found"; the listing skips such domains on the reliability
# branch). Inventory-driven runs try again when they meet that.
LISTING_RACE = 'could not list qemu:///system'
TRIES = 3


def inventory_host(inventory, host):
    """The host variables the inventory gives ``host``."""
    for _attempt in range(TRIES):
        result = run_ansible('ansible-inventory', ['-i', inventory, '--host', host], timeout=120)
        if result.returncode == 0 or LISTING_RACE not in result.stderr:
            break
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(result.stdout)


def virsh(*args, timeout=120):
    return subprocess.run(['virsh', '-q', '-c', 'qemu:///system'] + list(args), capture_output=True, text=True,
                          check=False, timeout=timeout)


def nvram_path(domain):
    """The NVRAM file libvirt chose for a running UEFI guest (its live XML only says it)."""
    import re
    found = re.search(r'<nvram[^>]*>([^<]+)</nvram>', virsh('dumpxml', domain).stdout)
    return found.group(1) if found else None


def wait_until_ssh(inventory, host, timeout=BOOT_TIMEOUT):
    """Until ``ansible -m ping`` answers (SSH up, the seeded user and keys in place)."""
    started = time.monotonic()
    last = {}

    def pong():
        last['result'] = run_ansible('ansible', ['-i', inventory, host, '-m', 'ansible.builtin.ping', '-o',
                                                 '-T', '10'], timeout=120)
        return last['result'].returncode == 0
    try:
        wait_for(pong, timeout, interval=3, what='SSH to %s' % host)
    except AssertionError:
        raise AssertionError('no SSH to %s within %s s; last try:\n%s%s' % (
            host, timeout, last['result'].stdout[-2000:], last['result'].stderr[-2000:]))
    return time.monotonic() - started


# What the real guests need, made by the modules: an isolated network, a dir
# pool and the bed's Debian image imported as a volume (vk_* variables).
SETUP = guest_plays.SETUP + """
    - name: The Debian image, imported once as the guests' base volume
      virtkit.virt.volume:
        name: "{{ vk_image_name }}"
        pool: "{{ vk_pool }}"
        import:
          path: "{{ vk_image }}"
"""
