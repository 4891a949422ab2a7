#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: host_info
short_description: Facts about a libvirt host
version_added: 0.1.0
description:
  - Reads facts about the hypervisor host behind a libvirt URI - driver and versions, CPU and memory,
    the domain types it offers, whether KVM can really run guests there, and its storage pools and networks.
  - Works with any libvirt driver, for example V(qemu:///system), V(lxc:///) and V(test:///default).
  - Never changes anything.
author:
  - virtkit.virt maintainers (@virtkit)
extends_documentation_fragment:
  - virtkit.virt.connection
  - virtkit.virt.attributes.info_module
options: {}
notes:
  - O(uri) and O(auth) can be set for all modules of the collection with the C(group/virtkit.virt.virt) action group
    in C(module_defaults).
'''

EXAMPLES = r'''
- name: Read the facts of the local QEMU/KVM host
  virtkit.virt.host_info:
  register: hv

- name: Tell whether guests can use KVM here
  ansible.builtin.debug:
    msg: "KVM usable: {{ hv.host.kvm_usable }} ({{ hv.host.kvm_reason }})"

- name: Facts of libvirt's built-in test host (no daemon needed)
  virtkit.virt.host_info:
    uri: test:///default

- name: The LXC driver of the same daemon
  virtkit.virt.host_info:
    uri: lxc:///
'''

RETURN = r'''
host:
  description: Facts about the host.
  returned: success
  type: dict
  contains:
    uri:
      description: The URI that was used.
      type: str
      sample: qemu:///system
    hostname:
      description: The host's name as libvirt reports it.
      type: str
    driver:
      description: The libvirt driver behind the URI.
      type: str
      sample: QEMU
    hypervisor_version:
      description: Version of the hypervisor (for QEMU, the QEMU version), if the driver reports one.
      type: str
      sample: 7.2.0
    libvirt_version:
      description: Version of the libvirt daemon.
      type: str
      sample: 9.0.0
    cpu:
      description: CPU model, vendor, architecture, count (logical CPUs), sockets, cores, threads, mhz, numa_nodes.
      type: dict
    memory:
      description: Memory of the host in MiB - C(total_mib), C(free_mib) and C(available_mib) (free plus buffers and page cache).
      type: dict
    domain_types:
      description: Domain types the host offers for guests, from its capabilities.
      type: list
      elements: str
      sample: [qemu, kvm]
    guest_types:
      description: Each guest kind of the capabilities - C(os_type), C(arch), C(domain_types) and C(machines).
      type: list
      elements: dict
    kvm_usable:
      description:
        - Whether guests of type C(kvm) can really run. C(false) when KVM is not offered, when the CPU exposes
          no hardware virtualisation (nested or paravirtual KVM), or when /dev/kvm cannot be opened.
      type: bool
    kvm_reason:
      description: Why RV(host.kvm_usable) has its value.
      type: str
    pools:
      description:
        - Storage pools with C(name), C(uuid), C(active), C(persistent), C(autostart), C(state), C(capacity),
          C(allocation), C(available) (bytes).
        - C(state) is V(active) or V(inactive) (or libvirt's V(building), V(degraded), V(inaccessible)), as
          M(virtkit.virt.pool_info) reports it.
      type: list
      elements: dict
    networks:
      description: Networks with C(name), C(uuid), C(active), C(persistent), C(autostart) and C(bridge).
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
from ansible_collections.virtkit.virt.plugins.module_utils.host.facts import HostInfoManager


def main():
    module, result = run_module({}, HostInfoManager)
    if result.get('failed'):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
