# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running a command inside a libvirt LXC container, here or on a host over SSH.

``virsh lxc-enter-namespace`` joins the container's namespaces (its mount
namespace makes the container's root the command's /), passes stdin through
and needs nothing from the controller but a way to run virsh on the
container's host: a subprocess locally, an SSH channel remotely. The same
argv serves both, so the local and remote paths cannot drift apart.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import shlex
import subprocess
import time

# virsh reports the command's own failure as its own error, in these words.
_EXIT_STATUS = re.compile(r'^error: internal error: Child process \(\d+\) unexpected exit status (\d+)\s*$', re.M)
_SIGNAL = re.compile(r'^error: internal error: Child process \(\d+\) unexpected fatal signal (\d+)\s*$', re.M)
_NOT_RUNNING = ('domain is not running', 'Domain not found', 'no domain with matching name')


class ContainerUnavailable(Exception):
    """The container is not there or not running (not the command failing)."""


class ContainerStarting(ContainerUnavailable):
    """Just after a start libvirt cannot hand out the namespaces yet; the
    command did not run and may be tried again."""


# What virsh says in the moment between a container's start and its
# namespaces being ready.
_STARTING = ('Expected at least one file descriptor',)


def enter_argv(uri, name, command, shell='/bin/sh'):
    """virsh argv that runs ``command`` with ``shell -c`` in container ``name``."""
    # -q: without it virsh appends a newline to the command's output.
    return ['virsh', '-q', '-c', uri, 'lxc-enter-namespace', name, '--noseclabel', shell, '-c', command]


def interpret(rc, stdout, stderr, name, uri):
    """virsh's (rc, stdout, stderr) → the command's own (rc, stdout, stderr)."""
    if rc == 0:
        return 0, stdout, stderr
    text = stderr.decode('utf-8', 'replace')
    match = _EXIT_STATUS.search(text) or _SIGNAL.search(text)
    if match:
        code = int(match.group(1)) + (128 if match.re is _SIGNAL else 0)
        own = _EXIT_STATUS.sub('', _SIGNAL.sub('', text)).rstrip('\n')
        return code, stdout, (own + '\n' if own else '').encode('utf-8')
    if any(marker in text for marker in _STARTING):
        raise ContainerStarting('container %r on %s is still starting: %s' % (name, uri, text.strip()))
    if any(marker in text for marker in _NOT_RUNNING):
        raise ContainerUnavailable('container %r is not running on %s: %s' % (name, uri, text.strip()))
    raise ContainerUnavailable('virsh could not enter container %r on %s (exit %d): %s'
                               % (name, uri, rc, text.strip() or 'no message'))


def run_local(argv, in_data=None):
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdout, stderr = proc.communicate(in_data or b'')
    return proc.returncode, stdout, stderr


def run_ssh(client, argv, in_data=None, timeout=None):
    """Run ``argv`` on an SSH host (a paramiko SSHClient); stdin is ``in_data``."""
    channel = client.get_transport().open_session()
    try:
        channel.exec_command(' '.join(shlex.quote(arg) for arg in argv))
        if in_data:
            channel.sendall(in_data)
        channel.shutdown_write()
        stdout, stderr = [], []
        deadline = time.monotonic() + timeout if timeout else None
        # Drain both streams as they come: a full stderr window would stall stdout.
        while True:
            busy = False
            if channel.recv_ready():
                stdout.append(channel.recv(65536))
                busy = True
            if channel.recv_stderr_ready():
                stderr.append(channel.recv_stderr(65536))
                busy = True
            if channel.exit_status_ready() and not channel.recv_ready() and not channel.recv_stderr_ready():
                break
            if deadline and time.monotonic() > deadline:
                raise ContainerUnavailable('no answer from the container host within %ss' % timeout)
            if not busy:
                channel.status_event.wait(0.01)
        return channel.recv_exit_status(), b''.join(stdout), b''.join(stderr)
    finally:
        channel.close()
