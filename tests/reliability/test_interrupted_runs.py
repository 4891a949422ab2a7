"""Interrupted runs: a play killed (Ctrl-C, SIGKILL of the whole job) during
a volume import or a clone. The next run converges and removes what the
broken run left.

The relay holds the upload's first data packet (or the clone call) a few
seconds, so the play is certain to be in the middle of it when the signal
comes."""
import json
import os
import signal
import time

import pytest

from harness import wait_for
from helpers import make_dir_pool, process_tree, proxy_for, remove
from suite import finish_play, run_play, task_records

HOLD = 3.0
PLAY = """- hosts: localhost
  gather_facts: false
  tasks:
    - name: The volume
      virtkit.virt.volume: {args}
"""


def signal_job(pid, sig):
    """Ctrl-C reaches the play's process group; a cancelled CI job kills all it ran."""
    if sig == signal.SIGINT:
        os.killpg(pid, sig)
        return
    for member in process_tree(pid):
        try:
            os.kill(member, sig)
        except OSError:
            pass


def volumes_in(path):
    return sorted(os.listdir(path))


def interrupted(report, daemon, tmp, label, args, proc, types, sig):
    """Run the play through a relay that holds ``proc``; signal its process
    group while it is held. Returns (rc, seconds from the signal to the end)."""
    with proxy_for(daemon, label) as proxy:
        held = proxy.on(proc, 'hold', types=types, hold_timeout=HOLD, count=10 ** 6)
        play = run_play(PLAY.format(args=json.dumps(dict(args, uri=daemon.uri(proxy.path)))), tmp, report,
                        name=label, background=True)
        wait_for(lambda: held.held or play.poll() is not None, 120, interval=0.05, what='the play to reach the call')
        assert play.poll() is None, play.communicate()
        signal_job(play.pid, sig)
        signalled = time.monotonic()
        rc, _out = finish_play(play, report, label)
        ended = time.monotonic()
        wait_for(held.fired.is_set, HOLD + 5, interval=0.1, what='the held call to go on')
        time.sleep(1)  # what the daemon still does with it
    return rc, ended - signalled


def rerun(report, daemon, tmp, label, args):
    rc, out = run_play(PLAY.format(args=json.dumps(dict(args, uri=daemon.uri()))), tmp, report, name=label)
    assert rc == 0, out[-3000:]
    (record,) = [r for r in task_records(tmp, label) if r['task'] == 'The volume']
    return record['changed']


@pytest.fixture
def image(tmp_path):
    path = tmp_path / 'image.raw'
    with open(str(path), 'wb') as handle:
        handle.write(os.urandom(8 * 1024 * 1024))
    return str(path)


@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGKILL], ids=['SIGINT', 'SIGKILL'])
def test_a_play_killed_during_an_import(daemon, report, prefix, image, tmp_path, sig):
    pool, path = '%s-i%d' % (prefix, sig), str(tmp_path / 'pool')
    make_dir_pool(daemon, pool, path)
    try:
        args = {'name': 'disk.img', 'pool': pool, 'import': {'path': image}}
        rc, seconds = interrupted(report, daemon, tmp_path, 'import-%d' % sig, args, 'storage_vol_upload', (3,), sig)
        daemon.virsh('pool-refresh', pool)
        left = volumes_in(path)
        assert rc != 0
        assert rerun(report, daemon, tmp_path, 'import-%d-again' % sig, args) is True
        assert volumes_in(path) == ['disk.img']
        with open(os.path.join(path, 'disk.img'), 'rb') as got, open(image, 'rb') as want:
            assert got.read() == want.read()
        if sig == signal.SIGKILL:
            assert rerun(report, daemon, tmp_path, 'import-%d-third' % sig, args) is False
        name = 'Ctrl-C (SIGINT to the play\'s process group)' if sig == signal.SIGINT else 'SIGKILL to every ' \
            'process of the job (a CI job cancelled hard)'
        report.add('interrupted', 'volume import of an 8 MiB image, the play killed with %s in the middle of the '
                   'upload' % name, 'ansible-playbook, then the same play again%s'
                   % (', and once more' if sig == signal.SIGKILL else ''),
                   'the play ended (rc %d); the next run: changed (%s), content identical to the image%s'
                   % (rc, 'deleted what was left and imported anew' if left else 'imported',
                      '; the one after: unchanged' if sig == signal.SIGKILL else ''),
                   detect=seconds, left=', '.join(left) or 'nothing (the interrupted module cleaned up)')
    finally:
        remove(daemon, ('pool', pool))


def test_a_play_killed_during_a_clone(daemon, report, prefix, tmp_path):
    pool, path = '%s-cl' % prefix, str(tmp_path / 'pool')
    make_dir_pool(daemon, pool, path)
    try:
        source = daemon.virsh('vol-create-as', pool, 'gold.img', '64M', '--format', 'raw')
        assert source.returncode == 0, source.stderr
        args = {'name': 'copy.img', 'pool': pool, 'clone_from': {'name': 'gold.img'}}
        rc, seconds = interrupted(report, daemon, tmp_path, 'clone', args, 'storage_vol_create_xml_from', (0,),
                                  signal.SIGKILL)
        daemon.virsh('pool-refresh', pool)
        left = [name for name in volumes_in(path) if name != 'gold.img']
        assert rc != 0 and 'copy.img.virtkit-partial' in left, left
        assert rerun(report, daemon, tmp_path, 'clone-again', args) is True
        assert volumes_in(path) == ['copy.img', 'gold.img']
        report.add('interrupted', 'volume clone (64 MiB), every process of the job killed with SIGKILL while the '
                   'clone call was on its way; the daemon made the copy after the task was gone',
                   'ansible-playbook, then the same play again',
                   'the next run deleted the copy nobody saw finish and its marker, and cloned again (changed)',
                   detect=seconds, left=', '.join(left))
    finally:
        remove(daemon, ('pool', pool))
