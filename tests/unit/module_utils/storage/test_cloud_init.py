import hashlib
import struct
import sys

import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.errors import InvalidSpec, MissingLibrary
from ansible_collections.virtkit.virt.plugins.module_utils.storage import cloud_init
from ansible_collections.virtkit.virt.plugins.module_utils.storage.volume_import import open_image
from ansible_collections.virtkit.virt.plugins.module_utils.storage.volume_manager import probe
from ansible_collections.virtkit.virt.tests.unit.seed_files import read_seed_files

pytest.importorskip('pycdlib')

FILES = {'user-data': b'#cloud-config\nhostname: t1\n', 'meta-data': b'instance-id: t1\n'}


def test_seed_carries_label_files_and_hash():
    image = cloud_init.build_seed(FILES)
    assert image[cloud_init.PVD_OFFSET + 40:cloud_init.PVD_OFFSET + 46] == b'cidata'
    assert cloud_init.seed_hash(image[:cloud_init.HEADER_BYTES]) == cloud_init.content_hash(FILES)
    assert read_seed_files(image) == FILES


def test_all_four_files():
    files = dict(FILES, **{'network-config': b'version: 2\n', 'vendor-data': b'#cloud-config\n{}\n'})
    assert read_seed_files(cloud_init.build_seed(files)) == files


def test_hash_depends_on_content_not_build_time():
    first, second = cloud_init.build_seed(FILES), cloud_init.build_seed(FILES)
    assert cloud_init.seed_hash(first) == cloud_init.seed_hash(second)
    changed = dict(FILES, **{'user-data': b'#cloud-config\nhostname: t2\n'})
    assert cloud_init.content_hash(changed) != cloud_init.content_hash(FILES)
    # Moving bytes from one file to another is a change too.
    assert cloud_init.content_hash({'a': b'xy', 'b': b''}) != cloud_init.content_hash({'a': b'x', 'b': b'y'})


@pytest.mark.parametrize('header', [
    b'',
    b'\0' * cloud_init.HEADER_BYTES,
    b'QFI\xfb' + b'\0' * cloud_init.HEADER_BYTES,
])
def test_anything_else_has_no_seed_hash(header):
    assert cloud_init.seed_hash(header) is None


def test_an_iso_without_our_marker_is_not_a_seed():
    image = bytearray(cloud_init.build_seed(FILES))
    start = cloud_init.PVD_OFFSET + 883
    image[start:start + 512] = b' ' * 512
    assert cloud_init.seed_hash(bytes(image)) is None


def test_missing_pycdlib_names_the_target_host(monkeypatch):
    monkeypatch.setitem(sys.modules, 'pycdlib', None)  # what a host without it does to `import pycdlib`
    with pytest.raises(MissingLibrary) as info:
        cloud_init.build_seed(FILES)
    assert 'target host' in info.value.describe() and 'pycdlib' in info.value.describe()


# -- images to import -----------------------------------------------------------

def test_probe():
    header = b'QFI\xfb' + b'\0' * 20 + struct.pack('>Q', 8 * 1024 ** 2)
    assert probe(header, 196616) == ('qcow2', 8 * 1024 ** 2)
    assert probe(b'\0' * 32, 4096) == ('raw', 4096)


def _source(path, **kw):
    base = {'path': str(path), 'url': None, 'checksum': None, 'format': None}
    base.update(kw)
    return base


def test_open_image_verifies_the_checksum(tmp_path):
    path = tmp_path / 'a.img'
    path.write_bytes(b'\0' * 4096)
    good = ('sha256', hashlib.sha256(b'\0' * 4096).hexdigest())
    image = open_image(_source(path, checksum=good))
    assert (image.length, image.detected_format, image.virtual_size) == (4096, 'raw', 4096)
    image.close()
    assert path.exists()  # a local file is the user's: never removed
    with pytest.raises(InvalidSpec) as info:
        open_image(_source(path, checksum=('sha256', '0' * 64)))
    assert info.value.field == 'import.checksum' and good[1] in info.value.describe()


def test_open_image_refuses_a_wrong_format(tmp_path):
    path = tmp_path / 'a.img'
    path.write_bytes(b'\0' * 4096)
    with pytest.raises(InvalidSpec) as info:
        open_image(_source(path, format='qcow2'))
    assert info.value.describe() == 'Invalid import.format: the image has no qcow2 header, so it is not qcow2'
    path.write_bytes(b'QFI\xfb' + b'\0' * 20 + struct.pack('>Q', 8 * 1024 ** 2))
    with pytest.raises(InvalidSpec) as info:
        open_image(_source(path, format='raw'))
    assert info.value.describe() == 'Invalid import.format: the image has a qcow2 header, so it is qcow2, not raw'
