#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: snapshot_info
short_description: The snapshot tree of a libvirt domain
version_added: 0.2.0
description:
  - Lists the snapshots of a domain, oldest first, with the tree they form (each one's parent and children), which
    one is current, what each holds (memory, disks) and where (inside the images or in overlay files).
author:
  - virtkit.virt maintainers (@virtkit)
extends_documentation_fragment:
  - virtkit.virt.connection
  - virtkit.virt.attributes.info_module
options:
  domain:
    description: The domain. An unknown domain gives an empty list.
    type: str
    required: true
  name:
    description: Only this snapshot. An unknown name gives an empty list.
    type: str
seealso:
  - module: virtkit.virt.snapshot
'''

EXAMPLES = r'''
- name: The snapshots of web1
  virtkit.virt.snapshot_info:
    domain: web1
  register: snaps

- name: The current one
  ansible.builtin.debug:
    msg: "{{ snaps.snapshots | selectattr('current') | map(attribute='name') | first | default('none') }}"

- name: The roots of the tree
  ansible.builtin.debug:
    msg: "{{ snaps.snapshots | selectattr('parent', 'none') | map(attribute='name') | list }}"
'''

RETURN = r'''
snapshots:
  description: The snapshots, oldest first; each as RV(virtkit.virt.snapshot#module:snapshot) describes it.
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
from ansible_collections.virtkit.virt.plugins.module_utils.snapshot.facts import SnapshotInfoManager


def main():
    module, result = run_module(dict(domain=dict(type='str', required=True), name=dict(type='str')),
                                SnapshotInfoManager)
    if result.get('failed'):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
