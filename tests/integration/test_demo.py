"""The README's demo playbook: it builds everything, a second run changes
nothing, and the clean-up removes it all (run here with unique names)."""
import os
import re

from harness import free_subnets, run_playbook, unique_prefix

DEMO = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'demo', 'site.yml')


def recap(output):
    match = re.search(r'localhost\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', output)
    assert match, output[-3000:]
    return {'ok': int(match.group(1)), 'changed': int(match.group(2)), 'failed': int(match.group(4))}


def test_demo_converges_then_changes_nothing_then_cleans_up(bed, tmp_path):
    prefix = unique_prefix()
    subnet = str(free_subnets(1)[0]).rsplit('.', 1)[0]
    extra = {'demo_prefix': prefix + '-demo', 'demo_subnet': subnet, 'demo_dir': str(tmp_path / 'demo'),
             'demo_bridge': prefix + 'd', 'demo_bed': os.path.dirname(bed['kernel'])}
    try:
        first = run_playbook(DEMO, extra)
        assert first.returncode == 0, first.stdout[-6000:] + first.stderr[-2000:]
        assert recap(first.stdout)['changed'] > 0
        second = run_playbook(DEMO, extra)
        assert second.returncode == 0, second.stdout[-6000:] + second.stderr[-2000:]
        assert recap(second.stdout)['changed'] == 0, second.stdout[-6000:]
    finally:
        cleanup = run_playbook(DEMO, dict(extra, demo_state='absent'))
    assert cleanup.returncode == 0, cleanup.stdout[-6000:] + cleanup.stderr[-2000:]
    assert not os.path.exists(str(tmp_path / 'demo'))
    again = run_playbook(DEMO, dict(extra, demo_state='absent'))
    assert recap(again.stdout)['changed'] == 0, again.stdout[-6000:]
