"""A running container seen from the host: its init through a fake /proc."""
import os

from ansible_collections.virtkit.virt.plugins.module_utils.container.namespaces import init_pid, shutdown_mode


def fake_proc(tmp_path, children, statuses, with_children_file=True):
    proc = tmp_path / 'proc'
    task = proc / '100' / 'task' / '100'
    task.mkdir(parents=True)
    (proc / '100' / 'stat').write_text('100 (libvirt_lxc) S 1 100')
    if with_children_file:
        (task / 'children').write_text(' '.join(str(c) for c in children) + ' ')
    for pid, nspid in statuses.items():
        (proc / str(pid)).mkdir()
        (proc / str(pid) / 'status').write_text('Name:\tx\nNSpid:\t%s\n' % nspid)
        (proc / str(pid) / 'stat').write_text('%d (sh) S 100 %d' % (pid, pid))
    return str(proc)


def test_the_init_is_the_controller_s_child_that_is_pid_1_inside(tmp_path):
    proc = fake_proc(tmp_path, [101, 102], {101: '101', 102: '102\t1'})
    assert init_pid(100, proc) == 102
    assert init_pid(None, proc) is None


def test_the_init_without_proc_children(tmp_path):
    proc = fake_proc(tmp_path, [], {101: '101', 102: '102\t1'}, with_children_file=False)
    assert init_pid(100, proc) == 102


def test_shutdown_through_initctl_only_when_the_container_has_the_pipe(tmp_path):
    root = tmp_path / '7' / 'root'
    (root / 'run').mkdir(parents=True)
    assert shutdown_mode(7, str(tmp_path)) == 'signal'
    (root / 'dev').mkdir()
    (root / 'dev' / 'initctl').write_text('')  # a file, not a pipe
    assert shutdown_mode(7, str(tmp_path)) == 'signal'
    os.mkfifo(str(root / 'run' / 'initctl'))
    assert shutdown_mode(7, str(tmp_path)) == 'initctl'
