# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options shared by every module, and opening a driver from them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

try:
    from urllib.parse import urlparse
except ImportError:  # pragma: no cover - Python 2 is not supported, but sanity imports it
    from urlparse import urlparse

from ansible_collections.virtkit.virt.plugins.module_utils.errors import InvalidSpec

DEFAULT_URI = 'qemu:///system'

# scheme[+transport]://[user@][host[:port]]/path[?query]; libvirt's own parser
# accepts more, but anything else is almost always a typo.
# A string: re compiles (and caches) it when a task first uses it, not at every import.
_URI_RE = r'^[a-z][a-z0-9]*(\+[a-z0-9]+)?://[^\s/]*(/[^\s]*)?$'


def connection_argument_spec():
    return dict(
        uri=dict(type='str'),
        auth=dict(type='dict', options=dict(
            username=dict(type='str'),
            password=dict(type='str', no_log=True),
        )),
    )


def resolve_uri(uri, environ=None):
    """The URI to use: the option, else LIBVIRT_DEFAULT_URI, else qemu:///system."""
    environ = os.environ if environ is None else environ
    if uri is None or uri == '':
        uri = environ.get('LIBVIRT_DEFAULT_URI') or DEFAULT_URI
    if not re.match(_URI_RE, uri):
        raise InvalidSpec('uri', '%r is not a libvirt URI (examples: qemu:///system, '
                                 'qemu+ssh://root@host/system, lxc:///, test:///default)' % (uri,))
    return uri


def is_local_uri(uri):
    """True when the URI names a daemon on the machine the code runs on."""
    return not urlparse(uri).hostname


def connect(params, readonly=False, default_uri=None, driver_class=None):
    """A driver for the module's ``uri``/``auth`` params; close it when done.
    ``driver_class``: another implementation (jobs.connect_jobs gives one)."""
    if driver_class is None:
        # Imported here so that a missing libvirt-python only fails when used.
        from ansible_collections.virtkit.virt.plugins.module_utils.driver.libvirt_driver import LibvirtDriver
        driver_class = LibvirtDriver
    uri = params.get('uri') or default_uri
    auth = params.get('auth') or {}
    return driver_class(resolve_uri(uri), username=auth.get('username'),
                        password=auth.get('password'), readonly=readonly)
