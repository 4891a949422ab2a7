"""Bugs found already, tried as a new user would (ansible-playbook, twice),
and every multi-step plan failing half way: what the run made is undone,
or the result says what it left and reports changed."""
import os

import pytest

from helpers import make_network, remove
from suite import difference, failed_msg, files_under, run_module, run_play

PATCH_PLAY = """- hosts: localhost
  gather_facts: false
  tasks:
    - name: A guest with a patch
      virtkit.virt.domain:
        uri: "{{ uri }}"
        name: "{{ name }}"
        virt_type: qemu
        memory: 128
        state: "{{ state }}"
        kernel: "{{ kernel }}"
        initrd: "{{ initrd }}"
        xml_patches: "{{ patches }}"
"""


def test_xml_patch_libvirt_does_not_know(daemon, report, bed, prefix, tmp_path):
    name = '%s-xp' % prefix
    values = dict(uri=daemon.uri(), name=name, kernel=bed['kernel'], initrd=bed['initrd'], state='running',
                  patches=[{'xpath': '/domain/nonexistent/thing', 'value': '1'}])
    before = daemon.snapshot()
    try:
        said = []
        for attempt in (1, 2):
            rc, out = run_play(PATCH_PLAY, tmp_path, report, values, name='patch-%d' % attempt)
            said.append(failed_msg(tmp_path, 'patch-%d' % attempt))
            assert rc != 0 and 'changed=0' in out, out[-3000:]
            assert difference(before, daemon.snapshot()) == ''
        assert said[0].startswith("Invalid xml_patches[0]: libvirt's schema refuses the patched domain XML"), said
        assert 'nonexistent' in said[0] and said[0] == said[1]
        report.add('found', 'domain with xml_patches [{xpath: /domain/nonexistent/thing, value: "1"}], state '
                   'running, run twice (before: defined and started, the element dropped, changed: true on every '
                   'later run)', 'ansible-playbook, twice', said[0], left='nothing (no domain defined, both runs '
                   'changed=0)')
    finally:
        remove(daemon, ('domain', name))


def test_xml_patch_whose_value_libvirt_rewrites(daemon, report, bed, prefix, tmp_path):
    """A schema-valid patch libvirt does not keep as written is an error
    after the define (which is taken back), not an endless change."""
    name = '%s-xr' % prefix
    values = dict(uri=daemon.uri(), name=name, kernel=bed['kernel'], initrd=bed['initrd'], state='present',
                  patches=[{'xpath': '/domain/os/type', 'attribute': 'machine', 'value': 'pc'}])
    try:
        rc, out = run_play(PATCH_PLAY, tmp_path, report, values, name='rewrite')
        said = failed_msg(tmp_path, 'rewrite')
        assert rc != 0 and said.startswith('Invalid xml_patches[0]: libvirt did not keep what it sets'), out[-3000:]
        assert daemon.virsh('dominfo', name).returncode != 0  # taken back
        report.add('found', "domain with xml_patches [{xpath: /domain/os/type, attribute: machine, value: pc}] "
                   "(libvirt stores pc as pc-i440fx-...: the patch would never be found in the definition)",
                   'ansible-playbook', said, left='nothing (defined, found not kept, undefined again)')
    finally:
        remove(daemon, ('domain', name))


POOL_PLAY = """- hosts: localhost
  gather_facts: false
  tasks:
    - name: An fs pool
      virtkit.virt.pool:
        uri: "{{ uri }}"
        name: "{{ name }}"
        type: fs
        path: "{{ path }}"
        source: {devices: ["{{ device }}"], format: ext4}
"""


@pytest.mark.parametrize('device_kind', ['missing', 'directory'])
def test_fs_pool_with_a_bad_source_device(daemon, report, prefix, tmp_path, device_kind):
    name = '%s-fs%s' % (prefix, device_kind[0])
    device = str(tmp_path / 'no-such-device') if device_kind == 'missing' else str(tmp_path / 'a-directory')
    if device_kind == 'directory':
        os.makedirs(device)
    target = str(tmp_path / 'mnt')
    values = dict(uri=daemon.uri(), name=name, path=target, device=device)
    before, files = daemon.snapshot(), files_under(tmp_path)
    try:
        said = []
        for attempt in (1, 2):
            rc, out = run_play(POOL_PLAY, tmp_path, report, values, name='fs-%s-%d' % (device_kind, attempt))
            said.append(failed_msg(tmp_path, 'fs-%s-%d' % (device_kind, attempt)))
            assert rc != 0 and 'changed=0' in out, out[-3000:]
        assert difference(before, daemon.snapshot()) == '' and not os.path.exists(target)
        assert difference(files, files_under(tmp_path)).startswith('new: ') or difference(files, files_under(
            tmp_path)) == ''  # the plays' own files
        if device_kind == 'missing':
            assert said[0] == 'Invalid source.devices[0]: no such device on this host: %s' % device, said
            case = ('pool type fs whose source device does not exist, run twice (before: defined, build failed '
                    '"Source device does not exist", left defined, changed: false)')
            left = 'nothing (refused before anything was defined)'
        else:
            assert '(undone: define)' in said[0], said
            case = ('pool type fs whose source "device" is a directory (the build fails after it made the target '
                    'directory), run twice')
            left = 'nothing (the definition undone, the target directory the build made removed)'
        report.add('found', case, 'ansible-playbook, twice', said[0], left=left)
    finally:
        remove(daemon, ('pool', name))


def test_define_then_start_fails(daemon, report, prefix, tmp_path):
    name = '%s-ds' % prefix
    before = daemon.snapshot()
    result = run_module('domain', {'uri': daemon.uri(), 'name': name, 'virt_type': 'qemu', 'memory': 128,
                                   'kernel': str(tmp_path / 'no-such-kernel'), 'graphics': {'type': 'none'}},
                        tmp_path, report)
    try:
        assert result.get('failed') and result['changed'] is False and '(undone: define)' in result['msg'], result
        assert difference(before, daemon.snapshot()) == ''
        report.add('partial', 'domain define -> start, the start fails (its kernel does not exist)',
                   'new guest, state running', result['msg'], left='nothing (undefined again)')
    finally:
        remove(daemon, ('domain', name))


def test_network_define_then_start_fails(daemon, report, prefix, subnets, tmp_path):
    taken, name, subnet = '%s-nt' % prefix, '%s-nf' % prefix, next(subnets)
    make_network(daemon, taken, '%s-nt' % prefix, subnet)  # holds the subnet
    before = daemon.snapshot()
    try:
        result = run_module('network', {'uri': daemon.uri(), 'name': name, 'mode': 'isolated',
                                        'bridge': '%s-nf' % prefix, 'ipv4': {'address': '%s.1/24' % subnet}},
                            tmp_path, report)
        assert result.get('failed') and result['changed'] is False and '(undone: define)' in result['msg'], result
        assert difference(before, daemon.snapshot()) == ''
        report.add('partial', 'network define -> start, the start fails (its subnet is in use by another network)',
                   'new isolated network', result['msg'], left='nothing (undefined again)')
    finally:
        remove(daemon, ('network', name), ('network', taken))


def test_domain_with_new_disk_then_define_fails(daemon, report, prefix, tmp_path):
    from helpers import make_dir_pool
    name, pool, path = '%s-dv' % prefix, '%s-dv' % prefix, str(tmp_path / 'pool')
    make_dir_pool(daemon, pool, path)
    before = daemon.snapshot()
    try:
        result = run_module('domain', {'uri': daemon.uri(), 'name': name, 'virt_type': 'qemu', 'memory': 128,
                                       'state': 'present', 'disks': [{'pool': pool, 'size': '64M'}],
                                       'xml_patches': [{'xpath': '/domain/devices/bogus', 'value': 'x'}]},
                            tmp_path, report)
        assert result.get('failed') and result['changed'] is False, result
        assert 'undone: volume %s/%s-disk0.qcow2: create' % (pool, name) in result['msg'], result
        assert difference(before, daemon.snapshot()) == '' and os.listdir(path) == []
        report.add('partial', 'create volume -> define: a new guest with a disk created in a pool, the define '
                   'refused', 'new guest, disk {pool, size: 64M}, a bad patch', result['msg'],
                   left='nothing (the new volume deleted again)')
    finally:
        remove(daemon, ('domain', name), ('pool', pool))
