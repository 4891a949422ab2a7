#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: network
short_description: Declarative libvirt virtual networks
version_added: 0.1.0
description:
  - Defines, starts, stops, changes and removes libvirt networks - isolated, NAT, routed, open, on an existing
    host bridge, or macvtap on a host device.
  - Idempotent. Only what you specify is compared, so values libvirt fills in (UUID, MAC address, bridge name)
    never count as a change, and a second run reports C(changed=false).
  - Changes are applied, never ignored. DHCP hosts, DHCP ranges and DNS hosts change in place, live and in the
    persistent definition, while the network keeps running. Any other change is written to the persistent
    definition; a running network picks it up when restarted, which the module does only with O(restart=true)
    and otherwise reports as RV(restart_required).
author:
  - virtkit.virt maintainers (@virtkit)
extends_documentation_fragment:
  - virtkit.virt.connection
  - virtkit.virt.attributes
options:
  name:
    description: Name of the network.
    type: str
    required: true
  state:
    description:
      - V(active) - defined and running. V(inactive) - defined, not running. V(absent) - stopped and undefined.
      - Stopping or removing a network that running guests use fails and names them, unless O(force=true).
    type: str
    choices: [active, inactive, absent]
    default: active
  autostart:
    description: Start the network when the libvirt daemon starts. Left as it is when not set.
    type: bool
  mode:
    description:
      - V(isolated) - no forwarding, guests reach only each other and the host.
      - V(nat), V(route), V(open) - forwarding to the host's networks (optionally only through O(forward_dev)).
      - V(bridge) - guests join the existing host bridge named in O(bridge).
      - V(direct) - macvtap on the host device named in O(forward_dev).
      - When not set, an existing network keeps its mode and a new one gets V(nat).
    type: str
    choices: [isolated, nat, route, open, bridge, direct]
  bridge:
    description:
      - The bridge device libvirt creates for the network (libvirt picks C(virbrN) when not set),
        or, with O(mode=bridge), the existing host bridge to use.
    type: str
  forward_dev:
    description: The host device traffic is forwarded through (V(nat), V(route), V(open)), or the macvtap parent (V(direct)).
    type: str
  mtu:
    description: MTU of the network's bridge.
    type: int
  domain:
    description: DNS domain of the network's DHCP clients.
    type: str
  mac:
    description: MAC address of the network's bridge. libvirt generates one when not set.
    type: str
  ipv4:
    description: The network's IPv4 address and DHCP service.
    type: dict
    suboptions: &ip
      address:
        description: The host's address on the network with its prefix length, for example V(10.0.5.1/24).
        type: str
        required: true
      dhcp:
        description: DHCP service. Leave out for none.
        type: dict
        suboptions:
          ranges:
            description: Address ranges handed out, each with O(ipv4.dhcp.ranges[].start) and O(ipv4.dhcp.ranges[].end) inside the subnet.
            type: list
            elements: dict
            suboptions:
              start:
                description: First address of the range.
                type: str
                required: true
              end:
                description: Last address of the range.
                type: str
                required: true
          hosts:
            description:
              - Static reservations. Added, changed and removed in place without restarting the network.
              - MAC addresses, addresses and names must be unique.
            type: list
            elements: dict
            suboptions:
              mac:
                description: The guest's MAC address (IPv4).
                type: str
              id:
                description: The client's DUID (IPv6).
                type: str
              ip:
                description: The reserved address, inside the subnet.
                type: str
                required: true
              name:
                description: Host name given to the guest.
                type: str
  ipv6:
    description: The network's IPv6 address and DHCPv6 service, as O(ipv4); DHCPv6 hosts are matched by C(id) or C(name).
    type: dict
    suboptions: *ip
  dns:
    description:
      - The network's DNS service (dnsmasq).
      - O(dns.hosts) and O(dns.forwarders) are compared each on its own - one left out stays as it is, an empty list
        removes them all.
    type: dict
    suboptions:
      hosts:
        description:
          - Extra host records. Added and removed in place without restarting the network.
          - Left as they are when not set; V([]) removes them.
        type: list
        elements: dict
        suboptions:
          ip:
            description: The address the names resolve to.
            type: str
            required: true
          hostnames:
            description: The names.
            type: list
            elements: str
            required: true
      forwarders:
        description:
          - Upstream DNS servers to forward queries to.
          - Left as they are when not set; V([]) removes them.
        type: list
        elements: str
  restart:
    description:
      - Restart a running network when a change needs it. Restarting cuts running guests off the network, because
        libvirt makes its bridge anew and does not reconnect their interfaces; each stays cut off until it
        restarts (or the libvirt daemon restarts). The default is to report RV(restart_required) instead.
      - While running guests use the network, the restart is refused, naming them, unless O(force=true) too; forced,
        the result warns which guests lost their link.
    type: bool
    default: false
  force:
    description: Stop, restart (O(restart)) or remove the network even though running guests use it.
    type: bool
    default: false
  xml:
    description:
      - A whole network XML document instead of the options above, under the same rules - re-applying it changes
        nothing, what it leaves out is wanted absent (except the UUID, MAC and bridge name libvirt fills in), DHCP and
        DNS hosts change in place.
      - Its C(<name>) must be O(name).
    type: str
notes:
  - Networks libvirt cannot change in place (address, mode, bridge, MTU, forwarders) are redefined; running guests keep
    working on the old definition until the network restarts.
'''

EXAMPLES = r'''
- name: An isolated lab network with DHCP and a reserved address
  virtkit.virt.network:
    name: lab
    mode: isolated
    bridge: virbr-lab
    autostart: true
    ipv4:
      address: 192.168.150.1/24
      dhcp:
        ranges:
          - start: 192.168.150.100
            end: 192.168.150.199
        hosts:
          - mac: "52:54:00:aa:00:01"
            ip: 192.168.150.10
            name: db
    dns:
      hosts:
        - ip: 192.168.150.10
          hostnames: [db.lab.test]

- name: A NAT network with IPv6
  virtkit.virt.network:
    name: outbound
    mode: nat
    ipv4:
      address: 10.77.0.1/24
      dhcp:
        ranges: [{start: 10.77.0.50, end: 10.77.0.99}]
    ipv6:
      address: fd00:77::1/64

- name: Guests on the existing host bridge br0
  virtkit.virt.network:
    name: lan
    mode: bridge
    bridge: br0

- name: Change the address; restart the network now
  virtkit.virt.network:
    name: lab
    ipv4:
      address: 192.168.151.1/24
    restart: true

- name: The same network from XML
  virtkit.virt.network:
    name: lab2
    xml: |
      <network>
        <name>lab2</name>
        <ip address='192.168.152.1' prefix='24'>
          <dhcp><range start='192.168.152.100' end='192.168.152.199'/></dhcp>
        </ip>
      </network>

- name: Remove a network (fails while running guests use it)
  virtkit.virt.network:
    name: lab2
    state: absent
'''

RETURN = r'''
network:
  description: The network after the task (before it, in check mode). C(exists=false) when there is none.
  returned: success
  type: dict
  contains:
    name: {description: Name., type: str}
    exists: {description: Whether the network is defined or running., type: bool}
    uuid: {description: UUID., type: str}
    active: {description: Whether it is running., type: bool}
    autostart: {description: Whether it starts with the daemon., type: bool}
    persistent: {description: Whether it has a persistent definition., type: bool}
    bridge: {description: The bridge device., type: str}
    mode: {description: 'One of isolated, nat, route, open, bridge or direct.', type: str}
    forward_dev: {description: The forward device., type: str}
    mtu: {description: The MTU., type: int}
    domain: {description: The DNS domain., type: str}
    mac: {description: The bridge's MAC address., type: str}
    ipv4: {description: C(address) and C(dhcp) (C(ranges) and C(hosts))., type: dict}
    ipv6: {description: As C(ipv4)., type: dict}
    dns: {description: C(hosts) and C(forwarders)., type: dict}
    dhcp_leases:
      description: Current DHCP leases (C(mac), C(ip), C(prefix), C(hostname), C(expiry) in epoch seconds, C(type)).
      type: list
      elements: dict
restart_required:
  description: Whether the running network still runs an older definition; it changes on restart.
  returned: success
  type: bool
actions:
  description: What the task did (or would do in check mode), in order.
  returned: success
  type: list
  elements: str
  sample: [define, start, "add ipv4 DHCP host 52:54:00:aa:00:01 (192.168.150.10)"]
error:
  description:
    - The kind of failure, for C(failed_when), C(until) and C(rescue) to tell apart without reading C(msg).
    - V(invalid) (bad input, named in C(msg); nothing was touched), V(not found), V(conflict) (the request
      contradicts the current state), V(missing library) (on the target host), V(connection), V(driver) (libvirt
      refused), V(timeout), V(interrupted) (a signal; what the task made was undone) or V(internal) (a bug).
  returned: failure
  type: str
  sample: not found
'''

# First: the module_utils below load through it (compiled once, kept between runs on the target).
from ansible_collections.virtkit.virt.plugins.module_utils.engine import bytecode_cache  # pylint: disable=unused-import
from ansible_collections.virtkit.virt.plugins.module_utils.engine.runner import run_module
from ansible_collections.virtkit.virt.plugins.module_utils.network.manager import NetworkManager
from ansible_collections.virtkit.virt.plugins.module_utils.network.spec import DEFINITION

IP_OPTIONS = dict(
    address=dict(type='str', required=True),
    dhcp=dict(type='dict', options=dict(
        ranges=dict(type='list', elements='dict', options=dict(
            start=dict(type='str', required=True),
            end=dict(type='str', required=True))),
        hosts=dict(type='list', elements='dict', options=dict(
            mac=dict(type='str'),
            id=dict(type='str'),
            ip=dict(type='str', required=True),
            name=dict(type='str'))))),
)


def main():
    module, result = run_module(
        dict(
            name=dict(type='str', required=True),
            state=dict(type='str', default='active', choices=['active', 'inactive', 'absent']),
            autostart=dict(type='bool'),
            mode=dict(type='str', choices=['isolated', 'nat', 'route', 'open', 'bridge', 'direct']),
            bridge=dict(type='str'),
            forward_dev=dict(type='str'),
            mtu=dict(type='int'),
            domain=dict(type='str'),
            mac=dict(type='str'),
            ipv4=dict(type='dict', options=IP_OPTIONS),
            ipv6=dict(type='dict', options=IP_OPTIONS),
            dns=dict(type='dict', options=dict(
                hosts=dict(type='list', elements='dict', options=dict(
                    ip=dict(type='str', required=True),
                    hostnames=dict(type='list', elements='str', required=True))),
                forwarders=dict(type='list', elements='str'))),
            restart=dict(type='bool', default=False),
            force=dict(type='bool', default=False),
            xml=dict(type='str'),
        ),
        NetworkManager,
        mutually_exclusive=[('xml', key) for key in DEFINITION],
    )
    if result.get('failed'):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
