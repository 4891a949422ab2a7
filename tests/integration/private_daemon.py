"""A libvirtd of the tests' own, for faults the shared daemon must never see.

The host's libvirtd (tests/bed/setup.sh) serves every test of every colleague at
once: killing or restarting it breaks their runs. A PrivateDaemon is a second
libvirtd in a mount namespace of its own, with its own state, sockets and pid
file:

- libvirt's fixed paths (/run/libvirt, /var/lib/libvirt, /var/cache/libvirt,
  /etc/libvirt, /var/log/libvirt) are bind mounts of directories under
  ``self.state`` (on disk, not a tmpfs: a daemon restarted into a new namespace
  finds the guests, networks and leases the killed one left, as after a real
  restart);
- its sockets are in ``self.socket_dir`` (/run/<prefix>), outside those
  mounts, so the tests reach it with ``qemu:///system?socket=...``;
- its /etc/libvirt holds config files only: no definition of the host's
  (no autostarted network, pool or guest of the host's comes up twice);
- QEMU runs as root without cgroups, its console logs go to files (no
  virtlogd socket in the private /run/libvirt), and the QEMU capability cache
  is a copy of the host's (a start takes a second, not a probe);
- no TCP listener unless asked for one (on a port of its own: the host's
  daemon has 127.0.0.1:16509), a pid file of its own (the default
  /run/libvirtd.pid is the host daemon's).

Networks it starts live in the host's network namespace: tests give them
unique bridge names and free subnets, isolated (no <forward>), and
``leftovers()`` says what a run left behind: processes in any mount namespace
the daemon ever had (QEMU, dnsmasq), bridges and iptables rules with the
prefix.
"""
import os
import re
import shutil
import signal
import subprocess
import time

HOST_CACHE = '/var/cache/libvirt/qemu'
# libvirt's fixed paths and the state directory each is bound to.
MOUNTS = (('run', '/run/libvirt'), ('lib', '/var/lib/libvirt'), ('cache', '/var/cache/libvirt'),
          ('etc', '/etc/libvirt'), ('log', '/var/log/libvirt'))


def _alive(pid, comm):
    """Whether process ``pid`` runs ``comm`` and is not a zombie."""
    try:
        with open('/proc/%d/stat' % pid) as handle:
            stat = handle.read()
    except OSError:
        return False
    name, rest = stat.split('(', 1)[1].rsplit(') ', 1)
    return name == comm and not rest.startswith(('Z', 'X'))


class PrivateDaemon:
    def __init__(self, prefix, base='/var/tmp', sasl=None):
        """``sasl``: (port, user, password) - a TCP listener on 127.0.0.1
        that asks for that SASL user (the bed's /etc/sasl2/libvirt.conf
        points at /etc/libvirt/passwd.db, which is ours in the namespace)."""
        self.prefix = prefix
        self.sasl = sasl
        self.state = os.path.join(base, '%s-libvirtd' % prefix)
        self.socket_dir = '/run/%s' % prefix
        self.pid_file = os.path.join(self.state, 'libvirtd.pid')
        self.log_file = os.path.join(self.state, 'log', 'libvirtd.log')
        self.namespaces = set()  # mount namespaces the daemon had (QEMU and dnsmasq stay in them)
        self.starts = 0

    # -- URIs -------------------------------------------------------------------
    @property
    def socket(self):
        return os.path.join(self.socket_dir, 'libvirt-sock')

    def uri(self, socket=None, driver='qemu', readonly=False):
        path = socket or (self.socket + '-ro' if readonly else self.socket)
        return '%s:///system?socket=%s' % (driver, path) if driver == 'qemu' else '%s:///?socket=%s' % (driver, path)

    # -- life ---------------------------------------------------------------------
    def prepare(self):
        """The state directories and config files (once)."""
        for name, _target in MOUNTS:
            os.makedirs(os.path.join(self.state, name), exist_ok=True)
        for sub in ('lib/images', 'lib/boot', 'lib/qemu', 'lib/dnsmasq', 'lib/network', 'log/qemu', 'log/lxc',
                    'etc/qemu/networks', 'etc/storage', 'etc/lxc', 'etc/nwfilter', 'etc/secrets'):
            os.makedirs(os.path.join(self.state, sub), exist_ok=True)
        os.makedirs(self.socket_dir, exist_ok=True)
        cache = os.path.join(self.state, 'cache', 'qemu')
        if os.path.isdir(HOST_CACHE) and not os.path.exists(cache):
            shutil.copytree(HOST_CACHE, cache)
        with open(os.path.join(self.state, 'etc', 'libvirtd.conf'), 'w') as handle:
            handle.write('unix_sock_dir = "%s"\nlisten_tls = 0\nlog_outputs = "3:file:%s"\n'
                         % (self.socket_dir, self.log_file))
            if self.sasl:
                handle.write('listen_tcp = 1\nlisten_addr = "127.0.0.1"\ntcp_port = "%d"\nauth_tcp = "sasl"\n'
                             % self.sasl[0])
                subprocess.run(['saslpasswd2', '-p', '-a', 'libvirt', '-f',
                                os.path.join(self.state, 'etc', 'passwd.db'), self.sasl[1]],
                               input=self.sasl[2], text=True, check=True)
            else:
                handle.write('listen_tcp = 0\n')
        with open(os.path.join(self.state, 'etc', 'qemu.conf'), 'w') as handle:
            handle.write('user = "root"\ngroup = "root"\nstdio_handler = "file"\ncgroup_controllers = [ ]\n')

    def start(self, timeout=60):
        """Start the daemon (a new mount namespace) and wait, bounded, until it answers."""
        self.prepare()
        running = self.pid()
        if running is not None:
            raise RuntimeError('the private libvirtd of %s runs already (pid %s)' % (self.prefix, running))
        binds = ' && '.join('mount --bind %s %s' % (os.path.join(self.state, name), target) for name, target in MOUNTS)
        script = '%s && { umount /sys/fs/cgroup/unified 2>/dev/null; true; } && exec libvirtd -d -p %s%s' % (
            binds, self.pid_file, ' --listen' if self.sasl else '')
        with open(os.path.join(self.state, 'start.log'), 'a') as log:
            subprocess.run(['unshare', '-m', '--propagation', 'slave', 'sh', '-c', script], check=True,
                           stdout=log, stderr=log, timeout=timeout)
        deadline = time.monotonic() + timeout
        while not self.answers():
            if time.monotonic() > deadline:
                raise RuntimeError('the private libvirtd did not answer on %s within %s s (log: %s)'
                                   % (self.socket, timeout, self.log_file))
            time.sleep(0.1)
        pid = self.pid()
        self.namespaces.add(os.readlink('/proc/%s/ns/mnt' % pid))
        self.starts += 1
        return pid

    def answers(self):
        if not os.path.exists(self.socket):
            return False
        try:
            proc = subprocess.run(['virsh', '-q', '-c', self.uri(), 'version'], capture_output=True, timeout=10,
                                  check=False)
        except subprocess.TimeoutExpired:
            return False
        return proc.returncode == 0

    def pid(self):
        """The daemon's pid, None when it does not run (a zombie does not)."""
        try:
            with open(self.pid_file) as handle:
                pid = int(handle.read().strip())
        except (OSError, ValueError):
            return None
        return pid if _alive(pid, 'libvirtd') else None

    def kill(self, sig=signal.SIGKILL, timeout=30):
        """Kill the daemon (only ours: by its own pid file); returns when it is gone."""
        pid = self.pid()
        if pid is None:
            return None
        os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while _alive(pid, 'libvirtd'):
            if time.monotonic() > deadline:
                raise RuntimeError('the private libvirtd (pid %s) did not exit within %s s of signal %s'
                                   % (pid, timeout, sig))
            time.sleep(0.05)
        # A killed daemon leaves its pid file and sockets behind: nothing must
        # answer there until it restarts.
        if os.path.exists(self.pid_file):
            os.unlink(self.pid_file)
        for name in os.listdir(self.socket_dir):
            if name.startswith('libvirt'):  # its own sockets; a test's relay beside them stays
                os.unlink(os.path.join(self.socket_dir, name))
        return pid

    def restart(self, sig=signal.SIGTERM):
        self.kill(sig)
        return self.start()

    # -- a client ---------------------------------------------------------------------
    def virsh(self, *args, stdin=None, check=False, timeout=120, driver='qemu'):
        return subprocess.run(['virsh', '-q', '-c', self.uri(driver=driver)] + list(args), input=stdin,
                              capture_output=True, text=True, check=check, timeout=timeout)

    def snapshot(self):
        """Every object of the daemon with its persistent XML (domains also
        their state): what a test compares before and after."""
        import libvirt
        conn = libvirt.open(self.uri())
        try:
            found = {}
            for dom in conn.listAllDomains(0):
                found['domain/' + dom.name()] = (dom.state()[0], dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
                                                 if dom.isPersistent() else dom.XMLDesc(0))
            for net in conn.listAllNetworks(0):
                found['network/' + net.name()] = (net.isActive(), net.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE))
            for pool in conn.listAllStoragePools(0):
                # Without its sizes: the free space moves with every file written on its filesystem.
                found['pool/' + pool.name()] = (pool.isActive(), re.sub(
                    r'<(capacity|allocation|available)[^<]*</\1>', '', pool.XMLDesc(libvirt.VIR_STORAGE_XML_INACTIVE)))
                if pool.isActive():
                    pool.refresh(0)
                    for vol in pool.listAllVolumes(0):
                        found['volume/%s/%s' % (pool.name(), vol.name())] = (vol.info()[1], vol.path())
            return found
        finally:
            conn.close()

    # -- the end ------------------------------------------------------------------------
    def remove_everything(self):
        """Destroy and undefine every domain, network and pool of the daemon
        (all of them are the tests'), the daemon running."""
        for line in self.virsh('list', '--all', '--name').stdout.split():
            self.virsh('destroy', line)
            self.virsh('undefine', line, '--nvram')
        for line in self.virsh('list', '--all', '--name', driver='lxc').stdout.split():
            self.virsh('destroy', line, driver='lxc')
            self.virsh('undefine', line, driver='lxc')
        for line in self.virsh('net-list', '--all', '--name').stdout.split():
            self.virsh('net-destroy', line)
            self.virsh('net-undefine', line)
        for line in self.virsh('pool-list', '--all', '--name').stdout.split():
            self.virsh('pool-destroy', line)
            self.virsh('pool-undefine', line)

    def leftovers(self):
        """What is left on the host that the daemon made: processes in its
        mount namespaces, bridges and iptables rules named with the prefix."""
        left = []
        for entry in os.listdir('/proc'):
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            try:
                namespace = os.readlink('/proc/%s/ns/mnt' % entry)
                with open('/proc/%s/cmdline' % entry, 'rb') as handle:
                    cmdline = handle.read().replace(b'\0', b' ').decode('utf-8', 'replace').strip()
            except OSError:
                continue
            # A namespace's number is reused once it is gone: only a process
            # that also sees our bind mounts is in one of ours.
            if namespace in self.namespaces and cmdline and self._sees_our_mounts(entry):
                left.append('process %s: %s' % (entry, cmdline[:120]))
        links = subprocess.run(['ip', '-o', 'link', 'show'], capture_output=True, text=True, check=False).stdout
        for line in links.splitlines():
            name = line.split(':')[1].strip().split('@')[0] if ':' in line else ''
            if name.startswith(self.prefix):
                left.append('link %s' % name)
        rules = subprocess.run(['iptables-save'], capture_output=True, text=True, check=False).stdout
        left.extend('iptables: %s' % line for line in rules.splitlines() if self.prefix in line)
        return left

    def _sees_our_mounts(self, pid):
        try:
            with open('/proc/%s/mountinfo' % pid) as handle:
                return os.path.join(self.state, 'run') in handle.read()
        except OSError:
            return False

    def stop(self):
        """Remove everything, stop the daemon, end what it left, and say what
        there was to end (empty when the daemon cleaned up after itself)."""
        if self.pid() is None and os.path.isdir(self.state):
            try:
                self.start()
            except (RuntimeError, subprocess.SubprocessError):
                pass
        if self.pid() is not None:
            self.remove_everything()
            self.kill(signal.SIGTERM)
        left = self.leftovers()
        for item in left:  # ours only: processes that see our bind mounts
            if item.startswith('process '):
                pid = item.split()[1].rstrip(':')
                if self._sees_our_mounts(pid):
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except OSError:
                        pass
        for item in left:
            if item.startswith('link '):
                subprocess.run(['ip', 'link', 'delete', item.split()[1]], check=False, capture_output=True)
        shutil.rmtree(self.state, ignore_errors=True)
        shutil.rmtree(self.socket_dir, ignore_errors=True)
        return left
