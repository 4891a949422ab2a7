"""Test-only callback: every task result of a run as one JSON line, so that a
test can compare what ``--check`` predicted with what the real run did, task
by task. Enabled by harness.run_playbook(record=PATH)."""
from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: virtkit_record
type: aggregate
short_description: Records each task result (host, task, status) as JSON lines
description: Writes to the file named by the environment variable VIRTKIT_TASK_RECORD.
"""


def _shape(value):
    """The keys of a result, nested: {key: shape} for a dict, [shape] (the
    keys of all its dicts, merged) for a list of dicts, None for anything else."""
    if isinstance(value, dict):
        return dict((key, _shape(item)) for key, item in value.items())
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        merged = None
        for item in value:
            merged = _merged(merged, _shape(item))
        return [merged]
    return None


def _merged(one, other):
    """Two shapes of the same place as one: every key either has, at every depth."""
    if isinstance(one, dict) and isinstance(other, dict):
        return dict((key, _merged(one.get(key), other.get(key))) for key in set(one) | set(other))
    if isinstance(one, list) and isinstance(other, list):
        return [_merged(one[0], other[0])]
    return one if other is None else other


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'virtkit_record'
    CALLBACK_NEEDS_ENABLED = True

    def _write(self, result, status):
        path = os.environ.get('VIRTKIT_TASK_RECORD')
        if not path:
            return
        # pylint: disable=protected-access
        task = result._task.get_name()
        role = result._task._role.get_name() if result._task._role else None
        if role and task.startswith(role + ' : '):
            task = task[len(role) + 3:]  # the task's own name, as the role writes it
        record = {'host': result._host.get_name(), 'task': task, 'role': role, 'status': status,
                  'changed': bool(result._result.get('changed')) and status not in ('skipped', 'failed')}
        if status in ('failed', 'ignored', 'unreachable'):
            record['msg'] = str(result._result.get('msg', ''))  # what the user read
        action = getattr(result._task, 'resolved_action', None) or result._task.action
        if action and action.startswith('virtkit.virt.') and 'results' not in result._result:
            # What a module of ours returned, for the test that holds it to the module's RETURN docs.
            record['module'] = action[len('virtkit.virt.'):]
            record['shape'] = _shape(result._result)
        with open(path, 'a') as handle:
            handle.write(json.dumps(record) + '\n')

    def v2_runner_on_ok(self, result):
        self._write(result, 'changed' if result._result.get('changed') else 'ok')  # pylint: disable=protected-access

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._write(result, 'ignored' if ignore_errors else 'failed')

    def v2_runner_on_skipped(self, result):
        self._write(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._write(result, 'unreachable')
