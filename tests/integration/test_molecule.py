"""The molecule scenarios under extensions/molecule, run for real:
destroy → syntax → create → converge → idempotence → verify → destroy."""
import os
import subprocess
import sys

import pytest

from harness import collections_path

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENARIOS = sorted(os.listdir(os.path.join(ROOT, 'extensions', 'molecule')))


@pytest.mark.parametrize('scenario', SCENARIOS)
def test_molecule_scenario(scenario, bed):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), NO_COLOR='1', ANSIBLE_NOCOLOR='1',
               ANSIBLE_LOCALHOST_WARNING='0')
    molecule = os.path.join(os.path.dirname(sys.executable), 'molecule')
    result = subprocess.run([molecule, 'test', '-s', scenario], cwd=ROOT, env=env, capture_output=True,
                            text=True, check=False, timeout=1500)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-8000:]
    assert 'idempotence' in output and 'failed=0' in output
