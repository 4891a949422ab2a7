"""Every ansible-core the collection supports, against the real daemon.

tests/run.sh makes one virtual environment per release (tests/matrix/venvs.sh)
and names them in VIRTKIT_CORE_VENVS ("2.17=/path/to/python 2.18=..."); the
release the main environment runs is tested by the rest of the suite. Each
release runs the demo's network, pool, volume and guest steps in fours (check
mode, apply, check mode again, apply again), check mode predicting the real run
task by task, then removes them twice (the second removal changes nothing).
"""
import json
import os
import subprocess

import pytest

from harness import free_subnet, prediction_mismatches, run_playbook, task_changes, unique_prefix

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK = os.path.join(ROOT, 'tests', 'matrix', 'site.yml')
VENVS = dict(item.split('=', 1) for item in os.environ.get('VIRTKIT_CORE_VENVS', '').split())


def core_version(python):
    out = subprocess.run([python, '-c', 'import ansible.release; print(ansible.release.__version__)'],
                         capture_output=True, text=True, check=True).stdout
    return out.strip()


def virsh(*args):
    return subprocess.run(['virsh', '-q', '-c', 'qemu:///system'] + list(args), capture_output=True, text=True,
                          check=False)


@pytest.mark.parametrize('release', sorted(VENVS))
def test_demo_steps_on_ansible_core(release, bed, tmp_path):
    python = VENVS[release]
    assert core_version(python).startswith(release + '.'), core_version(python)
    prefix = unique_prefix()
    extra = {'vk_prefix': prefix, 'vk_subnet': str(free_subnet().network_address).rsplit('.', 1)[0],
             'vk_dir': str(tmp_path), 'bed_kernel': bed['kernel'], 'bed_initrd': bed['initrd']}

    def play(step, check=False, **more):
        record = tmp_path / (step + '.jsonl')
        result = run_playbook(PLAYBOOK, dict(extra, **more), check=check, record=record, python=python, timeout=900)
        assert result.returncode == 0, '%s on ansible-core %s:\n%s' % (step, release, result.stdout[-6000:])
        return record

    try:
        check = play('check', check=True)
        assert virsh('dominfo', prefix + '-guest').returncode != 0  # check mode made nothing
        apply = play('apply')
        assert prediction_mismatches(check, apply, 'localhost') == []
        done = {task for task, count in task_changes(apply, 'localhost').items() if count}
        assert {'An isolated network with DHCP', 'A directory storage pool', 'An empty volume',
                'A guest that boots and takes a lease'} <= done, done
        found = json.loads((tmp_path / 'result.json').read_text())
        assert found['state'] == 'running' and found['ip'].startswith(extra['vk_subnet'] + '.'), found
        for step, check_mode in (('recheck', True), ('again', False)):
            changed = {task: n for task, n in task_changes(play(step, check=check_mode), 'localhost').items() if n}
            assert changed == {}, (step, changed)
        removed = {task for task, n in task_changes(play('absent', vk_state='absent'), 'localhost').items() if n}
        assert len(removed) == 4, removed
        assert not any(task_changes(play('absent-again', vk_state='absent'), 'localhost').values())
        assert virsh('dominfo', prefix + '-guest').returncode != 0
    finally:
        virsh('destroy', prefix + '-guest')
        virsh('undefine', prefix + '-guest')
        for kind, name in (('pool', prefix + '-pool'), ('net', prefix + '-net')):
            virsh('%s-destroy' % kind, name)
            virsh('%s-undefine' % kind, name)
