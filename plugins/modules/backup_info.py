#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: backup_info
short_description: The checkpoints of a libvirt domain and the backup files made at them
version_added: 0.2.0
description:
  - Lists the checkpoints of a domain, oldest first - those M(virtkit.virt.backup) made, named after the backups -
    with their tree (parent, children) and the disks each has a dirty bitmap of.
  - With O(target), also the backup files of each checkpoint found there.
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
  target:
    description: Where to look for the backup files (as in M(virtkit.virt.backup)).
    type: dict
    suboptions:
      pool:
        description: A file pool.
        type: str
      dir:
        description: A directory on the hypervisor host.
        type: path
seealso:
  - module: virtkit.virt.backup
'''

EXAMPLES = r'''
- name: The checkpoints of web1 and the backup files in the pool "backups"
  virtkit.virt.backup_info:
    domain: web1
    target:
      pool: backups
  register: web1_backups

- name: The newest backup
  ansible.builtin.debug:
    msg: "{{ (web1_backups.checkpoints | last).files | map(attribute='path') | list }}"
'''

RETURN = r'''
checkpoints:
  description:
    - The checkpoints, oldest first, each with C(name), C(parent), C(children), C(creation_time) (seconds since the
      epoch), C(description) and C(disks) (C(name), C(checkpoint) - V(bitmap) or V(no) - and C(bitmap)).
    - With O(target), also C(files) - the backup files of the checkpoint there, each with C(disk), C(path),
      C(allocation) and C(backing).
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
from ansible_collections.virtkit.virt.plugins.module_utils.backup.facts import BackupInfoManager
from ansible_collections.virtkit.virt.plugins.module_utils.engine.runner import run_module


def main():
    module, result = run_module(
        dict(domain=dict(type='str', required=True),
             target=dict(type='dict', options=dict(pool=dict(type='str'), dir=dict(type='path')),
                         mutually_exclusive=[('pool', 'dir')])),
        BackupInfoManager)
    if result.get('failed'):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
