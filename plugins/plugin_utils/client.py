# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plugin flavour of the client: controller-side plugins (inventory,
connection) open drivers here and get AnsibleError where modules get
fail_json. The driver layer underneath is the modules' own.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib

from ansible.errors import AnsibleError

from ansible_collections.virtkit.virt.plugins.module_utils.driver.connection import connect
from ansible_collections.virtkit.virt.plugins.module_utils.errors import VirtError


class PluginError(AnsibleError):
    """An AnsibleError that keeps the typed error it came from."""

    def __init__(self, error):
        super(PluginError, self).__init__(error.describe())
        self.error = error
        self.kind = error.kind


def as_ansible_error(error):
    """The AnsibleError for a VirtError, with the message describe() gives."""
    return PluginError(error)


@contextlib.contextmanager
def virt_errors():
    """Turn the driver layer's typed errors into AnsibleError."""
    try:
        yield
    except VirtError as exc:
        raise as_ansible_error(exc)


def open_driver(uri, username=None, password=None, readonly=True):
    """A driver for ``uri`` (validated as modules validate it) with the
    inventory's bulk listing; close it when done. Raises PluginError (an
    AnsibleError)."""
    # Imported here, as connect() imports its driver: a missing libvirt-python fails when used.
    from ansible_collections.virtkit.virt.plugins.module_utils.driver.libvirt_listing import LibvirtListingDriver
    with virt_errors():
        return connect({'uri': uri, 'auth': {'username': username, 'password': password}
                        if username is not None or password is not None else None},
                       readonly=readonly, driver_class=LibvirtListingDriver)


@contextlib.contextmanager
def driver_for(uri, username=None, password=None, readonly=True):
    """``with driver_for(uri) as driver:`` – opened, errors translated, closed."""
    driver = open_driver(uri, username=username, password=password, readonly=readonly)
    try:
        with virt_errors():
            yield driver
    finally:
        driver.close()
