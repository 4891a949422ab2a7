# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Changes to an existing domain where the driver cannot redefine one.

libvirt's esx driver defines new domains only ("editing existing domains is
not supported yet"). Memory and vCPUs have calls of their own there: the
memory size (``<memory>``, the VM's memory) with virDomainSetMaxMemory while
the VM is powered off, the memory limit (``<currentMemory>``) with
virDomainSetMemory, the vCPU count with virDomainSetVcpus. Anything else that
differs is refused before anything is changed, naming its options and the
driver.

DefinitionSetters is a part of GuestManager (uses its driver, name, kind,
params, state, option_names and power transitions).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtkit.virt.plugins.module_utils.driver.interface import ACTIVE_STATES
from ansible_collections.virtkit.virt.plugins.module_utils.errors import Conflict

# The canonical keys these calls change.
SETTABLE = ('memory_kib', 'max_memory_kib', 'vcpus', 'max_vcpus')


def setter_changes(desired, config):
    """``{'max_memory_kib': kib, 'memory_kib': kib, 'vcpus': n}`` - what to set,
    in that order, for ``desired`` over the persistent ``config``. The memory
    is set whenever it is wanted other than it is: a limit equal to the size
    looks like no limit, and only a limit stays when the size changes."""
    changes = {}
    size = desired.get('max_memory_kib')
    if size is not None and size != config.get('max_memory_kib'):
        changes['max_memory_kib'] = size
    memory = desired.get('memory_kib')
    if memory is not None and memory != config.get('memory_kib'):
        changes['memory_kib'] = memory
    count = desired.get('vcpus') if desired.get('vcpus') is not None else desired.get('max_vcpus')
    if count is not None and count != config.get('vcpus'):
        changes['vcpus'] = count
    return changes


class DefinitionSetters:
    """The plan of an existing domain's changes without a redefinition."""

    def _plan_setters(self, plan, status, desired, config, reasons, why):
        """Plan memory and vCPU changes by their own calls; ``why``: the
        driver's reason it cannot redefine. Returns the state the domain is
        in after them when they change it (restarted, or stopped first), else
        None."""
        others = sorted(set(self.option_names.get(r, r) for r in reasons if r not in SETTABLE))
        if others:
            raise Conflict('%s: %s; remove the domain and define it anew to change %s'
                           % (', '.join(others), why, 'them' if len(others) > 1 else 'it'),
                           resource=self.resource, action='update')
        if desired.get('vcpus') is not None and desired.get('max_vcpus') not in (None, desired['vcpus']):
            raise Conflict('max_vcpus: a maximum above vcpus needs a redefinition, and %s' % why,
                           resource=self.resource, action='update')
        changes = setter_changes(desired, config)
        active = status['state'] in ACTIVE_STATES
        if active and changes and self.params.get('live') is False and self._final_state(status['state']) != 'shutoff':
            raise Conflict('%s: live: false, but %s; a running domain takes these changes at once there (set live: '
                           'true), or shut it down first (state: shutdown)'
                           % (', '.join(self.option_names.get(k, k) for k in changes), why),
                           resource=self.resource, action='update')
        stops = self._final_state(status['state']) == 'shutoff'
        new_state = None
        if active and 'max_memory_kib' in changes:
            option = 'max_memory' if self.params.get('max_memory') is not None else 'memory'
            if stops:
                self._plan_power(plan, status['state'])  # powered off first, then changed
                new_state = 'shutoff'
            elif self.params.get('restart'):
                if status['state'] == 'paused':
                    plan.add('resume', lambda: self.driver.resume_domain(self.name))
                plan.add('shutdown', self._shutdown)
                new_state = 'running'
            else:
                raise Conflict('%s: %s; shut the %s down (state: shutdown) to change it, or set restart: true'
                               % (option, self.driver.unsupported('live_max_memory') or why, self.kind),
                               resource=self.resource, action='update')
        name = self.name
        if 'max_memory_kib' in changes:
            kib = changes['max_memory_kib']
            plan.add('set max_memory to %d MiB' % (kib // 1024), lambda: self.driver.set_domain_max_memory(name, kib))
        if 'memory_kib' in changes:
            kib = changes['memory_kib']
            plan.add('set memory to %d MiB' % (kib // 1024),
                     lambda: self.driver.set_domain_memory(name, kib, live=active, config=True))
        if 'vcpus' in changes:
            count = changes['vcpus']
            plan.add('set vcpus to %d' % count,
                     lambda: self.driver.set_domain_vcpus(name, count, live=active, config=True))
        if new_state == 'running':
            plan.add('start', self._start)
        return new_state
