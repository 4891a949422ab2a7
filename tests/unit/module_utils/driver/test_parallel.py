"""run_bounded: order, concurrency, time limits."""
import threading
import time

from ansible_collections.virtkit.virt.plugins.module_utils.driver.parallel import JobTimeout, run_bounded


def test_run_bounded_order_concurrency_and_timeout():
    running, peak, lock = [0], [0], threading.Lock()

    def job(value, delay):
        def run():
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            time.sleep(delay)
            with lock:
                running[0] -= 1
            if value == 'boom':
                raise ValueError('boom')
            return value
        return run
    jobs = [job('a', 0.2), job('hang', 5), job('boom', 0.1), job('b', 0.2), job('c', 0.2)]
    started = time.monotonic()
    results = run_bounded(jobs, concurrency=2, timeout=1)
    elapsed = time.monotonic() - started
    assert elapsed < 2.5
    assert results[0] == (True, 'a') and results[3] == (True, 'b') and results[4] == (True, 'c')
    assert not results[1][0] and isinstance(results[1][1], JobTimeout)
    assert not results[2][0] and isinstance(results[2][1], ValueError)
    assert peak[0] <= 2


def test_run_bounded_side_by_side():
    started = time.monotonic()
    results = run_bounded([lambda: time.sleep(0.5) or i for i in range(4)], concurrency=8, timeout=5)
    assert time.monotonic() - started < 1.2
    assert [outcome[0] for outcome in results] == [True] * 4
