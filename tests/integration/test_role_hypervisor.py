"""The virtkit.virt.hypervisor role for real.

- On this machine: the whole role against the running libvirtd, twice, with a
  pool and an isolated network of unique names; the daemons are left alone.
- In a fresh Debian container (the bed's rootfs, no systemd, the host's
  network namespace): the install part; then the whole role on the plain
  daemon path - a libvirtd of the container's own is started, left alone by
  the next run and restarted only when its configuration changes.
"""
import os
import subprocess

import pytest

from harness import (LXC_REAPER_INIT, copy_python_rootfs, free_subnet, lxc_exec, play_recap, prediction_mismatches,
                     remove_lxc_container, run_playbook, start_lxc_container, task_changes, unique_prefix, wait_for)

PLAY = """- hosts: all
  gather_facts: false
  roles:
    - role: virtkit.virt.hypervisor
"""


def report(result):
    """The failed tasks with some context, then the end of the output."""
    lines = result.stdout.splitlines()
    failed = ['\n'.join(lines[max(0, i - 10):i + 25]) for i, line in enumerate(lines)
              if line.startswith(('fatal:', 'failed:'))]
    return '\n...\n'.join(failed[-2:]) + '\n--- end of output ---\n' + result.stdout[-4000:] + result.stderr[-2000:]


def converge(tmp_path, host, hostvars, extra_vars, check=False, record=None):
    """The role on ``host``; its PLAY RECAP counters. ``record``: a file for
    each task's result (harness.task_changes)."""
    inventory = tmp_path / 'inventory.ini'
    inventory.write_text('%s %s\n' % (host, ' '.join('%s=%s' % item for item in hostvars.items())))
    playbook = tmp_path / 'play.yml'
    playbook.write_text(PLAY)
    result = run_playbook(str(playbook), extra_vars, check=check, inventory=['-i', str(inventory)], timeout=900,
                          record=record)
    assert result.returncode == 0, report(result)
    return play_recap(result.stdout, host)


def in_fours(tmp_path, host, hostvars, extra_vars, step, untouched=None):
    """Check mode, apply, check mode again, apply again. Check mode must
    predict the real run task by task, and the last two change nothing.
    ``untouched()`` asserts that the first check run made nothing.
    The tasks the real run changed (name: count)."""
    records = {name: tmp_path / ('%s-%s.jsonl' % (step, name)) for name in ('check', 'apply', 'recheck', 'again')}
    converge(tmp_path, host, hostvars, extra_vars, check=True, record=records['check'])
    if untouched:
        untouched()
    converge(tmp_path, host, hostvars, extra_vars, record=records['apply'])
    assert prediction_mismatches(records['check'], records['apply'], host) == [], \
        '%s: check mode predicted (task, predicted, done) wrongly' % step
    for again, check in (('recheck', True), ('again', False)):
        counters = converge(tmp_path, host, hostvars, extra_vars, check=check, record=records[again])
        changed = {task: count for task, count in task_changes(records[again], host).items() if count}
        assert changed == {} and counters['changed'] == 0, '%s, %s: %s' % (step, again, changed)
    return {task: count for task, count in task_changes(records['apply'], host).items() if count}


def test_bad_arguments_fail_before_anything(tmp_path):
    playbook = tmp_path / 'play.yml'
    playbook.write_text(PLAY)
    result = run_playbook(str(playbook), {'hypervisor_network_mode': 'natt', 'hypervisor_drivers': ['kvm']})
    assert result.returncode != 0
    assert 'hypervisor_network_mode' in result.stdout and 'hypervisor_drivers' in result.stdout, result.stdout[-3000:]
    assert play_recap(result.stdout, 'localhost')['ok'] == 0


# ------------------------------------------------------------ on this machine --

def host_daemons():
    """pid and start time of this machine's libvirtd and virtlogd (from their
    pid files: daemons inside containers are not ours)."""
    found = {}
    for name in ('libvirtd', 'virtlogd'):
        with open('/run/%s.pid' % name) as handle:
            pid = handle.read().strip()
        with open('/proc/%s/stat' % pid) as handle:
            started = handle.read().rsplit(')', 1)[1].split()[19]
        found[name] = (pid, started)
    return found


def virsh(*args):
    return subprocess.run(['virsh', '-q', '-c', 'qemu:///system'] + list(args), capture_output=True, text=True,
                          check=False)


def remove_pool_and_network(tmp_path, pool, network):
    """With our modules; whatever they leave, virsh removes (and the test fails)."""
    playbook = tmp_path / 'cleanup.yml'
    playbook.write_text("""- hosts: localhost
  gather_facts: false
  tasks:
    - name: Remove the test network
      virtkit.virt.network: {name: "%s", state: absent}
    - name: Remove the test pool and its directory
      virtkit.virt.pool: {name: "%s", state: absent, purge: true}
""" % (network, pool))
    result = run_playbook(str(playbook))
    left = [(name, kind) for name, kind in ((network, 'net'), (pool, 'pool'))
            if virsh('%s-info' % kind, name).returncode == 0]
    for name, kind in left:
        virsh('%s-destroy' % kind, name)
        virsh('%s-undefine' % kind, name)
    assert result.returncode == 0, report(result)
    assert not left, 'left behind: %s' % left


def test_whole_role_on_this_machine_leaves_the_running_daemon_alone(bed, tmp_path):
    prefix = unique_prefix()
    subnet = free_subnet()
    hosts = list(subnet.hosts())
    pool, network = prefix + '-pool', prefix + '-net'
    pool_path = tmp_path / 'pool'
    extra = {
        'hypervisor_drivers': ['qemu', 'lxc'],
        # Never restart this machine's daemon, whatever happens.
        'hypervisor_restart_on_change': False,
        'hypervisor_plain_unmount': ['/sys/fs/cgroup/unified'],
        'hypervisor_pool_name': pool,
        'hypervisor_pool_path': str(pool_path),
        'hypervisor_pool_mode': '0711',
        'hypervisor_network_name': network,
        'hypervisor_network_mode': 'isolated',
        'hypervisor_network_bridge': prefix + '-br',
        'hypervisor_network_ipv4_address': '%s/%d' % (hosts[0], subnet.prefixlen),
        'hypervisor_network_dhcp_ranges': [{'start': str(hosts[9]), 'end': str(hosts[49])}],
    }
    # The distribution's Python, with the bindings the role installs for it.
    hostvars = {'ansible_connection': 'local', 'ansible_python_interpreter': '/usr/bin/python3'}
    before = host_daemons()
    try:
        def untouched():
            assert virsh('pool-info', pool).returncode != 0 and virsh('net-info', network).returncode != 0

        changed = in_fours(tmp_path, 'localhost', hostvars, extra, 'host', untouched)
        assert {'Define the default storage pool', 'Define the default network'} <= set(changed), changed
        assert host_daemons() == before

        info = virsh('pool-info', pool).stdout
        assert 'running' in info and 'Autostart:      yes' in info, info
        assert oct(os.stat(str(pool_path)).st_mode & 0o777) == '0o711'
        xml = virsh('net-dumpxml', network).stdout
        assert '<forward' not in xml, xml  # isolated
        assert "<range start='%s' end='%s'" % (hosts[9], hosts[49]) in xml, xml
        net = dict(line.split(':', 1) for line in virsh('net-info', network).stdout.splitlines() if ':' in line)
        assert net['Active'].strip() == 'yes' and net['Autostart'].strip() == 'yes', net
        assert subprocess.run(['/usr/bin/python3', '-c', 'import libvirt, lxml.etree'], check=False).returncode == 0
    finally:
        remove_pool_and_network(tmp_path, pool, network)
    assert not pool_path.exists()
    assert host_daemons() == before


# ------------------------------------------------------------ in a container --

@pytest.fixture(scope='module')
def container(bed, tmp_path_factory):
    """A fresh Debian bookworm (minbase + python3) container without interfaces:
    it shares this machine's network namespace, so apt-get works inside."""
    rootfs = tmp_path_factory.mktemp('hvct') / 'rootfs'
    copy_python_rootfs(rootfs)
    name = unique_prefix() + '-hv'
    try:
        start_lxc_container(name, str(rootfs), memory=1024, init=LXC_REAPER_INIT)
        yield name
    finally:
        remove_lxc_container(name)
        subprocess.run(['rm', '-rf', str(rootfs)], check=False)


def in_container(container, *argv):
    result = lxc_exec(container, *argv)
    assert result.returncode == 0, '%s: %s%s' % (' '.join(argv), result.stdout, result.stderr)
    return result.stdout


CONTAINER_VARS = {'ansible_connection': 'virtkit.virt.lxc', 'ansible_python_interpreter': '/usr/bin/python3'}

# What the role installs on a Debian host without systemd for both drivers.
DEBIAN_PACKAGES = ['libvirt-daemon', 'libvirt-clients', 'dnsmasq-base', 'iptables', 'libvirt-daemon-driver-qemu',
                   'qemu-system-x86', 'qemu-utils', 'libvirt-daemon-driver-lxc', 'python3-libvirt', 'python3-lxml']

HIDDEN = '/mnt/vk hidden'  # a mount libvirtd must not see (what /sys/fs/cgroup/unified is on the bed)
PLAIN_DAEMONS = {'hypervisor_drivers': ['qemu', 'lxc'], 'hypervisor_default_network': False,
                 # QEMU as root: as libvirt-qemu the first capability probe took 22 minutes on the bed.
                 'hypervisor_libvirt_config': {'qemu.conf': {'user': '"root"', 'group': '"root"'}},
                 'hypervisor_plain_unmount': [HIDDEN],
                 'hypervisor_wait_timeout': 300}


def daemon_pid(container, name):
    return in_container(container, '/bin/cat', '/run/%s.pid' % name).strip()


def sees_hidden_mount(container, pid):
    mounts = in_container(container, '/bin/cat', '/proc/%s/mountinfo' % pid)
    return ' %s ' % HIDDEN.replace(' ', '\\040') in mounts


def pool_info(container):
    return in_container(container, '/usr/bin/virsh', '-c', 'qemu:///system', 'pool-info', 'default')


def libvirt_installed(container):
    return lxc_exec(container, '/usr/bin/dpkg-query', '-W', '-f', '${db:Status-Abbrev}',
                    'libvirt-daemon').stdout.strip().startswith('ii')


def test_whole_role_in_a_fresh_debian_container(container, tmp_path):
    """Nothing installed: check mode predicts the packages, the daemons and the
    default pool (the bindings and the daemon arrive with the real run), and
    the real run does exactly that; then nothing changes. No systemd: the role
    starts virtlogd and libvirtd itself, libvirtd in a mount namespace without
    one of the container's mounts, and restarts it only for a configuration
    change. (No network: the container shares this machine's network namespace.)"""
    assert lxc_exec(container, '/usr/bin/python3', '-c', 'import libvirt').returncode != 0  # really fresh
    assert not libvirt_installed(container)
    in_container(container, '/bin/mkdir', '-p', HIDDEN)
    in_container(container, '/bin/mount', '-t', 'tmpfs', 'hidden', HIDDEN)

    def untouched():
        assert not libvirt_installed(container)
        assert lxc_exec(container, '/usr/bin/test', '-e', '/etc/libvirt/qemu.conf').returncode != 0

    changed = in_fours(tmp_path, container, CONTAINER_VARS, PLAIN_DAEMONS, 'fresh', untouched)
    for task in ('Install the packages (apt)', 'Start virtlogd', 'Start libvirtd', 'Define the default storage pool'):
        assert task in changed, changed

    states = in_container(container, '/usr/bin/dpkg-query', '-W', '-f', '${Package} ${db:Status-Abbrev}\\n',
                          *DEBIAN_PACKAGES)
    installed = {line.split()[0] for line in states.splitlines() if line.split()[1:2] == ['ii']}
    assert installed == set(DEBIAN_PACKAGES), states
    # No systemd: the package with the units (and a NAT network) stays out.
    assert lxc_exec(container, '/usr/bin/dpkg-query', '-W', '-f', '${db:Status-Abbrev}',
                    'libvirt-daemon-system').stdout.strip() in ('', 'un')
    in_container(container, '/usr/bin/python3', '-c', 'import libvirt, lxml.etree')

    libvirtd, virtlogd = daemon_pid(container, 'libvirtd'), daemon_pid(container, 'virtlogd')
    assert sees_hidden_mount(container, virtlogd) and not sees_hidden_mount(container, libvirtd)
    info = pool_info(container)
    assert 'running' in info and 'Autostart:      yes' in info, info
    assert '<path>/var/lib/libvirt/images</path>' in in_container(container, '/usr/bin/virsh', '-c', 'qemu:///system',
                                                                  'pool-dumpxml', 'default')
    # The runs after the first left the daemons alone.
    assert (daemon_pid(container, 'libvirtd'), daemon_pid(container, 'virtlogd')) == (libvirtd, virtlogd)

    # A configuration change restarts libvirtd (and only it), predicted by check mode too.
    new_config = dict(PLAIN_DAEMONS, hypervisor_libvirt_config={
        'qemu.conf': {'user': '"root"', 'group': '"root"', 'set_process_name': '1'}})
    changed = in_fours(tmp_path, container, CONTAINER_VARS, new_config, 'config')
    assert {'Stop libvirtd (running guests keep running)', 'Start libvirtd'} <= set(changed), changed
    assert daemon_pid(container, 'libvirtd') != libvirtd
    assert not sees_hidden_mount(container, daemon_pid(container, 'libvirtd'))
    assert daemon_pid(container, 'virtlogd') == virtlogd
    assert 'set_process_name = 1' in in_container(container, '/bin/cat', '/etc/libvirt/qemu.conf')
    assert 'running' in pool_info(container)


def wait_for_systemd(name):
    def running():
        state = lxc_exec(name, '/bin/systemctl', 'is-system-running').stdout.strip()
        return state in ('running', 'degraded') and state
    return wait_for(running, 60, interval=1, what='systemd in container %s' % name)


def test_systemd_daemons_in_a_debian_container(bed, tmp_path):
    """With systemd: Debian's units (libvirtd and virtlogd socket-activated),
    the default pool and an isolated network, idempotent, and a restart through
    systemd for a configuration change. The packages (with systemd itself) go in
    while the container shares this machine's network; systemd then boots in a
    network namespace of its own."""
    rootfs = tmp_path / 'rootfs'
    copy_python_rootfs(rootfs)
    name = unique_prefix() + '-sd'
    install = {'hypervisor_drivers': ['qemu'], 'hypervisor_daemon_manager': 'systemd',
               'hypervisor_manage_daemons': False, 'hypervisor_default_pool': False,
               'hypervisor_default_network': False, 'hypervisor_extra_packages': ['systemd', 'dbus']}
    full = {'hypervisor_drivers': ['qemu'], 'hypervisor_wait_timeout': 300,
            'hypervisor_libvirt_config': {'qemu.conf': {'user': '"root"', 'group': '"root"'}},
            'hypervisor_network_name': name + '-net', 'hypervisor_network_mode': 'isolated',
            'hypervisor_network_bridge': name + '-br', 'hypervisor_network_ipv4_address': '10.254.1.1/24',
            'hypervisor_network_dhcp_ranges': [{'start': '10.254.1.10', 'end': '10.254.1.50'}]}
    try:
        start_lxc_container(name, str(rootfs), memory=1024, init=LXC_REAPER_INIT)
        converge(tmp_path, name, CONTAINER_VARS, install)
        remove_lxc_container(name)

        start_lxc_container(name, str(rootfs), memory=1024, init=['/lib/systemd/systemd'], private_network=True)
        wait_for_systemd(name)
        booted = in_container(name, '/bin/systemctl', 'show', 'libvirtd.service', '-p', 'MainPID')
        changed = in_fours(tmp_path, name, CONTAINER_VARS, full, 'systemd')
        assert 'Restart the daemons for their new configuration' in changed, changed
        service = in_container(name, '/bin/systemctl', 'show', 'libvirtd.service', '-p', 'MainPID,UnitFileState')
        assert 'UnitFileState=enabled' in service, service
        # Restarted for the new qemu.conf.
        assert booted.strip() not in service.split() and 'MainPID=0' not in service, (booted, service)
        for unit in ('libvirtd.socket', 'libvirtd-ro.socket', 'libvirtd-admin.socket', 'virtlogd.socket'):
            assert in_container(name, '/bin/systemctl', 'is-active', unit).strip() == 'active', unit
            assert in_container(name, '/bin/systemctl', 'is-enabled', unit).strip() == 'enabled', unit
        assert "user = \"root\"" in in_container(name, '/bin/cat', '/etc/libvirt/qemu.conf')
        info = in_container(name, '/usr/bin/virsh', '-c', 'qemu:///system', 'pool-info', 'default')
        assert 'running' in info and 'Autostart:      yes' in info, info
        xml = in_container(name, '/usr/bin/virsh', '-c', 'qemu:///system', 'net-dumpxml', name + '-net')
        assert '<forward' not in xml and "<ip address='10.254.1.1'" in xml, xml

        # Debian's stock NAT network came with libvirt-daemon-system, defined but not started.
        stock = in_container(name, '/usr/bin/virsh', '-c', 'qemu:///system', 'net-list', '--all', '--name', '--inactive')
        assert 'default' in stock.split(), stock
    finally:
        remove_lxc_container(name)
        subprocess.run(['rm', '-rf', str(rootfs)], check=False)
