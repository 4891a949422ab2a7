"""--check predicts what a real run does, also when an earlier task of the
same play makes what a later one needs: a pool and then a volume in it, a
volume cloned from one made just before, a guest whose disk is created in
that pool and whose interface is on a network made earlier, a container on
that network. The play runs in check mode, then for real; check mode is
compared with the real run task by task (the fours, check and real twice,
are test_ansible_core_matrix.py's)."""
import os
import shutil

from harness import prediction_mismatches, task_changes
from helpers import remove
from suite import run_play, task_records

PLAY = """- hosts: localhost
  gather_facts: false
  vars:
    pool: "{{ prefix }}-ckpool"
    net: "{{ prefix }}-cknet"
  tasks:
    - name: A network
      virtkit.virt.network:
        uri: "{{ uri }}"
        name: "{{ net }}"
        mode: isolated
        bridge: "{{ prefix }}-ck"
        ipv4: {address: "{{ subnet }}.1/24"}
    - name: A pool
      virtkit.virt.pool:
        uri: "{{ uri }}"
        name: "{{ pool }}"
        type: dir
        path: "{{ dir }}/pool"
    - name: A volume in it
      virtkit.virt.volume:
        uri: "{{ uri }}"
        name: data.qcow2
        pool: "{{ pool }}"
        capacity: 16M
        format: qcow2
    - name: A copy of that volume
      virtkit.virt.volume:
        uri: "{{ uri }}"
        name: copy.qcow2
        pool: "{{ pool }}"
        clone_from: {name: data.qcow2}
    - name: A guest with a new disk in the pool, the volume, and the network
      virtkit.virt.domain:
        uri: "{{ uri }}"
        name: "{{ prefix }}-ckvm"
        virt_type: qemu
        memory: 128
        state: present
        disks:
          - {pool: "{{ pool }}", size: 32M}
          - {pool: "{{ pool }}", volume: data.qcow2}
        interfaces: [{network: "{{ net }}"}]
      register: guest
    - name: A container on the network
      virtkit.virt.container:
        uri: "{{ lxc_uri }}"
        name: "{{ prefix }}-ckct"
        memory: 64
        state: present
        rootfs: {path: "{{ dir }}/rootfs"}
        interfaces: [{network: "{{ net }}"}]
"""


def test_check_mode_predicts_a_play_that_builds_what_it_uses(daemon, report, prefix, subnets, tmp_path):
    rootfs = tmp_path / 'rootfs' / 'sbin'
    rootfs.mkdir(parents=True)
    shutil.copy('/bin/busybox', str(rootfs / 'init'))
    values = dict(uri=daemon.uri(), lxc_uri=daemon.uri(driver='lxc'), prefix=prefix, subnet=next(subnets),
                  dir=str(tmp_path))
    before = daemon.snapshot()
    try:
        runs = {}
        for step, check in (('check', True), ('real', False)):
            rc, out = run_play(PLAY, tmp_path, report, values, check=check, name='ck-' + step)
            assert rc == 0, out[-4000:]
            runs[step] = os.path.join(str(tmp_path), 'ck-%s.jsonl' % step)
            if step == 'check':
                assert daemon.snapshot() == before  # check mode made nothing
                said = [line for line in out.splitlines() if 'check mode predicts' in line]
        assert prediction_mismatches(runs['check'], runs['real'], 'localhost') == []
        done = task_changes(runs['real'], 'localhost')
        assert all(done.values()) and len(done) == 6, done
        assert said, 'no warning said what check mode assumed'
        records = task_records(tmp_path, 'ck-check')
        assert all(r['status'] == 'changed' for r in records)
        report.add('check', 'a play that makes a network, a pool, a volume in it, a copy of that volume, a guest '
                   'with a disk created in the pool and an interface on the network, a container on the network '
                   '(before: check mode failed at the volume task, "pool does not exist")',
                   'ansible-playbook --check, then ansible-playbook',
                   'check mode predicted all 6 changes, task by task equal to the real run, each assumption said '
                   'as a warning (e.g. "%s")'
                   % ' '.join(said[0].split())[:160], left='nothing from check mode; the real run\'s objects '
                   '(removed after)')
    finally:
        remove(daemon, ('domain', '%s-ckvm' % prefix))
        daemon.virsh('destroy', '%s-ckct' % prefix, driver='lxc')
        daemon.virsh('undefine', '%s-ckct' % prefix, driver='lxc')
        remove(daemon, ('pool', '%s-ckpool' % prefix), ('network', '%s-cknet' % prefix))
