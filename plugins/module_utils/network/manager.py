# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plans for libvirt networks (the ``network`` module; their facts are in facts.py).

What can change in place is changed in place: DHCP hosts, DHCP ranges and
DNS hosts go through libvirt's network update API, live and persistently,
while the network keeps running. Anything else is written to the persistent
definition; a running network only picks it up when restarted, which
happens with ``restart: true`` (it cuts guests off) and is otherwise reported
as ``restart_required``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.virtkit.virt.plugins.module_utils.engine.plan import Plan, diff_specified, prune, restrict
from ansible_collections.virtkit.virt.plugins.module_utils.engine.runner import Manager
from ansible_collections.virtkit.virt.plugins.module_utils.engine import validation as v
from ansible_collections.virtkit.virt.plugins.module_utils.errors import Conflict, DriverError, InvalidSpec, NotFound, or_none
from ansible_collections.virtkit.virt.plugins.module_utils.network.facts import network_facts
from ansible_collections.virtkit.virt.plugins.module_utils.network.spec import network_spec
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel import common as x
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.network import (
    build_dhcp_host_element, build_dns_host_element, build_network_xml, ip_index, networks_of_domain, parse_network_xml)


def guests_using(driver, name):
    """Names of running domains with an interface on network ``name``."""
    users = []
    for dom in driver.list_domains():
        if dom['state'] not in ('running', 'paused', 'blocked'):
            continue
        try:
            networks = networks_of_domain(driver.domain_xml(dom['name']))
        except NotFound:
            continue  # went away while we looked
        if name in networks:
            users.append(dom['name'])
    return sorted(users)


# -- in-place updates ----------------------------------------------------------

def _keyed(items, key):
    return dict((key(item), item) for item in items)


def _dhcp_host_key(host):
    return host.get('mac') or host.get('id') or host.get('name')


def live_updates(desired, current):
    """``[(command, section, xml, description, family)]`` that turn the current
    DHCP hosts/ranges and DNS hosts into the desired ones; ``family`` names the
    <ip> a DHCP update belongs to (None for DNS)."""
    updates = []
    for family in ('ipv4', 'ipv6'):
        want, have = desired.get(family), current.get(family)
        if not want or not have or want.get('address') != have.get('address'):
            continue  # a new or changed subnet is a redefinition
        want_dhcp, have_dhcp = want.get('dhcp') or {}, have.get('dhcp') or {}
        want_hosts = _keyed(want_dhcp.get('hosts') or [], _dhcp_host_key)
        have_hosts = _keyed(have_dhcp.get('hosts') or [], _dhcp_host_key)
        for key in sorted(have_hosts):
            if key not in want_hosts:
                updates.append(('delete', 'ip-dhcp-host', _xml(build_dhcp_host_element(have_hosts[key], family)),
                                'remove %s DHCP host %s' % (family, key), family))
        for key in sorted(want_hosts):
            if key not in have_hosts:
                updates.append(('add-last', 'ip-dhcp-host', _xml(build_dhcp_host_element(want_hosts[key], family)),
                                'add %s DHCP host %s (%s)' % (family, key, want_hosts[key]['ip']), family))
            elif want_hosts[key] != have_hosts[key]:
                updates.append(('modify', 'ip-dhcp-host', _xml(build_dhcp_host_element(want_hosts[key], family)),
                                'modify %s DHCP host %s (%s)' % (family, key, want_hosts[key]['ip']), family))
        want_ranges = _keyed(want_dhcp.get('ranges') or [], lambda r: (r['start'], r['end']))
        have_ranges = _keyed(have_dhcp.get('ranges') or [], lambda r: (r['start'], r['end']))
        for key in sorted(set(have_ranges) - set(want_ranges)):
            updates.append(('delete', 'ip-dhcp-range', _range_xml(key), 'remove %s DHCP range %s-%s' % ((family,) + key),
                            family))
        for key in sorted(set(want_ranges) - set(have_ranges)):
            updates.append(('add-last', 'ip-dhcp-range', _range_xml(key), 'add %s DHCP range %s-%s' % ((family,) + key),
                            family))
    want_dns, have_dns = desired.get('dns') or {}, current.get('dns') or {}
    if want_dns.get('hosts') is not None:  # omitted, the DNS hosts stay as they are
        want_hosts = _keyed(want_dns.get('hosts') or [], lambda h: h['ip'])
        have_hosts = _keyed(have_dns.get('hosts') or [], lambda h: h['ip'])
        for ip in sorted(have_hosts):
            if ip not in want_hosts or want_hosts[ip] != have_hosts[ip]:
                updates.append(('delete', 'dns-host', _xml(build_dns_host_element(have_hosts[ip])),
                                'remove DNS host %s' % ip, None))
        for ip in sorted(want_hosts):
            if ip not in have_hosts or want_hosts[ip] != have_hosts[ip]:
                updates.append(('add-last', 'dns-host', _xml(build_dns_host_element(want_hosts[ip])),
                                'add DNS host %s (%s)' % (ip, ', '.join(want_hosts[ip]['hostnames'])), None))
    return updates


def _xml(el):
    return x.to_string(el).strip()


def _range_xml(key):
    return _xml(x.element('range', {'start': key[0], 'end': key[1]}))


def without_live_parts(desired, current):
    """``desired`` with what live_updates() covers taken from ``current``,
    so that a diff of the result shows only what needs a redefinition."""
    rest = copy.deepcopy(desired)
    for family in ('ipv4', 'ipv6'):
        want, have = rest.get(family), current.get(family)
        if want and have and want.get('address') == have.get('address'):
            want['dhcp'] = copy.deepcopy(have.get('dhcp'))
    if rest.get('dns') is not None and rest['dns'].get('hosts') is not None:
        rest['dns']['hosts'] = copy.deepcopy((current.get('dns') or {}).get('hosts') or [])
    return rest


# -- the manager ----------------------------------------------------------------

class NetworkManager(Manager):
    kind = 'network'
    result_key = 'network'

    def validate(self):
        v.plain_name(self.params['name'], 'name')
        self.state = self.params['state']
        self.spec, self.strict = (None, False)
        if self.state != 'absent':
            self.spec, self.strict = network_spec(self.params)

    def _status(self):
        return or_none(self.driver.network_status, self.name)

    def _refuse_if_used(self, what, why=''):
        """The running guests on the network (``force``), or a refusal naming them."""
        users = guests_using(self.driver, self.name)
        if users and not self.params.get('force'):
            raise Conflict('running guests use it: %s;%s stop them first, or set force: true'
                           % (', '.join(users), why), resource="network %r" % self.name, action=what)
        return users

    def plan(self):
        plan = Plan(self.kind, self.name)
        status = self._status()
        if self.state == 'absent':
            return self._plan_absent(plan, status)
        if status is None:
            return self._plan_create(plan)
        return self._plan_update(plan, status)

    def _plan_absent(self, plan, status):
        if status is None:
            return plan
        self._refuse_if_used('remove')
        plan.before = prune(dict(parse_network_xml(self.driver.network_xml(self.name)),
                                 active=status['active'], autostart=status['autostart']))
        plan.after = {}
        if status['active']:
            plan.add('stop', lambda: self.driver.stop_network(self.name))
        if status['persistent']:
            plan.add('undefine', lambda: self.driver.undefine_network(self.name))
        return plan

    def _plan_create(self, plan):
        spec = dict(self.spec)
        if not self.strict and spec.get('mode') is None:
            spec['mode'] = 'nat'  # what libvirt users get from a new network by default
        xml = self.params.get('xml') or build_network_xml(spec)
        plan.before = {}
        plan.after = prune(dict(spec, active=self.state == 'active', autostart=bool(self.params.get('autostart'))))
        # A new network whose start fails (a bridge or subnet in use) is taken back.
        name = self.name
        plan.add('define', lambda: self._define(xml), undo=lambda: self.driver.undefine_network(name))
        if self.state == 'active':
            plan.add('start', lambda: self.driver.start_network(name), undo=lambda: self.driver.stop_network(name))
        if self.params.get('autostart'):
            plan.add('autostart on', lambda: self.driver.set_network_autostart(name, True),
                     undo=lambda: self.driver.set_network_autostart(name, False))
        return plan

    def _plan_update(self, plan, status):
        config_xml = self.driver.network_xml(self.name, inactive=True)
        live_xml = self.driver.network_xml(self.name) if status['active'] else config_xml
        config = parse_network_xml(config_xml)
        live = parse_network_xml(live_xml) if status['active'] else config
        if self.spec.get('uuid') and self.spec['uuid'] != config['uuid']:
            raise InvalidUUID(self.name, self.spec['uuid'], config['uuid'])
        desired = self.spec
        plan.before = dict(restrict(config, desired) if not self.strict else prune(config),
                           active=status['active'], autostart=status['autostart'])
        plan.after = dict(prune(desired), active=self.state == 'active',
                          autostart=status['autostart'] if self.params.get('autostart') is None else self.params['autostart'])
        if self.strict:
            plan.before.pop('uuid', None)

        running = status['active']
        updates = live_updates(desired, live if running else config) if running else []
        for command, section, xml, description, family in updates:
            parents = (ip_index(live_xml, family), ip_index(config_xml, family)) if family else (-1, -1)
            plan.add(description, self._updater(command, section, xml, parents))
        rest = without_live_parts(desired, live) if running else desired
        if diff_specified(rest if running else desired, config, strict=self.strict):
            plan.add('redefine', lambda: self._redefine(config['uuid']))
        # A running network keeps its old definition until restarted.
        pending = running and self.state == 'active' and bool(diff_specified(rest, live, strict=self.strict))
        if pending:
            if self.params.get('restart'):
                # libvirt leaves the guests' interfaces off the bridge it makes anew (as of 9.0).
                users = self._refuse_if_used('restart', ' restarting it cuts them off until each restarts'
                                             ' (libvirt does not reconnect their interfaces);')
                plan.add('restart', self._restart)
                if users:
                    plan.warnings.append('network %r: running guests on it lose their link until each restarts '
                                         '(libvirt does not reconnect their interfaces): %s'
                                         % (self.name, ', '.join(users)))
            else:
                plan.restart_required = True
                plan.warnings.append('network %r: the new definition takes effect when the network restarts '
                                     '(set restart: true to restart it now; running guests lose their link)' % self.name)
        if self.state == 'active' and not running:
            plan.add('start', lambda: self.driver.start_network(self.name))
        elif self.state == 'inactive' and running:
            self._refuse_if_used('stop')
            plan.add('stop', lambda: self.driver.stop_network(self.name))
        autostart = self.params.get('autostart')
        if autostart is not None and autostart != status['autostart']:
            plan.add('autostart %s' % ('on' if autostart else 'off'),
                     lambda: self.driver.set_network_autostart(self.name, autostart))
        return plan

    def _updater(self, command, section, xml, parents):
        """One update of the running network and its definition. ``parents``:
        the index of the update's <ip> in each (-1: a section without one).
        libvirt takes one index for both, so where a pending redefinition
        moved that <ip> (or has none), each is updated on its own."""
        live, config = parents
        update = self.driver.update_network
        if live == config:
            return lambda: update(self.name, command, section, xml, parent_index=live, live=True, config=True)

        def apart():
            update(self.name, command, section, xml, parent_index=live, live=True, config=False)
            if config is not None:  # else the redefinition that follows writes it
                update(self.name, command, section, xml, parent_index=config, live=False, config=True)
        return apart

    def _redefine(self, uuid):
        if self.strict:
            # Keep the bridge and MAC libvirt chose when the XML leaves them out.
            current = parse_network_xml(self.driver.network_xml(self.name, inactive=True))
            carried = {'name': self.name,
                       'bridge': None if self.spec.get('bridge') else current['bridge'],
                       'mac': None if self.spec.get('mac') else current['mac']}
            xml = build_network_xml(carried, base=self.params['xml'], uuid=uuid)
        else:
            # Re-read: live updates above may have changed the persistent XML.
            xml = build_network_xml(self.spec, base=self.driver.network_xml(self.name, inactive=True), uuid=uuid)
        self._define(xml)

    def _define(self, xml):
        """Define (validated by libvirt's schema); a user's XML it refuses is that option's error."""
        try:
            self.driver.define_network(xml)
        except DriverError as exc:
            if self.strict and getattr(exc, 'invalid_xml', False):
                raise InvalidSpec('xml', "libvirt's schema refuses it: %s" % ' '.join(exc.message.split()))
            raise

    def _restart(self):
        self.driver.stop_network(self.name)
        self.driver.start_network(self.name)

    def facts(self, plan):
        status = self._status()
        if status is None:
            return {'name': self.name, 'exists': False}
        facts = network_facts(self.driver, self.name)
        facts['exists'] = True
        return facts


class InvalidUUID(Conflict):
    def __init__(self, name, wanted, actual):
        super(InvalidUUID, self).__init__(
            'the XML carries uuid %s, but the existing network has uuid %s' % (wanted, actual),
            resource='network %r' % name, action='redefine')
