"""A second libvirt host on this machine, for the migration tests.

A copy of the bed's cached Debian rootfs with libvirt (tests/bed/rootfs-libvirt.sh)
runs as an LXC container that shares this machine's network namespace; inside it
a libvirtd of its own, started as the hypervisor role starts one on the plain
path: virtlogd, then libvirtd in a mount namespace of its own - where the
container's read-only /proc/sys and /sys are writable again, as the network
driver needs (it writes /proc/sys/net/ipv6/conf/BRIDGE/disable_ipv6).

What makes it another host to libvirt:
- its own host UUID (``host_uuid`` in libvirtd.conf): both daemons would read
  one machine-id/SMBIOS, and libvirt refuses to migrate to "the same host";
- its own TCP listener on 127.0.0.1 (a free port, not the host's 16509), with a
  SASL user of its own (``dest_auth`` is tested against it), and an auth file
  with the host daemon's SASL user, so that its daemon can drive a
  peer-to-peer migration back to this machine;
- its own QEMU migration ports (``migration_port_min/max``): the two daemons
  listen in one network namespace;
- QEMU as root (the capability probe takes seconds, not minutes), no cgroups
  and no per-guest mount namespaces (a container is not the place for them).

The bed's cache (kernel, initrd) is bind-mounted read-only at the same path, and
so is a directory both hosts share (``shared``): the same files at the same
path on both, as shared storage is. ``local`` has the same path on both hosts
but is two different directories.
"""
import os
import shutil
import socket
import subprocess
import time
import uuid

from harness import (BED_CACHE, LXC_REAPER_INIT, lxc_exec, lxc_virsh, remove_lxc_container, wait_for)

ROOTFS = os.path.join(BED_CACHE, 'rootfs-libvirt')
# The second host's QEMU migration (and NBD) ports; the host's daemon uses 49152-49215.
MIGRATION_PORTS = (49700, 49763)
CONTAINER_XML = """<domain type='lxc'>
  <name>{name}</name>
  <memory unit='MiB'>{memory}</memory>
  <os><type>exe</type>{init}</os>
  <devices>
    <filesystem type='mount'><source dir='{rootfs}'/><target dir='/'/></filesystem>
    <filesystem type='mount'><source dir='{cache}'/><target dir='{cache}'/><readonly/></filesystem>
    <filesystem type='mount'><source dir='{shared}'/><target dir='{shared}'/></filesystem>
    <hostdev mode='capabilities' type='misc'><source><char>/dev/net/tun</char></source></hostdev>
    <console type='pty'/>
  </devices>
</domain>"""
# libvirtd where /proc/sys and /sys are writable (its own mount namespace only).
START_LIBVIRTD = ('umount /proc/sys && mount -o remount,rw /sys && '
                  'LIBVIRT_LOG_OUTPUTS="3:file:/var/log/libvirt/libvirtd.log" exec libvirtd -d --listen')


def free_port(avoid=(16509,)):
    while True:
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            port = sock.getsockname()[1]
        if port not in avoid:
            return port


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as handle:
        handle.write(text)
    os.chmod(path, mode)


class SecondHost:
    """The container and its daemon. ``uri``/``auth``: how the modules reach it;
    ``virsh(...)``: the tests' own view (its unix socket, seen from here)."""

    def __init__(self, prefix, workdir, host_auth):
        self.prefix = prefix
        self.name = prefix + '-h2'
        self.workdir = str(workdir)
        self.rootfs = os.path.join(self.workdir, 'rootfs')
        self.shared = os.path.join(self.workdir, 'shared')
        self.local = os.path.join(self.workdir, 'local')
        self.port = free_port()
        self.uri = 'qemu+tcp://127.0.0.1:%d/system' % self.port
        self.auth = {'username': 'vkdest', 'password': uuid.uuid4().hex}
        self.host_uuid = str(uuid.uuid4())
        self.socket_uri = 'qemu+unix:///system?socket=%s/run/libvirt/libvirt-sock' % self.rootfs
        self.host_auth = host_auth

    # -- the tests' view ---------------------------------------------------------
    def virsh(self, *args, timeout=120, stdin=None):
        return subprocess.run(['virsh', '-q', '-c', self.socket_uri] + list(args), input=stdin, capture_output=True,
                              text=True, check=False, timeout=timeout)

    def path(self, inside):
        """Where a path of the second host is, seen from here."""
        return self.rootfs + inside

    # -- making it --------------------------------------------------------------
    def start(self, timeout=300):
        if not os.path.exists(os.path.join(ROOTFS, 'usr', 'sbin', 'libvirtd')):
            raise AssertionError('the bed has no libvirt rootfs at %s: run tests/bed/setup.sh' % ROOTFS)
        started = time.monotonic()
        subprocess.run(['cp', '-a', '--reflink=auto', ROOTFS, self.rootfs], check=True)
        for directory in (self.shared, self.local, self.path(self.local)):
            os.makedirs(directory, exist_ok=True)
        self._configure()
        from xml.sax.saxutils import escape
        init = '<init>%s</init>' % escape(LXC_REAPER_INIT[0]) + ''.join(
            '<initarg>%s</initarg>' % escape(arg) for arg in LXC_REAPER_INIT[1:])
        # Its QEMU guests live inside the container's memory limit.
        xml = CONTAINER_XML.format(name=self.name, memory=2048, init=init, rootfs=self.rootfs, cache=BED_CACHE,
                                   shared=self.shared)
        defined = lxc_virsh('define', '/dev/stdin', stdin=xml)
        assert defined.returncode == 0, defined.stderr
        begun = lxc_virsh('start', self.name)
        assert begun.returncode == 0, begun.stderr
        wait_for(lambda: lxc_virsh('domstate', self.name).stdout.strip() == 'running', 30, interval=0.2,
                 what='container %s to run' % self.name)
        for argv in (['/usr/sbin/virtlogd', '-d'], ['/usr/bin/unshare', '-m', '--propagation', 'slave', '/bin/sh',
                                                    '-c', START_LIBVIRTD]):
            result = lxc_exec(self.name, *argv)
            assert result.returncode == 0, '%s: %s%s' % (argv, result.stdout, result.stderr)
        wait_for(self._answers, timeout, interval=1, what='the second libvirtd on %s (log: %s)'
                 % (self.uri, self.path('/var/log/libvirt/libvirtd.log')))
        self.started_in = time.monotonic() - started

    def _answers(self):
        result = self.virsh('uri', timeout=15)
        return result.returncode == 0

    def _configure(self):
        etc = self.path('/etc/libvirt')
        write(os.path.join(etc, 'libvirtd.conf'),
              'listen_tls = 0\nlisten_tcp = 1\nlisten_addr = "127.0.0.1"\ntcp_port = "%d"\nauth_tcp = "sasl"\n'
              'host_uuid = "%s"\n' % (self.port, self.host_uuid))
        write(os.path.join(etc, 'qemu.conf'),
              'user = "root"\ngroup = "root"\nmigration_port_min = %d\nmigration_port_max = %d\n'
              'cgroup_controllers = [ ]\nnamespaces = [ ]\n' % MIGRATION_PORTS)
        write(self.path('/etc/sasl2/libvirt.conf'), 'mech_list: digest-md5\nsasldb_path: /etc/libvirt/passwd.db\n')
        # DIGEST-MD5's realm is the server's host name: the container's is its name.
        subprocess.run(['saslpasswd2', '-p', '-a', 'libvirt', '-u', self.name, '-f', os.path.join(etc, 'passwd.db'),
                        self.auth['username']], input=self.auth['password'], text=True, check=True)
        # Its daemon's own credentials for this machine's SASL listener (peer-to-peer migrations back here).
        write(os.path.join(etc, 'auth.conf'),
              '[credentials-host]\nauthname=%s\npassword=%s\n\n[auth-libvirt-127.0.0.1]\ncredentials=host\n'
              % (self.host_auth['username'], self.host_auth['password']), mode=0o600)

    # -- removing it ---------------------------------------------------------------
    def stop(self):
        """Its guests, networks and pools first (bridges and dnsmasq live in
        this machine's network namespace), then the container and its files."""
        if self._answers():
            for name in self.virsh('list', '--all', '--name').stdout.split():
                self.virsh('destroy', name)
                self.virsh('undefine', name, '--snapshots-metadata')
            for name in self.virsh('net-list', '--all', '--name').stdout.split():
                self.virsh('net-destroy', name)
                self.virsh('net-undefine', name)
            for name in self.virsh('pool-list', '--all', '--name').stdout.split():
                self.virsh('pool-destroy', name)
                self.virsh('pool-undefine', name)
        remove_lxc_container(self.name)
        shutil.rmtree(self.workdir, ignore_errors=True)
