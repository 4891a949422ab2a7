# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One task at a time on one object: a lock file per object on the host the
module runs on.

A task reads an object, plans against what it read, and writes: a domain is
redefined whole, a network's DHCP hosts are added and removed one by one.
Two tasks on the same object at once (two pipelines, a retried job) would
each plan against a state the other is changing: one task's change lost
while it reports success, or a final state neither asked for. So a task
that changes an object holds its lock from the read to the last write, and
a second task waits for it, then reads the state the first one left.

The lock is an flock on one of 256 files (the object and the URI hashed to
a file), so it vanishes with its holder, even one killed with SIGKILL, and
a busy host never gathers more than 256 lock files. Two objects may share a
file: then their tasks take turns too, which costs a wait, never a wrong
result; a task that needs several files takes them in one order, so two
tasks never wait for each other. It serialises the tasks of one host (local
URIs, and remote URIs managed from the same controller); tasks that reach
one daemon from different machines are not seen (libvirt has no lock of its
own to offer).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import errno
import hashlib
import os
import tempfile
import time

from ansible_collections.virtkit.virt.plugins.module_utils.errors import Conflict

# Long enough for another task's graceful shutdown or volume import; a task
# that waits longer is told who to wait for.
LOCK_WAIT = 900
BUCKETS = 256
_DIRS = ('/run/lock', '/var/lock')


def lock_path(uri, kind, name):
    bucket = int(hashlib.sha256(('%s\0%s\0%s' % (uri, kind, name)).encode('utf-8')).hexdigest(), 16) % BUCKETS
    for directory in _DIRS + (tempfile.gettempdir(),):
        if os.path.isdir(directory) and os.access(directory, os.W_OK | os.X_OK):
            return os.path.join(directory, 'virtkit-%03d.lock' % bucket)
    return None


@contextlib.contextmanager
def object_locks(uri, objects, wait=LOCK_WAIT, clock=time.monotonic, sleep=time.sleep):
    """Hold the locks of ``objects`` ([(kind, name)]) on ``uri`` for the
    ``with`` block; their files are taken in sorted order, each once."""
    held = []
    paths = {}
    for kind, name in objects:
        path = lock_path(uri, kind, name)
        if path is not None:
            paths.setdefault(path, '%s %r' % (kind, name))
    try:
        for path in sorted(paths):
            fd = _acquire(path, paths[path], wait, clock, sleep)
            if fd is not None:
                held.append(fd)
        yield
    finally:
        for fd in reversed(held):
            os.close(fd)  # closing releases the flock


def _acquire(path, what, wait, clock, sleep):
    import fcntl
    try:
        # Read-only is enough for flock, and opens a lock file another user made.
        fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
    except OSError:
        return None  # no place to coordinate: run as before
    deadline = clock() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except (IOError, OSError) as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                os.close(fd)
                raise
        if clock() >= deadline:
            os.close(fd)
            raise Conflict('another task has been changing it for more than %d s (lock %s); run this one again '
                           'when that one is done' % (wait, path), resource=what, action='wait to change')
        sleep(0.2)
