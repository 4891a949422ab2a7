# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting for a domain: for a power state (graceful shutdown) and for its
IP addresses (``wait_for_ip``).

Address sources differ by host: ``lease`` needs a libvirt network with DHCP,
``agent`` a guest agent, and ``arp`` fails outright on some hosts. A source
that errors is skipped for the rest of the wait and reported, never fatal.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.virtkit.virt.plugins.module_utils.errors import DriverError, NotFound, VirtError


class Timeout(VirtError):
    """Something the task waits for did not happen in time."""

    kind = 'timeout'


def wait_for_state(driver, name, states, timeout, interval=0.5, clock=time.monotonic, sleep=time.sleep):
    """True once the domain is in one of ``states`` (or gone), False after ``timeout`` s."""
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
                if addr['addr'] and addr['addr'] not in found.setdefault(mac, []) \
                        and not addr['addr'].startswith('fe80:') and addr['addr'] != '127.0.0.1':
                    found[mac].append(addr['addr'])
    return dict((mac, addrs) for mac, addrs in found.items() if addrs)


def wait_for_addresses(driver, name, sources, timeout, interval=2.0, clock=time.monotonic, sleep=time.sleep):
    """``({mac: [address, ...]}, broken)`` as soon as any interface has an
    address; raises Timeout naming what each source said."""
    deadline = clock() + timeout
    broken = {}
    while True:
        found = read_addresses(driver, name, sources, broken)
        if found:
            return found, broken
        if len(broken) == len(sources):
            raise Timeout('no source of IP addresses works here: %s' % _said(sources, broken),
                          resource='domain %r' % name, action='wait for an IP address of')
        if clock() >= deadline:
            raise Timeout('no IP address after %s s (%s)' % (timeout, _said(sources, broken)),
                          resource='domain %r' % name, action='wait for an IP address of')
        sleep(interval)


def _said(sources, broken):
    return '; '.join('%s: %s' % (s, 'failed: %s' % broken[s] if s in broken else 'no address yet') for s in sources)
