"""Names the specs accept, each error naming its field."""
import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.engine import validation as v
from ansible_collections.virtkit.virt.plugins.module_utils.errors import InvalidSpec


@pytest.mark.parametrize('name', ['web1.qcow2', 'web1/web1.vmdk', 'a b/c d.vmdk'])
def test_volume_names_are_plain_or_joined_by_slashes(name):
    assert v.volume_name(name, 'name') == name


@pytest.mark.parametrize('name', ['', '/abs.vmdk', 'a//b', 'a/../b', '..', 'dir/', 'a\x00b', None])
def test_volume_names_never_leave_their_pool(name):
    with pytest.raises(InvalidSpec) as error:
        v.volume_name(name, 'disks[0].volume')
    assert error.value.field == 'disks[0].volume'


def test_plain_names_have_no_slash():
    with pytest.raises(InvalidSpec):
        v.plain_name('web1/web1.vmdk', 'name')
