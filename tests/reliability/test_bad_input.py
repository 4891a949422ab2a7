"""The bad-input corpus (corpus.py) against the private daemon: every module
and both plugins. For each input: the task failed, its message names the
option, no traceback in the message, and nothing was created or changed
(the daemon's objects with their XML, and the files under the suite's
directory, before and after). Modules run in this process through their
real main() (hundreds of AnsibleModule runs in seconds); the plugins run as
Ansible runs them (ansible-inventory, ansible-playbook)."""
import json
import os
import re
import shutil
import subprocess
import sys

from corpus import CONNECTION, INVENTORY, SECRETS, module_cases
from helpers import make_dir_pool, network_xml, remove
from suite import collections_path, difference, files_under, in_process, task_records

TRACEBACK = re.compile(r'Traceback \(most recent call last\)|File "[^"]+", line \d+')


def substitute(value, names):
    if isinstance(value, str):
        for key, real in names.items():
            value = value.replace('{%s}' % key, real)
        return value
    if isinstance(value, dict):
        return dict((k, substitute(v, names)) for k, v in value.items())
    if isinstance(value, list):
        return [substitute(v, names) for v in value]
    return value


def module_args(module, params, names, daemon):
    name = names['NAME']
    base = {
        'domain': {'name': name, 'memory': 128, 'virt_type': 'qemu', 'state': 'present'},
        'container': {'name': name, 'memory': 64, 'state': 'present', 'rootfs': {'path': names['CTROOT']},
                      'uri': daemon.uri(driver='lxc')},
        'network': {'name': name, 'mode': 'isolated', 'ipv4': {'address': '10.77.0.1/24'}, 'state': 'inactive'},
        'pool': {'name': name, 'type': 'dir', 'path': names['DIR'] + '/newpool'},
        'volume': {'name': 'bad.img', 'pool': names['P'], 'capacity': '1M'},
    }.get(module, {})
    args = dict({'uri': daemon.uri()}, **base)
    for key, value in substitute(params, names).items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    return args


def judge(result_failed, msg, option, before, after):
    """{check: passed} of one input."""
    return {
        'failed': bool(result_failed),
        'names the option': option in (msg or ''),
        'no traceback in msg': not TRACEBACK.search(msg or ''),
        'nothing created or changed': before == after,
    }


def test_bad_input_corpus(daemon, report, prefix, sshd, tmp_path):
    for value in SECRETS:
        report.secret('a password in the bad-input corpus', value)
    scratch = tmp_path / 'scratch'
    scratch.mkdir()
    ctroot = tmp_path / 'ctroot'
    (ctroot / 'sbin').mkdir(parents=True)
    shutil.copy('/bin/busybox', str(ctroot / 'sbin' / 'init'))
    image = tmp_path / 'image.raw'
    image.write_bytes(b'\0' * 1024 * 1024)
    names = {'P': '%s-cp' % prefix, 'V': 'fixture.img', 'N': '%s-cn' % prefix, 'D': '%s-cd' % prefix,
             'IMG': str(image), 'DIR': str(scratch), 'CTROOT': str(ctroot), 'NAME': '%s-bad' % prefix,
             'KH': str(sshd['dir'] / 'known_hosts')}
    make_dir_pool(daemon, names['P'], str(tmp_path / 'pool'))
    assert daemon.virsh('vol-create-as', names['P'], names['V'], '1M', '--format', 'raw').returncode == 0
    assert daemon.virsh('net-define', '/dev/stdin',
                        stdin=network_xml(names['N'], '%s-cn' % prefix, '10.78.0')).returncode == 0
    assert daemon.virsh('define', '/dev/stdin', stdin="<domain type='qemu'><name>%s</name><memory unit='MiB'>64"
                        "</memory><os><type arch='x86_64'>hvm</type></os></domain>" % names['D']).returncode == 0
    rows = []
    try:
        for module, params, option in module_cases():
            args = module_args(module, params, names, daemon)
            before = (daemon.snapshot(), files_under(tmp_path))
            result = in_process(module, args, report, where='corpus %s %s' % (module, json.dumps(params)))
            after = (daemon.snapshot(), files_under(tmp_path))
            checks = judge(result.get('failed'), result.get('msg'), option, before, after)
            rows.append((module, params, option, result.get('msg', ''), checks,
                         difference(dict(before[0], **before[1]), dict(after[0], **after[1]))))
            if not checks['nothing created or changed']:  # never let one input's leftovers spoil the next
                remove(daemon, ('domain', names['NAME']), ('network', names['NAME']), ('pool', names['NAME']),
                       ('volume', 'bad.img', names['P']))
        rows.extend(inventory_batch(daemon, report, tmp_path, names))
        rows.extend(connection_batch(daemon, report, sshd, tmp_path, names))
    finally:
        remove(daemon, ('domain', names['D']), ('network', names['N']), ('pool', names['P']))
    total = len(rows)
    clean = [r for r in rows if all(r[4].values())]
    labels = ('failed', 'names the option', 'no traceback in msg', 'nothing created or changed')
    by_target = {}
    for row in rows:
        count, good = by_target.get(row[0], (0, 0))
        by_target[row[0]] = (count + 1, good + all(row[4].values()))
    report.corpus = {'total': total, 'clean': len(clean), 'modules': len([t for t in by_target
                                                                          if t not in ('inventory', 'connection')]),
                     'checks': [(label, sum(1 for r in rows if r[4][label])) for label in labels],
                     'by_target': by_target}
    bad = ['%s %s (option %s): %s -> %s %s'
           % (r[0], json.dumps(r[1]), r[2], r[3][:300], [k for k, v in r[4].items() if not v], r[5][:200])
           for r in rows if not all(r[4].values())]
    if os.environ.get('VIRTKIT_CORPUS_DUMP'):
        with open(os.environ['VIRTKIT_CORPUS_DUMP'], 'w') as handle:
            for row in rows:
                handle.write('%s %s [%s] -> %s\n' % (row[0], json.dumps(row[1]), row[2], ' '.join(row[3].split())))
    assert total >= 150
    assert not bad, '%d of %d bad inputs not refused cleanly:\n%s' % (len(bad), total, '\n'.join(bad))


def inventory_batch(daemon, report, tmp, names):
    """Every bad inventory config, one ansible-inventory run per config."""
    rows = []
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_NOCOLOR='1',
               ANSIBLE_INVENTORY_ENABLED='virtkit.virt.guests', ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED='1')
    for index, (config, option) in enumerate(INVENTORY):
        options = dict({'plugin': 'virtkit.virt.guests', 'uris': [daemon.uri()]}, **substitute(config, names))
        path = tmp / ('bad-%02d.virt.yml' % index)
        path.write_text(json.dumps(options))
        before = daemon.snapshot()
        proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-inventory'), '-i', str(path),
                               '--list'], capture_output=True, text=True, env=env, timeout=120, check=False)
        path.unlink()
        out = report.scan(proc.stdout + proc.stderr, 'corpus inventory %s' % json.dumps(config))
        msg = ' '.join(line.strip() for line in out.splitlines() if not line.startswith('{'))
        rows.append(('inventory', config, option, msg, judge(proc.returncode != 0, msg, option, before,
                                                             daemon.snapshot()), ''))
    return rows


def connection_batch(daemon, report, sshd, tmp, names):
    """Every bad set of lxc connection variables, as hosts of one play."""
    hosts = {}
    for index, (variables, _option) in enumerate(CONNECTION):
        host = dict({'ansible_connection': 'virtkit.virt.lxc', 'virt_lxc_uri': daemon.uri(driver='lxc'),
                     'virt_container_name': 'no-such-container-here'}, **substitute(variables, names))
        if 'virt_host' in host:
            host.setdefault('virt_port', sshd['port'])
            host.setdefault('virt_user', 'root')
            host.setdefault('virt_key_file', str(sshd['dir'] / 'client'))
            host.setdefault('virt_known_hosts_file', names['KH'])
        if host.get('virt_container_name') and 'virt_container_name' in variables:
            host['ansible_host'] = host['virt_container_name']
        hosts['c%02d' % index] = host
    inventory = tmp / 'connection-hosts.json'
    inventory.write_text(json.dumps({'all': {'hosts': hosts}}))
    play = tmp / 'connection.yml'
    play.write_text("- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.raw: 'true'\n")
    record = tmp / 'connection.jsonl'
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_NOCOLOR='1', ANSIBLE_FORKS='10',
               ANSIBLE_CALLBACK_PLUGINS=os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                                     'integration', 'callback_plugins'),
               ANSIBLE_CALLBACKS_ENABLED='virtkit_record', VIRTKIT_TASK_RECORD=str(record))
    before = daemon.snapshot()
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', str(inventory),
                           str(play)], capture_output=True, text=True, env=env, timeout=300, check=False)
    report.scan(proc.stdout + proc.stderr, 'corpus connection')
    after = daemon.snapshot()
    results = dict((r['host'], r) for r in task_records(tmp, 'connection'))
    rows = []
    for index, (variables, option) in enumerate(CONNECTION):
        result = results.get('c%02d' % index, {'status': 'missing', 'msg': proc.stdout[-500:]})
        msg = result.get('msg', '')
        rows.append(('connection', variables, option, msg,
                     judge(result['status'] in ('failed', 'unreachable'), msg, option, before, after), ''))
    return rows
