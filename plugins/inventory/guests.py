# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: guests
short_description: Guests and containers of libvirt hosts as an inventory
version_added: 0.1.0
description:
  - Lists the domains (virtual machines and containers) of one or more libvirt hosts, side by side, and makes
    each an inventory host with C(virt_*) variables and groups by state, host, driver and tag.
  - Hosts are reached through libvirt URIs (O(uris), from the controller's libvirt client) or over SSH
    (O(ssh_hosts), for controllers without libvirt; a small listing helper runs on the host).
  - Addresses come from the DHCP leases of libvirt networks (read once per network), the QEMU guest agent
    (running guests with the agent channel only) or the host's ARP table, in the order of O(ip_sources).
  - The first IPv4 address found becomes C(ansible_host) (see O(ansible_host_from)).
  - "Host variables: C(virt_name) (the domain's name), C(virt_uri), C(virt_host), C(virt_driver) (V(qemu), V(lxc), ...),
    C(virt_uuid), C(virt_state), C(virt_type) (the domain type: V(kvm), V(qemu), V(lxc), ...), C(virt_memory_mib),
    C(virt_vcpus), C(virt_interfaces) (list of C(mac), C(type), C(network), C(bridge), C(model), C(addresses)),
    C(virt_ips), C(virt_tags) (the tags the virtkit.virt.domain module keeps in the domain's metadata),
    C(virt_autostart), C(virt_persistent)."
  - C(virt_host) is the host name of the URI or the SSH host, and null for a local URI (this machine); the
    C(virt_host_<host>) group of a local URI is C(virt_host_localhost).
  - "Groups (unless O(default_groups=false)): C(virt_<state>) (C(virt_running), C(virt_shutoff), C(virt_paused), ...),
    C(virt_host_<host>), C(virt_<driver>) (C(virt_qemu), C(virt_lxc)), and C(virt_tag_<key>_<value>) for each tag;
    characters other than letters, digits and C(_) become C(_)."
  - The same guest name on two hosts is never merged into one inventory host - the later one (in the order of
    O(uris), then O(ssh_hosts)) is named C(<name>_<host>) and a warning says so. O(qualify_names) names them all so.
  - Inventory files must end in C(virt.yml) or C(virt.yaml). A key of the file that is no option below fails,
    naming it - one error names them all (Ansible itself would pass over a misspelt option and leave it at its
    default).
author:
  - virtkit.virt maintainers (@virtkit)
requirements:
  - libvirt-python and lxml on the controller, for O(uris)
  - paramiko on the controller, for O(ssh_hosts); on those hosts Python 3 with libvirt-python, or C(virsh)
extends_documentation_fragment:
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
options:
  plugin:
    description: The name of this plugin; it makes a YAML file an inventory source for it.
    required: true
    type: str
    choices: [virtkit.virt.guests]
  uris:
    description:
      - libvirt URIs to list, for example V(qemu:///system), V(lxc:///), V(qemu+ssh://root@hv1/system) or
        V(test:///default), read by the controller's libvirt client.
      - An item may instead be a dictionary with C(uri) and C(auth), C(auth) holding the C(username) and
        C(password) that the URI's driver asks for (V(qemu+tcp://) with SASL, V(esx://), ...), as the modules'
        C(auth) option does. The password may be a vaulted value; it is never logged, nor kept in the
        inventory cache.
      - Listed side by side (see O(concurrency)), each within O(timeout).
      - Default V([qemu:///system]) when O(ssh_hosts) is not set, else none.
    type: list
    elements: raw
  ssh_hosts:
    description:
      - Hypervisor hosts reached over SSH with paramiko. On each, the URIs O(ssh_uris) are listed by a helper run
        with the host's Python 3 (through libvirt-python, else C(virsh)); nothing is installed there.
      - The host key must be in O(known_hosts_file); an unknown or changed key is refused.
    type: list
    elements: str
    default: []
  ssh_uris:
    description: The libvirt URIs listed on each of O(ssh_hosts), as the host itself names them.
    type: list
    elements: str
    default: [qemu:///system]
  ssh_user:
    description: The SSH user (default the controller's user name).
    type: str
  ssh_port:
    description: The SSH port of O(ssh_hosts).
    type: int
    default: 22
  ssh_key_file:
    description: A private key file; when not set, the SSH agent and the default keys of C(~/.ssh) are tried.
    type: path
  known_hosts_file:
    description: The known_hosts file host keys are checked against. Keys are always checked.
    type: path
    default: ~/.ssh/known_hosts
  ssh_python:
    description: The Python interpreter on O(ssh_hosts) that runs the listing helper.
    type: str
    default: python3
  concurrency:
    description:
      - How many URIs and SSH hosts are listed at the same time. A listing mostly waits for its host, so many
        run side by side for the time of the slowest.
      - URIs of libvirt's test driver (V(test:///...)), which runs inside the inventory's own process, are
        listed as many at a time as the controller has CPUs.
    type: int
    default: 64
  timeout:
    description:
      - Seconds one URI or SSH host may take to answer. One that takes longer, or fails, is left out with a
        warning (an error with O(strict=true)); the others are still listed.
    type: int
    default: 30
  states:
    description: Only guests in these states.
    type: list
    elements: str
    choices: [running, blocked, paused, shutdown, shutoff, crashed, pmsuspended, nostate]
  name_pattern:
    description: Only guests whose name matches this Python regular expression (searched; anchor it with C(^...$)).
    type: str
  filters:
    description:
      - Jinja2 conditionals over a guest's C(virt_*) variables that include or exclude it, each item with one key,
        V(include) or V(exclude). They are read in order; the first that is true decides; a guest none of them
        matches is included.
    type: list
    elements: dict
    default: []
  ip_sources:
    description:
      - Where addresses come from, in this order of preference.
      - V(lease) - the DHCP leases of the libvirt networks the guest is on (read once per network).
      - V(agent) - the QEMU guest agent, for running guests that have its channel, within O(agent_timeout).
      - V(arp) - the host's ARP table.
      - A source that fails is skipped (said with C(-vvv)).
    type: list
    elements: str
    choices: [lease, agent, arp]
    default: [lease, agent]
  agent_timeout:
    description: Seconds all guest agent (and ARP) queries of one host may take together.
    type: int
    default: 5
  ansible_host_from:
    description:
      - What C(ansible_host) is set to. V(ip) - the first IPv4 address found (left unset when there is none);
        V(name) - the guest's name; V(none) - not set.
    type: str
    choices: [ip, name, none]
    default: ip
  container_connection:
    description:
      - Set C(ansible_connection=virtkit.virt.lxc) for LXC containers, with C(ansible_host) the container's name, so
        that tasks run inside them. By default C(ansible_connection) is left alone.
      - The variables that plugin reads are set too - C(virt_lxc_uri), and for a container host reached over SSH
        C(virt_host), C(virt_user), C(virt_port), C(virt_key_file) and C(virt_known_hosts_file) (from O(ssh_user),
        O(ssh_port), O(ssh_key_file), O(known_hosts_file), or the user and port of a C(+ssh) URI).
    type: bool
    default: false
  qualify_names:
    description: Name every host C(<name>_<host>), not only the later of two guests with the same name.
    type: bool
    default: false
  default_groups:
    description: Add the C(virt_*) groups by state, host, driver and tag.
    type: bool
    default: true
'''

EXAMPLES = r'''
# guests.virt.yml - the local QEMU/KVM guests and LXC containers
plugin: virtkit.virt.guests
uris:
  - qemu:///system
  - lxc:///

# hypervisors.virt.yml - three hosts over SSH, running guests only, cached
plugin: virtkit.virt.guests
ssh_hosts: [hv1.example.com, hv2.example.com, hv3.example.com]
ssh_user: root
ssh_key_file: ~/.ssh/id_ed25519
states: [running]
filters:
  - exclude: "'template' in virt_tags"
  - include: "virt_type == 'kvm'"
  - exclude: true
keyed_groups:
  - key: virt_tags.role | default('none')
    prefix: role
compose:
  ansible_user: "'debian'"
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/virtkit-inventory
cache_timeout: 300

# sasl.virt.yml - a host whose libvirtd asks for a SASL user and password (qemu+tcp)
plugin: virtkit.virt.guests
uris:
  - qemu:///system
  - uri: qemu+tcp://hv4.example.com/system
    auth:
      username: inventory
      password: !vault |   # made with: ansible-vault encrypt_string
        $ANSIBLE_VAULT;1.1;AES256
        6331...

# containers.virt.yml - run tasks inside the containers through the lxc connection plugin
plugin: virtkit.virt.guests
uris: [lxc:///]
container_connection: true
'''

import contextlib
import gc
import hashlib
import json
import os
import threading
import time

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.virtkit.virt.plugins.module_utils.driver.connection import is_local_uri
from ansible_collections.virtkit.virt.plugins.module_utils.driver.parallel import run_bounded
from ansible_collections.virtkit.virt.plugins.module_utils.errors import VirtError
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.domain_devices import AGENT_CHANNEL
from ansible_collections.virtkit.virt.plugins.plugin_utils.client import as_ansible_error, driver_for
from ansible_collections.virtkit.virt.plugins.plugin_utils.inventory_model import (
    assign_hostnames, check_options, compile_name_pattern, connection_vars, guests_from_listing, passes_filters,
    source_qualifiers, uri_driver, uri_entries, uri_host)
from ansible_collections.virtkit.virt.plugins.plugin_utils.listing import collect_listing

# What the cached listing depends on: another value of these lists anew.
_LISTING_OPTIONS = ('ssh_hosts', 'ssh_uris', 'ssh_user', 'ssh_port', 'ip_sources')
_CACHE_FORMAT = 1


@contextlib.contextmanager
def _collector_paused():
    """Python's cyclic garbage collector off while the inventory is made:
    the objects made then are the inventory, which it would walk again and
    again (a third of the time 10,000 guests take) for nothing to collect."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _timed(job, turns=None):
    """``job`` returning (its seconds, its value); with ``turns`` (a
    semaphore) it runs in one of them, its seconds counted from then."""
    def run():
        with turns or contextlib.nullcontext():
            started = time.time()
            value = job()
            return time.time() - started, value
    return run


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):

    NAME = 'virtkit.virt.guests'

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith(('virt.yml', 'virt.yaml'))

    def parse(self, inventory, loader, path, cache=True):
        with _collector_paused():
            self._parse(inventory, loader, path, cache)

    def _parse(self, inventory, loader, path, cache):
        super(InventoryModule, self).parse(inventory, loader, path, cache=cache)
        config = self._read_config_data(path)
        try:
            check_options(self.get_option, given=config, known=self._options)
        except VirtError as exc:
            raise as_ansible_error(exc)
        sources, credentials = self._sources()
        # Passwords stay out of the fingerprint (it is kept in the cache).
        fingerprint = hashlib.sha256(json.dumps(
            [[s['uri'] for s in sources], [(c or {}).get('username') for c in credentials]]
            + [self.get_option(name) for name in _LISTING_OPTIONS], sort_keys=True).encode()).hexdigest()
        results = None
        use_cache = self.get_option('cache') and cache
        cache_key = self.get_cache_key(path)
        if use_cache:
            try:
                cached = self._cache[cache_key]
            except KeyError:
                cached = None
            if cached and cached.get('format') == _CACHE_FORMAT and cached.get('fingerprint') == fingerprint:
                results = cached['results']
                self.display.vvv('virtkit.virt.guests: the listing of %s comes from the cache' % path)
        if results is None:
            started = time.time()
            results = self._list(sources, credentials)
            self.display.vvv('virtkit.virt.guests: TIMING listed %d sources in %.3f s (each alone: %s)' % (
                len(results), time.time() - started,
                ', '.join('%s %.3f s' % (r['uri'], r.get('seconds', 0)) for r in results)))
            # A listing with a failed source is not kept: the next run tries again.
            if self.get_option('cache') and not any('error' in r for r in results):
                self._cache[cache_key] = {'format': _CACHE_FORMAT, 'fingerprint': fingerprint, 'results': results}
        started = time.time()
        handing = self._populate(results)
        self.display.vvv('virtkit.virt.guests: TIMING made the inventory in %.3f s (of which Ansible took the hosts, '
                         'variables and groups in %.3f s)' % (time.time() - started, handing))

    # -- listing -------------------------------------------------------------------
    def _sources(self):
        """([{kind: uri|ssh, uri, host, driver, qualifier, ...}] in the user's
        order, [auth or None] beside them). Credentials are kept apart: a
        source is copied into the listing, which may be cached."""
        uris = self.get_option('uris')
        ssh_hosts = self.get_option('ssh_hosts') or []
        if uris is None:
            uris = [] if ssh_hosts else ['qemu:///system']
        try:
            entries = uri_entries(uris)
        except VirtError as exc:
            raise as_ansible_error(exc)
        sources, credentials = [], []
        for uri, auth in entries:
            sources.append({'kind': 'uri', 'uri': uri, 'host': uri_host(uri), 'driver': uri_driver(uri),
                            'virt_host': None if is_local_uri(uri) else uri_host(uri)})
            credentials.append(auth)
        ssh = self._ssh_vars()
        for host in ssh_hosts:
            for uri in self.get_option('ssh_uris'):
                sources.append({'kind': 'ssh', 'uri': uri, 'host': host, 'driver': uri_driver(uri),
                                'virt_host': host, 'ssh': ssh})
                credentials.append(None)
        for source, label in zip(sources, source_qualifiers(sources)):
            source['qualifier'] = label
        return sources, credentials

    def _ssh_vars(self):
        """How the lxc connection plugin reaches an SSH host (never cached)."""
        return {'virt_user': self.get_option('ssh_user'), 'virt_port': self.get_option('ssh_port'),
                'virt_key_file': self.get_option('ssh_key_file'),
                'virt_known_hosts_file': self.get_option('known_hosts_file')}

    def _listing_params(self):
        return {'ip_sources': list(self.get_option('ip_sources')),
                'agent_timeout': self.get_option('agent_timeout'),
                'agent_channel': AGENT_CHANNEL}

    def _list(self, sources, credentials):
        """[{source..., listing} | {source..., error}], one per source."""
        params = self._listing_params()
        # libvirt's test driver runs in this process: its listings are CPU work
        # here, which n CPUs do n at a time at best, and each holds its host's
        # definitions meanwhile. They take turns, one a CPU (waiting for a turn
        # counts in their timeout: seconds for many thousand guests); the
        # others wait on their hosts and all run at once, up to concurrency.
        cpus = threading.BoundedSemaphore(os.cpu_count() or 1)
        jobs, owners = [], []
        for source, auth in zip(sources, credentials):
            if source['kind'] == 'uri':
                jobs.append(_timed(self._uri_job(source['uri'], auth, params),
                                   cpus if source['driver'] == 'test' else None))
                owners.append([source])
        by_host = {}
        for source in sources:
            if source['kind'] == 'ssh':
                by_host.setdefault(source['host'], []).append(source)
        for host, host_sources in by_host.items():
            jobs.append(_timed(self._ssh_job(host, [s['uri'] for s in host_sources], params)))
            owners.append(host_sources)
        timeout = self.get_option('timeout')
        results = []
        outcomes = run_bounded(jobs, self.get_option('concurrency'), timeout)
        for owned, (ok, value) in zip(owners, outcomes):
            if not ok:
                message = value.describe() if isinstance(value, VirtError) else to_native(value)
                results.extend(dict(s, error=message) for s in owned)
                continue
            seconds, answers = value
            for source, answer in zip(owned, answers):
                if 'error' in answer:
                    results.append(dict(source, error=answer['error'], seconds=seconds))
                else:
                    results.append(dict(source, listing=answer['listing'], helper=answer.get('helper'),
                                        seconds=seconds))
        return results

    def _uri_job(self, uri, auth, params):
        readonly = 'agent' not in params['ip_sources']  # libvirt asks the agent on read-write connections only
        auth = auth or {}

        def job():
            with driver_for(uri, username=auth.get('username'), password=auth.get('password'),
                            readonly=readonly) as driver:
                return [{'listing': collect_listing(driver, **params)}]
        return job

    def _ssh_job(self, host, uris, params):
        options = dict(port=self.get_option('ssh_port'), user=self.get_option('ssh_user'),
                       key_file=self.get_option('ssh_key_file'),
                       known_hosts_file=self.get_option('known_hosts_file'),
                       python=self.get_option('ssh_python'), timeout=self.get_option('timeout'))

        def job():
            # Imported when used: paramiko alone takes longer to import than
            # the listing of 300 guests.
            from ansible_collections.virtkit.virt.plugins.plugin_utils.ssh import list_over_ssh
            return list_over_ssh(host, uris, params, **options)
        return job

    # -- inventory -------------------------------------------------------------------
    def _populate(self, results):
        """Add the guests of ``results`` to the inventory; returns the seconds
        spent in Ansible's calls that take them (hosts, variables, groups)."""
        strict = self.get_option('strict')
        ip_sources = self.get_option('ip_sources')
        states = self.get_option('states')
        name_re = compile_name_pattern(self.get_option('name_pattern'))
        filters = self.get_option('filters')
        guests = []
        for result in results:
            where = result['uri'] if result['kind'] == 'uri' else '%s on %s (SSH)' % (result['uri'], result['host'])
            if 'error' in result:
                message = 'virtkit.virt.guests: could not list %s: %s' % (where, result['error'])
                if strict:
                    raise AnsibleError(message)
                self.display.warning(message + ' (the other hosts are listed)')
                continue
            listing = result['listing']
            if result['kind'] == 'ssh':
                result = dict(result, ssh=self._ssh_vars())
            self.display.vvv('virtkit.virt.guests: %s listed through %s' % (where, result.get('helper') or 'libvirt-python'))
            for note in listing.get('skipped') or ():
                self.display.vvv('virtkit.virt.guests: %s: skipped address source %s' % (where, note))
            found, problems = guests_from_listing(listing, result, ip_sources, states, name_re)
            for problem in problems:
                if strict:
                    raise AnsibleError('virtkit.virt.guests: %s: %s' % (where, problem))
                self.display.warning('virtkit.virt.guests: %s: left out: %s' % (where, problem))
            if filters:
                found = [g for g in found if passes_filters(filters, self._evaluator(g['vars'], strict))]
            guests.extend(found)

        hostnames, clashes = assign_hostnames(guests, self.get_option('qualify_names'))
        for name, names in clashes:
            self.display.warning('virtkit.virt.guests: %d guests are named %r; listed as %s (qualify_names: true '
                                 'names them all <name>_<host>)' % (len(names), name, ', '.join(names)))
        ansible_host_from = self.get_option('ansible_host_from')
        container_connection = self.get_option('container_connection')
        use_default_groups = self.get_option('default_groups')
        compose = self.get_option('compose')
        groups = self.get_option('groups')
        keyed_groups = self.get_option('keyed_groups')
        groups_made = set()
        handing = time.time()
        for index, hostname in enumerate(hostnames):
            guest, guests[index] = guests[index], None  # Ansible keeps a copy of each value: let ours go
            host_vars = dict(guest['vars'])
            host_vars.update(connection_vars(host_vars, ansible_host_from, container_connection, guest['source']))
            self.inventory.add_host(hostname)
            for key, value in host_vars.items():
                self.inventory.set_variable(hostname, key, value)
            if use_default_groups:
                for group in guest['groups']:
                    if group not in groups_made:
                        self.inventory.add_group(group)
                        groups_made.add(group)
                    self.inventory.add_child(group, hostname)
            if compose:
                self._set_composite_vars(compose, host_vars, hostname, strict=strict)
            if groups:
                self._add_host_to_composed_groups(groups, host_vars, hostname, strict=strict)
            if keyed_groups:
                self._add_host_to_keyed_groups(keyed_groups, host_vars, hostname, strict=strict)
        return time.time() - handing

    def _evaluator(self, host_vars, strict):
        def evaluate(expression):
            if isinstance(expression, bool):
                return expression
            try:
                return bool(self._compose(expression, host_vars))
            except Exception as exc:
                if strict:
                    raise AnsibleError('virtkit.virt.guests: could not evaluate the filter %r for %s: %s'
                                       % (expression, host_vars['virt_name'], to_native(exc)))
                self.display.warning('virtkit.virt.guests: the filter %r failed for %s (%s): taken as false'
                                     % (expression, host_vars['virt_name'], to_native(exc)))
                return False
        return evaluate
