#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: network_info
short_description: Facts about libvirt networks, with their DHCP leases
version_added: 0.1.0
description:
  - Lists all libvirt networks of a host, or one by O(name), with the same facts the M(virtkit.virt.network)
    module returns, including the current DHCP leases.
author:
  - virtkit.virt maintainers (@virtkit)
extends_documentation_fragment:
  - virtkit.virt.connection
  - virtkit.virt.attributes.info_module
options:
  name:
    description: Only this network. An unknown name gives an empty list.
    type: str
'''

EXAMPLES = r'''
- name: All networks
  virtkit.virt.network_info:
  register: nets

- name: Leases on the lab network
  virtkit.virt.network_info:
    name: lab
  register: lab

- name: Show them
  ansible.builtin.debug:
    msg: "{{ lab.networks[0].dhcp_leases | map(attribute='ip') | list }}"
'''

RETURN = r'''
networks:
  description: The networks, sorted by name; each as RV(virtkit.virt.network#module:network) describes it.
  returned: success
  type: list
  elements: dict
actions:
  description: Always empty; the module changes nothing.
  returned: always
  type: list
  elements: str
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
from ansible_collections.virtkit.virt.plugins.module_utils.network.facts import NetworkInfoManager


def main():
    module, result = run_module(dict(name=dict(type='str')), NetworkInfoManager)
    if result.get('failed'):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
