"""A full pool: a small filesystem pool (ext4 on a 24 MiB loop device).
Creating or growing a volume that needs the space, importing an image,
cloning, building a cloud-init seed fail with "not enough space in pool X"
and leave no volume behind; a thin volume larger than the free space is
made, with a warning."""
import os
import re
import subprocess

import pytest

from helpers import remove
from suite import run_module, warnings_of

MIB = 1024 * 1024


@pytest.fixture(scope='module')
def small_pool(daemon, prefix, report, tmp_path_factory):
    tmp = tmp_path_factory.mktemp('fullpool')
    backing = str(tmp / 'device.img')
    with open(backing, 'wb') as handle:
        handle.truncate(24 * MIB)
    device = subprocess.run(['losetup', '-f', '--show', backing], capture_output=True, text=True,
                            check=True).stdout.strip()
    name, target = '%s-full' % prefix, str(tmp / 'mnt')
    try:
        created = run_module('pool', {'uri': daemon.uri(), 'name': name, 'type': 'fs', 'path': target,
                                      'source': {'devices': [device], 'format': 'ext4'}},
                             tmp, report)
        assert not created.get('failed'), created['msg']
        yield {'name': name, 'device': device, 'target': target, 'tmp': tmp}
    finally:
        remove(daemon, ('pool', name))
        subprocess.run(['losetup', '-d', device], check=False)


def free_bytes(daemon, pool):
    daemon.virsh('pool-refresh', pool)
    info = daemon.virsh('pool-info', pool, '--bytes').stdout
    return int(re.search(r'Available:\s+(\d+)', info).group(1))


def volumes(daemon, pool):
    listing = daemon.virsh('vol-list', '--pool', pool)
    assert listing.returncode == 0, listing.stderr
    return sorted(line.split()[0] for line in listing.stdout.splitlines() if line.strip())


def refused(report, daemon, pool, case, done, module_args, tmp, needs='not enough space in pool %r'):
    before = volumes(daemon, pool['name'])
    result = run_module('volume', dict(module_args, uri=daemon.uri(), pool=pool['name']), tmp, report)
    after = volumes(daemon, pool['name'])
    assert result.get('failed') and needs % pool['name'] in result['msg'], result
    assert result['changed'] is False and after == before, (before, after)
    report.add('space', case, done, result['msg'], left='nothing (volumes in the pool: %s, as before)'
               % (', '.join(after) or 'none'))
    return result


def test_full_pool(daemon, report, small_pool, tmp_path):
    pool = small_pool
    free = free_bytes(daemon, pool['name'])
    assert 10 * MIB < free < 24 * MIB, free
    refused(report, daemon, pool, 'create a preallocated volume larger than the free space',
            '32 MiB raw, preallocate: true, %d MiB free' % (free // MIB),
            {'name': 'big.img', 'capacity': '32M', 'format': 'raw', 'preallocate': True}, tmp_path)

    image = tmp_path / 'image.raw'
    with open(str(image), 'wb') as handle:
        handle.write(os.urandom(free + MIB))
    refused(report, daemon, pool, 'import an image larger than the free space', 'a %d MiB raw image'
            % ((free + MIB) // MIB), {'name': 'imported.img', 'import': {'path': str(image)}}, tmp_path)

    # Free space as the pool reports it is not all a file can take: the
    # filesystem needs blocks of its own for a large file. libvirt's ENOSPC
    # is said in the same words, and the half-allocated file is gone.
    refused(report, daemon, pool, 'create a preallocated volume of the free space the pool reports, less 32 KiB '
            '(the check passes; the filesystem needs blocks of its own: ENOSPC from libvirt)',
            'raw, preallocate: true, %d bytes' % (free - 32 * 1024),
            {'name': 'almost.img', 'format': 'raw', 'preallocate': True, 'capacity': free - 32 * 1024}, tmp_path)
    # Fill it: a preallocated volume that leaves less than the seed needs.
    filler = run_module('volume', {'uri': daemon.uri(), 'pool': pool['name'], 'name': 'filler.img', 'format': 'raw',
                                   'preallocate': True, 'capacity': free - MIB}, tmp_path, report)
    assert not filler.get('failed'), filler['msg']
    refused(report, daemon, pool, 'build a cloud-init seed in a pool with %d KiB free' % (free_bytes(daemon,
            pool['name']) // 1024), 'volume with cloud_init (user data of 2 MiB)',
            {'name': 'seed.iso', 'cloud_init': {'user_data': '#cloud-config\n' + 'x' * 2 * MIB}}, tmp_path)
    refused(report, daemon, pool, 'grow a preallocated volume by more than the free space',
            'filler.img (preallocated) to its size + 8 MiB',
            {'name': 'filler.img', 'format': 'raw', 'capacity': free - MIB + 8 * MIB}, tmp_path)
    refused(report, daemon, pool, 'clone a volume larger than the free space', 'clone_from filler.img',
            {'name': 'copy.img', 'clone_from': {'name': 'filler.img'}}, tmp_path)

    # A qcow2 volume needs only its header at first: thin, made, with a warning.
    thin = run_module('volume', {'uri': daemon.uri(), 'pool': pool['name'], 'name': 'thin.qcow2', 'format': 'qcow2',
                                 'capacity': '1G'}, tmp_path, report)
    said = warnings_of(thin)
    if thin.get('failed'):  # not even its header fits
        assert 'not enough space in pool %r' % pool['name'] in thin['msg'] and 'thin.qcow2' not in \
            volumes(daemon, pool['name']), thin
        report.add('space', 'create a thin 1 GiB qcow2 volume in the full pool', 'qcow2, capacity 1G', thin['msg'],
                   left='nothing')
    else:
        assert any('it is thin' in w for w in said), thin
        report.add('space', 'create a thin 1 GiB qcow2 volume in the full pool (documented: thin volumes may '
                   'overcommit)', 'qcow2, capacity 1G', 'ok, changed, warning: %s' % said[0],
                   left='the thin volume, as asked')
    remove(daemon, ('volume', 'thin.qcow2', pool['name']), ('volume', 'filler.img', pool['name']))
