# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host capabilities XML → canonical facts (the one parser of it)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel import common as x

# CPU features that mean the processor exposes hardware virtualisation.
HW_VIRT_FEATURES = ('vmx', 'svm')


def parse_capabilities(xml):
    root = x.parse(xml, 'capabilities', 'capabilities')
    host = root.find('host')
    cpu = host.find('cpu') if host is not None else None
    guests, machine_types = [], []
    for guest in root.findall('guest'):
        arch = guest.find('arch')
        if arch is not None:
            machine_types.extend(_machine_types(arch))
        guests.append({
            'os_type': x.text(guest, 'os_type'),
            'arch': arch.get('name') if arch is not None else None,
            'domain_types': [d.get('type') for d in arch.findall('domain')] if arch is not None else [],
            'machines': sorted(set(m.text for m in arch.findall('machine'))) if arch is not None else [],
        })
    domain_types = []
    for guest in guests:
        for kind in guest['domain_types']:
            if kind not in domain_types:
                domain_types.append(kind)
    return {
        'uuid': x.text(host, 'uuid') if host is not None else None,
        'arch': x.text(cpu, 'arch') if cpu is not None else None,
        'cpu_model': x.text(cpu, 'model') if cpu is not None else None,
        'cpu_vendor': x.text(cpu, 'vendor') if cpu is not None else None,
        'cpu_features': sorted(f.get('name') for f in cpu.findall('feature')) if cpu is not None else [],
        'guests': guests,
        'domain_types': domain_types,
        'machine_types': machine_types,
    }


def _machine_types(arch):
    """Every <machine> of an <arch>: its own, then those of each <domain>
    type (``domain_type`` None for the arch's own), in document order."""
    found = [(None, machine) for machine in arch.findall('machine')]
    for domain in arch.findall('domain'):
        found.extend((domain.get('type'), machine) for machine in domain.findall('machine'))
    return [{'arch': arch.get('name'), 'domain_type': domain_type,
             'name': machine.text.strip() if machine.text else None, 'canonical': machine.get('canonical')}
            for domain_type, machine in found]
