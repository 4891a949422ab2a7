#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: domain_info
short_description: Facts about libvirt domains
version_added: 0.1.0
description:
  - Lists the libvirt domains of a host - all of them, or those with a O(name), in a O(state) or with O(tags) - with
    the facts the M(virtkit.virt.domain) module returns, IP addresses included.
  - It reads over a read-only connection, which libvirt does not tell whether a display password is set, so
    C(graphics) has no C(password) here (the M(virtkit.virt.domain) module's result has it).
author:
  - virtkit.virt maintainers (@virtkit)
extends_documentation_fragment:
  - virtkit.virt.connection
  - virtkit.virt.attributes.info_module
options:
  name:
    description: Only this domain. An unknown name gives an empty list.
    type: str
  state:
    description: Only domains in one of these power states.
    type: list
    elements: str
    choices: [running, paused, shutoff, shutdown, crashed, pmsuspended, blocked, nostate]
  tags:
    description:
      - Only domains with all these tags (set by M(virtkit.virt.domain)); a tag without value matches any value.
    type: dict
  include_xml:
    description: Add the domain's XML (C(xml)) and, for a running persistent domain, its persistent XML (C(inactive_xml)).
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: All domains
  virtkit.virt.domain_info:
  register: all_domains

- name: Running web servers of the test environment
  virtkit.virt.domain_info:
    state: [running]
    tags:
      role: web
      env: test
  register: web

- name: Their addresses
  ansible.builtin.debug:
    msg: "{{ web.domains | map(attribute='ip') | list }}"

- name: One domain with its XML
  virtkit.virt.domain_info:
    name: web1
    include_xml: true
  register: web1
'''

RETURN = r'''
domains:
  description: The domains, sorted by name; each as RV(virtkit.virt.domain#module:domain) describes it, without
    C(graphics.password).
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
from ansible_collections.virtkit.virt.plugins.module_utils.domain.facts import DomainInfoManager
from ansible_collections.virtkit.virt.plugins.module_utils.engine.runner import run_module


def main():
    module, result = run_module(dict(
        name=dict(type='str'),
        state=dict(type='list', elements='str',
                   choices=['running', 'paused', 'shutoff', 'shutdown', 'crashed', 'pmsuspended', 'blocked', 'nostate']),
        tags=dict(type='dict'),
        include_xml=dict(type='bool', default=False),
    ), DomainInfoManager)
    if result.get('failed'):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
