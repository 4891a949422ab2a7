# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options the domain and container modules share: one engine, one spelling."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtkit.virt.plugins.module_utils.domain.spec import STATES


def guest_argument_spec(address_sources):
    """The shared part of both argument specs; ``address_sources`` are the
    ``wait_for_ip`` sources the guest kind supports (the default is all)."""
    return dict(
        name=dict(type='str', required=True),
        state=dict(type='str', default='running', choices=list(STATES)),
        autostart=dict(type='bool'),
        interfaces=dict(type='list', elements='dict', options=dict(
            network=dict(type='str'),
            bridge=dict(type='str'),
            direct=dict(type='str'),
            mac=dict(type='str'),
            model=dict(type='str'))),
        tags=dict(type='dict'),
        xml=dict(type='str'),
        xml_patches=dict(type='list', elements='dict', options=dict(
            xpath=dict(type='str', required=True),
            value=dict(type='raw'),
            attribute=dict(type='str'),
            remove=dict(type='bool'),
            xml=dict(type='str'))),
        live=dict(type='bool', default=True),
        restart=dict(type='bool', default=False),
        shutdown_timeout=dict(type='int', default=120),
        force=dict(type='bool', default=False),
        wait_for_ip=dict(type='dict', options=dict(
            timeout=dict(type='int', default=300),
            sources=dict(type='list', elements='str', choices=list(address_sources),
                         default=list(address_sources)))),
    )
