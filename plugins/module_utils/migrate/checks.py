# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What would make libvirt refuse a migration, or make the guest fail on the
destination, found before anything moves: the two hosts are one, the
destination has no such domain type, machine type or CPU, a network the guest
is plugged into is missing there. Each finding is a sentence; the manager
refuses the move with all of them at once. (Storage: migrate/storage.py;
snapshots: migrate/snapshots.py.)"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtkit.virt.plugins.module_utils.errors import DriverError, NotFound
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.host import parse_capabilities
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.migration import host_cpu_xml


def check_hosts(source_caps_xml, dest_caps_xml):
    """The two connections reach one host (libvirt's own refusal, said first)."""
    mine, theirs = parse_capabilities(source_caps_xml)['uuid'], parse_capabilities(dest_caps_xml)['uuid']
    if mine and mine == theirs:
        return ['the source and the destination are the same host (host UUID %s): a domain moves between two '
                'hosts (two libvirt daemons on one machine need their own host_uuid in libvirtd.conf)' % mine]
    return []


def check_platform(view, dest_caps_xml):
    """The destination offers the domain type and machine type of the guest."""
    caps = parse_capabilities(dest_caps_xml)
    arch = view['arch'] or caps['arch']
    offered = []
    for guest in caps['guests']:
        if guest['arch'] == arch:
            offered.extend(t for t in guest['domain_types'] if t not in offered)
    if view['virt_type'] and view['virt_type'] not in offered:
        return ["the destination offers no %r domains for %s (it offers %s)"
                % (view['virt_type'], arch, ', '.join(offered) or 'none')]
    machine = view['machine']
    if machine:
        names = set()
        for entry in caps['machine_types']:
            if entry['arch'] == arch and entry['domain_type'] in (None, view['virt_type']):
                names.update(n for n in (entry['name'], entry['canonical']) if n)
        if names and machine not in names:
            return ['the destination has no machine type %r for %s %s guests (its QEMU is older?)'
                    % (machine, view['virt_type'], arch)]
    return []


def check_cpu(view, dest, source_caps_xml):
    """The destination's hypervisor can give the guest its CPU. A custom (or
    expanded host-model) CPU is compared as it is; a host-passthrough guest
    has the source host's CPU, which the destination's must match."""
    mode, xml = view['cpu']['mode'], view['cpu']['xml']
    if mode == 'host-passthrough':
        if view['virt_type'] != 'kvm':
            return []
        xml = host_cpu_xml(source_caps_xml)
        what = "the guest passes the source host's CPU through (host-passthrough)"
    elif mode in ('custom', 'host-model') and xml:
        what = 'the guest CPU'
    else:
        return []
    if not xml:
        return []
    try:
        answer = dest.compare_cpu(xml, virt_type=view['virt_type'], arch=view['arch'])
    except DriverError as exc:
        if getattr(exc, 'unsupported', False):
            return []  # a driver that cannot compare CPUs: libvirt's own checks decide
        return ['the destination could not compare the CPU: %s' % exc.message]
    if answer['result'] == 'incompatible':
        return ['the destination cannot offer %s: %s' % (what, answer['reason'] or 'incompatible')]
    return []


def check_networks(view, dest, live):
    """Every libvirt network an interface uses exists on the destination (and runs, for a running guest)."""
    problems, warnings = [], []
    for index, iface in enumerate(view['interfaces']):
        label = 'interface %d (%s)' % (index, iface['mac'] or 'no MAC')
        if iface['type'] == 'network' and iface['network']:
            try:
                status = dest.network_status(iface['network'])
            except NotFound:
                problems.append('%s: network %r does not exist on the destination' % (label, iface['network']))
                continue
            if live and not status['active']:
                problems.append('%s: network %r is not active on the destination' % (label, iface['network']))
        elif iface['type'] == 'bridge':
            warnings.append('%s: host bridge %r is not checked (libvirt does not list bridges): it must exist on '
                            'the destination' % (label, iface['bridge']))
    return problems, warnings
