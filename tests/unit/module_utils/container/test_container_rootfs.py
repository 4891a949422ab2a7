import functools
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading

import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.container.rootfs import (
    RootfsArchive, check_idmap_access, check_init, check_mount_sources, check_rootfs, shown_url, stamp_path)
from ansible_collections.virtkit.virt.plugins.module_utils.errors import DriverError, InvalidSpec


@pytest.fixture
def archive(tmp_path):
    tree = tmp_path / 'tree'
    (tmp_path / 'tree' / 'bin').mkdir(parents=True)
    (tree / 'bin' / 'tool').write_text('#!/bin/sh\n')
    os.chmod(str(tree / 'bin' / 'tool'), 0o4755)  # setuid survives
    os.symlink('/bin/tool', str(tree / 'bin' / 'link'))  # absolute: means something inside only
    path = tmp_path / 'rootfs.tar.gz'
    subprocess.run(['tar', '-C', str(tree), '-czf', str(path), '.'], check=True)
    return str(path)


def run(argv):
    """What AnsibleModule.run_command gives the manager: (rc, stdout, stderr)."""
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def sha256(path):
    with open(path, 'rb') as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def test_unpacked_once_and_stamped_beside_the_rootfs(tmp_path, archive):
    root = str(tmp_path / 'ct1')
    first = RootfsArchive(root, archive)
    first.check()
    assert first.needed and first.warning is None
    assert not os.path.exists(root)  # check touches nothing
    first.unpack(run)
    assert os.stat(os.path.join(root, 'bin', 'tool')).st_mode & 0o7777 == 0o4755
    assert os.readlink(os.path.join(root, 'bin', 'link')) == '/bin/tool'
    stamp = stamp_path(root)
    assert stamp == str(tmp_path / '.ct1.virtkit-rootfs.json') and not stamp.startswith(root + '/')
    record = json.load(open(stamp))
    assert record['archive'] == archive and record['sha256'] == sha256(archive)
    assert [n for n in os.listdir(str(tmp_path)) if 'unpack' in n] == []  # the work directory is gone

    (tmp_path / 'ct1' / 'written-inside').write_text('x')
    again = RootfsArchive(root, archive)
    again.check()
    assert not again.needed and again.warning is None
    os.utime(archive)  # touched, same content: still the same archive
    again = RootfsArchive(root, archive)
    again.check()
    assert not again.needed and again.warning is None


def test_a_changed_archive_is_reported_never_unpacked_over(tmp_path, archive):
    root = str(tmp_path / 'ct1')
    RootfsArchive(root, archive).unpack(run)
    with open(archive, 'ab') as handle:
        handle.write(b'more')
    changed = RootfsArchive(root, archive)
    changed.check()
    assert not changed.needed and 'differs now' in changed.warning
    other = RootfsArchive(root, archive, checksum='0' * 64)
    other.check()
    assert not other.needed and other.warning


def test_a_url_is_not_fetched_again_to_compare(tmp_path):
    root = str(tmp_path / 'ct1')
    os.mkdir(root)
    os.mkdir(os.path.join(root, 'bin'))
    with open(stamp_path(root), 'w') as handle:
        json.dump({'archive': 'https://user:secret@example.org/r.tar', 'sha256': 'ab' * 32}, handle)
    same = RootfsArchive(root, 'https://user:secret@example.org/r.tar')
    same.check()
    assert not same.needed and same.warning is None
    moved = RootfsArchive(root, 'https://example.org/other.tar')
    moved.check()
    assert moved.warning and 'secret' not in moved.warning
    assert shown_url('https://user:secret@example.org/r.tar') == 'https://example.org/r.tar'


@pytest.fixture
def served(tmp_path, archive):
    """The archive on an HTTP server on 127.0.0.1."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield 'http://127.0.0.1:%d/%s' % (server.server_address[1], os.path.basename(archive))
    finally:
        server.shutdown()
        server.server_close()


def test_an_archive_from_a_url_is_fetched_verified_and_unpacked(tmp_path, archive, served):
    root = str(tmp_path / 'ct1')
    wrong = RootfsArchive(root, served, checksum='0' * 64)
    wrong.check()
    with pytest.raises(InvalidSpec):
        wrong.unpack(run)
    assert not os.path.exists(root)
    fetched = RootfsArchive(root, served, checksum=sha256(archive))
    fetched.check()
    fetched.unpack(run)
    assert os.path.exists(os.path.join(root, 'bin', 'tool'))
    assert json.load(open(stamp_path(root)))['sha256'] == sha256(archive)
    again = RootfsArchive(root, served)
    again.check()
    assert not again.needed
    missing = RootfsArchive(str(tmp_path / 'ct2'), served + '.missing')
    missing.check()
    with pytest.raises(DriverError) as info:
        missing.unpack(run)
    assert 'fetch the rootfs archive' in info.value.describe()


def test_an_empty_directory_is_unpacked_into(tmp_path, archive):
    root = tmp_path / 'ct1'
    root.mkdir()
    into = RootfsArchive(str(root), archive)
    into.check()
    assert into.needed
    into.unpack(run)
    assert (root / 'bin' / 'tool').exists()


def test_content_no_archive_put_there_is_refused(tmp_path, archive):
    (tmp_path / 'mine').mkdir()
    (tmp_path / 'mine' / 'data').write_text('x')
    with pytest.raises(InvalidSpec) as info:
        RootfsArchive(str(tmp_path / 'mine'), archive).check()
    assert info.value.field == 'rootfs.path' and 'already has content' in info.value.detail


def test_a_missing_archive_or_parent_is_refused(tmp_path):
    with pytest.raises(InvalidSpec) as info:
        RootfsArchive(str(tmp_path / 'ct1'), str(tmp_path / 'none.tar')).check()
    assert info.value.field == 'rootfs.archive'
    with pytest.raises(InvalidSpec) as info:
        RootfsArchive(str(tmp_path / 'no' / 'ct1'), str(tmp_path / 'none.tar')).check()
    assert info.value.field == 'rootfs.path'


def test_a_wrong_checksum_leaves_nothing_behind(tmp_path, archive):
    root = str(tmp_path / 'ct1')
    with pytest.raises(InvalidSpec) as info:
        RootfsArchive(root, archive, checksum='0' * 64).unpack(run)
    assert info.value.field == 'rootfs.checksum'
    assert sorted(os.listdir(str(tmp_path))) == ['rootfs.tar.gz', 'tree']


def test_check_rootfs_without_archive(tmp_path):
    assert check_rootfs({'path': str(tmp_path), 'archive': None, 'checksum': None}) is None
    with pytest.raises(InvalidSpec) as info:
        check_rootfs({'path': str(tmp_path / 'none'), 'archive': None, 'checksum': None})
    assert info.value.field == 'rootfs.path' and 'does not exist' in info.value.detail


def test_mount_sources_and_init(tmp_path):
    check_mount_sources([{'source': str(tmp_path)}])
    with pytest.raises(InvalidSpec) as info:
        check_mount_sources([{'source': str(tmp_path)}, {'source': str(tmp_path / 'none')}])
    assert info.value.field == 'mounts[1].source'
    (tmp_path / 'sbin').mkdir()
    os.symlink('/lib/systemd/systemd-not-on-this-host', str(tmp_path / 'sbin' / 'init'))
    check_init(str(tmp_path), '/sbin/init')  # a link is enough
    with pytest.raises(InvalidSpec) as info:
        check_init(str(tmp_path), '/bin/sh')
    assert info.value.field == 'init'


@pytest.fixture
def open_tmp():
    """A directory every user can reach (pytest's own is root-only)."""
    base = tempfile.mkdtemp(prefix='vk-unit-', dir='/var/tmp')
    os.chmod(base, 0o711)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason='chown needs root')
def test_mapped_root_must_reach_and_own_the_rootfs(open_tmp):
    closed = os.path.join(open_tmp, 'closed')
    root = os.path.join(closed, 'root')
    os.makedirs(root)
    os.chmod(closed, 0o700)
    with pytest.raises(InvalidSpec) as info:
        check_idmap_access(root, 100000, 100000)
    assert info.value.field == 'rootfs.path' and 'cannot enter %s (mode 700' % closed in info.value.detail
    os.chmod(closed, 0o711)
    with pytest.raises(InvalidSpec) as info:
        check_idmap_access(root, 100000, 100000)
    assert 'belongs to 0:0' in info.value.detail
    os.chown(root, 100000, 100000)
    check_idmap_access(root, 100000, 100000)
    os.chown(root, 0, 0)
    check_idmap_access(root, 0, 0)  # a map that keeps root: nothing to check
