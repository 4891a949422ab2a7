"""The typed errors' helpers."""
import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.errors import DriverError, NotFound, or_none


def test_or_none_answers_what_the_read_returns_or_none_when_it_is_not_there():
    seen = []

    def read(*args):
        seen.append(args)
        if args[0] == 'missing':
            raise NotFound('no such pool', resource="storage pool 'missing'", action='read')
        return {'name': args[0]}
    assert or_none(read, 'images', 'disk.qcow2') == {'name': 'images'}
    assert or_none(read, 'missing') is None
    assert seen == [('images', 'disk.qcow2'), ('missing',)]


def test_or_none_lets_every_other_error_through():
    def read(name):
        raise DriverError('the daemon said no', resource='network %r' % name, action='read')
    with pytest.raises(DriverError, match='said no'):
        or_none(read, 'net0')
