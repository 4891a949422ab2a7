# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The raw listing of one libvirt connection: what the inventory caches.

It runs on the controller (through the driver layer) and, shipped over SSH,
on a hypervisor host (see ssh.py): so it needs nothing but a driver and the
standard library, and it parses nothing. XML stays XML and addresses stay as
the driver returned them, for the controller's parsers (inventory_model.py).

Round trips are per connection and per network, not per guest, except where
libvirt has no bulk call: a guest's XML, and the agent and ARP sources, which
are asked only for running guests and within a time limit.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time

from ansible_collections.virtkit.virt.plugins.module_utils.driver.interface import ACTIVE_STATES
from ansible_collections.virtkit.virt.plugins.module_utils.errors import VirtError

LISTING_VERSION = 1
IP_SOURCES = ('lease', 'agent', 'arp')
# States in which a guest has a live network stack whose addresses mean something:
# the active ones, and a guest shutting down (its interfaces still answer until it is off).
ADDRESSED_STATES = ACTIVE_STATES + ('shutdown',)


def collect_listing(driver, ip_sources=('lease', 'agent'), agent_timeout=5.0, agent_channel=None):
    """{version, domains: [list_domains_with_xml records], leases: {network:
    [lease]}, addresses: {domain: {source: [interface]}}, skipped: [message]}.

    ``driver``: a LibvirtListingDriver (driver/libvirt_listing.py), or
    anything with its four reads used here (remote_listing.VirshListingReader).

    ``agent_channel``: the name of the guest agent's virtio channel; only guests
    whose XML names it are asked (the agent path must not wait on guests that
    cannot answer). A source that fails is skipped and said in ``skipped``.
    """
    listing = {'version': LISTING_VERSION, 'domains': driver.list_domains_with_xml(),
               'leases': {}, 'addresses': {}, 'skipped': []}
    active = [d for d in listing['domains'] if d['state'] in ADDRESSED_STATES]
    if not active:
        return listing
    for source in ip_sources:
        if source == 'lease':
            _read_leases(driver, listing)
        elif source == 'agent':
            wanted = [d['name'] for d in active if d['state'] == 'running'
                      and (agent_channel is None or agent_channel in d['xml'])]
            _read_addresses(driver, listing, 'agent', wanted, agent_timeout)
        elif source == 'arp':
            wanted = [d['name'] for d in active if d['state'] == 'running']
            _read_addresses(driver, listing, 'arp', wanted, agent_timeout)
    return listing


def _read_leases(driver, listing):
    """Every active network's leases, once per network."""
    try:
        networks = [n['name'] for n in driver.list_networks() if n['active']]
    except VirtError as exc:
        listing['skipped'].append('lease: %s' % exc.describe())
        return
    for name in networks:
        try:
            listing['leases'][name] = driver.network_leases(name)
        except VirtError as exc:
            listing['skipped'].append('lease: %s' % exc.describe())


def _read_addresses(driver, listing, source, names, timeout):
    """Ask each guest in turn, all of them within ``timeout`` seconds: a
    guest whose agent hangs must not hold the whole inventory up."""
    if not names:
        return
    found = {}
    skipped = []

    def ask():
        for name in names:
            try:
                found[name] = driver.domain_addresses(name, source)
            except VirtError as exc:
                skipped.append('%s: %s' % (source, exc.describe()))
            except Exception as exc:  # the connection closed under a late call
                skipped.append('%s: %s' % (source, exc))
    worker = threading.Thread(target=ask, name='virtkit-%s' % source)
    worker.daemon = True
    started = time.time()
    worker.start()
    worker.join(timeout)
    done = dict(found)
    listing['skipped'].extend(list(skipped))
    if worker.is_alive():
        late = [n for n in names if n not in done]
        listing['skipped'].append('%s: no answer within %ss (%.1f s) from %s' % (
            source, timeout, time.time() - started, ', '.join(late)))
    for name, interfaces in done.items():
        listing['addresses'].setdefault(name, {})[source] = interfaces
