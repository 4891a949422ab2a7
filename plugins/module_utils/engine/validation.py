# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validators shared by the resource specs; each error names its field."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.virtkit.virt.plugins.module_utils.errors import InvalidSpec

# A string: re compiles (and caches) it when a task first uses it, not at every import.
_MAC_RE = r'^([0-9a-f]{2}:){5}[0-9a-f]{2}$'


def plain_name(value, field):
    """Names that become file names on the host: no paths, no NUL."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidSpec(field, 'a name is required')
    if '/' in value or '\x00' in value or value in ('.', '..'):
        raise InvalidSpec(field, '%r is not a plain name (no "/", "..", NUL)' % (value,))
    return value


def volume_name(value, field):
    """A volume's name in its pool: a plain name, or on drivers that name
    volumes by their folder too (esx: 'web1/web1.vmdk') names joined by '/'."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidSpec(field, 'a name is required')
    if any(part in ('', '.', '..') for part in value.split('/')) or '\x00' in value:
        raise InvalidSpec(field, '%r is not a volume name (names joined by "/", no "..", NUL)' % (value,))
    return value


def clean_path(value, field):
    """An absolute path as libvirt stores it (no doubled or trailing '/')."""
    if not isinstance(value, str) or not value.startswith('/'):
        raise InvalidSpec(field, '%r is not an absolute path' % (value,))
    if '\x00' in value:
        raise InvalidSpec(field, 'a path cannot contain NUL')
    path = re.sub('/+', '/', value)
    return path.rstrip('/') or '/'


def mac_address(value, field):
    mac = str(value).strip().lower().replace('-', ':')
    if not re.match(_MAC_RE, mac):
        raise InvalidSpec(field, '%r is not a MAC address (expected 52:54:00:12:34:56)' % (value,))
    if int(mac[:2], 16) & 1:
        raise InvalidSpec(field, '%r is a multicast MAC address' % (value,))
    return mac


def interface_address(value, field, version=None):
    """'10.0.5.1/24' → ip_interface; a host address inside its subnet."""
    try:
        iface = ipaddress.ip_interface(str(value).strip())
    except ValueError:
        raise InvalidSpec(field, '%r is not an address with a prefix (example: 10.0.5.1/24)' % (value,))
    if '/' not in str(value):
        raise InvalidSpec(field, '%r has no prefix length (example: 10.0.5.1/24)' % (value,))
    if version and iface.version != version:
        raise InvalidSpec(field, '%r is not an IPv%d address' % (value, version))
    if iface.network.num_addresses > 2 and iface.ip in (iface.network.network_address, iface.network.broadcast_address):
        raise InvalidSpec(field, '%r is the network or broadcast address, not a host address' % (value,))
    return iface


def ip_address(value, field, network=None):
    try:
        addr = ipaddress.ip_address(str(value).strip())
    except ValueError:
        raise InvalidSpec(field, '%r is not an IP address' % (value,))
    if network is not None and addr not in network:
        raise InvalidSpec(field, '%s is outside the subnet %s' % (addr, network))
    return addr


def unique(values, field, what):
    seen = set()
    for value in values:
        if value is None:
            continue
        if value in seen:
            raise InvalidSpec(field, 'duplicate %s %s' % (what, value))
        seen.add(value)


def unique_items(items, kind, key):
    """No two of ``items`` (the list option ``kind``) with the same ``key``:
    the error names the later item and the one it repeats."""
    first = {}
    for index, item in enumerate(items):
        value = item.get(key)
        if value is None:
            continue
        if value in first:
            raise InvalidSpec('%s[%d].%s' % (kind, index, key), 'duplicate of %s[%d] (%s)' % (kind, first[value], value))
        first[value] = index
