"""Helpers of the guests inventory plugin: turns for in-process listings, the collector paused."""
import gc
import threading
import time

import pytest

from ansible_collections.virtkit.virt.plugins.inventory import guests
from ansible_collections.virtkit.virt.plugins.module_utils.driver.parallel import run_bounded


def test_jobs_with_turns_run_one_a_turn():
    running, most = [], []
    lock = threading.Lock()

    def job():
        with lock:
            running.append(1)
            most.append(len(running))
        time.sleep(0.05)
        with lock:
            running.pop()
        return 'listed'

    turns = threading.BoundedSemaphore(2)
    outcomes = run_bounded([guests._timed(job, turns) for _listing in range(6)] + [guests._timed(job)], 64, 10)
    assert all(ok and value[1] == 'listed' for ok, value in outcomes)
    # Six with turns, at most two of them at once; the seventh (a host that is waited on) beside them.
    assert max(most) <= 3


@pytest.mark.parametrize('enabled', [True, False])
def test_the_collector_is_paused_and_left_as_it_was(enabled):
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        with pytest.raises(RuntimeError):
            with guests._collector_paused():
                assert not gc.isenabled()
                raise RuntimeError('the inventory failed')
        assert gc.isenabled() == enabled
    finally:
        (gc.enable if was else gc.disable)()
