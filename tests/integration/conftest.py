"""Integration tests run real ansible-playbook against the real libvirtd.

Each target under targets/ has the layout ansible-test uses
(targets/NAME/tasks/main.yml) and runs as a role in a generated playbook.
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import BED_CACHE, bed_facts  # noqa: E402  (path set just above)


@pytest.fixture(scope='session')
def bed():
    facts = bed_facts()
    if not facts:
        pytest.fail('the test bed is not ready: run tests/bed/setup.sh (no %s/guest.env)' % BED_CACHE)
    return facts
