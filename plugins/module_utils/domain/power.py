# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Power transitions of a domain: the actions that bring it from its state
to the wanted one, graceful shutdown (a timeout, then ``force`` or an
error), start, restart, autostart - and waiting for a power state.

PowerTransitions is a part of GuestManager; ContainerManager overrides its
hooks (how a container is asked to stop, what a started one needs).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.virtkit.virt.plugins.module_utils.domain.facts import describe_state
from ansible_collections.virtkit.virt.plugins.module_utils.driver.interface import ACTIVE_STATES
from ansible_collections.virtkit.virt.plugins.module_utils.errors import DriverError, NotFound, Timeout


def wait_for_state(driver, name, states, timeout, interval=0.5, clock=time.monotonic, sleep=time.sleep):
    """True once the domain is in one of ``states`` (or gone), False after ``timeout`` s."""
    driver.forget()  # each look asks libvirt again
    deadline = clock() + timeout
    while True:
        try:
            if driver.domain_status(name)['state'] in states:
                return True
        except NotFound:
            return True
        if clock() >= deadline:
            return False
        sleep(interval)


class PowerTransitions:
    """Power actions of a GuestManager's plan (uses its driver, name,
    state, params, shutdown_timeout, kind, warnings and hooks)."""

    def _final_state(self, current):
        return {'running': 'running', 'paused': 'paused', 'shutdown': 'shutoff', 'destroyed': 'shutoff',
                'present': current or 'shutoff'}[self.state]

    def _plan_power(self, plan, state, new=False):
        """``new``: the domain is defined by this plan, so a start is undone
        (destroyed) should a later step fail, before the define is undone."""
        name = self.name
        active = state in ACTIVE_STATES
        if self.state in ('running', 'paused'):
            if state == 'crashed':
                plan.add('destroy', lambda: self.driver.destroy_domain(name))
                active = False
            if not active:
                plan.add('start', self._start, undo=(lambda: self.driver.destroy_domain(name)) if new else None)
                state = 'running'
            if self.state == 'running' and state == 'paused':
                plan.add('resume', lambda: self.driver.resume_domain(name))
            elif self.state == 'paused' and state != 'paused':
                # A new domain's pause goes with its start's undo.
                plan.add('pause', lambda: self.driver.suspend_domain(name), undo=(lambda: None) if new else None)
        elif self.state == 'shutdown' and (active or state == 'crashed'):
            if state == 'paused':
                plan.add('resume', lambda: self.driver.resume_domain(name))  # a frozen guest ignores ACPI
            plan.add('shutdown', self._shutdown)
        elif self.state == 'destroyed' and (active or state == 'crashed'):
            plan.add('destroy', lambda: self.driver.destroy_domain(name))

    def request_shutdown(self):
        """Hook: ask the guest to shut down (returns at once), the way
        ``shutdown_mode`` says - never left to the driver: QEMU's default
        asks the guest agent whenever one is connected, not the power button."""
        mode = self.params.get('shutdown_mode') or 'acpi'
        try:
            self.driver.shutdown_domain(self.name, mode)
        except DriverError as exc:
            # Drivers with one way only (test, esx ...) refuse the flag: ask them their way.
            if mode != 'acpi' or not getattr(exc, 'unsupported', False):
                raise
            self.driver.shutdown_domain(self.name)

    def _shutdown(self):
        """Graceful shutdown; after shutdown_timeout, destroy with force, else
        fail. A guest that crashes meanwhile ends the wait at once: it is off
        (a crashed one kept by on_crash=preserve is powered off), and said."""
        self.request_shutdown()
        if wait_for_state(self.driver, self.name, ('shutoff', 'crashed'), self.shutdown_timeout):
            self._after_shutdown()
            return
        if self.params.get('force'):
            self.warnings.append('%s %r did not shut down within %s s (%s); powered it off (force: true)'
                                 % (self.kind, self.name, self.shutdown_timeout, self.shutdown_hint))
            self.driver.destroy_domain(self.name)
            return
        raise Timeout('it did not shut down within %s s (%s, or it takes longer); set force: true to power it '
                      'off after the timeout, or raise shutdown_timeout' % (self.shutdown_timeout, self.shutdown_hint),
                      resource=self.resource, action='shut down')

    def _after_shutdown(self):
        try:
            status = self.driver.domain_status(self.name)
        except NotFound:
            return
        if status['state'] == 'crashed' or status.get('reason') in ('crashed', 'failed'):
            self.warnings.append('%s %r crashed while it shut down (it was %s)%s'
                                 % (self.kind, self.name, describe_state(status),
                                    '; powered it off' if status['state'] == 'crashed' else ''))
            if status['state'] == 'crashed':
                self.driver.destroy_domain(self.name)

    def _restart(self, paused):
        if paused:
            self.driver.resume_domain(self.name)
        self._shutdown()
        self._start()

    def _start(self):
        self.driver.start_domain(self.name)
        self.after_start()

    def after_start(self):
        """Hook: what a started domain needs before the task returns."""

    def _plan_autostart(self, plan, current):
        wanted = self.params.get('autostart')
        if wanted is not None and wanted != current:
            plan.add('autostart %s' % ('on' if wanted else 'off'),
                     lambda: self.driver.set_domain_autostart(self.name, wanted),
                     undo=lambda: self.driver.set_domain_autostart(self.name, current))
