# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run blocking jobs side by side, each within its own time limit.

Used by the inventory (URIs and SSH hosts listed side by side) and by the
driver (domain XML read with several requests in flight). libvirt calls
cannot be cancelled, so a job past its limit is abandoned in a daemon thread
(it cannot hold the process up at exit) and its slot goes to the next job.
concurrent.futures would wait for it at exit.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time

try:
    import queue
except ImportError:  # pragma: no cover - Python 2 is not supported, but sanity imports it
    import Queue as queue


class JobTimeout(Exception):
    def __init__(self, seconds):
        super(JobTimeout, self).__init__('no answer within %s s' % seconds)
        self.seconds = seconds


def run_bounded(jobs, concurrency=8, timeout=30):
    """Call each of ``jobs`` (callables) with at most ``concurrency`` running
    at once; returns [(True, value) | (False, exception)] in the jobs' order,
    JobTimeout for a job still running ``timeout`` s after it started
    (``timeout=None``: no limit)."""
    results = [None] * len(jobs)
    done = queue.Queue()
    started = {}
    pending = list(range(len(jobs)))
    pending.reverse()

    def work(index):
        try:
            outcome = (True, jobs[index]())
        except Exception as exc:  # reported to the caller, who knows what it means
            outcome = (False, exc)
        done.put((index, outcome))

    while pending or started:
        while pending and len(started) < max(1, concurrency):
            index = pending.pop()
            thread = threading.Thread(target=work, args=(index,), name='virtkit-job-%d' % index)
            thread.daemon = True
            started[index] = time.time()
            thread.start()
        wait = None if timeout is None else max(0.0, min(start + timeout for start in started.values()) - time.time())
        try:
            index, outcome = done.get(timeout=wait)
            if index in started:
                del started[index]
                results[index] = outcome
        except queue.Empty:
            pass
        now = time.time()
        for index, start in list(started.items()):
            if timeout is not None and now - start >= timeout:
                del started[index]
                results[index] = (False, JobTimeout(timeout))
    return results
