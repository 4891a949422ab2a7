# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: lxc
short_description: Run tasks inside libvirt LXC containers
version_added: 0.1.0
author:
  - virtkit.virt maintainers (@virtkit)
description:
  - Runs Ansible tasks inside a running libvirt LXC container by entering its namespaces
    (C(virsh lxc-enter-namespace)), on the controller itself or on a container host reached over SSH.
  - Files are copied in and out through the same channel, so nothing has to run in the container but C(/bin/sh)
    (and Python for ordinary modules; M(ansible.builtin.raw) works in a busybox container).
  - With O(virt_host) set, the container host is reached over SSH with paramiko. Its host key is verified against
    O(known_hosts_file); an unknown or changed key is an error, never accepted silently.
requirements:
  - virsh (libvirt-clients) on the container host
  - paramiko on the controller, for O(virt_host)
options:
  remote_addr:
    description: The container's libvirt name.
    default: inventory_hostname
    type: str
    vars:
      - name: inventory_hostname
      - name: ansible_host
      - name: virt_container_name
  uri:
    description: The libvirt URI of the LXC driver on the container host.
    type: str
    default: lxc:///
    vars:
      - name: virt_lxc_uri
  virt_host:
    description: The container host to reach over SSH. Leave unset when the controller is the container host.
    type: str
    vars:
      - name: virt_host
  virt_user:
    description: The SSH user on O(virt_host); it must be allowed to enter containers (normally root).
    type: str
    default: root
    vars:
      - name: virt_user
  virt_port:
    description: The SSH port of O(virt_host).
    type: int
    default: 22
    vars:
      - name: virt_port
  key_file:
    description: Private key for O(virt_host); without it, paramiko's default keys and the SSH agent are tried.
    type: path
    vars:
      - name: virt_key_file
  known_hosts_file:
    description: The known_hosts file that O(virt_host)'s key is checked against.
    type: path
    default: ~/.ssh/known_hosts
    vars:
      - name: virt_known_hosts_file
  python:
    description:
      - The Python 3 with libvirt-python on the container host that enters a user-namespace container (one with an
        C(idmap)), so that commands run as the container's root. Other containers are entered with
        C(virsh lxc-enter-namespace).
      - Default the controller's own Python when the controller is the container host, else C(python3).
      - Without libvirt-python there, C(virsh lxc-enter-namespace) is used with a warning, and commands in such a
        container run as C(nobody).
    type: str
    vars:
      - name: virt_lxc_python
  timeout:
    description: Seconds to wait for the SSH connection.
    type: int
    default: 30
    vars:
      - name: virt_ssh_timeout
notes:
  - Privilege escalation works with become methods that need no password prompt inside the container (C(su) or
    C(sudo) as root, which is what commands in the container run as).
  - In a user-namespace container (one with an C(idmap)) commands run as the container's root too, through a small
    program the container host's Python runs (see O(python)); C(virsh lxc-enter-namespace) alone would run them as
    C(nobody). Finding out costs one C(virsh dumpxml) per connection.
'''

EXAMPLES = r'''
# inventory
# [containers]
# web1 ansible_connection=virtkit.virt.lxc
# db1  ansible_connection=virtkit.virt.lxc virt_host=hv1.example.com virt_key_file=~/.ssh/hv1

- name: Configure containers
  hosts: containers
  tasks:
    - name: Ordinary modules work where the container has Python
      ansible.builtin.copy:
        content: "hello\n"
        dest: /etc/motd
'''

import importlib.util
import os
import re
import sys
import time

from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.module_utils.common.text.converters import to_bytes
from ansible.plugins.connection import ConnectionBase
from ansible.utils.display import Display

from ansible_collections.virtkit.virt.plugins.module_utils.errors import VirtError
from ansible_collections.virtkit.virt.plugins.plugin_utils.lxc_exec import (
    ContainerStarting, ContainerUnavailable, NoEnterHelper, definition_argv, enter_argv, has_user_namespace,
    interpret, run_local, run_ssh)

display = Display()
# lxc:/// and its transports (the connection runs virsh on the container host itself).
_LXC_URI_RE = re.compile(r'^lxc(\+[a-z0-9]+)?://[^\s/]*/[^\s]*$')


def python_here():
    """This Python when it has libvirt-python (it enters containers on this
    machine), else python3 from the PATH. Looked up, not imported: only
    libvirt_driver.py imports libvirt."""
    return sys.executable if importlib.util.find_spec('libvirt_lxc') is not None else 'python3'


class Connection(ConnectionBase):
    transport = 'virtkit.virt.lxc'
    has_pipelining = True
    default_user = 'root'

    def __init__(self, *args, **kwargs):
        super(Connection, self).__init__(*args, **kwargs)
        self._ssh = None
        self._python = None  # set for a user-namespace container: enter it with ENTER_HELPER

    @property
    def _container(self):
        return self.get_option('remote_addr')

    def _connect(self):
        if self._connected:
            return self
        uri = self.get_option('uri')
        if not _LXC_URI_RE.match(uri or ''):
            raise AnsibleConnectionFailure('virtkit.virt.lxc: invalid uri (virt_lxc_uri) %r: not a libvirt LXC URI '
                                           '(lxc:/// on the container host)' % (uri,))
        host = self.get_option('virt_host')
        if host:
            # Shared with the inventory's SSH path: same host key policy.
            from ansible_collections.virtkit.virt.plugins.plugin_utils.ssh import ssh_connect
            try:
                self._ssh = ssh_connect(host, port=self.get_option('virt_port'), user=self.get_option('virt_user'),
                                        key_file=self.get_option('key_file'),
                                        known_hosts_file=self.get_option('known_hosts_file'),
                                        timeout=self.get_option('timeout'))
            except VirtError as exc:
                raise AnsibleConnectionFailure('virtkit.virt.lxc: %s' % exc.describe())
        where = ' on %s' % host if host else ''
        self._connected = True
        self._python = None
        try:
            rc, definition, _stderr = self._exec(definition_argv(self.get_option('uri'), self._container))
        except ContainerUnavailable:
            rc, definition = 1, b''  # the command itself says what is wrong
        if has_user_namespace(rc, definition):
            self._python = self.get_option('python') or (python_here() if host is None else 'python3')
        display.vvv('ENTER container %s (%s%s%s)' % (self._container, self.get_option('uri'), where,
                                                     ', user namespace' if self._python else ''),
                    host=self._container)
        return self

    def _exec(self, argv, in_data=None):
        """(rc, stdout, stderr) of ``argv`` on the container host."""
        if self._ssh is not None:
            return run_ssh(self._ssh, argv, in_data)
        try:
            return run_local(argv, in_data)
        except OSError as exc:
            raise ContainerUnavailable('cannot run %s on the controller (%s): install libvirt-clients, '
                                       'or set virt_host to reach the container host' % (argv[0], exc))

    def _run(self, command, in_data=None):
        for attempt in range(20):
            try:
                return self._run_once(command, in_data)
            except ContainerStarting:
                if attempt == 19:
                    raise AnsibleConnectionFailure('virtkit.virt.lxc: container %s never became enterable' % self._container)
                time.sleep(0.5)

    def _run_once(self, command, in_data=None):
        self._connect()
        try:
            try:
                return self._enter(command, in_data)
            except NoEnterHelper as exc:
                display.warning('virtkit.virt.lxc: %s (set virt_lxc_python to a Python with it); entering with '
                                'virsh, commands in this user-namespace container run as nobody' % exc)
                self._python = None
                return self._enter(command, in_data)
        except ContainerStarting:
            raise
        except ContainerUnavailable as exc:
            raise AnsibleConnectionFailure('virtkit.virt.lxc: %s' % exc)

    def _enter(self, command, in_data):
        argv = enter_argv(self.get_option('uri'), self._container, command, python=self._python)
        rc, stdout, stderr = self._exec(argv, in_data)
        return interpret(rc, stdout, stderr, self._container, self.get_option('uri'), helper=bool(self._python))

    def exec_command(self, cmd, in_data=None, sudoable=True):
        super(Connection, self).exec_command(cmd, in_data=in_data, sudoable=sudoable)
        display.vvv('EXEC %s' % cmd, host=self._container)
        return self._run(cmd, in_data)

    def put_file(self, in_path, out_path):
        super(Connection, self).put_file(in_path, out_path)
        display.vvv('PUT %s TO %s' % (in_path, out_path), host=self._container)
        if not os.path.isfile(to_bytes(in_path)):
            raise AnsibleError('file or module does not exist: %s' % in_path)
        with open(to_bytes(in_path), 'rb') as handle:
            data = handle.read()
        rc, _stdout, stderr = self._run('cat > %s' % self._shell.quote(out_path), data)
        if rc != 0:
            raise AnsibleError('failed to put %s into container %s at %s: %s'
                               % (in_path, self._container, out_path, stderr.decode('utf-8', 'replace').strip()))

    def fetch_file(self, in_path, out_path):
        super(Connection, self).fetch_file(in_path, out_path)
        display.vvv('FETCH %s TO %s' % (in_path, out_path), host=self._container)
        rc, stdout, stderr = self._run('cat %s' % self._shell.quote(in_path))
        if rc != 0:
            raise AnsibleError('failed to fetch %s from container %s: %s'
                               % (in_path, self._container, stderr.decode('utf-8', 'replace').strip()))
        with open(to_bytes(out_path), 'wb') as handle:
            handle.write(stdout)

    def reset(self):
        self.close()

    def close(self):
        if self._ssh is not None:
            self._ssh.close()
            self._ssh = None
        self._connected = False
