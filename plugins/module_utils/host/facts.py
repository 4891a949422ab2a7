# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host facts, and the decision whether KVM can really run guests here."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.virtkit.virt.plugins.module_utils.driver.connection import is_local_uri
from ansible_collections.virtkit.virt.plugins.module_utils.engine.runner import Manager
from ansible_collections.virtkit.virt.plugins.module_utils.errors import DriverError
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.host import HW_VIRT_FEATURES, parse_capabilities

_X86 = ('x86_64', 'i686', 'i386')


def local_cpu_flags(path='/proc/cpuinfo'):
    try:
        with open(path) as handle:
            for line in handle:
                if line.startswith('flags'):
                    return line.split(':', 1)[1].split()
    except (IOError, OSError):
        pass
    return None


def assess_kvm(domain_types, arch, cpu_flags, dev_kvm_usable):
    """``(usable, reason)``. Offering the kvm domain type is not enough: a
    nested or paravirtual /dev/kvm (no vmx/svm on the CPU) is offered too, yet
    its guests never boot. ``cpu_flags``/``dev_kvm_usable`` are None when
    unknown (remote hosts)."""
    if 'kvm' not in domain_types:
        return False, 'the host does not offer the kvm domain type'
    if arch in _X86 and cpu_flags is not None and not set(HW_VIRT_FEATURES) & set(cpu_flags):
        return False, ('kvm is offered, but the CPU exposes no hardware virtualisation (vmx/svm): '
                       '/dev/kvm comes from a nested or paravirtual KVM that cannot run ordinary guests')
    if dev_kvm_usable is False:
        return False, 'kvm is offered, but /dev/kvm cannot be opened for reading and writing'
    return True, 'kvm is offered and the CPU exposes hardware virtualisation'


def host_kvm(caps, local):
    """``(usable, reason)`` for a host's parsed capabilities; the CPU flags and
    /dev/kvm are only known when the host is this machine."""
    if local:
        flags = local_cpu_flags()
        dev_kvm = os.access('/dev/kvm', os.R_OK | os.W_OK) if os.path.exists('/dev/kvm') else False
    else:
        flags = caps['cpu_features'] if caps['cpu_features'] else None
        dev_kvm = None
    return assess_kvm(caps['domain_types'], caps['arch'], flags, dev_kvm)


def _optional(call):
    """Listings some drivers do not implement (pools on ESX, ...) become []."""
    try:
        return call()
    except DriverError as exc:
        if getattr(exc, 'unsupported', False):
            return []
        raise


class HostInfoManager(Manager):
    kind = 'host'
    result_key = 'host'
    readonly = True
    reports_restart = False

    @property
    def name(self):
        return self.driver.uri if self.driver else self.params.get('uri')

    def facts(self, plan):
        summary = self.driver.host_summary()
        caps = parse_capabilities(summary['capabilities_xml'])
        arch = caps['arch']
        usable, reason = host_kvm(caps, is_local_uri(self.driver.uri))
        return {
            'uri': self.driver.uri,
            'hostname': summary['hostname'],
            'driver': summary['driver'],
            'hypervisor_version': summary['hypervisor_version'],
            'libvirt_version': summary['libvirt_version'],
            'cpu': {'model': caps['cpu_model'] or summary['cpu_model'], 'vendor': caps['cpu_vendor'],
                    'arch': arch, 'count': summary['cpus'], 'sockets': summary['sockets'],
                    'cores': summary['cores'], 'threads': summary['threads'], 'mhz': summary['mhz'],
                    'numa_nodes': summary['numa_nodes']},
            'memory': {'total_mib': summary['memory_kib'] // 1024,
                       'free_mib': summary['free_memory_kib'] // 1024,
                       'available_mib': summary['available_memory_kib'] // 1024},
            'domain_types': caps['domain_types'],
            'guest_types': caps['guests'],
            'kvm_usable': usable,
            'kvm_reason': reason,
            'pools': sorted(_optional(self.driver.list_pools), key=lambda p: p['name']),
            'networks': sorted(_optional(self.driver.list_networks), key=lambda n: n['name']),
        }
