"""The modules' EXAMPLES, run against the real daemon.

tests/unit/test_examples.py holds every example task to its module's
argument spec and checks; here the examples run as ``ansible-playbook`` runs
them, one play a module, in the order they are written, their debug tasks
included. What the examples name is this run's (a unique prefix on names
and bridges, free subnets, pool folders under the test's temporary folder,
/srv under a folder of /var/tmp, the downloads served from 127.0.0.1 with
their real checksums, stand-ins for the files lookups read, the date fact);
nothing else of them is changed. Each play first makes what its examples
presuppose (``_setup``) and removes all of it in ``always``.

The base image of the domain examples is the bed's Debian image, which
boots from its disk by a BIOS (SYSLINUX) or UEFI (shim, grub): the examples
boot it, wait for addresses from the lease and the agent, clone a template
made of it, and shut it down; the snapshot
and backup examples run on the bed's TCG guest, the container examples on
busybox trees whose init takes a DHCP lease (the downloaded one an archive
of such a tree).

The fs and logical pool examples take loop devices over sparse files for the
disks they name (/dev/sdb1, /dev/sdc, /dev/sdd).

Not run here (NOT_RUN says why of each): the NAT network (test networks are
isolated), the disk-only snapshot with quiesce (the busybox guest runs no
agent; test_real_guest takes one of the Debian guest) and the migrate
examples (a second host): their options run in the integration targets.
"""
import hashlib
import http.server
import os
import shutil
import subprocess
import tarfile
import tempfile
import threading

import pytest
import yaml

from harness import free_subnets, run_playbook, task_changes, unique_prefix
from real_guest import debian_facts

from ansible_collections.virtkit.virt.tests.module_docs import PUBLIC_KEY, module_doc, with_strings

# Example tasks this machine cannot run, by module and task name: why.
NOT_RUN = {
    ('network', 'A NAT network with IPv6'): 'NAT: test networks are isolated',
    ('snapshot', 'A disk-only snapshot of a running guest in overlay files, filesystems frozen by the agent'):
        'needs a guest agent in the guest (the bed guest runs busybox; test_real_guest takes one of the Debian guest)',
}
# The names the examples give, made this run's.
NAMES = ('web1', 'app1', 'legacy', 'secure1', 'probe', 'unpriv1', 'images', 'backups', 'lab', 'lab2', 'lan', 'br0',
         'virbr-lab', 'fast', 'vg_guests', 'web2', 'debian12-template')
# The disks the pool examples name, by the size of the sparse file behind each one's loop device.
SPARE_DISKS = {'/dev/sdb1': '32M', '/dev/sdc': '16M', '/dev/sdd': '16M'}
# The image the volume example imports (any small qcow2 stands for Debian's).
IMAGE_URL = 'https://images.example.org/debian-12-generic-amd64.qcow2'
PUBLIC_KEY_LOOKUPS = ("{{ lookup('ansible.builtin.file', '~/.ssh/id_ed25519.pub') }}",
                      "{{ lookup('file', '~/.ssh/id_ed25519.pub') }}")
LEGACY_XML_LOOKUP = "{{ lookup('file', 'legacy.xml') }}"
# The root file system the container example downloads.
ROOTFS_URL = 'https://images.example.org/debian-12-rootfs.tar.xz'
# The init of the examples' busybox trees: DHCP where there is a network, then
# wait for SIGTERM (a graceful stop). A discover a second until a lease: the
# first may go out before the interface is on the bridge.
INIT = '''#!/bin/sh
export PATH=/bin
ip link set lo up
if ip link set eth0 up 2>/dev/null; then udhcpc -b -t 30 -T 1 -i eth0 -s /udhcpc.script; fi
trap 'exit 0' TERM
while :; do sleep 1; done
'''
UDHCPC_SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'bed', 'guest',
                             'udhcpc.script')


def _setup(module, names, pool_path, subnet, bed):
    """The tasks that make what ``module``'s examples presuppose."""
    network = {'virtkit.virt.network': {'name': names['lab'], 'mode': 'isolated', 'bridge': names['virbr-lab'],
                                        'ipv4': {'address': '%s.1/24' % subnet, 'dhcp': {'ranges': [
                                            {'start': '%s.100' % subnet, 'end': '%s.150' % subnet}]}}}}
    pool = {'virtkit.virt.pool': {'name': names['images'], 'type': 'dir', 'path': pool_path}}
    base = {'virtkit.virt.volume': {'pool': names['images'], 'name': 'debian-12-base.qcow2', 'capacity': '16M',
                                    'format': 'qcow2'}}
    overlay = {'virtkit.virt.volume': {'pool': names['images'], 'name': 'web1.qcow2',
                                       'backing_volume': {'name': 'debian-12-base.qcow2'}}}
    guest = {'name': names['web1'], 'memory': 64, 'virt_type': 'qemu', 'state': 'present',
             'tags': {'role': 'web', 'env': 'test'}}
    # The bed's TCG guest, running, with a qcow2 disk to snapshot and back up.
    running = {'virtkit.virt.domain': {'name': names['web1'], 'virt_type': 'qemu', 'memory': 192,
                                       'kernel': bed['kernel'], 'initrd': bed['initrd'], 'cmdline': 'console=ttyS0',
                                       'disks': [{'size': '16M', 'pool': names['images']}], 'state': 'running'}}
    backups = {'virtkit.virt.pool': {'name': names['backups'], 'type': 'dir', 'path': pool_path + '-backups'}}
    old = {'virtkit.virt.volume': {'pool': names['images'], 'name': 'old.qcow2', 'capacity': '1M', 'format': 'qcow2'}}
    small_guest = {'virtkit.virt.domain': dict(guest, disks=[{'size': '16M', 'pool': names['images']}])}
    full_backup = {'virtkit.virt.backup': {'domain': names['web1'], 'name': 'full-1',
                                           'target': {'pool': names['backups']}}}
    # The Debian image (BIOS or UEFI boot, cloud-init, the guest agent) as the examples' base image.
    debian = {'virtkit.virt.volume': {'pool': names['images'], 'name': 'debian-12-base.qcow2',
                                      'import': {'path': debian_facts()['debian_image']}}}
    # The first example's disk and the clone example's shut-off template, both on the Debian image.
    web1_disk = {'virtkit.virt.volume': {'pool': names['images'], 'name': 'web1.qcow2', 'capacity': '3G',
                                         'backing_volume': {'name': 'debian-12-base.qcow2'}}}
    template = {'virtkit.virt.domain': {'name': names['debian12-template'], 'memory': 1024, 'state': 'present',
                                        'disks': [{'size': '3G', 'pool': names['images'],
                                                   'backing_volume': 'debian-12-base.qcow2'}],
                                        'interfaces': [{'network': names['lab']}]}}
    return {
        'domain': [network, pool, debian, web1_disk, template],
        'network_info': [network],
        'pool_info': [pool],
        'volume': [pool, old],
        'volume_info': [pool, base, overlay],
        'domain_info': [{'virtkit.virt.domain': guest}],
        'snapshot_info': [pool, small_guest,
                          {'virtkit.virt.snapshot': {'domain': names['web1'], 'name': 'before-upgrade'}}],
        'container': [network],
        'snapshot': [pool, running],
        'backup': [pool, backups, running],
        'backup_info': [pool, backups, running, full_backup],
    }.get(module, [])


def _cleanup(names):
    """Every example's and setup's object gone (each step runs, whatever came before)."""
    quiet = {'ignore_errors': True}
    return [
        dict(quiet, loop=[names['web1'], names['app1'], names['probe'], names['unpriv1']],
             **{'virtkit.virt.container': {'name': '{{ item }}', 'state': 'absent'}}),
        dict(quiet, loop=[names['web1'], names['app1'], names['legacy'], names['secure1'], names['web2'],
                          names['debian12-template']],
             **{'virtkit.virt.domain': {'name': '{{ item }}', 'state': 'absent', 'remove_storage': True}}),
        dict(quiet, loop=[names['images'], names['backups'], names['fast'], names['vg_guests']],
             **{'virtkit.virt.pool': {'name': '{{ item }}', 'state': 'absent', 'purge': True, 'force': True}}),
        dict(quiet, loop=[names['lab'], names['lab2'], names['lan']],
             **{'virtkit.virt.network': {'name': '{{ item }}', 'state': 'absent', 'force': True}}),
    ]


def _rewritten(value, names, texts):
    """An example's value with this run's names (whole values) and texts (parts of values)."""
    def rewritten(text):
        if text in names:
            return names[text]
        for old, new in texts:
            text = text.replace(old, new)
        return text
    return with_strings(value, rewritten)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass


def _downloaded(value, downloads):
    """An example's value with the URLs it downloads served from here, and their real checksums."""
    if isinstance(value, list):
        return [_downloaded(item, downloads) for item in value]
    if not isinstance(value, dict):
        return value
    value = dict((key, _downloaded(item, downloads)) for key, item in value.items())
    for key in ('url', 'archive'):
        if value.get(key) in downloads:
            value[key], sha256 = downloads[value[key]]
            value['checksum'] = 'sha256:' + sha256
    return value


@pytest.fixture(scope='module')
def downloads(tmp_path_factory):
    """The examples' downloads on 127.0.0.1 - a small qcow2 image, a busybox
    root file system as tar.xz: {the example's URL: (the URL here, SHA-256)}."""
    www = tmp_path_factory.mktemp('www')
    image = www / 'debian-12-generic-amd64.qcow2'
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', str(image), '8M'], check=True)
    tree = str(tmp_path_factory.mktemp('rootfs') / 'tree')
    _busybox_tree(tree)
    archive = www / 'debian-12-rootfs.tar.xz'
    with tarfile.open(str(archive), 'w:xz') as handle:
        handle.add(tree, arcname='.')
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), lambda *args: _Quiet(*args, directory=str(www)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield dict((example, ('http://127.0.0.1:%d/%s' % (server.server_address[1], path.name),
                              hashlib.sha256(path.read_bytes()).hexdigest()))
                   for example, path in ((IMAGE_URL, image), (ROOTFS_URL, archive)))
    finally:
        server.shutdown()
        server.server_close()


def _busybox_tree(path, owner=0):
    """A busybox root file system at ``path`` with /sbin/init (INIT), owned by host UID and GID ``owner``."""
    for folder in ('bin', 'sbin', 'proc', 'sys', 'dev', 'tmp', 'etc'):
        os.makedirs(os.path.join(path, folder))
    shutil.copy('/bin/busybox', os.path.join(path, 'bin', 'busybox'))
    for applet in ('sh', 'ip', 'udhcpc', 'sleep'):
        os.symlink('busybox', os.path.join(path, 'bin', applet))
    shutil.copy(UDHCPC_SCRIPT, os.path.join(path, 'udhcpc.script'))
    with open(os.path.join(path, 'sbin', 'init'), 'w') as handle:
        handle.write(INIT)
    for script in ('sbin/init', 'udhcpc.script'):
        os.chmod(os.path.join(path, script), 0o755)
    if owner:
        subprocess.run(['chown', '-R', '%d:%d' % (owner, owner), path], check=True)


@pytest.fixture(scope='module')
def spare_disks(tmp_path_factory):
    """{a disk the pool examples name: a loop device over a sparse file of this run}."""
    folder = tmp_path_factory.mktemp('disks')
    devices = {}
    try:
        for index, (disk, size) in enumerate(sorted(SPARE_DISKS.items())):
            image = str(folder / ('disk%d.img' % index))
            subprocess.run(['truncate', '-s', size, image], check=True)
            devices[disk] = subprocess.run(['losetup', '--find', '--show', image], check=True, capture_output=True,
                                           text=True).stdout.strip()
        yield devices
    finally:
        for device in devices.values():
            subprocess.run(['losetup', '-d', device], check=False)


@pytest.fixture(scope='module')
def container_host():
    """What the container examples presuppose under /srv, under a folder of
    /var/tmp that the unprivileged example's host UID can enter (pytest's
    own folders are root's alone)."""
    root = tempfile.mkdtemp(prefix='virtkit-examples-', dir='/var/tmp')
    try:
        os.chmod(root, 0o755)
        containers = os.path.join(root, 'srv', 'containers')
        _busybox_tree(os.path.join(containers, 'web1'))
        _busybox_tree(os.path.join(containers, 'busybox'))
        _busybox_tree(os.path.join(containers, 'unpriv1'), owner=100000)
        os.makedirs(os.path.join(root, 'srv', 'shared', 'config'))
        yield root
    finally:
        shutil.rmtree(root)


MODULES = ('network', 'network_info', 'pool', 'pool_info', 'volume', 'volume_info', 'host_info', 'domain_info',
           'snapshot', 'snapshot_info', 'backup', 'backup_info', 'container', 'domain')
# What the examples' expressions read from facts.
DATE = '2026-12-03'


@pytest.mark.parametrize('module', MODULES)
def test_the_examples_run(module, tmp_path, downloads, container_host, bed, request):  # pylint: disable=redefined-outer-name
    prefix = unique_prefix()
    names = dict((name, prefix + '-' + name) for name in NAMES)
    names['virbr-lab'], names['br0'] = prefix + 'b', prefix + 'c'  # bridge names: 15 characters at most
    subnets = [str(net.network_address).rsplit('.', 1)[0] for net in free_subnets(3)]
    pool_path = str(tmp_path / 'images')
    texts = [('192.168.%d.' % (150 + index), subnet + '.') for index, subnet in enumerate(subnets)]
    texts += [('<name>lab2</name>', '<name>%s</name>' % names['lab2']), ('/var/lib/libvirt/images', pool_path),
              ('web1-inc-', names['web1'] + '-inc-'), ('/srv/', container_host + '/srv/')]
    texts += [(lookup, PUBLIC_KEY) for lookup in PUBLIC_KEY_LOOKUPS]
    if module == 'pool':
        texts += sorted(request.getfixturevalue('spare_disks').items())
    # The user's file the XML example reads: a small guest of this machine's domain type.
    texts.append((LEGACY_XML_LOOKUP, "<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>"
                                     "<os><type arch='x86_64'>hvm</type></os></domain>" % names['legacy']))
    names['default'] = names['images']  # the pool the domain examples name
    examples = module_doc(module, 'EXAMPLES')
    run, skipped = [], []
    for task in examples:
        if (module, task['name']) in NOT_RUN:
            skipped.append(task['name'])
            continue
        run.append(dict((key, _rewritten(_downloaded(value, downloads), names, texts)
                         if key.startswith('virtkit.virt.') else value) for key, value in task.items()))
    assert sorted(skipped) == sorted(task for mod, task in NOT_RUN if mod == module), \
        'NOT_RUN names a task %s EXAMPLES no longer has' % module
    play = [{'hosts': 'localhost', 'gather_facts': False, 'vars': {'ansible_date_time': {'date': DATE}, 'vnc_password': 'vnc-pw'}, 'tasks': [
        {'block': _setup(module, names, pool_path, subnets[0], bed) + run, 'always': _cleanup(names)}]}]
    playbook = tmp_path / 'examples.yml'
    playbook.write_text(yaml.safe_dump(play, sort_keys=False))
    record = tmp_path / 'record.jsonl'
    result = run_playbook(str(playbook), record=str(record))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert 'ignoring' not in output, 'a clean-up step failed:\n' + output[-6000:]
    ran = task_changes(record, 'localhost')
    assert [task['name'] for task in run if task['name'] not in ran] == [], output[-6000:]
    # An example that makes or changes something did so (none of them runs on what is there already).
    unchanged = [task['name'] for task in run if not any(key.endswith('_info') or key == 'ansible.builtin.debug'
                                                         for key in task) and not ran[task['name']]]
    assert unchanged == [], output[-6000:]
    assert not os.path.exists(pool_path) and not os.path.exists(pool_path + '-backups'), 'a pool folder stayed'
