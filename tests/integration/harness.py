"""Helpers for integration tests: the bed's facts and real ansible-playbook runs."""
import json
import os
import secrets
import shlex
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TARGETS = os.path.join(HERE, 'targets')
BED_CACHE = os.environ.get('VIRTKIT_BED_CACHE', '/var/cache/virtkit-bed')


def bed_facts():
    """KEY=VALUE pairs of the bed's guest.env (kernel, initrd, ...) and
    auth.env (the SASL test user), keys lower-cased."""
    facts = {}
    for name in ('guest.env', 'auth.env', 'rootfs.env'):
        path = os.path.join(BED_CACHE, name)
        if not os.path.exists(path):
            continue
        with open(path) as handle:
            for line in handle:
                line = line.strip()
                if line and not line.startswith('#') and '=' in line:
                    key, value = line.split('=', 1)
                    facts[key.strip().lower()] = shlex.split(value)[0] if value.strip() else ''
    return facts


def unique_prefix():
    """A name prefix no other run uses (short: bridge names have 15 characters)."""
    return 'vk%s' % secrets.token_hex(3)


def collections_path():
    return os.environ.get('ANSIBLE_COLLECTIONS_PATH') or os.environ['VIRTKIT_COLLECTIONS_PATH']


def run_playbook(playbook, extra_vars=None, check=False, timeout=1800, inventory=None, record=None, python=None,
                 args=(), wrapper=()):
    """ansible-playbook (on localhost with this interpreter, unless ``inventory``
    gives other ``-i`` arguments); a CompletedProcess. ``record``: a file that
    receives every task result as a JSON line (see task_changes). ``python``:
    the Python of another virtual environment, whose ansible-playbook runs and
    whose interpreter runs the modules. ``args``: more ansible-playbook
    arguments (-vvvv ...); ``wrapper``: a command it runs under (unshare ...).

    Every run is recorded (in a temporary file without ``record``), and what
    a module of ours returned is held to its RETURN docs: a key they do not
    name fails the test (ansible-doc is where users read what comes back)."""
    python = python or sys.executable
    if record is None:
        handle, temporary = tempfile.mkstemp(prefix='virtkit-record-', suffix='.jsonl')
        os.close(handle)
        try:
            return run_playbook(playbook, extra_vars, check=check, timeout=timeout, inventory=inventory,
                                record=temporary, python=python, args=args, wrapper=wrapper)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
    env = dict(os.environ,
               ANSIBLE_COLLECTIONS_PATH=collections_path(),
               ANSIBLE_ROLES_PATH=TARGETS,
               ANSIBLE_NOCOLOR='1',
               ANSIBLE_RETRY_FILES_ENABLED='0',
               ANSIBLE_LOCALHOST_WARNING='0',
               ANSIBLE_CALLBACK_RESULT_FORMAT='yaml')
    if record:
        if os.path.exists(str(record)):
            os.unlink(str(record))
        env.update(ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, 'callback_plugins'),
                   ANSIBLE_CALLBACKS_ENABLED='virtkit_record', VIRTKIT_TASK_RECORD=str(record))
    cmd = list(wrapper) + [os.path.join(os.path.dirname(python), 'ansible-playbook'), playbook] + list(args)
    if inventory is None:
        cmd += ['-i', 'localhost,', '-c', 'local', '-e', 'ansible_python_interpreter=%s' % python]
    else:
        cmd += inventory
    cmd += ['-e', json.dumps(extra_vars or {})]
    if check:
        cmd.append('--check')
    result = subprocess.run(cmd, env=env, cwd=HERE, capture_output=True, text=True, timeout=timeout, check=False)
    undocumented = undocumented_results(record)
    assert not undocumented, 'modules returned keys their RETURN docs do not name: %s' % undocumented
    return result


def task_changes(record, host):
    """{task name: how many of its results changed} of ``host`` in a run's
    ``record``. Skipped results are not counted, so a task that check mode
    replaces by a prediction of the same name reads as one task."""
    counts = {}
    with open(str(record)) as handle:
        for line in handle:
            item = json.loads(line)
            if item['host'] != host:
                continue
            counts.setdefault(item['task'], 0)
            counts[item['task']] += item['changed']
    return counts


def prediction_mismatches(check_record, real_record, host):
    """The tasks whose changes check mode predicted wrongly:
    [(task, predicted, done)], empty when the prediction was exact."""
    predicted, done = task_changes(check_record, host), task_changes(real_record, host)
    return [(task, predicted.get(task, 0), done.get(task, 0)) for task in sorted(set(predicted) | set(done))
            if predicted.get(task, 0) != done.get(task, 0)]


# What Ansible or any module's result may hold beside what RETURN documents.
COMMON_RESULT_KEYS = {'changed', 'failed', 'msg', 'diff', 'invocation', 'warnings', 'deprecations', 'skipped',
                      'skip_reason', 'exception', 'module_stdout', 'module_stderr', 'rc', 'attempts',
                      'ansible_facts', 'item', 'ansible_loop_var', 'ansible_index_var', 'ansible_loop',
                      'failed_when_result', 'false_condition'}


def _undocumented(shape, docs, path):
    """The key paths of ``shape`` (see virtkit_record) that ``docs`` (a
    RETURN mapping or a ``contains``) does not name."""
    found = []
    for key, inner in sorted(shape.items()):
        if key.startswith('_ansible') or (not path and key in COMMON_RESULT_KEYS):
            continue
        where = '%s.%s' % (path, key) if path else key
        if key not in docs:
            found.append(where)
            continue
        contains = (docs[key] or {}).get('contains')
        if contains is None:
            continue  # documented as a whole (free-form, or as another module's RETURN says)
        if isinstance(inner, list):
            inner, where = inner[0], where + '[]'
        if isinstance(inner, dict):
            found.extend(_undocumented(inner, contains, where))
    return found


def undocumented_results(record):
    """{module: sorted key paths} that the modules of ``record`` returned and
    their RETURN docs do not name (a failure's keys too)."""
    from ansible_collections.virtkit.virt.tests.module_docs import module_doc
    found = {}
    if not os.path.exists(str(record)):
        return found
    with open(str(record)) as handle:
        for line in handle:
            item = json.loads(line)
            if 'shape' in item:
                missing = _undocumented(item['shape'], module_doc(item['module'], 'RETURN'), '')
                if missing:
                    found.setdefault(item['module'], set()).update(missing)
    return dict((module, sorted(paths)) for module, paths in found.items())


def used_ipv4_networks():
    """IPv4 networks already on this host (interfaces and libvirt networks)."""
    import ipaddress
    out = subprocess.run(['ip', '-o', '-4', 'addr', 'show'], capture_output=True, text=True, check=False).stdout
    used = []
    for line in out.splitlines():
        parts = line.split()
        if 'inet' in parts:
            used.append(ipaddress.ip_interface(parts[parts.index('inet') + 1]).network)
    return used


def free_subnets(count):
    """/24s in 192.168.128.0/17 that nothing on this host uses (isolated test networks)."""
    import ipaddress
    import random
    used = used_ipv4_networks()
    candidates = list(range(128, 255))
    random.shuffle(candidates)
    found = []
    for third in candidates:
        net = ipaddress.ip_network('192.168.%d.0/24' % third)
        if not any(net.overlaps(other) for other in used):
            found.append(net)
            if len(found) == count:
                return found
    raise RuntimeError('fewer than %d free /24s in 192.168.128.0/17 on this host' % count)


def free_subnet():
    return free_subnets(1)[0]


def wait_for(predicate, timeout, interval=1.0, what='condition'):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` s."""
    import time
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError('timed out after %ss waiting for %s' % (timeout, what))
        time.sleep(interval)


def target_skip_reason(tmp_path):
    """What a target could not test on this machine, as it wrote it to
    ``{{ vk_tmp }}/SKIPPED`` (for ``pytest.skip``), or None when it tested everything."""
    path = os.path.join(str(tmp_path), 'SKIPPED')
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return handle.read().strip() or 'the target skipped some of its tests'


# LXC containers over the bed's Debian rootfs (see test_lxc_connection.py).
# Without an <interface> a container shares the host's network namespace, so
# apt-get works inside it.
LXC_CONTAINER_XML = """<domain type='lxc'>
  <name>{name}</name>
  <memory unit='MiB'>{memory}</memory>
  <os><type>exe</type>{init}</os>{features}
  <devices>
    <filesystem type='mount'><source dir='{rootfs}'/><target dir='/'/></filesystem>
    <console type='pty'/>
  </devices>
</domain>"""
LXC_SLEEP_INIT = ['/bin/sh', '-c', 'exec sleep 100000']
# PID 1 that reaps orphans, as a real init does: daemons started in the
# container (libvirtd, whose QEMU probes it waits to see exit) need one.
LXC_REAPER_INIT = ['/usr/bin/python3', '-c', 'import os, time\nwhile True:\n    try:\n        os.waitpid(-1, 0)\n'
                   '    except ChildProcessError:\n        time.sleep(1)\n']


def lxc_virsh(*args, stdin=None, timeout=120):
    return subprocess.run(['virsh', '-q', '-c', 'lxc:///'] + list(args), input=stdin, text=True,
                          capture_output=True, check=False, timeout=timeout)


def copy_python_rootfs(dest):
    """A copy of the bed's cached Debian rootfs with python3 at ``dest`` (the cache stays pristine)."""
    source = os.path.join(BED_CACHE, 'rootfs-python')
    if not os.path.exists(os.path.join(source, 'usr', 'bin', 'python3')):
        raise AssertionError('the bed has no Python rootfs at %s: run tests/bed/setup.sh' % source)
    subprocess.run(['cp', '-a', '--reflink=auto', source, str(dest)], check=True)


def start_lxc_container(name, rootfs, memory=256, init=None, private_network=False):
    """``private_network``: a network namespace of its own with only a loopback (<privnet/>)."""
    from xml.sax.saxutils import escape
    argv = init or LXC_SLEEP_INIT
    init_xml = '<init>%s</init>' % escape(argv[0]) + ''.join('<initarg>%s</initarg>' % escape(arg) for arg in argv[1:])
    features = '\n  <features><privnet/></features>' if private_network else ''
    xml = LXC_CONTAINER_XML.format(name=name, rootfs=rootfs, memory=memory, init=init_xml, features=features)
    defined = lxc_virsh('define', '/dev/stdin', stdin=xml)
    assert defined.returncode == 0, defined.stderr
    started = lxc_virsh('start', name)
    assert started.returncode == 0, started.stderr
    wait_for(lambda: lxc_virsh('domstate', name).stdout.strip() == 'running', 30, interval=0.2,
             what='container %s to run' % name)


def remove_lxc_container(name):
    lxc_virsh('destroy', name)
    lxc_virsh('undefine', name)


def lxc_exec(name, *argv, timeout=120):
    """Run ``argv`` inside the running container ``name``; a CompletedProcess."""
    return subprocess.run(['virsh', '-q', '-c', 'lxc:///', 'lxc-enter-namespace', name, '--noseclabel', '--'] + list(argv),
                          text=True, capture_output=True, check=False, timeout=timeout)


def play_recap(output, host):
    """The PLAY RECAP counters of ``host`` (ok, changed, unreachable, failed, ...) as ints."""
    import re
    for line in output.splitlines():
        parts = line.split(':', 1)
        if len(parts) == 2 and parts[0].strip() == host and 'changed=' in parts[1]:
            return {key: int(value) for key, value in re.findall(r'(\w+)=(\d+)', parts[1])}
    raise AssertionError('no PLAY RECAP line for %s in:\n%s' % (host, output[-3000:]))
