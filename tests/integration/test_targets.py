"""Every integration target, run as a role against the real daemon."""
import os

import pytest

from harness import TARGETS, bed_facts, free_subnets, run_playbook, target_skip_reason, unique_prefix

# esx_* targets run against the vSphere simulator: test_esx.py starts it and runs them.
NAMES = sorted(name for name in os.listdir(TARGETS)
               if os.path.exists(os.path.join(TARGETS, name, 'tasks', 'main.yml')) and not name.startswith('esx_'))


@pytest.mark.parametrize('target', NAMES)
def test_target(target, tmp_path, bed):
    playbook = tmp_path / 'play.yml'
    playbook.write_text(
        '- hosts: localhost\n'
        '  gather_facts: false\n'
        '  roles:\n'
        '    - role: %s\n' % target)
    extra = {'vk_prefix': unique_prefix(), 'vk_tmp': str(tmp_path),
             'vk_subnets': [str(net) for net in free_subnets(4)]}
    extra.update({'bed_%s' % key: value for key, value in bed_facts().items()})
    result = run_playbook(str(playbook), extra)
    assert result.returncode == 0, failure_report(result.stdout + result.stderr)
    reason = target_skip_reason(tmp_path)
    if reason:
        pytest.skip(reason)


def failure_report(output):
    """The failed tasks first (with their context), then the end of the output."""
    lines = output.splitlines()
    failed = []
    for index, line in enumerate(lines):
        if line.startswith('fatal:') or line.startswith('failed:'):
            start = max(0, index - 15)
            failed.append('\n'.join(lines[start:index + 25]))
    return '\n...\n'.join(failed[-3:]) + '\n\n--- end of output ---\n' + output[-4000:]
