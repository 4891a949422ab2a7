"""The performance figures of virtkit.virt, side by side in one run (not a test).

    python3 bench/perf_bench.py [--runs 5] [--only SECTION,...] [--community-venv DIR]

Each section prints its figures with the goal (and the figure the issue
measured before the work on it) beside them:

  modules     A play of 20 idempotent tasks of one module in a loop (-c local,
              the task's resource left unchanged), for domain, network,
              volume and container, against the floor - the same play of 20 x
              ``command: true``, what Ansible itself costs a task - and
              against community.libvirt's nearest module on the same
              ansible-core: virt command=define with the domain's (and the
              container's) XML, virt_net command=define, virt_volume
              state=present. Each play runs right after a floor play, and its
              ratio is to that floor (the load drifts); medians of --runs
              rounds, wall time and CPU time (of ansible-playbook and all it
              ran: steadier than wall time on a shared machine). Also the
              domain play with the bytecode cache off (VIRTKIT_BYTECODE_CACHE=off),
              and the engine's floor for the domain and the container: a
              bench-only module that does what any module on libvirt-python
              must (import libvirt and lxml, open the connection, read the
              object's XML and parse it) and nothing else.
  process     One module process run from its AnsiballZ file (kept with
              ANSIBLE_KEEP_REMOTE_FILES): domain (cache warm, cache off),
              community.libvirt virt, command. Medians of 5 x --runs.
  shipped     The files AnsiballZ ships with each module (bench/shipped_files.py).
  inventory   ansible-inventory --graph over 10,000 guests on 50 libvirt
              test-driver host files (200 each): our listing and making the
              inventory (the plugin's -vvv TIMING lines; Ansible's part of
              making it said apart), the whole run and its peak memory,
              against the floor: a plain libvirt-python program that reads the
              same (domains, states, XML, leases) from the 50 hosts in turn.
  ssh         The same 10,000 guests over the SSH path: 50 hosts (127.0.0.2 -
              127.0.0.51, an sshd of our own on them), each listing a 200-guest
              test-driver file, its helper started --ssh-delay s late to stand
              for a distant host; the listing of one host alone against all 50,
              and our listing + making against the floor over the same path:
              OpenSSH's client to the 50 hosts at once, each running the plain
              libvirt-python program there (as late) and sending what it read.
              Then the same 50 hosts with 5 guests each and a 10 s delay, where
              waiting bounds the listing, not this machine's CPUs.
  wait_for_ip The bed's guest started with wait_for_ip (the module's main()
              run directly): the time from its DHCP lease showing in the
              network's leases (read every 20 ms) to the module's return.
              Each boot gives the guest a new MAC: a network keeps its leases
              over a restart, and an old lease would be answered at once.

With --before DIR (a copy of an older tree, e.g. ``git archive COMMIT | tar -x
-C DIR``), the domain and container loops, the domain process, the inventory,
the SSH listing and wait_for_ip also run that code, in the same rounds, as
rows marked "before".

Timings on a shared machine scatter: compare the figures of one run with
each other, not with another run's. The load average is printed at the start
and at the end. PYTHONDONTWRITEBYTECODE is removed from the plays'
environment (with -c local the modules inherit it; a target host rarely has
it), so the modules keep their bytecode cache as on a target; the domain
play is also run with the cache off.

Needs: tests/bed/setup.sh done (libvirtd, the bed's guest), ansible-core on the
Python that runs it, and for community.libvirt the virtual environment
``python3 -m venv /tmp/vk-bench-venv && /tmp/vk-bench-venv/bin/pip install
'ansible<12' libvirt-python lxml``. Everything it makes is named vkb<hex>
and removed at the end.
"""
import argparse
import concurrent.futures
import datetime
import glob
import json
import os
import re
import resource
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, 'tests', 'integration'))

import inventory_bench  # noqa: E402  (its host files and floor program)

SECTIONS = ('modules', 'process', 'shipped', 'inventory', 'ssh', 'wait_for_ip')
LOOP = 20
# The figures before this work (the table, same machine) and the goals.
WAS = {'loop': 1.78, 'process': 0.8, 'inventory_wall': 10.4, 'listing': 3.0, 'making': 5.0, 'peak_mb': 270,
       'floor_listing': 4.1, 'wait_for_ip': 2.0}
GOAL = {'loop': 1.15, 'inventory': 1.5, 'making': 2.0, 'wait_for_ip': 1.0}


def say(text=''):
    print(text, flush=True)


def median(values):
    return statistics.median(values) if values else float('nan')


def load():
    return ', '.join('%.2f' % v for v in os.getloadavg())


class Bench:
    def __init__(self, args, work):
        self.args = args
        self.work = work
        self.prefix = 'vkb%s' % secrets.token_hex(3)
        self.bin = os.path.dirname(sys.executable)
        self.python = sys.executable
        self.env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=args.collections, ANSIBLE_NOCOLOR='1',
                        ANSIBLE_RETRY_FILES_ENABLED='0', ANSIBLE_LOCALHOST_WARNING='0',
                        ANSIBLE_DEPRECATION_WARNINGS='0', ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED='1')
        self.env.pop('PYTHONDONTWRITEBYTECODE', None)
        self.community_site = None
        if args.community_venv:
            found = glob.glob(os.path.join(args.community_venv, 'lib', 'python*', 'site-packages'))
            if found and os.path.isdir(os.path.join(found[0], 'ansible_collections', 'community', 'libvirt')):
                self.community_site = found[0]
        self.cleanups = []
        self.results = {}
        self.before_env = None
        if args.before:
            farm = os.path.join(work, 'before-collections')
            os.makedirs(os.path.join(farm, 'ansible_collections', 'virtkit'))
            os.symlink(os.path.abspath(args.before), os.path.join(farm, 'ansible_collections', 'virtkit', 'virt'))
            self.before_env = dict(self.env, ANSIBLE_COLLECTIONS_PATH=farm)

    def write(self, name, text):
        path = os.path.join(self.work, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as handle:
            handle.write(text)
        return path

    # -- running plays ---------------------------------------------------------------
    def playbook(self, path, env=None, check=True, extra=None):
        argv = [os.path.join(self.bin, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
                '-e', 'ansible_python_interpreter=%s' % self.python, path]
        if extra:
            argv += ['-e', json.dumps(extra)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        proc = subprocess.run(argv, env=env or self.env, capture_output=True, text=True, check=False,
                              cwd=self.work)
        elapsed = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if check and proc.returncode != 0:
            raise RuntimeError('%s failed:\n%s' % (path, (proc.stdout + proc.stderr)[-3000:]))
        self.cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        return elapsed, proc

    def play(self, name, tasks, loop=None):
        """A one-play playbook on localhost: ``tasks`` (YAML text, indented as a task list)."""
        body = '- hosts: localhost\n  gather_facts: false\n  tasks:\n' + textwrap.indent(tasks.strip('\n'), '    ')
        if loop:
            body += '\n      loop: "{{ range(%d) | list }}"' % loop
        return self.write(name, body + '\n')

    # -- modules -------------------------------------------------------------------------
    def setup_resources(self):
        """An isolated network, a dir pool with a volume, a domain with a disk
        and an interface, a busybox container: the unchanged resources of the loops."""
        p = self.prefix
        pool_dir = os.path.join(self.work, 'pool')
        os.makedirs(pool_dir)
        tree = os.path.join(self.work, 'ct-root')
        for sub in ('bin', 'proc', 'sys', 'dev', 'tmp', 'etc'):
            os.makedirs(os.path.join(tree, sub))
        shutil.copy('/bin/busybox', os.path.join(tree, 'bin', 'busybox'))
        os.symlink('busybox', os.path.join(tree, 'bin', 'sh'))
        subnet = self.free_subnet()
        self.tasks = {
            'network': textwrap.dedent('''\
                - virtkit.virt.network:
                    name: %s-net
                    mode: isolated
                    bridge: %sb
                    ipv4: {address: %s.1/24}''' % (p, p, subnet)),
            'volume': textwrap.dedent('''\
                - virtkit.virt.volume:
                    name: %s-vol.qcow2
                    pool: %s-pool
                    capacity: 16M''' % (p, p)),
            'domain': textwrap.dedent('''\
                - virtkit.virt.domain:
                    name: %s-dom
                    state: present
                    memory: 64M
                    vcpus: 1
                    disks: [{volume: %s-dom.qcow2, pool: %s-pool, size: 16M}]
                    interfaces: [{network: %s-net}]''' % (p, p, p, p)),
            'container': textwrap.dedent('''\
                - virtkit.virt.container:
                    name: %s-ct
                    state: present
                    rootfs: {path: %s}
                    init: [/bin/sh]
                    memory: 32M
                    interfaces: [{network: %s-net}]''' % (p, tree, p)),
        }
        pool_task = textwrap.dedent('''\
            - virtkit.virt.pool: {name: %s-pool, type: dir, path: %s}''' % (p, pool_dir))
        self.cleanups.append(self.remove_resources)
        setup = self.play('setup.yml', '\n'.join([self.tasks['network'], pool_task, self.tasks['volume'],
                                                  self.tasks['domain'], self.tasks['container']]))
        self.playbook(setup)
        for kind, uri, name in (('domain', 'qemu:///system', p + '-dom'), ('container', 'lxc:///', p + '-ct')):
            xml = subprocess.run(['virsh', '-c', uri, 'dumpxml', '--inactive', name], capture_output=True, text=True,
                                 check=True).stdout
            self.write('%s.xml' % kind, xml)
        net_xml = subprocess.run(['virsh', 'net-dumpxml', '--inactive', '%s-net' % p], capture_output=True,
                                 text=True, check=True).stdout
        self.write('network.xml', net_xml)
        self.community_tasks = {
            'domain': '- community.libvirt.virt: {command: define, xml: "{{ lookup(\'file\', \'domain.xml\') }}"}',
            'container': '- community.libvirt.virt: {command: define, uri: "lxc:///", '
                         'xml: "{{ lookup(\'file\', \'container.xml\') }}"}',
            'network': '- community.libvirt.virt_net: {command: define, name: %s-net, '
                       'xml: "{{ lookup(\'file\', \'network.xml\') }}"}' % p,
            'volume': '- community.libvirt.virt_volume: {state: present, name: %s-vol.qcow2, pool: %s-pool}' % (p, p),
        }

    def remove_resources(self):
        p = self.prefix
        teardown = self.play('teardown.yml', textwrap.dedent('''\
            - virtkit.virt.container: {name: %s-ct, state: absent}
              ignore_errors: true
            - virtkit.virt.domain: {name: %s-dom, state: absent, remove_storage: true}
              ignore_errors: true
            - virtkit.virt.pool: {name: %s-pool, state: absent, purge: true, force: true}
              ignore_errors: true
            - virtkit.virt.network: {name: %s-net, state: absent, force: true}
              ignore_errors: true''' % (p, p, p, p)))
        self.playbook(teardown, check=False)

    def free_subnet(self):
        from harness import free_subnets
        return str(free_subnets(1)[0]).rsplit('.', 1)[0]

    def section_modules(self):
        say('== modules: %d idempotent tasks in a loop against %d x command: true; each play beside a floor play '
            'run just before it, %d rounds; medians' % (LOOP, LOOP, self.args.runs))
        self.setup_resources()
        floor = (self.play('floor.yml', '- ansible.builtin.command: "true"\n  changed_when: false', LOOP), self.env)
        kinds = ('domain', 'network', 'volume', 'container', 'domain, cache off', 'engine floor, domain',
                 'engine floor, container')
        plays = {}
        for kind in kinds[:4]:
            plays[kind] = (self.play('%s.yml' % kind, self.tasks[kind], LOOP), self.env)
            if self.community_site:
                plays['community ' + kind] = (self.play('community-%s.yml' % kind, self.community_tasks[kind], LOOP),
                                              dict(self.env, ANSIBLE_COLLECTIONS_PATH=self.community_site))
        plays['domain, cache off'] = (plays['domain'][0], dict(self.env, VIRTKIT_BYTECODE_CACHE='off'))
        floor_env = dict(self.env, ANSIBLE_COLLECTIONS_PATH='%s:%s' % (self.args.collections, self.engine_floor()))
        for kind, uri, name in (('domain', 'qemu:///system', '-dom'), ('container', 'lxc:///', '-ct')):
            task = '- vkbench.floor.engine_floor: {uri: "%s", name: %s%s}' % (uri, self.prefix, name)
            plays['engine floor, ' + kind] = (self.play('floor-%s.yml' % kind, task, LOOP), floor_env)
        if self.before_env:
            kinds += ('domain (before)', 'container (before)')
            for kind in ('domain', 'container'):
                plays[kind + ' (before)'] = (plays[kind][0], self.before_env)
        for path, env in [floor] + list(plays.values()):
            self.playbook(path, env)  # warm: caches, pages, the bytecode cache
        # Per round and kind: the floor, ours, community.libvirt's, one after the
        # other; ratios against that floor (the load drifts between rounds).
        runs = dict((name, []) for name in list(plays) + ['floor'])
        for _round in range(self.args.runs):
            for kind in kinds:
                base = self.playbook(*floor)[0], self.cpu
                runs['floor'].append(base)
                for name in (kind, 'community ' + kind):
                    if name in plays:
                        wall = self.playbook(*plays[name])[0]
                        runs[name].append((wall, self.cpu, wall / base[0], self.cpu / base[1]))
        wall_floor, cpu_floor = median([r[0] for r in runs['floor']]), median([r[1] for r in runs['floor']])
        say('%-24s %6.2f s (CPU %5.2f s)  the floor' % ('20 x command: true', wall_floor, cpu_floor))
        rows = {}
        for kind in kinds:
            ours = runs[kind]
            ratio, cpu_ratio = median([r[2] for r in ours]), median([r[3] for r in ours])
            line = '%-24s %6.2f s (CPU %5.2f s) = %.2fx the floor (CPU %.2fx)' % (
                kind, median([r[0] for r in ours]), median([r[1] for r in ours]), ratio, cpu_ratio)
            if kind in ('domain', 'network', 'volume', 'container'):
                line += ', goal <= %.2fx' % GOAL['loop']
            if kind == 'domain':
                line += ', the issue measured %.2fx' % WAS['loop']
            community = runs.get('community ' + kind)
            if community:
                line += ' | community.libvirt %.2fx (CPU %.2fx)' % (median([r[2] for r in community]),
                                                                    median([r[3] for r in community]))
            say(line)
            rows[kind] = {'seconds': median([r[0] for r in ours]), 'ratio': ratio, 'cpu_ratio': cpu_ratio,
                          'community': median([r[2] for r in community]) if community else None,
                          'community_cpu': median([r[3] for r in community]) if community else None}
        for kind in ('domain', 'container'):
            beyond = (rows[kind]['seconds'] - wall_floor) / LOOP * 1000
            engine = (rows['engine floor, ' + kind]['seconds'] - wall_floor) / LOOP * 1000
            say('%s: %.0f ms a task beyond command: true, of which the engine floor %.0f ms (the goal allows %.0f ms)'
                % (kind, beyond, engine, (GOAL['loop'] - 1) * wall_floor / LOOP * 1000))
        self.results['modules'] = {'floor': wall_floor, 'floor_cpu': cpu_floor, 'rows': rows, 'runs': runs}

    def engine_floor(self):
        """A collection path holding vkbench.floor.engine_floor."""
        root = os.path.join(self.work, 'floor-collection')
        self.write(os.path.join(root, 'ansible_collections', 'vkbench', 'floor', 'plugins', 'modules',
                                'engine_floor.py'), ENGINE_FLOOR)
        return root

    # -- one module process -------------------------------------------------------------
    def ansiballz(self, name, task, env):
        """The AnsiballZ file of ``task``'s module (kept with ANSIBLE_KEEP_REMOTE_FILES)."""
        remote = os.path.join(self.work, 'remote-%s' % name)
        play = self.play('keep-%s.yml' % name, task)
        self.playbook(play, dict(env, ANSIBLE_KEEP_REMOTE_FILES='1', ANSIBLE_REMOTE_TMP=remote))
        found = glob.glob(os.path.join(remote, '*', 'AnsiballZ_*.py'))
        target = os.path.join(self.work, 'az-%s.py' % name)
        shutil.copy(found[0], target)
        shutil.rmtree(remote, ignore_errors=True)
        return target

    def section_process(self):
        say('== process: one module process run from its AnsiballZ file (medians of %d interleaved runs)'
            % (5 * self.args.runs))
        if not hasattr(self, 'tasks'):
            self.setup_resources()
        files = {'domain': (self.ansiballz('domain', self.tasks['domain'], self.env), self.env),
                 'command': (self.ansiballz('command', '- ansible.builtin.command: "true"', self.env), self.env)}
        files['domain, cache off'] = (files['domain'][0], dict(self.env, VIRTKIT_BYTECODE_CACHE='off'))
        if self.before_env:
            files['domain (before)'] = (self.ansiballz('before', self.tasks['domain'], self.before_env),
                                        self.before_env)
        if self.community_site:
            env = dict(self.env, ANSIBLE_COLLECTIONS_PATH=self.community_site)
            files['community.libvirt virt'] = (self.ansiballz('virt', self.community_tasks['domain'], env), env)
        times = dict((name, []) for name in files)
        for _run in range(5 * self.args.runs):
            for name, (path, env) in files.items():
                started = time.monotonic()
                subprocess.run([self.python, path], env=env, capture_output=True, check=True)
                times[name].append(time.monotonic() - started)
        for name in files:
            say('%-24s %5.3f s%s' % (name, median(times[name]),
                                     '  (the issue measured ~%.1f s)' % WAS['process'] if name == 'domain' else ''))
        self.results['process'] = dict((name, median(values)) for name, values in times.items())

    # -- shipped files ------------------------------------------------------------------
    def section_shipped(self):
        say('== shipped: module_utils files AnsiballZ ships per module (all: with ansible\'s own)')
        proc = subprocess.run([self.python, os.path.join(HERE, 'shipped_files.py'), '--json'], capture_output=True,
                              text=True, check=True)
        shipped = json.loads(proc.stdout)
        say('%-13s %17s | %s' % ('module', 'module_utils: files, bytes', 'whole payload: files, bytes'))
        for name, files in shipped['module_utils'].items():
            payload = shipped['payload'][name]
            say('%-13s %10d %8d | %5d %8d' % (name, len(files), sum(size for _path, size in files), len(payload),
                                              sum(size for _path, size in payload)))
        self.results['shipped'] = shipped

    # -- inventory ------------------------------------------------------------------------
    def inventory_run(self, config, name, env=None):
        """(wall, listing, making, Ansible's part of making, peak MB) of one ansible-inventory --graph -vvv."""
        path = self.write('%s.virt.yml' % name, json.dumps(config))
        argv = [os.path.join(self.bin, 'ansible-inventory'), '-i', path, '--graph', '-vvv']
        started = time.monotonic()
        proc = subprocess.run([self.python, '-c', PEAK, json.dumps(argv)], env=env or self.env, capture_output=True,
                              text=True, check=False)
        wall = time.monotonic() - started
        output = proc.stdout + proc.stderr
        listed = re.search(r'TIMING listed \d+ sources in ([0-9.]+) s', output)
        # (Before the plugin said Ansible's part, it printed the total alone: then it is nan.)
        made = re.search(r'TIMING made the inventory in ([0-9.]+) s(?: \(of which Ansible took .* in ([0-9.]+) s\))?',
                         output)
        peak = re.search(r'PEAK ([0-9]+)', output)
        if proc.returncode != 0 or not (listed and made and peak):
            raise RuntimeError('ansible-inventory failed (%d): %s' % (proc.returncode, output[-3000:]))
        return (wall, float(listed.group(1)), float(made.group(1)), float(made.group(2) or 'nan'),
                int(peak.group(1)) / 1024.0)

    def section_inventory(self):
        say('== inventory: 10,000 guests on 50 test-driver hosts, ansible-inventory --graph (medians of %d)'
            % self.args.runs)
        uris = ['test://%s' % inventory_bench.test_host_file(self.work, 200, 'h%02d' % i) for i in range(50)]
        floor_py = self.write('floor.py', FLOOR_SERIAL)
        empty = self.write('empty.yml', 'all:\n  hosts: {}\n')
        runs, floors, empties, before = [], [], [], []
        for _run in range(self.args.runs):
            runs.append(self.inventory_run({'plugin': 'virtkit.virt.guests', 'uris': uris}, 'fleet'))
            if self.before_env:
                before.append(self.inventory_run({'plugin': 'virtkit.virt.guests', 'uris': uris}, 'fleet',
                                                 self.before_env))
            started = time.monotonic()
            subprocess.run([self.python, floor_py] + uris, check=True, capture_output=True)
            floors.append(time.monotonic() - started)
            started = time.monotonic()
            subprocess.run([os.path.join(self.bin, 'ansible-inventory'), '-i', empty, '--graph'], env=self.env,
                           check=True, capture_output=True)
            empties.append(time.monotonic() - started)
        wall, listing, making, ansible, peak = [median([r[i] for r in runs]) for i in range(5)]
        floor = median(floors)
        ours = listing + making
        say('floor: the 50 hosts read in turn by plain libvirt-python   %5.2f s  (the issue measured %.1f s)'
            % (floor, WAS['floor_listing']))
        say('listing (50 at once, -vvv TIMING)                          %5.2f s  (the issue measured %.1f s)'
            % (listing, WAS['listing']))
        say('making the inventory                                        %5.2f s  (goal < %.0f s; the issue measured '
            '%.1f s)' % (making, GOAL['making'], WAS['making']))
        say('  of which Ansible taking the hosts, variables and groups   %5.2f s' % ansible)
        say('  of which ours (parsing 10,000 XML, variables, groups)     %5.2f s' % (making - ansible))
        say('ours = listing + making = %.2f s = %.2fx the floor (goal <= %.1fx); without Ansible\'s part %.2fx'
            % (ours, ours / floor, GOAL['inventory'], (ours - ansible) / floor))
        say('ansible-inventory --graph, whole run                        %5.2f s  (the issue measured %.1f s; an empty '
            'inventory: %.2f s)' % (wall, WAS['inventory_wall'], median(empties)))
        say('peak memory of ansible-inventory                           %5.0f MB  (the issue measured ~%d MB)'
            % (peak, WAS['peak_mb']))
        self.results['inventory'] = {'wall': wall, 'listing': listing, 'making': making, 'ansible': ansible,
                                     'peak_mb': peak, 'floor': floor, 'empty': median(empties)}
        if before:
            b_wall, b_listing, b_making, _ansible, b_peak = [median([r[i] for r in before]) for i in range(5)]
            say('before: listing %.2f s, making %.2f s, ours = %.2fx the floor; whole run %.2f s; peak %.0f MB'
                % (b_listing, b_making, (b_listing + b_making) / floor, b_wall, b_peak))
            self.results['inventory_before'] = {'wall': b_wall, 'listing': b_listing, 'making': b_making,
                                                'peak_mb': b_peak}

    # -- ssh ----------------------------------------------------------------------------
    def start_sshd(self, hosts):
        folder = os.path.join(self.work, 'sshd')
        os.makedirs(folder)
        for key in ('host', 'client'):
            subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', os.path.join(folder, key)],
                           check=True)
        shutil.copy(os.path.join(folder, 'client.pub'), os.path.join(folder, 'authorized_keys'))
        with socket.socket() as probe:
            probe.bind(('127.0.0.1', 0))
            port = probe.getsockname()[1]
        config = textwrap.dedent('''\
            HostKey {d}/host
            PidFile {d}/sshd-%d.pid
            AuthorizedKeysFile {d}/authorized_keys
            PermitRootLogin prohibit-password
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            UsePAM no
            StrictModes no
            MaxStartups 100:30:200
            MaxSessions 100
            ''').format(d=folder)
        with open(os.path.join(folder, 'host.pub')) as handle:
            kind, key = handle.read().split()[:2]
        self.write('sshd/known_hosts', '%s %s %s\n' % (','.join('[%s]:%d' % (h, port) for h in hosts), kind, key))
        os.makedirs('/run/sshd', exist_ok=True)
        # sshd listens on at most 16 addresses: one sshd for each 15 hosts.
        for first in range(0, len(hosts), 15):
            part = hosts[first:first + 15]
            name = 'sshd/sshd-%d' % first
            self.write(name + '.config', config % first + ''.join('ListenAddress %s:%d\n' % (h, port) for h in part))
            log = open(os.path.join(self.work, name + '.log'), 'w')
            proc = subprocess.Popen(['/usr/sbin/sshd', '-D', '-e', '-f', os.path.join(self.work, name + '.config')],
                                    stdout=subprocess.DEVNULL, stderr=log)
            self.cleanups.append(lambda proc=proc, log=log: (proc.terminate(), proc.wait(timeout=20), log.close()))
            deadline = time.monotonic() + 20
            while True:
                try:
                    socket.create_connection((part[-1], port), timeout=1).close()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        with open(os.path.join(self.work, name + '.log')) as handle:
                            raise RuntimeError('sshd did not start: %s' % handle.read())
                    time.sleep(0.2)
        return {'ssh_port': port, 'ssh_user': 'root', 'ssh_key_file': os.path.join(folder, 'client'),
                'known_hosts_file': os.path.join(folder, 'known_hosts')}

    def section_ssh(self):
        hosts = ['127.0.0.%d' % n for n in range(2, 52)]
        delay = self.args.ssh_delay
        say('== ssh: 10,000 guests over SSH, 50 hosts with 200 guests each, every helper started %.1f s late '
            '(a distant host); medians of %d' % (delay, self.args.runs))
        options = self.start_sshd(hosts)
        uri = 'test://%s' % inventory_bench.test_host_file(self.work, 200, 'ssh')
        base = dict(options, plugin='virtkit.virt.guests', ssh_uris=[uri], qualify_names=True,
                    ssh_python='sleep %s; %s' % (delay, self.python))
        alone, together, before, serial, floors = [], [], [], [], []
        for _run in range(self.args.runs):
            alone.append(self.inventory_run(dict(base, ssh_hosts=hosts[:1]), 'ssh-one'))
            together.append(self.inventory_run(dict(base, ssh_hosts=hosts), 'ssh-all'))
            floors.append(self.ssh_floor(options, hosts, uri, delay))
            if self.before_env:
                before.append(self.inventory_run(dict(base, ssh_hosts=hosts), 'ssh-all', self.before_env))
        # What the 50 listings cost this machine (their helpers run here too): one
        # after the other, without the delay. n CPUs do it n times as fast at best.
        serial.append(self.inventory_run(dict(base, ssh_hosts=hosts, concurrency=1, ssh_python=self.python),
                                         'ssh-serial'))
        one = median([r[1] for r in alone])
        listing, making, ansible, peak, wall = [median([r[i] for r in together]) for i in (1, 2, 3, 4, 0)]
        floor = median(floors)
        ours = listing + making
        work = serial[0][1]
        bound = max(one, work / (os.cpu_count() or 1))
        say('one host alone: listing %.2f s; all 50: listing %.2f s = %.2fx the one host (the sum would be %.0f s)'
            % (one, listing, listing / one, 50 * one))
        say('  the 50 listings one after the other without the delay take %.2f s here (their helpers run on this '
            'machine too): %d CPUs cannot list all 50 in less than %.2f s; all 50 took %.2fx that'
            % (work, os.cpu_count() or 1, bound, listing / bound))
        if before:
            say('  before: all 50 listed in %.2f s' % median([r[1] for r in before]))
        say('all 50: making the inventory %.2f s (Ansible %.2f s), whole run %.2f s, peak memory %.0f MB'
            % (making, ansible, wall, peak))
        say('floor: the 50 hosts read at once by plain libvirt-python over ssh  %5.2f s' % floor)
        say('ours = listing + making = %.2f s = %.2fx the floor (goal <= %.1fx); without Ansible\'s part %.2fx'
            % (ours, ours / floor, GOAL['inventory'], (ours - ansible) / floor))
        self.results['ssh'] = {'one': one, 'listing': listing, 'making': making, 'ansible': ansible, 'wall': wall,
                               'floor': floor, 'peak_mb': peak, 'delay': delay, 'serial_work': work, 'bound': bound,
                               'before': median([r[1] for r in before]) if before else None,
                               'waiting': self.ssh_waiting(options, hosts)}

    def ssh_floor(self, options, hosts, uri, delay):
        """The raw listing over the same path, the plugin's floor: OpenSSH's
        client to all 50 hosts at once, each running there (``delay`` s late,
        as the plugin's helper) a plain libvirt-python program that prints the
        domains with their XML and the leases as JSON; the wall time until
        this side has read and decoded all 50 answers."""
        script = self.write('floor-ssh.py', FLOOR_SSH)
        argv = ['ssh', '-p', str(options['ssh_port']), '-i', options['ssh_key_file'], '-o', 'BatchMode=yes',
                '-o', 'StrictHostKeyChecking=yes', '-o', 'UserKnownHostsFile=' + options['known_hosts_file']]
        command = 'sleep %s; %s %s %s' % (delay, self.python, script, uri)

        def read(host):
            proc = subprocess.run(argv + ['root@' + host, command], capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise RuntimeError('the floor over ssh failed on %s (%d): %s' % (host, proc.returncode, proc.stderr))
            return len(json.loads(proc.stdout)[0])

        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(len(hosts)) as pool:
            listed = sum(pool.map(read, hosts))
        seconds = time.monotonic() - started
        if listed != 200 * len(hosts):
            raise RuntimeError('the floor over ssh listed %d guests, not %d' % (listed, 200 * len(hosts)))
        return seconds

    def ssh_waiting(self, options, hosts, delay=10.0, guests=5):
        """The same 50 hosts where waiting, not this machine's CPUs, bounds the
        listing: few guests a host, each helper started ``delay`` s late."""
        uri = 'test://%s' % inventory_bench.test_host_file(self.work, guests, 'ssh-small')
        base = dict(options, plugin='virtkit.virt.guests', ssh_uris=[uri], qualify_names=True,
                    ssh_python='sleep %s; %s' % (delay, self.python))
        alone, together = [], []
        for _run in range(self.args.runs):
            alone.append(self.inventory_run(dict(base, ssh_hosts=hosts[:1]), 'ssh-small-one')[1])
            together.append(self.inventory_run(dict(base, ssh_hosts=hosts), 'ssh-small-all')[1])
        work = self.inventory_run(dict(base, ssh_hosts=hosts, concurrency=1, ssh_python=self.python),
                                  'ssh-small-serial')[1]
        one, listing = median(alone), median(together)
        figures = (guests, delay, one, listing, listing / one, 50 * one, work)
        say('waiting-bound: 50 hosts with %d guests each, every helper started %.1f s late: one host alone %.2f s, '
            'all 50 %.2f s = %.2fx the one host (the sum would be %.0f s; the 50 listings without the delay, one '
            'after the other: %.2f s of this machine\'s work)' % figures)
        return {'delay': delay, 'guests': guests, 'one': one, 'listing': listing, 'serial_work': work}

    # -- wait_for_ip -----------------------------------------------------------------------
    def section_wait_for_ip(self):
        from harness import bed_facts
        bed = bed_facts()
        say('== wait_for_ip: the bed\'s guest started with wait_for_ip; DHCP lease seen -> module returned '
            '(%d boots)' % self.args.boots)
        p = self.prefix
        net, guest = '%s-wnet' % p, '%s-wvm' % p
        subnet = self.free_subnet()
        self.cleanups.append(lambda: self.playbook(self.play('wait-teardown.yml', textwrap.dedent('''\
            - virtkit.virt.domain: {name: %s, state: absent}
              ignore_errors: true
            - virtkit.virt.network: {name: %s, state: absent, force: true}
              ignore_errors: true''' % (guest, net))), check=False))
        setup = textwrap.dedent('''\
            - virtkit.virt.network:
                name: {net}
                mode: isolated
                bridge: {p}w
                ipv4: {{address: {s}.1/24, dhcp: {{ranges: [{{start: {s}.100, end: {s}.150}}]}}}}
            - virtkit.virt.domain:
                name: {guest}
                state: present
                virt_type: qemu
                memory: 128
                kernel: {kernel}
                initrd: {initrd}
                cmdline: console=ttyS0
                interfaces: [{{network: {net}}}]''')
        setup = setup.format(net=net, p=p, s=subnet, guest=guest, kernel=bed['kernel'], initrd=bed['initrd'])
        self.playbook(self.play('wait-setup.yml', setup))
        import libvirt
        conn = libvirt.open('qemu:///system')
        latencies = {'now': [], 'before': []}
        try:
            for _boot in range(self.args.boots):
                for which in ('now', 'before') if self.before_env else ('now',):
                    farm = self.args.collections if which == 'now' else self.before_env['ANSIBLE_COLLECTIONS_PATH']
                    # A network keeps its leases over a restart, and a guest whose
                    # MAC has a lease is answered at once: each boot gets a MAC of
                    # its own, so every boot waits for a new lease.
                    mac = self.new_mac(conn, guest)
                    latencies[which].append(self.one_boot(conn, net, guest, farm, mac))
                    conn.lookupByName(guest).destroy()
        finally:
            conn.close()
        now = latencies['now']
        say('lease seen -> module returned: %s s; median %.2f s, worst %.2f s  (goal <= %.1f s)'
            % (', '.join('%.2f' % v for v in now), median(now), max(now), GOAL['wait_for_ip']))
        if latencies['before']:
            say('before: %s s; median %.2f s, worst %.2f s'
                % (', '.join('%.2f' % v for v in latencies['before']), median(latencies['before']),
                   max(latencies['before'])))
        self.results['wait_for_ip'] = latencies

    @staticmethod
    def new_mac(conn, guest):
        """Give the shut-off ``guest``'s interface a new MAC; returns it."""
        import xml.etree.ElementTree as ET
        root = ET.fromstring(conn.lookupByName(guest).XMLDesc(0))
        mac = '52:54:00:%s' % ':'.join(secrets.token_hex(3)[i:i + 2] for i in (0, 2, 4))
        root.find('devices/interface/mac').set('address', mac)
        conn.defineXML(ET.tostring(root, encoding='unicode'))
        return mac

    def one_boot(self, conn, net, guest, farm, mac):
        args = {'name': guest, 'state': 'running', 'wait_for_ip': {'timeout': 300, 'sources': ['lease']}}
        env = dict(self.env, PYTHONPATH=farm)
        proc = subprocess.Popen([self.python, '-c', RUN_MODULE, 'domain', json.dumps(args)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        seen = []
        stop = threading.Event()

        def watch():
            network = conn.networkLookupByName(net)
            while not stop.is_set():
                if network.DHCPLeases(mac):
                    seen.append(time.monotonic())
                    return
                time.sleep(0.02)
        watcher = threading.Thread(target=watch)
        watcher.start()
        out, err = proc.communicate()
        returned = time.monotonic()
        stop.set()
        watcher.join()
        result = json.loads(out.decode().strip().splitlines()[-1])
        if result.get('failed') or not seen:
            raise RuntimeError('wait_for_ip failed: %s %s' % (result.get('msg'), err.decode()[-2000:]))
        return returned - seen[0]

    def cleanup(self):
        for job in reversed(self.cleanups):
            try:
                job()
            except Exception as exc:  # every clean-up step runs
                say('clean-up: %s' % exc)


# Peak memory of a command (ru_maxrss of its process tree's largest).
PEAK = r'''
import json, resource, subprocess, sys
proc = subprocess.run(json.loads(sys.argv[1]), capture_output=True, text=True)
sys.stdout.write(proc.stdout)
sys.stderr.write(proc.stderr)
print('PEAK %d' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(proc.returncode)
'''

# The raw listing of several URIs in turn: inventory_bench's floor program, in a loop.
FLOOR_SERIAL = 'import sys\nfor uri in sys.argv[1:]:\n    sys.argv[1] = uri\n' + \
    textwrap.indent(inventory_bench.FLOOR.replace('import json, sys, libvirt', 'import json, libvirt'), '    ')

# The same program printing what it read, for the floor over ssh.
FLOOR_SSH = inventory_bench.FLOOR.replace('print(len(json.dumps([out, leases], default=str)))',
                                          'print(json.dumps([out, leases], default=str))')
assert FLOOR_SSH != inventory_bench.FLOOR

# What any module on libvirt-python pays for a task that finds nothing to
# change: the imports, the connection, the object's XML read and parsed.
ENGINE_FLOOR = '''#!/usr/bin/python
DOCUMENTATION = """
module: engine_floor
short_description: Benchmark only - what a libvirt module cannot avoid
description: [Reads one domain's XML with libvirt-python and parses it with lxml; changes nothing.]
options:
  uri: {type: str, required: true, description: [The libvirt URI.]}
  name: {type: str, required: true, description: [The domain.]}
"""
from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec=dict(uri=dict(required=True), name=dict(required=True)),
                           supports_check_mode=True)
    import libvirt
    from lxml import etree
    conn = libvirt.open(module.params['uri'])
    try:
        etree.fromstring(conn.lookupByName(module.params['name']).XMLDesc(0))
    finally:
        conn.close()
    module.exit_json(changed=False)


if __name__ == '__main__':
    main()
'''


# A module's main() with its arguments, its result the last line of stdout.
RUN_MODULE = r'''
import json, sys
from ansible.module_utils import basic
basic._ANSIBLE_ARGS = json.dumps({'ANSIBLE_MODULE_ARGS': json.loads(sys.argv[2])}).encode()
basic._ANSIBLE_PROFILE = 'legacy'
import importlib
module = importlib.import_module('ansible_collections.virtkit.virt.plugins.modules.' + sys.argv[1])
module.main()
'''


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--runs', type=int, default=5)
    parser.add_argument('--boots', type=int, default=3, help='wait_for_ip: boots of the guest')
    parser.add_argument('--only', default=','.join(SECTIONS), help='sections, comma-separated: %s'
                        % ', '.join(SECTIONS))
    parser.add_argument('--ssh-delay', type=float, default=1.0)
    parser.add_argument('--before', help='a copy of an older tree, run beside this one')
    parser.add_argument('--community-venv', default='/tmp/vk-bench-venv' if os.path.isdir('/tmp/vk-bench-venv')
                        else None)
    parser.add_argument('--collections', default=os.environ.get('ANSIBLE_COLLECTIONS_PATH') or os.environ.get(
        'VIRTKIT_COLLECTIONS_PATH'))
    parser.add_argument('--json', help='also write the figures to this file')
    args = parser.parse_args()
    if not args.collections:
        sys.path.insert(0, os.path.join(ROOT, 'tests'))
        import conftest  # the link farm that names this tree ansible_collections/virtkit/virt
        args.collections = conftest.COLLECTIONS_PATH
    wanted = [s.strip() for s in args.only.split(',') if s.strip()]
    unknown = sorted(set(wanted) - set(SECTIONS))
    if unknown:
        parser.error('unknown sections: %s' % ', '.join(unknown))
    work = tempfile.mkdtemp(prefix='vkb-perf-')
    bench = Bench(args, work)
    say('virtkit.virt performance, %s; ansible-core %s; %d CPUs; load average %s'
        % (datetime.datetime.now().strftime('%Y-%m-%d %H:%M'), ansible_version(), os.cpu_count() or 0, load()))
    if not bench.community_site:
        say('(no community.libvirt virtual environment: its columns are left out)')
    try:
        for section in SECTIONS:
            if section in wanted:
                getattr(bench, 'section_' + section)()
                say()
    finally:
        bench.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    say('load average at the end: %s' % load())
    if args.json:
        with open(args.json, 'w') as handle:
            json.dump(bench.results, handle, indent=1, default=str)


def ansible_version():
    from ansible.release import __version__
    return __version__


if __name__ == '__main__':
    main()
