import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.engine.sizes import (
    format_bytes, kib_to_mib, parse_memory_kib, parse_size)
from ansible_collections.virtkit.virt.plugins.module_utils.errors import InvalidSpec


@pytest.mark.parametrize('value,expected', [
    ('512MiB', 512 * 1024 ** 2),
    ('20G', 20 * 1024 ** 3),
    ('20GiB', 20 * 1024 ** 3),
    ('1.5GiB', 1536 * 1024 ** 2),
    ('10GB', 10 * 10 ** 9),
    ('1 KB', 1000),
    ('1k', 1024),
    ('4096', 4096),
    (4096, 4096),
    ('2T', 2 * 1024 ** 4),
    ('7b', 7),
])
def test_parse_size_units_follow_libvirt(value, expected):
    assert parse_size(value, 'capacity') == expected


def test_bare_integer_uses_the_field_default_unit():
    assert parse_size(512, 'memory', default_unit='mib') == 512 * 1024 ** 2
    assert parse_size('512', 'memory', default_unit='mib') == 512 * 1024 ** 2


@pytest.mark.parametrize('value', ['lots', '', '12 apples', '-5G', '1.5.2G', True, '0.3B', '1e9'])
def test_bad_sizes_name_the_field(value):
    with pytest.raises(InvalidSpec) as info:
        parse_size(value, 'capacity')
    assert info.value.field == 'capacity'
    assert 'capacity' in info.value.describe()


def test_memory_in_kib():
    assert parse_memory_kib(1024, 'memory') == 1024 * 1024
    assert parse_memory_kib('1.5GiB', 'memory') == 1536 * 1024
    assert parse_memory_kib('2048KiB', 'memory') == 2048
    with pytest.raises(InvalidSpec):
        parse_memory_kib('1000B', 'memory')


def test_format_bytes():
    assert format_bytes(1536 * 1024 ** 2) == '1536MiB'
    assert format_bytes(2 * 1024 ** 3) == '2GiB'
    assert format_bytes(10 ** 9) == '1000000000B'
    assert format_bytes(0) == '0B'


def test_kib_to_mib():
    assert kib_to_mib(2048) == 2 and isinstance(kib_to_mib(2048), int)
    assert kib_to_mib(1536) == 1.5
    assert kib_to_mib(None) is None
