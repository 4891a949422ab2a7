# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running a command inside a libvirt LXC container, here or on a host over SSH.

``virsh lxc-enter-namespace`` joins the container's namespaces (its mount
namespace makes the container's root the command's /), passes stdin through
and needs nothing from the controller but a way to run virsh on the
container's host: a subprocess locally, an SSH channel remotely. The same
argv serves both, so the local and remote paths cannot drift apart.

In a container with a user namespace (an ``<idmap>``) virsh's command runs
as the host's root seen through the map, which is nobody, and cannot be
root there. ENTER_HELPER, run by the host's Python with libvirt-python,
enters the same namespaces, becomes the container's root (uid 0 of its map)
and then runs the command; it is used only for such containers, since it
costs a Python start per command.
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


class NoEnterHelper(ContainerUnavailable):
    """The host's Python has no libvirt-python for ENTER_HELPER."""


# argv: uri, name, shell, command. Exit 126 with a "virtkit-lxc-enter:" line
# when it could not enter; else the command's own status. Namespaces the
# container shares with the host are already ours and are skipped (joining
# the host's network namespace from inside the container's user namespace is
# not permitted). The fork puts the command in the container's PID namespace.
ENTER_HELPER = r'''
import ctypes, os, sys
def fail(message):
    sys.stderr.write("virtkit-lxc-enter: %s\n" % message)
    sys.exit(126)
try:
    import libvirt, libvirt_lxc
except ImportError:
    fail("no libvirt-python")
uri, name, shell, command = sys.argv[1:5]
libvirt.registerErrorHandler(lambda *args: None, None)
try:
    conn = libvirt.open(uri)
    dom = conn.lookupByName(name)
    fds = libvirt_lxc.lxcOpenNamespace(dom, 0) or []
    if not fds:
        fail("Expected at least one file descriptor")
    libvirt_lxc.lxcEnterCGroup(dom, 0)
    conn.close()
except libvirt.libvirtError as exc:
    fail(exc)
libc = ctypes.CDLL(None, use_errno=True)
for fd in fds:
    ns = os.readlink("/proc/self/fd/%d" % fd)
    if ns != os.readlink("/proc/self/ns/" + ns.split(":")[0]) and libc.setns(fd, 0) != 0:
        fail("cannot join %s: %s" % (ns, os.strerror(ctypes.get_errno())))
    os.close(fd)
pid = os.fork()
if pid == 0:
    try:
        os.setgid(0)
        try:
            os.setgroups([])
        except OSError:
            pass
        os.setuid(0)
        os.execv(shell, [shell, "-c", command])
    except OSError as exc:
        sys.stderr.write("%s: %s\n" % (shell, exc))
        os._exit(127)
status = os.waitpid(pid, 0)[1]
sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
'''
_HELPER_FAILED = re.compile(r'^virtkit-lxc-enter: (.*)$', re.M)


def enter_argv(uri, name, command, shell='/bin/sh', python=None):
    """argv that runs ``command`` with ``shell -c`` in container ``name``:
    virsh, or ENTER_HELPER run by ``python``."""
    if python:
        return [python, '-c', ENTER_HELPER, uri, name, shell, command]
    # -q: without it virsh appends a newline to the command's output.
    return ['virsh', '-q', '-c', uri, 'lxc-enter-namespace', name, '--noseclabel', shell, '-c', command]


def definition_argv(uri, name):
    """virsh argv that prints the container's definition."""
    return ['virsh', '-q', '-c', uri, 'dumpxml', name]


def has_user_namespace(rc, definition):
    """Whether a container (from ``virsh dumpxml``'s rc and output) maps its
    users: then only ENTER_HELPER runs commands as its root."""
    return rc == 0 and b'<idmap' in definition


def interpret(rc, stdout, stderr, name, uri, helper=False):
    """virsh's or (``helper``) ENTER_HELPER's (rc, stdout, stderr) → the
    command's own (rc, stdout, stderr)."""
    if rc == 0:
        return 0, stdout, stderr
    text = stderr.decode('utf-8', 'replace')
    if helper:
        failed = _HELPER_FAILED.search(text) if rc == 126 else None
        if not failed:
            return rc, stdout, stderr  # the command's own status
        if failed.group(1) == 'no libvirt-python':
            raise NoEnterHelper('no libvirt-python on the container host for entering %r' % name)
        text = 'error: ' + failed.group(1)
    match = _EXIT_STATUS.search(text) or _SIGNAL.search(text)
    if match:
        code = int(match.group(1)) + (128 if match.re is _SIGNAL else 0)
        own = _EXIT_STATUS.sub('', _SIGNAL.sub('', text)).rstrip('\n')
        return code, stdout, (own + '\n' if own else '').encode('utf-8')
    if any(marker in text for marker in _STARTING):
        raise ContainerStarting('container %r on %s is still starting: %s' % (name, uri, text.strip()))
    if any(marker in text for marker in _NOT_RUNNING):
        raise ContainerUnavailable('container %r is not running on %s: %s' % (name, uri, text.strip()))
    raise ContainerUnavailable('could not enter container %r on %s (exit %d): %s'
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
