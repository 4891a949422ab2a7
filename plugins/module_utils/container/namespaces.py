# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A running container seen from the host, through /proc and its
namespaces: the host PID of its init, how its init is asked to stop, and
the host name in its UTS namespace (libvirt 9.0 has no setting for one).

All of it needs the container host to be the host the module runs on (a
local ``lxc:///`` URI); nothing here imports libvirt.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import stat
import sys

from ansible_collections.virtkit.virt.plugins.module_utils.errors import DriverError

# Where libvirt (and sysvinit, systemd) look for an init's control pipe.
INITCTL_FIFOS = ('run/initctl', 'dev/initctl', 'etc/.initctl', 'usr/lib/sysvinit/initctl')


def init_pid(controller_pid, proc='/proc'):
    """The host PID of a libvirt LXC container's init: the child of its
    libvirt_lxc controller (the domain ID) that is PID 1 in its own PID
    namespace. None when it cannot be found."""
    if not controller_pid:
        return None
    children = []
    task_dir = os.path.join(proc, str(controller_pid), 'task')
    try:
        for task in os.listdir(task_dir):
            with open(os.path.join(task_dir, task, 'children')) as handle:
                children.extend(int(pid) for pid in handle.read().split())
    except (OSError, ValueError):
        children = _children_by_scan(controller_pid, proc)
    for pid in children:
        if _pid_in_own_namespace(pid, proc) == 1:
            return pid
    return None


def _children_by_scan(parent, proc):
    """Without /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN)."""
    found = []
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        try:
            with open(os.path.join(proc, entry, 'stat')) as handle:
                fields = handle.read().rsplit(')', 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields and int(fields[1]) == int(parent):
            found.append(int(entry))
    return found


def _pid_in_own_namespace(pid, proc):
    try:
        with open(os.path.join(proc, str(pid), 'status')) as handle:
            for line in handle:
                if line.startswith('NSpid:'):
                    return int(line.split()[-1])
    except (OSError, ValueError):
        return None
    return None


def shutdown_mode(pid, proc='/proc'):
    """How libvirt should ask the container's init to stop: through its
    initctl pipe when it has one (systemd, sysvinit), else with SIGTERM.
    (libvirt 9.0's own choice sends nothing to an init without that pipe.)"""
    root = os.path.join(proc, str(pid), 'root')
    for fifo in INITCTL_FIFOS:
        try:
            if stat.S_ISFIFO(os.stat(os.path.join(root, fifo)).st_mode):
                return 'initctl'
        except OSError:
            continue
    return 'signal'


def _in_uts_namespace(run, pid, code, *args):
    """``run``: AnsibleModule.run_command (argv -> rc, stdout, stderr)."""
    nsenter = shutil.which('nsenter') or '/usr/bin/nsenter'
    if not os.path.exists(nsenter):
        raise DriverError('nsenter (util-linux) is missing on the target host', resource='container',
                          action='enter the UTS namespace of')
    rc, out, err = run([nsenter, '--target', str(pid), '--uts', '--', sys.executable, '-c', code] + list(args))
    if rc != 0:
        raise DriverError('nsenter failed (exit %d): %s' % (rc, err.strip()[-1000:]),
                          action='enter the UTS namespace of')
    return out


def hostname_of(pid, run):
    """The host name in the UTS namespace of process ``pid``."""
    return _in_uts_namespace(run, pid, 'import socket; print(socket.gethostname())').strip()


def set_hostname_of(pid, hostname, run):
    _in_uts_namespace(run, pid, 'import socket, sys; socket.sethostname(sys.argv[1])', hostname)
