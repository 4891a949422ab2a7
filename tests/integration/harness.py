"""Helpers for integration tests: the bed's facts and real ansible-playbook runs."""
import json
import os
import secrets
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TARGETS = os.path.join(HERE, 'targets')
BED_CACHE = os.environ.get('VIRTKIT_BED_CACHE', '/var/cache/virtkit-bed')


def bed_facts():
    """KEY=VALUE pairs of the bed's guest.env (kernel, initrd, ...) and
    auth.env (the SASL test user), keys lower-cased."""
    facts = {}
    for name in ('guest.env', 'auth.env', 'rootfs.env'):
        path = os.path.join(BED_CACHE, name)
        if not os.path.exists(path):
            continue
        with open(path) as handle:
            for line in handle:
                line = line.strip()
                if line and not line.startswith('#') and '=' in line:
                    key, value = line.split('=', 1)
                    facts[key.strip().lower()] = shlex.split(value)[0] if value.strip() else ''
    return facts


def unique_prefix():
    """A name prefix no other run uses (short: bridge names have 15 characters)."""
    return 'vk%s' % secrets.token_hex(3)


def collections_path():
    return os.environ.get('ANSIBLE_COLLECTIONS_PATH') or os.environ['VIRTKIT_COLLECTIONS_PATH']


def run_playbook(playbook, extra_vars=None, check=False, timeout=1800, inventory=None):
    """ansible-playbook (on localhost with this interpreter, unless ``inventory``
    gives other ``-i`` arguments); a CompletedProcess."""
    env = dict(os.environ,
               ANSIBLE_COLLECTIONS_PATH=collections_path(),
               ANSIBLE_ROLES_PATH=TARGETS,
               ANSIBLE_NOCOLOR='1',
               ANSIBLE_RETRY_FILES_ENABLED='0',
               ANSIBLE_LOCALHOST_WARNING='0',
               ANSIBLE_CALLBACK_RESULT_FORMAT='yaml')
    cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), playbook]
    if inventory is None:
        cmd += ['-i', 'localhost,', '-c', 'local', '-e', 'ansible_python_interpreter=%s' % sys.executable]
    else:
        cmd += inventory
    cmd += ['-e', json.dumps(extra_vars or {})]
    if check:
        cmd.append('--check')
    return subprocess.run(cmd, env=env, cwd=HERE, capture_output=True, text=True, timeout=timeout, check=False)


def used_ipv4_networks():
    """IPv4 networks already on this host (interfaces and libvirt networks)."""
    import ipaddress
    out = subprocess.run(['ip', '-o', '-4', 'addr', 'show'], capture_output=True, text=True, check=False).stdout
    used = []
    for line in out.splitlines():
        parts = line.split()
        if 'inet' in parts:
            used.append(ipaddress.ip_interface(parts[parts.index('inet') + 1]).network)
    return used


def free_subnets(count):
    """/24s in 192.168.128.0/17 that nothing on this host uses (isolated test networks)."""
    import ipaddress
    import random
    used = used_ipv4_networks()
    candidates = list(range(128, 255))
    random.shuffle(candidates)
    found = []
    for third in candidates:
        net = ipaddress.ip_network('192.168.%d.0/24' % third)
        if not any(net.overlaps(other) for other in used):
            found.append(net)
            if len(found) == count:
                return found
    raise RuntimeError('fewer than %d free /24s in 192.168.128.0/17 on this host' % count)


def free_subnet():
    return free_subnets(1)[0]


def wait_for(predicate, timeout, interval=1.0, what='condition'):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` s."""
    import time
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError('timed out after %ss waiting for %s' % (timeout, what))
        time.sleep(interval)


def target_skip_reason(tmp_path):
    """What a target could not test on this machine, as it wrote it to
    ``{{ vk_tmp }}/SKIPPED`` (for ``pytest.skip``), or None when it tested everything."""
    path = os.path.join(str(tmp_path), 'SKIPPED')
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return handle.read().strip() or 'the target skipped some of its tests'
