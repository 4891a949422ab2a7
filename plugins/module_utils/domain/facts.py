# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a domain looks like to a playbook (the ``domain`` result and
``domain_info``): the running definition when it runs, else the persistent
one, with IP addresses from the sources that work on this host - and
waiting for them (``wait_for_ip``).

Address sources differ by host: ``lease`` needs a libvirt network with DHCP,
``agent`` a guest agent, and ``arp`` fails outright on some hosts. A source
that errors is skipped for the rest of the wait and reported, never fatal.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import time

from ansible_collections.virtkit.virt.plugins.module_utils.driver.interface import ACTIVE_STATES, DOMAIN_STATES
from ansible_collections.virtkit.virt.plugins.module_utils.engine.runner import Manager
from ansible_collections.virtkit.virt.plugins.module_utils.engine.sizes import kib_to_mib
from ansible_collections.virtkit.virt.plugins.module_utils.engine import validation as v
from ansible_collections.virtkit.virt.plugins.module_utils.errors import (
    Conflict, DriverError, InvalidSpec, NotFound, Timeout)
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.clone import clone_record
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.domain import parse_domain_xml

HIDDEN = '********'
# How often wait_for_ip asks for addresses: a lease is seen at most this long
# after it appears. An ask reads the network's lease file and, when those
# sources work, the ARP table and the guest agent - a few milliseconds of the
# daemon's time.
ADDRESS_POLL_INTERVAL = 0.25


def domain_facts(driver, name, status=None, addresses=None, include_xml=False, secure=False):
    """Facts of one domain; ``addresses`` (``{mac: [ip]}``) when already
    known, else read from the lease, ARP and (with its channel) agent sources.
    ``secure`` (read-write connections only) sees whether a display password
    is set; without it the facts do not say."""
    status = status or driver.domain_status(name)
    active = status['state'] in ACTIVE_STATES
    xml = driver.domain_xml(name, secure=secure)
    parsed = parse_domain_xml(xml)
    if addresses is None:
        addresses = {}
        if active:
            # VMware Tools report a VM's addresses through libvirt's agent source (esx).
            sources = ['lease', 'arp'] + (['agent'] if parsed['guest_agent'] or parsed['virt_type'] == 'vmware' else [])
            addresses = read_addresses(driver, name, sources)
    interfaces = []
    for iface in parsed['interfaces']:
        interfaces.append(dict(iface, addresses=list(addresses.get(iface['mac'] or '', []))))
    graphics = dict(parsed['graphics'])
    if secure:
        graphics['password'] = HIDDEN if graphics.get('password') else None
    else:
        # libvirt leaves a password out of XML read without the secure flag,
        # which read-only connections (domain_info) cannot ask for: null would
        # read as "no password", so the key is left out.
        graphics.pop('password', None)
    first_ip = next((a for i in interfaces for a in i['addresses'] if ':' not in a), None)
    facts = {
        'name': name, 'exists': True, 'uuid': status['uuid'], 'id': status['id'], 'state': status['state'],
        'persistent': status['persistent'], 'autostart': status['autostart'],
        'virt_type': parsed['virt_type'], 'arch': parsed['arch'], 'machine': parsed['machine'],
        'memory': kib_to_mib(parsed['memory_kib']), 'max_memory': kib_to_mib(parsed['max_memory_kib']),
        'vcpus': parsed['vcpus'], 'max_vcpus': parsed['max_vcpus'], 'cpu': parsed['cpu'],
        'firmware': parsed['firmware'], 'secure_boot': parsed['secure_boot'], 'boot': parsed['boot'],
        'kernel': parsed['kernel'] or None, 'initrd': parsed['initrd'] or None, 'cmdline': parsed['cmdline'] or None,
        'disks': parsed['disks'], 'interfaces': interfaces, 'graphics': graphics,
        'console': parsed['console'], 'guest_agent': parsed['guest_agent'], 'rng': parsed['rng'],
        'tpm': parsed['tpm'] or None,
        'tags': parsed['tags'], 'ip': first_ip or next((a for i in interfaces for a in i['addresses']), None),
        'cloned_from': clone_record(xml),
    }
    if include_xml:
        facts['xml'] = xml
        if status['persistent'] and active:
            facts['inactive_xml'] = driver.domain_xml(name, inactive=True)
    return facts


class DomainInfoManager(Manager):
    kind = 'domain'
    result_key = 'domains'
    readonly = True
    reports_restart = False

    def validate(self):
        if self.params.get('name') is not None:
            v.plain_name(self.params['name'], 'name')
        for index, state in enumerate(self.params.get('state') or []):
            if state not in DOMAIN_STATES:
                raise InvalidSpec('state[%d]' % index, '%r is not one of %s' % (state, ', '.join(DOMAIN_STATES)))
        # A tag filter without a value asks for the tag, whatever its value.
        self.tags = dict((str(k), None if val is None else str(val)) for k, val in (self.params.get('tags') or {}).items())

    def facts(self, plan):
        wanted_states = self.params.get('state') or None
        listing = [d for d in self.driver.list_domains() if not self.name or d['name'] == self.name]
        result = []
        for status in sorted(listing, key=lambda d: d['name']):
            if wanted_states and status['state'] not in wanted_states:
                continue
            try:
                facts = domain_facts(self.driver, status['name'], status=status,
                                     include_xml=self.params.get('include_xml'))
            except NotFound:
                continue  # went away while listing
            if any(key not in facts['tags'] or value not in (None, facts['tags'][key])
                   for key, value in self.tags.items()):
                continue
            result.append(facts)
        return result


# -- IP addresses ----------------------------------------------------------------

def read_addresses(driver, name, sources, broken=None):
    """``{mac: [address, ...]}`` from the first sources that know any;
    ``broken`` collects ``{source: message}`` of sources that failed."""
    broken = {} if broken is None else broken
    found = {}
    for source in sources:
        if source in broken:
            continue
        try:
            interfaces = driver.domain_addresses(name, source)
        except DriverError as exc:
            broken[source] = exc.message
            continue
        for iface in interfaces:
            mac = (iface.get('mac') or '').lower()
            for addr in iface.get('addresses') or []:
                if addr['addr'] and addr['addr'] not in found.setdefault(mac, []) and _reachable(addr['addr']):
                    found[mac].append(addr['addr'])
    return dict((mac, addrs) for mac, addrs in found.items() if addrs)


def _reachable(address):
    """Not loopback or link-local: the guest agent reports ``lo`` (127.0.0.1
    and ::1) as soon as it runs, long before DHCP has given the guest an
    address anyone could reach it at."""
    try:
        ip = ipaddress.ip_address(address.split('%')[0])
    except ValueError:
        return False
    return not (ip.is_loopback or ip.is_link_local or ip.is_unspecified)


def wait_for_addresses(driver, name, sources, timeout, interval=ADDRESS_POLL_INTERVAL, clock=time.monotonic,
                       sleep=time.sleep, kind='domain'):
    """``({mac: [address, ...]}, broken)`` as soon as any interface has an
    address; raises Timeout naming what each source said. A guest that
    stops meanwhile (it crashed, powered off, was destroyed) will never get
    an address: that is said at once, with its state, not after the timeout."""
    driver.forget()  # each look asks libvirt again
    started = clock()
    deadline = started + timeout
    broken = {}
    resource = '%s %r' % (kind, name)
    while True:
        found = read_addresses(driver, name, sources, broken)
        if found:
            return found, broken
        try:
            status = driver.domain_status(name)
        except NotFound:
            raise Conflict('it was undefined while the task waited for its IP address', resource=resource,
                           action='wait for an IP address of')
        # 'shutdown' is a guest on its way down (libvirt's state between the
        # guest's power-off and its process's exit): looked at again, so the
        # message says how it ended (shutoff, and why), not that it was going.
        if status['state'] not in ACTIVE_STATES and status['state'] != 'shutdown':
            raise Conflict('it stopped while the task waited for its IP address (after %d s of %s): it is %s'
                           % (clock() - started, timeout, describe_state(status)), resource=resource,
                           action='wait for an IP address of')
        if len(broken) == len(sources):
            raise Timeout('no source of IP addresses works here: %s' % _said(sources, broken),
                          resource=resource, action='wait for an IP address of')
        if clock() >= deadline:
            raise Timeout('no IP address after %s s (%s)' % (timeout, _said(sources, broken)),
                          resource=resource, action='wait for an IP address of')
        sleep(interval)


def describe_state(status):
    """'shutoff (crashed)': a state and, when libvirt knows it, why."""
    reason = status.get('reason')
    return '%s (%s)' % (status['state'], reason) if reason and reason != 'unknown' else status['state']


def _said(sources, broken):
    return '; '.join('%s: %s' % (s, 'failed: %s' % broken[s] if s in broken else 'no address yet') for s in sources)
