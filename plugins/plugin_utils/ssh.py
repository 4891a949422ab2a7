# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hypervisor hosts over SSH (paramiko), for controllers without a libvirt client.

Host keys are always checked against a known_hosts file: an unknown or a
changed key is an error that says what to do, never a key silently accepted.

list_over_ssh() ships the listing code itself (remote_listing.py, listing.py
and the driver layer: errors.py and driver/interface.py, parallel.py,
libvirt_driver.py, libvirt_listing.py) to ``python3 -`` on the host, the way Ansible ships a
module: one listing code path, here and there.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import socket
import traceback

from ansible_collections.virtkit.virt.plugins.module_utils.errors import ConnectionFailed, DriverError, MissingLibrary

try:
    import paramiko
    PARAMIKO_IMPORT_ERROR = None
except ImportError:
    paramiko = None
    PARAMIKO_IMPORT_ERROR = traceback.format_exc()

_PACKAGE = 'ansible_collections.virtkit.virt.plugins'
# In import order: each imports only those before it (and the standard library).
SHIPPED = ('module_utils.errors', 'module_utils.driver.interface', 'module_utils.driver.parallel',
           'module_utils.driver.libvirt_driver', 'module_utils.driver.libvirt_listing', 'plugin_utils.listing',
           'plugin_utils.remote_listing')
_PLUGINS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_BOOTSTRAP = '''
import sys, types
def _virtkit_install(sources):
    for name, source in sources:
        parts = name.split('.')
        for depth in range(1, len(parts)):
            package = '.'.join(parts[:depth])
            if package not in sys.modules:
                module = types.ModuleType(package)
                module.__path__ = []
                sys.modules[package] = module
                if depth > 1:
                    setattr(sys.modules['.'.join(parts[:depth - 1])], parts[depth - 1], module)
        module = types.ModuleType(name)
        module.__file__ = '<virtkit %%s>' %% name
        sys.modules[name] = module
        setattr(sys.modules['.'.join(parts[:-1])], parts[-1], module)
        exec(compile(source, module.__file__, 'exec'), module.__dict__)
_virtkit_install(%(sources)r)
from ansible_collections.virtkit.virt.plugins.plugin_utils.remote_listing import main
main(%(params)r)
'''


def listing_payload(params):
    """The Python program that lists ``params['uris']`` on the host."""
    sources = []
    for name in SHIPPED:
        with open(os.path.join(_PLUGINS_DIR, *name.split('.')) + '.py') as handle:
            sources.append(('%s.%s' % (_PACKAGE, name), handle.read()))
    return _BOOTSTRAP % {'sources': sources, 'params': params}


def require_paramiko():
    if paramiko is None:
        raise MissingLibrary('The Python library paramiko is missing on the controller: '
                             '"pip install paramiko" (or the python3-paramiko package).',
                             action='import paramiko')


def ssh_connect(host, port=22, user=None, key_file=None, known_hosts_file=None, timeout=30):
    """A paramiko SSHClient, host key verified against ``known_hosts_file``
    (default ~/.ssh/known_hosts). Raises ConnectionFailed with a message
    that names the file and the fix."""
    require_paramiko()
    known_hosts_file = os.path.expanduser(known_hosts_file or '~/.ssh/known_hosts')
    where = '%s@%s:%s' % (user, host, port) if user else '%s:%s' % (host, port)
    resource = 'SSH host %s' % where
    client = paramiko.SSHClient()
    if not os.path.exists(known_hosts_file):
        raise ConnectionFailed('the known_hosts file %s does not exist: host keys are always verified; '
                               'add the host key of %s to it after checking its fingerprint' % (known_hosts_file, host),
                               resource=resource, action='connect to')
    client.load_host_keys(known_hosts_file)
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    try:
        client.connect(host, port=port, username=user, key_filename=os.path.expanduser(key_file) if key_file else None,
                       timeout=timeout, banner_timeout=timeout, auth_timeout=timeout,
                       look_for_keys=key_file is None, allow_agent=key_file is None)
    except paramiko.BadHostKeyException as exc:
        client.close()
        raise ConnectionFailed(
            'the host key of %s does not match the one in %s (got %s %s, expected %s): refused; if the host '
            'was reinstalled, replace its line after checking the new fingerprint, otherwise someone may be '
            'in between' % (host, known_hosts_file, exc.key.get_name(), exc.key.get_base64()[:16] + '...',
                            exc.expected_key.get_name()), resource=resource, action='connect to')
    except paramiko.SSHException as exc:
        client.close()
        if 'not found in known_hosts' in str(exc):
            hostname = host if int(port) == 22 else '[%s]:%s' % (host, port)
            raise ConnectionFailed(
                'the host key of %s is not in %s: refused (unknown keys are never accepted); add it after '
                'checking its fingerprint, for example with "ssh-keyscan -p %s %s >> %s"'
                % (hostname, known_hosts_file, port, host, known_hosts_file), resource=resource, action='connect to')
        raise ConnectionFailed(str(exc), resource=resource, action='connect to')
    except (socket.error, EOFError) as exc:
        client.close()
        raise ConnectionFailed(str(exc) or exc.__class__.__name__, resource=resource, action='connect to')
    return client


def run_python(client, program, python='python3', timeout=60):
    """Run ``program`` with the host's ``python -``; (exit code, stdout, stderr)."""
    stdin, stdout, stderr = client.exec_command('%s -' % python, timeout=timeout)
    stdin.write(program)
    stdin.flush()
    stdin.channel.shutdown_write()
    out = stdout.read()
    err = stderr.read()
    return stdout.channel.recv_exit_status(), out.decode('utf-8', 'replace'), err.decode('utf-8', 'replace')


def list_over_ssh(host, uris, params, port=22, user=None, key_file=None, known_hosts_file=None,
                  python='python3', timeout=60):
    """[{uri, helper, listing | error, kind}] for ``uris`` on ``host``."""
    client = ssh_connect(host, port=port, user=user, key_file=key_file,
                         known_hosts_file=known_hosts_file, timeout=timeout)
    try:
        code, out, err = run_python(client, listing_payload(dict(params, uris=list(uris))), python, timeout)
    except (socket.timeout, paramiko.SSHException) as exc:
        raise ConnectionFailed('no answer from the listing helper: %s' % (exc or 'timed out'),
                               resource='SSH host %s' % host, action='list guests on')
    finally:
        client.close()
    if code == 127:
        raise MissingLibrary('%s is not installed on %s (the listing helper needs Python 3 there)' % (python, host),
                             action='list guests on %s' % host)
    if code != 0:
        raise DriverError('the listing helper failed (exit %d): %s' % (code, err.strip()[-2000:]),
                          resource='SSH host %s' % host, action='list guests on')
    try:
        return json.loads(out)['listings']
    except (ValueError, KeyError) as exc:
        raise DriverError('the listing helper printed no listing (%s): %s' % (exc, (err or out).strip()[-2000:]),
                          resource='SSH host %s' % host, action='list guests on')
