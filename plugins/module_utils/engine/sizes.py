# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Human sizes with libvirt's meanings.

libvirt reads ``G`` and ``GiB`` as 1024**3 and ``GB`` as 10**9; users who copy
values from ``virsh`` output expect the same here. A bare number has a
per-field default unit (MiB for memory, bytes for capacities).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.virtkit.virt.plugins.module_utils.errors import InvalidSpec

_BINARY = {'': 1, 'b': 1, 'bytes': 1,
           'k': 1024, 'kib': 1024,
           'm': 1024 ** 2, 'mib': 1024 ** 2,
           'g': 1024 ** 3, 'gib': 1024 ** 3,
           't': 1024 ** 4, 'tib': 1024 ** 4,
           'p': 1024 ** 5, 'pib': 1024 ** 5,
           'e': 1024 ** 6, 'eib': 1024 ** 6}
_DECIMAL = {'kb': 10 ** 3, 'mb': 10 ** 6, 'gb': 10 ** 9, 'tb': 10 ** 12,
            'pb': 10 ** 15, 'eb': 10 ** 18}
UNITS = dict(_BINARY, **_DECIMAL)

# A string: re compiles (and caches) it when a task first uses it, not at every import.
_SIZE_RE = r'^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$'


def parse_size(value, field, default_unit='b'):
    """Return ``value`` in bytes; ``field`` names the option in errors."""
    if isinstance(value, bool):
        raise InvalidSpec(field, 'expected a size, got a boolean')
    if isinstance(value, int):
        number, unit = value, default_unit
    elif isinstance(value, float):
        number, unit = value, default_unit
    else:
        match = re.match(_SIZE_RE, str(value))
        if not match:
            raise InvalidSpec(field, "%r is not a size (examples: 512MiB, 20G, 1.5GiB, 10GB)" % (value,))
        number = float(match.group(1)) if '.' in match.group(1) else int(match.group(1))
        unit = match.group(2) or default_unit
    factor = UNITS.get(unit.lower())
    if factor is None:
        raise InvalidSpec(field, "unknown unit %r in %r (use B, KiB, MiB, GiB, TiB, K, M, G, T, KB, MB, GB, TB)" % (unit, value))
    if number < 0:
        raise InvalidSpec(field, 'a size cannot be negative')
    result = number * factor
    if result != int(result):
        raise InvalidSpec(field, '%r is not a whole number of bytes' % (value,))
    return int(result)


def parse_memory_kib(value, field):
    """Memory sizes: bare integers are MiB; libvirt stores KiB."""
    size = parse_size(value, field, default_unit='mib')
    if size % 1024:
        raise InvalidSpec(field, '%r is not a whole number of KiB' % (value,))
    return size // 1024


def kib_to_mib(kib):
    """KiB as MiB for facts: a whole number when it is one; None stays None."""
    if kib is None:
        return None
    return kib // 1024 if kib % 1024 == 0 else kib / 1024.0


def format_bytes(size):
    """Shortest exact binary rendering, for messages and diffs."""
    for unit, factor in (('TiB', 1024 ** 4), ('GiB', 1024 ** 3), ('MiB', 1024 ** 2), ('KiB', 1024)):
        if size and size % factor == 0:
            return '%d%s' % (size // factor, unit)
    return '%dB' % size
