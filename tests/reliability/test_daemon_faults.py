"""libvirtd killed or restarted in the middle of a task: the task completes
(one reconnect) or fails saying the daemon went away; a re-run converges;
nothing half made is left that a re-run cannot fix.

The relay (faultproxy.py) kills the private daemon at an exact call of the
task - before the daemon sees it, or after it answered but before the task
hears the answer - and restarts it a moment later (or not at all)."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from helpers import Faults, domstate, guest_args, make_dir_pool, make_network, proxy_for, remove
from suite import collections_path, finish_module, run_module, start_module

pytestmark = pytest.mark.usefixtures('report')


def fault_case(report, daemon, label, rule, module, args, tmp, restart_after=1.0, timeout=180, check_rerun=True):
    """Run ``module`` through the relay with a fault at ``rule`` (proc,
    action, nth, types); returns (result, rerun result or None, detect s)."""
    faults = Faults(daemon)
    with proxy_for(daemon, label) as proxy:
        proc, kind = rule[0], rule[1]
        fired = proxy.on(proc, kind, nth=rule[2] if len(rule) > 2 else 1,
                         types=rule[3] if len(rule) > 3 else (0,), fault=faults.kill(restart_after))
        args = dict(args, uri=daemon.uri(proxy.path))
        started, _t = start_module(module, args, tmp)
        result, ended = finish_module(started, report, 'fault %s' % label, timeout=timeout)
    faults.settle()
    assert fired.fired.is_set(), 'the fault at %s never fired: %s; the task: %s' % (
        rule, proxy.procedures(), result.get('msg'))
    detect = ended - fired.fired_at
    rerun = run_module(module, dict(args, uri=daemon.uri()), tmp, report, where='re-run %s' % label) \
        if check_rerun else None
    return result, rerun, detect


def test_define_then_start_the_daemon_dies_before_the_start(daemon, report, bed, prefix, tmp_path):
    name = '%s-d1' % prefix
    try:
        result, rerun, detect = fault_case(report, daemon, 'd1', ('domain_create', 'kill'), 'domain',
                                           guest_args(None, name, bed), tmp_path)
        assert not result.get('failed'), result.get('msg')
        assert result['changed'] and result['actions'] == ['define', 'start']
        assert domstate(daemon, name).startswith('running')
        assert not rerun.get('failed') and rerun['changed'] is False, rerun
        report.add('daemon', 'domain define + start: libvirtd killed (SIGKILL) when the start call reached it, '
                   'restarted 1 s later', 'new guest, state running',
                   'ok, changed (define, start): the start was made again on a new connection; re-run: ok, '
                   'unchanged', detect=detect, left='nothing (the guest runs, as asked)')
    finally:
        remove(daemon, ('domain', name))


def test_start_answered_but_the_answer_lost(daemon, report, bed, prefix, tmp_path):
    name = '%s-d2' % prefix
    try:
        result, rerun, detect = fault_case(report, daemon, 'd2', ('domain_create', 'kill_after'), 'domain',
                                           guest_args(None, name, bed), tmp_path)
        assert not result.get('failed'), result.get('msg')
        assert domstate(daemon, name).startswith('running')
        assert not rerun.get('failed') and rerun['changed'] is False, rerun
        report.add('daemon', 'domain start made, then libvirtd killed before its answer reached the task, '
                   'restarted 1 s later', 'new guest, state running',
                   'ok, changed: after reconnecting, the task saw the guest running and did not start it twice; '
                   're-run: ok, unchanged', detect=detect, left='nothing (the guest runs, as asked)')
    finally:
        remove(daemon, ('domain', name))


def test_volume_upload_the_daemon_dies_mid_stream(daemon, report, prefix, tmp_path):
    pool, path = '%s-up' % prefix, str(tmp_path / 'pool')
    image = tmp_path / 'image.raw'
    with open(str(image), 'wb') as handle:
        handle.write(os.urandom(4 * 1024 * 1024))
    make_dir_pool(daemon, pool, path)
    try:
        args = {'name': 'disk.img', 'pool': pool, 'import': {'path': str(image)}}
        result, rerun, detect = fault_case(report, daemon, 'up', ('storage_vol_upload', 'kill', 4, (3,)), 'volume',
                                           args, tmp_path)
        assert not result.get('failed'), result.get('msg')
        with open(os.path.join(path, 'disk.img'), 'rb') as got, open(str(image), 'rb') as want:
            assert got.read() == want.read()
        assert sorted(os.listdir(path)) == ['disk.img']  # no marker left
        assert not rerun.get('failed') and rerun['changed'] is False, rerun
        report.add('daemon', 'volume import (upload stream): libvirtd killed after the 4th data packet, restarted '
                   '1 s later', '4 MiB raw image into a dir pool',
                   'ok, changed: the upload started over on a new connection, content identical to the image; '
                   're-run: ok, unchanged', detect=detect, left='nothing (the volume, complete; no marker)')
    finally:
        remove(daemon, ('pool', pool))


@pytest.mark.parametrize('kind, label', [('kill', 'sk'), ('kill_after', 'sa')])
def test_snapshot_the_daemon_dies_during_the_take(kind, label, daemon, report, bed, prefix, tmp_path):
    """The daemon died when the take reached it (nothing made), or after it
    made the snapshot and before its answer came: the task, back on a new
    connection, takes it or finds it there - never twice."""
    name, pool = '%s-%s' % (prefix, label), '%s-%spool' % (prefix, label)
    make_dir_pool(daemon, pool, str(tmp_path / 'pool'))
    try:
        made = daemon.virsh('vol-create-as', pool, 'disk.qcow2', '1M', '--format', 'qcow2')
        assert made.returncode == 0, made.stderr
        guest = run_module('domain', guest_args(daemon.uri(), name, bed, state='present',
                                                disks=[{'volume': 'disk.qcow2', 'pool': pool}]), tmp_path, report)
        assert not guest.get('failed'), guest.get('msg')
        result, rerun, detect = fault_case(report, daemon, label, ('domain_snapshot_create_xml', kind),
                                           'snapshot', {'domain': name, 'name': 's1'}, tmp_path)
        assert not result.get('failed'), result.get('msg')
        assert result['changed'] and result['snapshot']['name'] == 's1', result
        assert daemon.virsh('snapshot-list', name, '--name').stdout.split() == ['s1']
        assert not rerun.get('failed') and rerun['changed'] is False, rerun
        report.add('daemon', {'kill': 'snapshot: libvirtd killed (SIGKILL) when the take reached it',
                              'kill_after': 'snapshot taken, then libvirtd killed before its answer reached '
                                            'the task'}[kind] + ', restarted 1 s later',
                   'internal snapshot of a shut-off guest',
                   {'kill': 'ok, changed: after reconnecting, the task found no snapshot and took it',
                    'kill_after': 'ok, changed: after reconnecting, the task found the snapshot made and did not '
                                  'take it twice'}[kind] + '; re-run: ok, unchanged',
                   detect=detect, left='nothing (one snapshot, as asked)')
    finally:
        daemon.virsh('snapshot-delete', name, 's1')
        remove(daemon, ('domain', name), ('volume', 'disk.qcow2', pool), ('pool', pool))


def test_network_update_is_not_repeated_blindly(daemon, report, prefix, subnets, tmp_path):
    name, subnet = '%s-nu' % prefix, next(subnets)
    make_network(daemon, name, '%s-nu' % prefix, subnet)
    dhcp = {'ranges': [{'start': '%s.100' % subnet, 'end': '%s.150' % subnet}],
            'hosts': [{'mac': '52:54:00:aa:00:01', 'ip': '%s.10' % subnet}]}
    args = {'name': name, 'mode': 'isolated', 'bridge': '%s-nu' % prefix,
            'ipv4': {'address': '%s.1/24' % subnet, 'dhcp': dhcp}}
    try:
        result, rerun, detect = fault_case(report, daemon, 'nu', ('network_update', 'kill'), 'network', args,
                                           tmp_path)
        assert result.get('failed') and 'went away during the call' in result['msg'], result
        assert 'run the task again' in result['msg'] and 'Traceback' not in result['msg']
        assert not rerun.get('failed') and rerun['changed'] is True, rerun
        again = run_module('network', dict(args, uri=daemon.uri()), tmp_path, report)
        assert again['changed'] is False
        leases = daemon.virsh('net-dumpxml', name).stdout
        assert leases.count("mac='52:54:00:aa:00:01'") == 1
        report.add('daemon', 'network DHCP host added live: libvirtd killed when the update call reached it, '
                   'restarted 1 s later', 'add one DHCP host to a running network',
                   result['msg'], detect=detect,
                   left='nothing (the update was not made; the re-run made it once, the one after that changed '
                        'nothing)')
    finally:
        remove(daemon, ('network', name))


def test_wait_for_ip_survives_a_restart(daemon, report, bed, prefix, subnets, tmp_path):
    name, net, subnet = '%s-wi' % prefix, '%s-wi' % prefix, next(subnets)
    make_network(daemon, net, '%s-wi' % prefix, subnet)
    try:
        args = guest_args(None, name, bed, network=net, wait_for_ip={'timeout': 240, 'sources': ['lease']})
        result, rerun, detect = fault_case(report, daemon, 'wi', ('domain_interface_addresses', 'kill', 2), 'domain',
                                           args, tmp_path, timeout=300)
        assert not result.get('failed'), result.get('msg')
        assert result['domain']['ip'].startswith(subnet + '.')
        assert not rerun.get('failed') and rerun['changed'] is False and rerun['domain']['ip'] == result['domain']['ip']
        report.add('daemon', 'wait_for_ip: libvirtd killed during the wait (its 2nd address query), restarted 1 s '
                   'later', 'new guest on an isolated network, wait for its DHCP lease',
                   'ok, changed, ip %s.x: the wait went on over a new connection (the guest and dnsmasq kept '
                   'running); re-run: ok, unchanged, same address' % subnet, detect=detect,
                   left='nothing (the guest runs with its lease)')
    finally:
        remove(daemon, ('domain', name), ('network', net))


def test_inventory_listing_survives_a_restart(daemon, report, prefix, tmp_path):
    name = '%s-inv' % prefix
    xml = "<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>" % name
    assert daemon.virsh('define', '/dev/stdin', stdin=xml).returncode == 0
    faults = Faults(daemon)
    try:
        with proxy_for(daemon, 'inv') as proxy:
            fired = proxy.on('connect_list_all_domains', 'kill', fault=faults.kill(1.0, sig=signal.SIGTERM))
            config = tmp_path / 'rel.virt.yml'
            config.write_text(json.dumps({'plugin': 'virtkit.virt.guests', 'uris': [daemon.uri(proxy.path)],
                                          'strict': True, 'name_pattern': '^%s' % prefix}))
            env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_NOCOLOR='1',
                       ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED='1')
            proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-inventory'), '-i',
                                   str(config), '--list'], capture_output=True, text=True, env=env, timeout=120,
                                  check=False)
            ended = time.monotonic()
        faults.settle()
        report.scan(proc.stdout + proc.stderr, 'inventory')
        assert fired.fired.is_set()
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert name in json.loads(proc.stdout)['_meta']['hostvars']
        report.add('daemon', 'inventory listing (virtkit.virt.guests, strict): libvirtd restarted (SIGTERM, then '
                   'started 1 s later) when the listing call reached it', 'ansible-inventory --list',
                   'the guest listed, rc 0: the listing call was made again on a new connection',
                   detect=ended - fired.fired_at, left='nothing')
    finally:
        remove(daemon, ('domain', name))


def test_a_daemon_that_does_not_come_back(daemon, report, prefix, tmp_path):
    pool, path = '%s-gone' % prefix, str(tmp_path / 'pool')
    make_dir_pool(daemon, pool, path)
    faults = Faults(daemon)
    try:
        with proxy_for(daemon, 'gone') as proxy:
            fired = proxy.on('storage_vol_create_xml', 'kill', fault=faults.kill(None))
            args = {'uri': daemon.uri(proxy.path), 'name': 'data.qcow2', 'pool': pool, 'capacity': '16M',
                    'format': 'qcow2'}
            started, _t = start_module('volume', args, tmp_path)
            result, ended = finish_module(started, report, 'daemon gone')
        left = sorted(os.listdir(path))
        assert fired.fired.is_set(), (result, proxy.procedures(), list(proxy.calls))
        daemon.start()
        assert result.get('failed') and 'went away during the call' in result['msg'], result
        assert 'did not answer again within 20 s' in result['msg'] and result['changed'] is False
        rerun = run_module('volume', dict(args, uri=daemon.uri()), tmp_path, report)
        assert not rerun.get('failed') and rerun['changed'] is True
        report.add('daemon', 'volume create: libvirtd killed when the create call reached it, and not back '
                   'within the 20 s the task waits', 'a 16 MiB qcow2 volume', result['msg'],
                   detect=ended - fired.fired_at, left='nothing (%s in the pool directory); after a restart the '
                   're-run made the volume' % (', '.join(left) or 'no file'))
    finally:
        faults.settle()
        remove(daemon, ('pool', pool))


HUNG_PLAY = """- hosts: localhost
  gather_facts: false
  tasks:
    - name: List the guests of a daemon that hangs
      virtkit.virt.domain_info:
        uri: "{{ uri }}"
      timeout: 8
"""


def test_a_daemon_that_hangs(daemon, report, tmp_path):
    """A daemon that stops answering without closing its socket (SIGSTOP, a
    deadlock) is a limit: libvirt's client has no keepalive without an event
    loop, so a call waits for the answer. Ansible's task ``timeout`` bounds it."""
    from suite import failed_msg, run_play
    pid = daemon.pid()
    os.kill(pid, signal.SIGSTOP)
    stopped = time.monotonic()
    try:
        rc, out = run_play(HUNG_PLAY, tmp_path, report, {'uri': daemon.uri()}, name='hung')
        ended = time.monotonic()
    finally:
        os.kill(pid, signal.SIGCONT)
    said = failed_msg(tmp_path, 'hung')
    assert rc != 0 and 'timed out' in said.lower(), out[-3000:]
    report.add('daemon', 'libvirtd hangs (SIGSTOP: the socket stays open, nothing answers) - a documented limit: '
               'without an event loop libvirt\'s client has no keepalive, so a call waits for its answer; a task '
               'bounds it with Ansible\'s timeout keyword', 'domain_info with timeout: 8',
               ' '.join(said.split()), detect=ended - stopped, left='nothing', outcome='documented limit')
