"""virtkit.virt.migrate between two real libvirt daemons on this machine.

The host's daemon is one host; a libvirtd in a Debian container from the bed's
cached rootfs is the other (migrate_bed.py: its own host UUID, TCP listener
with SASL, QEMU migration ports). Both run TCG guests of the bed's busybox
kernel. An isolated network of the same name runs on both, on different
bridges and subnets; pools of the same names on both: ``shared`` (one directory
both hosts see, bind-mounted at the same path) and ``local`` (the same path,
two directories). The guests' serial logs are in the shared directory, so a
guest's console can be read wherever it runs.

Each move runs as one playbook of four tasks - check mode, the move, check
mode again, the move again - and the last two must change nothing.
Everything carries a unique prefix and is removed at the end, also on failure.
"""
import json
import os
import re
import subprocess
import time

import pytest

from harness import BED_CACHE, bed_facts, free_subnets, run_playbook, unique_prefix, wait_for
from migrate_bed import SecondHost

HOST_URI = 'qemu:///system'
GUEST_MEMORY_MIB = 192


def virsh(*args, check=False, stdin=None):
    result = subprocess.run(['virsh', '-q', '-c', HOST_URI] + list(args), input=stdin, capture_output=True,
                            text=True, check=False, timeout=120)
    assert not check or result.returncode == 0, '%s: %s' % (' '.join(args), result.stderr)
    return result


def network_xml(name, bridge, subnet):
    hosts = list(subnet.hosts())
    # Two-minute leases (dnsmasq's shortest): a guest that moved renews into the destination's network soon.
    return ("<network><name>%s</name><bridge name='%s'/><ip address='%s' netmask='%s'><dhcp>"
            "<range start='%s' end='%s'><lease expiry='2' unit='minutes'/></range></dhcp></ip></network>"
            % (name, bridge, hosts[0], subnet.netmask, hosts[9], hosts[99]))


def pool_xml(name, path):
    return "<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>" % (name, path)


def guest_xml(name, disk, network, log, cpu=''):
    facts = bed_facts()
    return """<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>{memory}</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>{kernel}</kernel><initrd>{initrd}</initrd>
    <cmdline>console=ttyS0 virtkit.hostname={name}</cmdline></os>
  <features><acpi/></features>{cpu}
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='{fmt}'/><source file='{disk}'/>
      <target dev='vda' bus='virtio'/></disk>
    <interface type='network'><source network='{network}'/><model type='virtio'/></interface>
    <serial type='file'><source path='{log}' append='on'/><target port='0'/></serial>
  </devices>
</domain>""".format(name=name, memory=GUEST_MEMORY_MIB, kernel=facts['kernel'], initrd=facts['initrd'], cpu=cpu,
                    disk=disk, fmt='qcow2' if disk.endswith('.qcow2') else 'raw', network=network, log=log)


class Bed:
    """Both hosts, the network and pools on both, and the tests' guests."""

    def __init__(self, prefix, h2, host_auth):
        self.prefix, self.h2 = prefix, h2
        self.host_tcp = 'qemu+tcp://127.0.0.1:16509/system'  # the host as a destination: dest_auth is tested
        self.host_auth = host_auth
        self.net = prefix + '-net'
        self.shared_pool, self.local_pool = prefix + '-shared', prefix + '-local'
        self.domains = []

    def name(self, suffix):
        name = '%s-%s' % (self.prefix, suffix)
        self.domains.append(name)
        return name

    def log(self, name):
        return os.path.join(self.h2.shared, name + '.log')

    def console(self, name):
        try:
            with open(self.log(name), errors='replace') as handle:
                return [line.rstrip('\r\n').replace('\r', '') for line in handle]
        except FileNotFoundError:
            return []

    def forth(self, name, **options):
        """Module options that move ``name`` from this machine to the second host."""
        return dict(options, name=name, uri=HOST_URI, dest_uri=self.h2.uri, dest_auth=self.h2.auth,
                    migrate_uri='tcp://127.0.0.1')

    def back(self, name, **options):
        """Module options that move ``name`` from the second host back here."""
        return dict(options, name=name, uri=self.h2.uri, auth=self.h2.auth, dest_uri=self.host_tcp,
                    dest_auth=self.host_auth, migrate_uri='tcp://127.0.0.1')

    def where(self, name):
        """{'host': state or None, 'h2': state or None}."""
        found = {}
        for key, run in (('host', virsh), ('h2', self.h2.virsh)):
            result = run('domstate', name)
            found[key] = result.stdout.strip() if result.returncode == 0 else None
        return found


@pytest.fixture(scope='module')
def bed(tmp_path_factory):
    facts = bed_facts()
    if not facts.get('sasl_password'):
        pytest.fail('the test bed is not ready: run tests/bed/setup.sh (no auth.env)')
    prefix = unique_prefix()
    host_auth = {'username': facts['sasl_username'], 'password': facts['sasl_password']}
    h2 = SecondHost(prefix, tmp_path_factory.mktemp('migrate'), host_auth)
    bed = Bed(prefix, h2, host_auth)
    subnets = free_subnets(2)
    try:
        h2.start()
        for run, bridge, subnet in ((virsh, prefix + '-b1', subnets[0]), (h2.virsh, prefix + '-b2', subnets[1])):
            for what, xml in (('net-create', network_xml(bed.net, bridge, subnet)),
                              ('pool-create', pool_xml(bed.shared_pool, h2.shared)),
                              ('pool-create', pool_xml(bed.local_pool, h2.local))):
                created = run(what, '/dev/stdin', stdin=xml)
                assert created.returncode == 0, '%s: %s' % (what, created.stderr)
        bed.subnets = subnets
        yield bed
    finally:
        for name in bed.domains:
            virsh('destroy', name)
            virsh('undefine', name, '--snapshots-metadata')
        for pool in (bed.shared_pool, bed.local_pool):
            virsh('pool-destroy', pool)
        virsh('net-destroy', bed.net)
        h2.stop()


def make_disk(pool, name, marker=None, fmt='raw', size='8M'):
    """A volume on this machine; ``marker``: bytes written at its start (a raw disk)."""
    virsh('vol-create-as', pool, name, size, '--format', fmt, check=True)
    path = virsh('vol-path', '--pool', pool, name, check=True).stdout.strip()
    if marker:
        with open(path, 'r+b') as handle:
            handle.write(marker)
    return path


def boot(bed, name, disk):
    virsh('define', '/dev/stdin', stdin=guest_xml(name, disk, bed.net, bed.log(name)), check=True)
    virsh('start', name, check=True)


def lease_lines(bed, name, subnet):
    prefix = str(subnet.network_address).rsplit('.', 1)[0] + '.'
    return [line for line in bed.console(name) if line.startswith('VIRTKIT-IP ' + prefix)]


def booted(bed, name):
    """The guest's lease on this machine's network (it booted and is on the network)."""
    return wait_for(lambda: lease_lines(bed, name, bed.subnets[0]), 240, interval=1,
                    what='%s to take a lease (console: %s)' % (name, bed.log(name)))


# -- playbooks --------------------------------------------------------------------

def play(tmp_path, tasks, step, args=(), inventory=None):
    """A playbook of ``tasks`` (each registers ``r<i>``); the registered
    results as a list (ansible-playbook's output in ``.output``)."""
    out = tmp_path / ('%s.json' % step)
    lines = ['- hosts: localhost', '  gather_facts: false', '  tasks:']
    for index, task in enumerate(tasks):
        body = dict(task)
        body.setdefault('ignore_errors', True)
        body['register'] = 'r%d' % index
        lines.append('    - ' + json.dumps(body))
    results = '[%s]' % ', '.join('r%d' % index for index in range(len(tasks)))
    lines.append('    - ' + json.dumps({'name': 'Keep the results', 'check_mode': False,
                                        'ansible.builtin.copy': {'content': '{{ %s | to_json }}' % results,
                                                                 'dest': str(out)}}))
    playbook = tmp_path / ('%s.yml' % step)
    playbook.write_text('\n'.join(lines) + '\n')
    result = run_playbook(str(playbook), args=list(args), inventory=inventory)
    assert out.exists(), 'the playbook did not finish:\n%s\n%s' % (result.stdout[-4000:], result.stderr[-2000:])
    with open(str(out)) as handle:
        recorded = json.load(handle)
    return Results(recorded, result.stdout + result.stderr)


class Results(list):
    def __init__(self, items, output):
        super(Results, self).__init__(items)
        self.output = output


def migrate_task(options, check=False, name='Move it'):
    return {'name': name, 'virtkit.virt.migrate': options, 'check_mode': check, 'diff': True}


def fours(tmp_path, options, step, args=()):
    """Check mode, the move, check mode, the move: the last two change nothing,
    and check mode predicted the move's actions exactly."""
    results = play(tmp_path, [migrate_task(options, check) for check in (True, False, True, False)], step, args)
    for result in results:
        assert not result.get('failed'), '%s: %s' % (step, result.get('msg'))
    predicted, done, recheck, again = results
    assert predicted['changed'] and done['changed'], (predicted, done)
    assert predicted['actions'] == done['actions'], (predicted['actions'], done['actions'])
    assert predicted['migration']['moved'] is False and done['migration']['moved'] is True
    for result in (recheck, again):
        assert result['changed'] is False and result['actions'] == [], result
        assert result['migration']['host'] == 'destination'
    return results


# -- running guests ---------------------------------------------------------------

@pytest.fixture(scope='module')
def guests(bed):
    """Two running guests on this machine, booted side by side: ``shared`` with
    its disk in the shared pool, ``copied`` with a raw disk in the local pool
    that starts with a marker."""
    names = {'shared': bed.name('a'), 'copied': bed.name('b')}
    disks = {'shared': make_disk(bed.shared_pool, names['shared'] + '.qcow2', fmt='qcow2'),
             'copied': make_disk(bed.local_pool, names['copied'] + '.img', marker=b'VIRTKIT-MIGRATE-MARKER\n')}
    for key in ('shared', 'copied'):
        boot(bed, names[key], disks[key])
    for key in ('shared', 'copied'):
        booted(bed, names[key])
    return dict(names=names, disks=disks, macs={key: mac_of(virsh, names[key]) for key in names})


def mac_of(run, name):
    xml = run('dumpxml', name).stdout
    return re.search(r"<mac address='([0-9a-f:]+)'", xml).group(1)


def ready_lines(bed, name):
    return [line for line in bed.console(name) if line.startswith('VIRTKIT-GUEST-READY')]


def test_a_running_guest_moves_live_over_shared_storage(bed, guests, tmp_path):
    name = guests['names']['shared']
    host_id = virsh('domid', name).stdout.strip()
    predicted, done, _recheck, _again = fours(tmp_path, bed.forth(name, unsafe=True), 'shared')
    assert predicted['actions'] == ['migrate live to %s' % bed.h2.uri]
    assert predicted['diff']['before']['uri'] == HOST_URI and predicted['diff']['after']['uri'] == bed.h2.uri
    assert predicted['migration']['host'] == 'source' and predicted['migration']['mode'] == 'live'
    assert bed.where(name) == {'host': None, 'h2': 'running'}
    progress = done['migration']['progress']
    assert progress['memory_total'] >= GUEST_MEMORY_MIB * 1024 * 1024 * 0.9, progress
    assert progress['downtime_ms'] >= 0 and progress['time_elapsed_ms'] > 0, progress
    assert done['migration']['domain']['state'] == 'running'
    assert done['migration']['domain']['interfaces'][0]['mac'] == guests['macs']['shared']
    assert mac_of(bed.h2.virsh, name) == guests['macs']['shared']
    assert len(ready_lines(bed, name)) == 1, 'the guest booted again: %s' % bed.log(name)
    assert host_id  # it ran here before


def test_a_running_guest_moves_live_with_its_storage_copied(bed, guests, tmp_path):
    name, disk = guests['names']['copied'], guests['disks']['copied']
    predicted, done, _recheck, _again = fours(tmp_path, bed.forth(name, copy_storage='all'), 'copied')
    volume = '%s/%s' % (bed.local_pool, os.path.basename(disk))
    assert done['actions'] == ['destination: volume %s: create' % volume,
                               'migrate live to %s, copying disks vda (all)' % bed.h2.uri], done['actions']
    assert bed.where(name) == {'host': None, 'h2': 'running'}
    # The copy is in the second host's own directory; this machine's stays (and the result says so).
    with open(bed.h2.path(disk), 'rb') as handle:
        assert handle.read(23) == b'VIRTKIT-MIGRATE-MARKER\n'
    assert os.path.exists(disk)
    assert any(volume in warning for warning in done.get('warnings', [])), done.get('warnings')
    assert done['migration']['progress'].get('disk_total', 0) >= 8 * 1024 * 1024, done['migration']['progress']
    assert len(ready_lines(bed, name)) == 1


def test_the_moved_guests_keep_running_and_take_leases_on_the_destination(bed, guests):
    """The same boot goes on (one READY line) and the guests' DHCP clients,
    renewing, get leases from the destination's network for their MACs."""
    for key in ('shared', 'copied'):
        name = guests['names'][key]
        wait_for(lambda: lease_lines(bed, name, bed.subnets[1]), 240, interval=2,
                 what='%s to take a lease on the destination network (console: %s)' % (name, bed.log(name)))
        leases = bed.h2.virsh('net-dhcp-leases', bed.net).stdout
        assert guests['macs'][key] in leases, leases
        assert len(ready_lines(bed, name)) == 1, 'the guest booted again: %s' % bed.log(name)
        assert bed.where(name)['h2'] == 'running'


def test_moving_back_peer_to_peer_with_dest_auth(bed, guests, tmp_path):
    """Back to this machine: its SASL listener with ``dest_auth`` for the checks,
    the second daemon driving the migration itself (it has its own credentials);
    the passwords never show, even at -vvvv."""
    name = guests['names']['shared']
    results = fours(tmp_path, bed.back(name, unsafe=True, peer_to_peer=True), 'back', args=['-vvvv'])
    assert results[0]['actions'] == ['migrate live to %s, peer to peer' % bed.host_tcp]
    assert bed.where(name) == {'host': 'running', 'h2': None}
    assert len(ready_lines(bed, name)) == 1
    for secret in (bed.h2.auth['password'], bed.host_auth['password']):
        assert secret not in results.output
    assert 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER' in results.output  # -vvvv shows the arguments, masked

    # The copied one comes back with its storage; the copy left here before is overwritten (nothing uses it).
    name, disk = guests['names']['copied'], guests['disks']['copied']
    results = play(tmp_path, [migrate_task(bed.back(name, copy_storage='all')),
                              migrate_task(bed.back(name, copy_storage='all'))], 'back-copied')
    assert not results[0].get('failed'), results[0].get('msg')
    assert results[0]['actions'] == [
        'destination: volume %s/%s (unused there) is overwritten by the copy' % (bed.local_pool, os.path.basename(disk)),
        'migrate live to %s, copying disks vda (all)' % bed.host_tcp], results[0]['actions']
    assert results[1]['changed'] is False
    assert bed.where(name) == {'host': 'running', 'h2': None}
