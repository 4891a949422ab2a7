# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a network looks like to a playbook (the ``network`` result and
``network_info``). A file of its own, so that ``network_info`` ships none of
the planning code (AnsiballZ sends every file a module's imports reach)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtkit.virt.plugins.module_utils.engine.runner import ListingManager
from ansible_collections.virtkit.virt.plugins.module_utils.errors import DriverError
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.network import parse_network_xml


def network_facts(driver, name):
    """The network as it is: live definition when running, else the persistent one."""
    status = driver.network_status(name)
    parsed = parse_network_xml(driver.network_xml(name))
    facts = dict(parsed, active=status['active'], autostart=status['autostart'],
                 persistent=status['persistent'], bridge=status['bridge'] or parsed['bridge'])
    try:
        facts['dhcp_leases'] = driver.network_leases(name) if status['active'] else []
    except DriverError as exc:
        if not getattr(exc, 'unsupported', False):
            raise
        facts['dhcp_leases'] = []  # a driver without libvirt's DHCP (esx: its vSwitches)
    return facts


class NetworkInfoManager(ListingManager):
    kind = 'network'
    result_key = 'networks'

    def names(self):
        return [n['name'] for n in self.driver.list_networks()]

    def describe(self, name):
        return network_facts(self.driver, name)
