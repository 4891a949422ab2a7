"""The runner's result of a run that fails half way, its locks and the secrets it masks."""
import json
import os
import signal
import threading
import time

import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.engine import lock, runner
from ansible_collections.virtkit.virt.plugins.module_utils.engine.plan import Plan
from ansible_collections.virtkit.virt.plugins.module_utils.engine.runner import Manager, execute, url_passwords
from ansible_collections.virtkit.virt.plugins.module_utils.errors import Conflict, DriverError, Timeout

pytest.importorskip('libvirt')


class Scripted(Manager):
    """A manager whose plan is given by the test; its facts may fail."""
    kind = 'thing'
    result_key = 'thing'

    def __init__(self, params, steps, facts_error=None, check_mode=False):
        super(Scripted, self).__init__(dict(params, uri='test:///default'), check_mode)
        self.steps, self.facts_error = steps, facts_error

    def plan(self):
        plan = Plan(self.kind, self.name)
        for name, run, undo in self.steps:
            plan.add(name, run, undo=undo)
        return plan

    def facts(self, plan):
        if self.facts_error:
            raise self.facts_error
        return {'name': self.name}


def fail():
    raise DriverError('refused')


def test_a_failure_undone_in_full_is_no_change():
    result = execute(Scripted({'name': 't'}, [('define', lambda: None, lambda: None), ('start', fail, None)]))
    assert result['failed'] and result['changed'] is False
    assert result['msg'] == "Failed to start thing 't': refused (undone: define)"


def test_a_failure_that_leaves_something_is_a_change_and_says_what():
    result = execute(Scripted({'name': 't'}, [('redefine', lambda: None, None), ('attach', fail, None)]))
    assert result['failed'] and result['changed'] is True and result['actions'] == ['redefine']
    assert result['msg'] == "Failed to attach thing 't': refused (done before it and left as it is: redefine)"


def test_a_wait_that_fails_after_the_changes_is_a_change():
    steps = [('define', lambda: None, lambda: None), ('start', lambda: None, lambda: None)]
    result = execute(Scripted({'name': 't'}, steps, facts_error=Timeout('no IP address after 5 s', resource="thing 't'",
                                                                        action='wait for an IP address of')))
    assert result['failed'] and result['changed'] is True and result['actions'] == ['define', 'start']
    assert result['msg'] == ("Failed to wait for an IP address of thing 't': no IP address after 5 s "
                             "(done before it: define, start)")


def test_a_signal_while_applying_undoes_and_is_said():
    def interrupted():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the signal arrives first
    undone = []
    result = execute(Scripted({'name': 't'}, [('create', lambda: None, lambda: undone.append(1)),
                                              ('upload', interrupted, None)]))
    assert undone == [1] and result['changed'] is False and result['error'] == 'interrupted'
    assert result['msg'].startswith('Interrupted by signal %d' % signal.SIGTERM) and '(undone: create)' in result['msg']
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # given back


def test_two_real_runs_on_one_object_take_turns(tmp_path, monkeypatch):
    monkeypatch.setattr(lock, '_DIRS', (str(tmp_path),))
    order = []

    def step(label, pause):
        def run():
            order.append(label + ' begins')
            time.sleep(pause)
            order.append(label + ' ends')
        return run
    first = threading.Thread(target=execute, args=(Scripted({'name': 't'}, [('a', step('first', 0.3), None)]),))
    first.start()
    time.sleep(0.1)
    execute(Scripted({'name': 't'}, [('b', step('second', 0), None)]))
    first.join()
    assert order == ['first begins', 'first ends', 'second begins', 'second ends']
    # one object, one file; at most BUCKETS files however many objects there are
    assert lock.lock_path('test:///default', 'thing', 't') == lock.lock_path('test:///default', 'thing', 't')
    paths = set(lock.lock_path('test:///default', 'thing', str(n)) for n in range(5000))
    assert len(paths) == lock.BUCKETS


def test_several_locks_are_taken_in_one_order(tmp_path, monkeypatch):
    """Two tasks that need the same two files never wait for each other."""
    monkeypatch.setattr(lock, '_DIRS', (str(tmp_path),))
    taken = []
    monkeypatch.setattr(lock, '_acquire', lambda path, what, *rest: taken.append(path) or os.open(path, os.O_RDONLY | os.O_CREAT))
    objects = [('domain', 'd%d' % n) for n in range(20)]
    with lock.object_locks('qemu:///system', objects):
        pass
    with lock.object_locks('qemu:///system', list(reversed(objects))):
        pass
    first, second = taken[:len(taken) // 2], taken[len(taken) // 2:]
    assert first == second == sorted(set(first))


def test_a_lock_held_too_long_is_a_clear_refusal(tmp_path, monkeypatch):
    monkeypatch.setattr(lock, '_DIRS', (str(tmp_path),))
    with lock.object_locks('qemu:///system', [('domain', 'd')]):
        clock = iter(range(0, 10000, 100))
        with pytest.raises(Conflict) as info:
            with lock.object_locks('qemu:///system', [('domain', 'd')], wait=300, clock=lambda: next(clock),
                                   sleep=lambda _s: None):
                pass
    assert "Failed to wait to change domain 'd': another task has been changing it for more than 300 s" \
        in info.value.describe()
    with lock.object_locks('qemu:///system', [('domain', 'd')]):
        pass  # released with its holder


def test_url_passwords_are_found_anywhere_in_the_params():
    params = {'import': {'url': 'https://ci:s3cr%40t@images.example/x.qcow2'}, 'name': 'v',
              'list': ['ftp://u:pw@h/f', 'https://nopassword@h/'], 'n': 3}
    assert url_passwords(params) == {'s3cr%40t', 's3cr@t', 'pw'}


def test_secrets_inside_options_are_masked_in_the_logged_invocation_and_the_result(monkeypatch, capsys):
    """A password inside a user's XML: AnsibleModule logs the task's arguments
    on the target host (syslog, the journal) before its constructor returns,
    and every result carries them (-vvv shows them)."""
    from ansible.module_utils import basic
    xml = "<domain><devices><graphics type='vnc' passwd='Xs3cret'/></devices></domain>"
    monkeypatch.setattr(basic, '_ANSIBLE_ARGS', json.dumps({'ANSIBLE_MODULE_ARGS': {'xml': xml}}).encode())
    monkeypatch.setattr(basic, '_ANSIBLE_PROFILE', 'legacy', raising=False)  # ansible-core 2.19 asks for one
    logged = []
    monkeypatch.setattr(basic.AnsibleModule, 'log', lambda self, msg, log_args=None: logged.append(msg))
    module = runner._masking_module({'Xs3cret'}, argument_spec={'xml': {'type': 'str'}})
    assert logged and 'Xs3cret' not in ' '.join(logged) and "passwd='********'" in ' '.join(logged)
    with pytest.raises(SystemExit):
        module.exit_json(changed=False)
    out = capsys.readouterr().out
    assert 'Xs3cret' not in out and "passwd='********'" in out
