"""Objects the reliability cases build in the private daemon, and the faults they put in."""
import os
import signal
import threading
import time

from faultproxy import FaultProxy


def guest_args(uri, name, bed, network=None, memory=256, **more):
    """The bed's tiny TCG guest (boots in ~10 s, takes a DHCP lease) as domain module args."""
    args = dict(uri=uri, name=name, virt_type='qemu', memory=memory, vcpus=1, kernel=bed['kernel'],
                initrd=bed['initrd'], cmdline='console=ttyS0', graphics={'type': 'none'})
    if network:
        args['interfaces'] = [{'network': network}]
    args.update(more)
    return args


def network_xml(name, bridge, subnet, dhcp=True):
    """An isolated network (no <forward>) on a free subnet."""
    dhcp_xml = "<dhcp><range start='%s.100' end='%s.150'/></dhcp>" % (subnet, subnet) if dhcp else ''
    return ("<network><name>%s</name><bridge name='%s' stp='off' delay='0'/>"
            "<ip address='%s.1' netmask='255.255.255.0'>%s</ip></network>" % (name, bridge, subnet, dhcp_xml))


def make_network(daemon, name, bridge, subnet, dhcp=True):
    path = '/tmp/%s.xml' % name
    with open(path, 'w') as handle:
        handle.write(network_xml(name, bridge, subnet, dhcp))
    try:
        for args in (('net-define', path), ('net-start', name)):
            done = daemon.virsh(*args)
            assert done.returncode == 0, done.stderr
    finally:
        os.unlink(path)


def make_dir_pool(daemon, name, path):
    os.makedirs(path, exist_ok=True)
    for args in (('pool-define-as', name, 'dir', '--target', path), ('pool-start', name)):
        done = daemon.virsh(*args)
        assert done.returncode == 0, done.stderr


def remove(daemon, *objects):
    """Remove ('domain'|'network'|'pool'|'volume', name[, pool]) objects, quietly."""
    for obj in objects:
        kind, name = obj[0], obj[1]
        if kind == 'domain':
            daemon.virsh('destroy', name)
            daemon.virsh('undefine', name)
        elif kind == 'network':
            daemon.virsh('net-destroy', name)
            daemon.virsh('net-undefine', name)
        elif kind == 'pool':
            daemon.virsh('pool-destroy', name)
            daemon.virsh('pool-undefine', name)
        elif kind == 'volume':
            daemon.virsh('vol-delete', name, '--pool', obj[2])


def domstate(daemon, name):
    done = daemon.virsh('domstate', name, '--reason')
    return done.stdout.strip() if done.returncode == 0 else 'absent'


class Faults:
    """Kill (and restart) the private daemon from the relay, at a call."""

    def __init__(self, daemon):
        self.daemon = daemon
        self.restarts = []
        self.killed_at = None

    def kill(self, restart_after=None, sig=signal.SIGKILL):
        def fault():
            self.killed_at = time.monotonic()
            self.daemon.kill(sig)
            if restart_after is not None:
                timer = threading.Timer(restart_after, self.daemon.start)
                timer.daemon = True
                timer.start()
                self.restarts.append(timer)
        return fault

    def settle(self, timeout=60):
        """Wait for pending restarts; the daemon answers again after this."""
        for timer in self.restarts:
            timer.join(timeout)
        deadline = time.monotonic() + timeout
        while self.daemon.pid() is None or not self.daemon.answers():
            if time.monotonic() > deadline:
                raise AssertionError('the private libvirtd did not come back within %s s' % timeout)
            if self.daemon.pid() is None and not any(t.is_alive() for t in self.restarts):
                self.daemon.start()
            time.sleep(0.2)


def proxy_for(daemon, label):
    return FaultProxy(os.path.join(daemon.socket_dir, 'proxy-%s' % label), daemon.socket)


def process_tree(pid):
    """``pid`` and every process below it (ansible's workers run in sessions of their own)."""
    children = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open('/proc/%s/stat' % entry) as handle:
                    parent = int(handle.read().rsplit(') ', 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def module_running(pid):
    """Whether a module (AnsiballZ_*.py) runs under process ``pid`` (a play)."""
    for member in process_tree(pid):
        try:
            with open('/proc/%d/cmdline' % member, 'rb') as handle:
                if b'AnsiballZ_' in handle.read():
                    return True
        except OSError:
            continue
    return False
