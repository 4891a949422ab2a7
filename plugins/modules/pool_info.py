#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: pool_info
short_description: Facts about libvirt storage pools
version_added: 0.1.0
description:
  - Lists all storage pools of a host, or one by O(name), with the same facts the M(virtkit.virt.pool) module
    returns - type, state, paths, sizes and the names of their volumes.
author:
  - virtkit.virt maintainers (@virtkit)
extends_documentation_fragment:
  - virtkit.virt.connection
  - virtkit.virt.attributes.info_module
options:
  name:
    description: Only this pool. An unknown name gives an empty list.
    type: str
'''

EXAMPLES = r'''
- name: All pools
  virtkit.virt.pool_info:
  register: pools

- name: Free space in the images pool
  virtkit.virt.pool_info:
    name: images
  register: images

- name: Show it
  ansible.builtin.debug:
    msg: "{{ images.pools[0].available | human_readable }}"
'''

RETURN = r'''
pools:
  description: The pools, sorted by name; each as RV(virtkit.virt.pool#module:pool) describes it.
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
from ansible_collections.virtkit.virt.plugins.module_utils.storage.pool_facts import PoolInfoManager


def main():
    module, result = run_module(dict(name=dict(type='str')), PoolInfoManager)
    if result.get('failed'):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
