#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: volume_info
short_description: Facts about the volumes of a libvirt storage pool
version_added: 0.1.0
description:
  - Lists all volumes of a pool, or one by O(name), with the same facts the M(virtkit.virt.volume) module returns -
    path, format, sizes, backing chain and, for cloud-init seeds, the hash of their content.
  - Opens a read-write connection although it changes nothing - libvirt lets only those read a volume's content,
    which telling a cloud-init seed's hash takes.
author:
  - virtkit.virt maintainers (@virtkit)
extends_documentation_fragment:
  - virtkit.virt.connection
  - virtkit.virt.attributes.info_module
options:
  pool:
    description: The pool. It must be active to list its volumes; an unknown pool gives an empty list.
    type: str
    required: true
  name:
    description: Only this volume (on VMware ESX with its folder, V(web1/web1.vmdk)). An unknown name gives an empty list.
    type: str
'''

EXAMPLES = r'''
- name: All volumes of the images pool
  virtkit.virt.volume_info:
    pool: images
  register: vols

- name: Their names and sizes
  ansible.builtin.debug:
    msg: "{{ vols.volumes | items2dict(key_name='name', value_name='capacity') }}"

- name: What a guest disk is layered on
  virtkit.virt.volume_info:
    pool: images
    name: web1.qcow2
  register: web1
'''

RETURN = r'''
volumes:
  description: The volumes, sorted by name; each as RV(virtkit.virt.volume#module:volume) describes it.
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
from ansible_collections.virtkit.virt.plugins.module_utils.storage.volume_facts import VolumeInfoManager


def main():
    module, result = run_module(dict(pool=dict(type='str', required=True), name=dict(type='str')), VolumeInfoManager)
    if result.get('failed'):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
