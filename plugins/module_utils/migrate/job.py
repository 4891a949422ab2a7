# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One migration, watched: libvirt's call blocks until the guest has moved,
so it runs in a thread while this one reads the job's progress, sets the
maximum downtime once the job runs, switches to post-copy once memory
flows, and aborts the job when the time is up (the guest then
keeps running on the source)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time

from ansible_collections.virtkit.virt.plugins.module_utils.errors import NotFound, VirtError

# How long libvirt may take to wind a migration down once asked to abort.
ABORT_GRACE = 120
# An accepted abort is asked again this often while the job still runs: one
# that landed between libvirt's steps (the move's own call returning, the
# next about to start) must not let the move go on unasked.
ABORT_AGAIN = 2.0
ACTIVE_JOBS = ('bounded', 'unbounded')
# The first seconds are read more often: a small guest on a fast link moves
# within a second, and a copy of its disks is over sooner; read at the
# interval alone, such a move showed no sample of its disks (the destination's
# record of the completed job does not count them).
QUICK_SECONDS = 3.0
QUICK_INTERVAL = 0.1
DISK_KEYS = ('disk_total', 'disk_processed', 'disk_remaining')


class Outcome:
    """What happened: ``error`` (None: moved), ``aborted`` (the time was up
    and the job was aborted), ``abort_error`` (libvirt refused the abort),
    ``progress`` (the last sample of the job), ``elapsed`` (seconds),
    ``postcopy`` (switched to post-copy), ``notes`` (what the result says),
    ``aborts`` (each abort asked: when, and libvirt's answer),
    ``slowest_read`` (the longest wait for a sample of the job, seconds)."""

    def __init__(self):
        self.error = None
        self.aborted = False
        self.abort_error = None
        self.still_running = False
        self.progress = {}
        self.elapsed = 0.0
        self.postcopy = False
        self.notes = []
        self.aborts = []
        self.slowest_read = 0.0

    def abort_history(self):
        """The aborts asked and libvirt's answers, for a result that has to
        say why a move went on: 'asked to abort at 1.0 s (accepted), ...'."""
        told = []
        for asked in self.aborts:
            answer = asked['answer']
            if answer is None:
                answer = 'no answer'
            elif answer != 'accepted':
                answer = 'refused: %s' % answer
            told.append('%.1f s (%s)' % (asked['at'], answer))
        history = 'asked to abort at %s' % ', '.join(told) if told else 'no abort asked'
        if self.slowest_read >= 5:
            history += '; reading the job took up to %.0f s' % self.slowest_read
        return history


class MigrationJob:
    def __init__(self, source, name, migrate, timeout=None, max_downtime=None, postcopy=False, interval=0.5,
                 clock=time.monotonic, abort_again=ABORT_AGAIN):
        self.source, self.name, self.migrate = source, name, migrate
        self.timeout, self.max_downtime, self.postcopy = timeout, max_downtime, postcopy
        self.interval, self.clock, self.abort_again = interval, clock, abort_again

    def run(self):
        outcome = Outcome()
        errors = []

        def work():
            try:
                self.migrate()
            except Exception as exc:  # given to the caller, who says what it means
                errors.append(exc)
        thread = threading.Thread(target=work, name='virtkit-migrate-%s' % self.name)
        thread.daemon = True  # a migration libvirt never ends cannot hold the process at exit
        start = self.clock()
        thread.start()
        downtime_set = postcopy_tried = False
        aborting = {'accepted': False, 'busy': False, 'again_at': None}
        abort_deadline = None
        while True:
            thread.join(self.interval if outcome.elapsed >= QUICK_SECONDS else min(self.interval, QUICK_INTERVAL))
            outcome.elapsed = self.clock() - start
            if not thread.is_alive():
                break
            asked = self.clock()
            sample = self._sample()
            outcome.slowest_read = max(outcome.slowest_read, self.clock() - asked)
            if sample and sample.get('type') in ACTIVE_JOBS:
                # A sample without the disks' figures keeps those of the one before.
                carried = dict((key, outcome.progress[key]) for key in DISK_KEYS
                               if key not in sample and key in outcome.progress)
                outcome.progress = dict(sample, **carried)
                if self.max_downtime and not downtime_set:
                    downtime_set = True
                    self._try(outcome, 'set the maximum downtime',
                              lambda: self.source.set_migration_max_downtime(self.name, self.max_downtime))
                if self.postcopy and not postcopy_tried and (sample.get('memory_processed') or 0) > 0:
                    # Memory flows (QEMU refuses the switch before): the guest runs on the destination from
                    # now on, what is left of its memory comes over on demand.
                    postcopy_tried = True
                    outcome.postcopy = self._try(outcome, 'switch to post-copy',
                                                 lambda: self.source.start_postcopy(self.name))
            if self.timeout and outcome.elapsed >= self.timeout and not aborting['busy'] \
                    and (not aborting['accepted'] or outcome.elapsed >= aborting['again_at']):
                if not outcome.aborted:
                    outcome.aborted = True
                    abort_deadline = outcome.elapsed + ABORT_GRACE
                aborting['accepted'], aborting['again_at'] = False, outcome.elapsed + self.abort_again
                self._abort(outcome, aborting)
            if abort_deadline is not None and outcome.elapsed >= abort_deadline:
                outcome.still_running = True
                break
        if errors:
            outcome.error = errors[0]
        return outcome

    def _abort(self, outcome, aborting):
        """Ask libvirt to abort, from a thread of its own: a libvirt call can take long (it
        waits for the domain's other jobs), and the clock must go on. Asked again after a
        refusal: before libvirt has begun the job there is none to abort yet ("no job is
        active on the domain")."""
        asked = {'at': outcome.elapsed, 'answer': None}
        outcome.aborts.append(asked)

        def abort():
            try:
                self.source.abort_job(self.name)
                aborting['accepted'], outcome.abort_error = True, None
                asked['answer'] = 'accepted'
            except VirtError as exc:
                outcome.abort_error = exc
                asked['answer'] = exc.message
            finally:
                aborting['busy'] = False
        aborting['busy'] = True
        thread = threading.Thread(target=abort, name='virtkit-abort-%s' % self.name)
        thread.daemon = True
        thread.start()

    def _sample(self):
        try:
            return self.source.migration_stats(self.name)
        except VirtError:
            return None  # gone from the source (moved), or between two phases

    def _try(self, outcome, what, call):
        try:
            call()
            return True
        except NotFound:
            return False  # it left the source meanwhile: nothing more to set
        except VirtError as exc:
            outcome.notes.append('could not %s: %s' % (what, exc.message))
            return False
