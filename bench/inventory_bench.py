"""Benchmark of the virtkit.virt.guests inventory (not a test).

For each size (default 300 and 1000 domains) it times, in one run:

  empty     ansible-inventory --list on an empty inventory (Ansible's fixed cost)
  virtkit   ansible-inventory --list with virtkit.virt.guests
  community ansible-inventory --list with community.libvirt.libvirt (from a
            separate virtualenv: --community-venv, made with
            ``python3 -m venv V && V/bin/pip install 'ansible<12' libvirt-python``)
            run by our ansible-core (same Ansible as ours) and by the
            virtualenv's own (against that Ansible's empty run)
  replay    ansible-inventory --list with a do-nothing plugin that hands
            Ansible exactly the hosts, variables and groups our plugin made
            (from its --list output): Ansible's own cost of that inventory,
            which any plugin producing it pays; and the same hosts with one
            variable each and no groups
  floor     a plain libvirt-python program that reads the same data (domains,
            states, XML, DHCP leases) with the same bulk calls

on the real daemon (cheap, never-started domains defined with a unique
prefix and removed afterwards) and on a libvirt test-driver host file
(test:///ABSOLUTE/PATH.xml, generated). Shares are total minus the empty run
of the same Ansible; "ours" is our share less the replay's share. It then
lists four URIs at once against each alone.

    python3 bench/inventory_bench.py [--sizes 300 1000] [--runs 3]
        [--community-venv /tmp/vk-bench-venv] [--collections PATH]

ANSIBLE_COLLECTIONS_PATH (or --collections) must make this tree importable as
ansible_collections/virtkit/virt (tests/conftest.py builds such a link farm
under /tmp/virtkit-pytest-UID). Each figure is the best of --runs runs.
"""
import argparse
import glob
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


FLOOR = r'''
import json, sys, libvirt
libvirt.registerErrorHandler(lambda *a: None, None)
conn = libvirt.open(sys.argv[1])
doms = conn.listAllDomains(0)
states = dict((d.name(), s.get('state.state')) for d, s in conn.getAllDomainStats(libvirt.VIR_DOMAIN_STATS_STATE, 0))
autostart = set(d.name() for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_AUTOSTART))
out = [{'name': d.name(), 'uuid': d.UUIDString(), 'state': states.get(d.name()),
        'autostart': d.name() in autostart, 'xml': d.XMLDesc(0)} for d in doms]
leases = {}
for net in conn.listAllNetworks(libvirt.VIR_CONNECT_LIST_NETWORKS_ACTIVE):
    try:
        leases[net.name()] = net.DHCPLeases()
    except libvirt.libvirtError:
        pass
print(len(json.dumps([out, leases], default=str)))
'''

# Ansible's own cost of an inventory: this plugin reads what our plugin gave
# (`ansible-inventory --list` output) and hands the same hosts, variables and
# groups to Ansible through the same calls, doing nothing else. Its share is
# what any plugin that produces this inventory pays to ansible-core.
REPLAY = '''
from __future__ import annotations
DOCUMENTATION = """
name: replay
short_description: Replays an ansible-inventory --list output (benchmark only)
description: [Replays an ansible-inventory --list output.]
options:
  plugin: {required: true, choices: [vkbench.replay.replay]}
  source: {required: true, type: path}
"""
import json
from ansible.plugins.inventory import BaseInventoryPlugin


def plain(value):
    if isinstance(value, dict):
        if set(value) == {'__ansible_unsafe'}:
            return value['__ansible_unsafe']
        return dict((k, plain(v)) for k, v in value.items())
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


class InventoryModule(BaseInventoryPlugin):
    NAME = 'vkbench.replay.replay'

    def verify_file(self, path):
        return path.endswith('replay.yml')

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        with open(self.get_option('source')) as handle:
            data = json.load(handle)
        groups = {}
        for group, value in data.items():
            if group not in ('_meta', 'all', 'ungrouped'):
                for host in value.get('hosts', ()):
                    groups.setdefault(host, []).append(group)
        hostvars = dict((h, plain(v)) for h, v in data['_meta']['hostvars'].items())
        for host, host_vars in hostvars.items():
            self.inventory.add_host(host)
            for key, value in host_vars.items():
                self.inventory.set_variable(host, key, value)
            for group in groups.get(host, ()):
                self.inventory.add_group(group)
                self.inventory.add_child(group, host)
'''

DOMAIN = '''<domain type='{type}'>
  <name>{name}</name>
  <metadata><virtkit:tags xmlns:virtkit="https://virtkit.dev/xmlns/virt/1.0">
    <virtkit:tag name="role">bench</virtkit:tag><virtkit:tag name="n">{index}</virtkit:tag>
  </virtkit:tags></metadata>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <interface type='network'><mac address='52:54:00:{m1:02x}:{m2:02x}:{m3:02x}'/><source network='default'/><model type='virtio'/></interface>
  </devices>
</domain>
'''


def domain_xml(name, index, dom_type):
    return DOMAIN.format(type=dom_type, name=name, index=index,
                         m1=(index >> 16) & 255, m2=(index >> 8) & 255, m3=index & 255)


def test_host_file(directory, count, tag):
    """A libvirt test-driver host description with ``count`` domains."""
    path = os.path.join(directory, 'host-%s-%d.xml' % (tag, count))
    with open(path, 'w') as handle:
        handle.write("<node>\n<cpu><mhz>2000</mhz><nodes>1</nodes><sockets>1</sockets><cores>2</cores>"
                     "<threads>1</threads></cpu><memory>8388608</memory>\n")
        handle.write("<network><name>default</name><bridge name='virbr0'/>"
                     "<ip address='192.168.122.1' netmask='255.255.255.0'><dhcp>"
                     "<range start='192.168.122.2' end='192.168.122.254'/></dhcp></ip></network>\n")
        for index in range(count):
            handle.write(domain_xml('bench-%s-%05d' % (tag, index), index, 'test'))
        handle.write('</node>\n')
    return path


def timed(argv, env=None, runs=3):
    best = None
    for _run in range(runs):
        started = time.monotonic()
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        elapsed = time.monotonic() - started
        if proc.returncode != 0:
            raise RuntimeError('%s failed (%d): %s' % (' '.join(argv), proc.returncode, proc.stderr[-2000:]))
        best = elapsed if best is None else min(best, elapsed)
    return best


LISTED = re.compile(r'TIMING listed \d+ sources in ([0-9.]+) s')
MADE = re.compile(r'TIMING made the inventory in ([0-9.]+) s')


def phases(argv, env, runs):
    """(listing, making the inventory) in seconds, as the plugin says at -vvv (best of runs)."""
    best = None
    for _run in range(runs):
        proc = subprocess.run(argv + ['-vvv'], env=env, capture_output=True, text=True, check=False)
        listed, made = LISTED.search(proc.stdout + proc.stderr), MADE.search(proc.stdout + proc.stderr)
        if proc.returncode != 0 or not listed or not made:
            raise RuntimeError('%s: no TIMING lines (%d): %s' % (' '.join(argv), proc.returncode, proc.stderr[-2000:]))
        value = (float(listed.group(1)), float(made.group(1)))
        best = value if best is None or sum(value) < sum(best) else best
    return best


class Bench:
    def __init__(self, args, work):
        self.args = args
        self.work = work
        self.env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=args.collections, ANSIBLE_NOCOLOR='1',
                        ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED='1', ANSIBLE_DEPRECATION_WARNINGS='0')
        self.ours_bin = os.path.join(os.path.dirname(sys.executable), 'ansible-inventory')
        self.venv = args.community_venv
        self.community_env = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED='1',
                                  ANSIBLE_DEPRECATION_WARNINGS='0', ANSIBLE_COLLECTIONS_PATH='/nonexistent')
        self.empty = self._write('empty.yml', 'all:\n  hosts: {}\n')
        self.base_ours = timed([self.ours_bin, '-i', self.empty, '--list'], self.env, args.runs)
        self.base_community = None
        if self.venv:
            self.base_community = timed([os.path.join(self.venv, 'bin', 'ansible-inventory'), '-i', self.empty,
                                         '--list'], self.community_env, args.runs)
        self.floor_py = self._write('floor.py', FLOOR)
        replay_dir = os.path.join(work, 'replay', 'ansible_collections', 'vkbench', 'replay', 'plugins', 'inventory')
        os.makedirs(replay_dir)
        self._write(os.path.join(replay_dir, 'replay.py'), REPLAY)
        self.replay_env = dict(self.env, ANSIBLE_COLLECTIONS_PATH='%s:%s' % (os.path.join(work, 'replay'),
                                                                             args.collections))

    def _write(self, name, text):
        path = os.path.join(self.work, name)
        with open(path, 'w') as handle:
            handle.write(text)
        return path

    def ours(self, uris, name='bench'):
        path = self._write('%s.virt.yml' % name, json.dumps({'plugin': 'virtkit.virt.guests', 'uris': uris}))
        return timed([self.ours_bin, '-i', path, '--list'], self.env, self.args.runs) - self.base_ours

    def replay(self, uris):
        """Ansible's share for the inventory our plugin makes of ``uris``, and
        for the same hosts with one variable each and no groups (the least
        any plugin listing them can hand Ansible)."""
        path = self._write('bench.virt.yml', json.dumps({'plugin': 'virtkit.virt.guests', 'uris': uris}))
        output = os.path.join(self.work, 'ours.json')
        subprocess.run([self.ours_bin, '-i', path, '--list', '--output', output], env=self.env, check=True,
                       capture_output=True)
        with open(output) as handle:
            hosts = json.load(handle)['_meta']['hostvars']
        least = self._write('least.json', json.dumps({'_meta': {'hostvars': dict(
            (host, {'virt_uri': host_vars['virt_uri']}) for host, host_vars in hosts.items())}}))
        shares = []
        for source in (output, least):
            config = self._write('bench.replay.yml', json.dumps({'plugin': 'vkbench.replay.replay', 'source': source}))
            shares.append(timed([self.ours_bin, '-i', config, '--list'], self.replay_env, self.args.runs)
                          - self.base_ours)
        return shares

    def ours_phases(self, uris, name='bench'):
        path = self._write('%s.virt.yml' % name, json.dumps({'plugin': 'virtkit.virt.guests', 'uris': uris}))
        return phases([self.ours_bin, '-i', path, '--graph'], self.env, self.args.runs)

    def community(self, uri):
        """community.libvirt's share on our ansible-core (the same Ansible as
        ours) and on its virtualenv's own; (None, None) without the venv."""
        if not self.venv:
            return None, None
        path = self._write('bench.libvirt.yml', json.dumps({'plugin': 'community.libvirt.libvirt', 'uri': uri}))
        own = timed([os.path.join(self.venv, 'bin', 'ansible-inventory'), '-i', path, '--list'],
                    self.community_env, self.args.runs) - self.base_community
        site = glob.glob(os.path.join(self.venv, 'lib', 'python*', 'site-packages'))[0]
        same = timed([self.ours_bin, '-i', path, '--list'], dict(self.env, ANSIBLE_COLLECTIONS_PATH=site),
                     self.args.runs) - self.base_ours
        return same, own

    def floor(self, uri):
        return timed([sys.executable, self.floor_py, uri], None, self.args.runs)

    def row(self, label, uri):
        ours, floor, (community, community_own) = self.ours([uri]), self.floor(uri), self.community(uri)
        ansible, least = self.replay([uri])
        listing, making = self.ours_phases([uri])
        line = ('%-30s share %5.2f s = Ansible %4.2f + ours %4.2f (listing %4.2f, making %4.2f) | floor %4.2f s | '
                'ours/floor %4.2f, share/floor %4.2f | Ansible with 1 variable a host %4.2f s'
                % (label, ours, ansible, ours - ansible, listing, making, floor, (ours - ansible) / floor,
                   ours / floor, least))
        if community is not None:
            line += ' | community.libvirt share %4.2f s (%4.2f s on its own ansible-core)' % (community, community_own)
        print(line, flush=True)
        return {'what': label, 'share': ours, 'ansible': ansible, 'ansible_least': least, 'ours': ours - ansible,
                'listing': listing,
                'inventory': making, 'floor': floor, 'community': community, 'community_own_core': community_own}


def define_on_daemon(uri, prefix, count):
    import libvirt
    conn = libvirt.open(uri)
    names = []
    try:
        for index in range(count):
            name = '%s-%05d' % (prefix, index)
            xml = domain_xml(name, index, 'qemu')
            conn.defineXML(xml.replace("<source network='default'/>", "<source network='%s-none'/>" % prefix))
            names.append(name)
    except Exception:
        undefine_on_daemon(uri, names)
        raise
    finally:
        conn.close()
    return names


def undefine_on_daemon(uri, names):
    import libvirt
    conn = libvirt.open(uri)
    try:
        for name in names:
            try:
                conn.lookupByName(name).undefine()
            except libvirt.libvirtError:
                pass
    finally:
        conn.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[300, 1000])
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--uri', default='qemu:///system', help='the real daemon')
    parser.add_argument('--community-venv', default='/tmp/vk-bench-venv' if os.path.isdir('/tmp/vk-bench-venv')
                        else None)
    parser.add_argument('--collections', default=os.environ.get('ANSIBLE_COLLECTIONS_PATH')
                        or '/tmp/virtkit-pytest-%d' % os.getuid())
    parser.add_argument('--skip-daemon', action='store_true')
    parser.add_argument('--json', help='also write the figures to this file')
    args = parser.parse_args()
    if not os.path.isdir(os.path.join(args.collections, 'ansible_collections', 'virtkit', 'virt')):
        sys.exit('no ansible_collections/virtkit/virt under %s (run the unit tests once, or set '
                 'ANSIBLE_COLLECTIONS_PATH)' % args.collections)
    work = tempfile.mkdtemp(prefix='vk-inventory-bench-')
    results = []
    try:
        bench = Bench(args, work)
        print('empty inventory: ours %.2f s%s' % (bench.base_ours, '' if bench.base_community is None else
                                                  ', community venv %.2f s' % bench.base_community))
        for size in args.sizes:
            results.append(bench.row('test driver, %d domains' % size, 'test://%s' % test_host_file(work, size, 'a')))
            if not args.skip_daemon:
                prefix = 'vkbench%s' % secrets.token_hex(2)
                names = define_on_daemon(args.uri, prefix, size)
                try:
                    results.append(bench.row('%s, %d domains' % (args.uri, size), args.uri))
                finally:
                    undefine_on_daemon(args.uri, names)
        # Four URIs at once against each alone: the listing phase (what runs side by
        # side) as the plugin times it, and the whole share.
        uris = ['test://%s' % test_host_file(work, 250, tag) for tag in ('p', 'q', 'r', 's')]
        if not args.skip_daemon:
            uris[0] = args.uri
        alone = [bench.ours_phases([uri], 'one')[0] for uri in uris]
        together = bench.ours_phases(uris, 'four')[0]
        # The test-driver listings are CPU work in our own process: n cores can
        # at best run them n at a time, so no scheduling beats this bound.
        bound = max(alone + [sum(alone) / (os.cpu_count() or 1)])
        print('four URIs (%s): listed alone in %s s (slowest %.2f s, sum %.2f s); all four at once in %.2f s '
              '(%.2fx the slowest; the best %d cores allow is %.2f s, %.2fx that)' % (
                  ', '.join(u if len(u) < 20 else u[:8] + '...' for u in uris),
                  ', '.join('%.2f' % a for a in alone), max(alone), sum(alone), together,
                  together / max(alone), os.cpu_count() or 1, bound, together / bound))
        results.append({'what': 'four uris', 'uris': uris, 'alone': alone, 'together': together, 'bound': bound})
        ratios = [r['ours'] / r['floor'] for r in results if 'floor' in r]
        shares = [r['share'] / r['floor'] for r in results if 'floor' in r]
        print('ours/floor (the share less Ansible\'s cost of the same inventory): worst %.2f, median %.2f '
              '(target <= 1.5)' % (max(ratios), statistics.median(ratios)))
        print('share/floor (the whole share, Ansible\'s part included): worst %.2f, median %.2f'
              % (max(shares), statistics.median(shares)))
        if args.json:
            with open(args.json, 'w') as handle:
                json.dump(results, handle, indent=1)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
