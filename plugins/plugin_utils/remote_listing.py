# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The listing helper that runs on a hypervisor host reached over SSH.

ssh.py sends this file, listing.py and the driver layer (errors, driver/
interface, parallel, libvirt_driver, libvirt_listing) to ``python3 -`` on
the host, so the host lists with the very driver the controller uses. Without libvirt-python there,
VirshListingReader gets the same raw data from ``virsh``. Either way the helper prints one JSON
document of raw listings (names, states, XML, leases, addresses): the
controller parses them with its own XML parsers. Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import subprocess
import sys

from ansible_collections.virtkit.virt.plugins.module_utils.errors import (
    ConnectionFailed, DriverError, MissingLibrary, NotFound, VirtError)
from ansible_collections.virtkit.virt.plugins.plugin_utils.listing import collect_listing

MARK = '@@VIRTKIT-END@@'
# virsh takes the whole batch as one argument: stay well below Linux's
# 128 KiB limit for a single argument.
_BATCH_BYTES = 64 * 1024
# virsh domstate words → driver.DOMAIN_STATES names.
_VIRSH_STATES = {'running': 'running', 'idle': 'blocked', 'paused': 'paused', 'in shutdown': 'shutdown',
                 'shut off': 'shutoff', 'crashed': 'crashed', 'pmsuspended': 'pmsuspended',
                 'no state': 'nostate'}


def _quote(word):
    """A word for virsh's own command-line parser."""
    if "'" not in word:
        return "'%s'" % word
    return '"%s"' % word.replace('\\', '\\\\').replace('"', '\\"')


class VirshListingReader(object):
    """What collect_listing reads from a driver (list_domains_with_xml,
    list_networks, network_leases, domain_addresses, close), through
    ``virsh``: those calls of the listing driver, no more, so not a Driver."""

    def __init__(self, uri, virsh='virsh', timeout=None):
        self.uri = uri
        self._virsh = virsh
        self._timeout = timeout

    def close(self):
        pass

    def _virsh_run(self, command, action):
        try:
            proc = subprocess.Popen([self._virsh, '-q', '-c', self.uri, command],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as exc:
            raise MissingLibrary('neither libvirt-python nor virsh is installed on this host (%s): install '
                                 'python3-libvirt or libvirt-clients there' % exc, action='list domains')
        out, err = proc.communicate()
        return proc.returncode, out.decode('utf-8', 'replace'), err.decode('utf-8', 'replace')

    def _one(self, command, action, resource):
        code, out, err = self._virsh_run(command, action)
        if code != 0:
            message = err.strip().replace('error: ', '') or 'virsh exited with %d' % code
            if 'failed to connect' in message.lower():
                raise ConnectionFailed(message, resource='libvirt at %r' % self.uri, action='connect to')
            if 'failed to get' in message.lower() or 'not found' in message.lower():
                raise NotFound(message, resource=resource, action=action)
            raise DriverError(message, resource=resource, action=action)
        return out

    def _batch(self, commands, action):
        """Outputs of many commands, in as few virsh runs as fit."""
        outputs, chunk, size = [], [], 0
        for command in commands:
            if chunk and size + len(command) > _BATCH_BYTES:
                outputs.extend(self._chunk(chunk, action))
                chunk, size = [], 0
            chunk.append(command)
            size += len(command) + len(MARK) + 12
        if chunk:
            outputs.extend(self._chunk(chunk, action))
        return outputs

    def _chunk(self, commands, action):
        out = self._one(' ; '.join('%s ; echo %s' % (c, MARK) for c in commands), action, 'domains')
        parts = out.split(MARK)
        return [part.strip() for part in parts[:len(commands)]]

    def _names(self, flags):
        return [n.strip() for n in self._one('list --name %s' % flags, 'list domains', 'domains').splitlines()
                if n.strip()]

    def list_domains_with_xml(self):
        names = self._names('--all')
        autostart = set(self._names('--all --autostart'))
        persistent = set(self._names('--all --persistent'))
        commands = []
        for name in names:
            commands.extend(['domstate %s' % _quote(name), 'dumpxml %s' % _quote(name)])
        outputs = self._batch(commands, 'list domains')
        records = []
        for index, name in enumerate(names):
            state, xml = outputs[2 * index], outputs[2 * index + 1]
            if not xml.startswith('<domain'):
                continue  # undefined meanwhile
            records.append({'name': name, 'uuid': None, 'id': None,
                            'state': _VIRSH_STATES.get(state.strip().lower(), 'nostate'),
                            'persistent': name in persistent, 'autostart': name in autostart,
                            'xml': xml})
        return records

    def list_networks(self):
        out = self._one('net-list --name', 'list networks', 'networks')
        return [{'name': n.strip(), 'active': True} for n in out.splitlines() if n.strip()]

    def network_leases(self, name):
        out = self._one('net-dhcp-leases %s' % _quote(name), 'read DHCP leases of', 'network %r' % name)
        return parse_virsh_leases(out)

    def domain_addresses(self, name, source):
        out = self._one('domifaddr %s --source %s' % (_quote(name), source),
                        'read %s addresses of' % source, 'domain %r' % name)
        return parse_virsh_addresses(out)


def _table_rows(out):
    """Data rows of a virsh table (after the dashed rule)."""
    lines = out.splitlines()
    for index, line in enumerate(lines):
        if line.startswith('---'):
            return [row.split() for row in lines[index + 1:] if row.strip()]
    return [row.split() for row in lines if row.strip() and not row.lstrip().startswith(('Expiry', 'Name'))]


def parse_virsh_leases(out):
    """``virsh net-dhcp-leases`` → network_leases records."""
    leases = []
    for parts in _table_rows(out):
        if len(parts) < 5:
            continue
        addr, _sep, prefix = parts[4].partition('/')
        leases.append({'mac': parts[2].lower(), 'ip': addr, 'prefix': int(prefix) if prefix.isdigit() else None,
                       'hostname': parts[5] if len(parts) > 5 and parts[5] != '-' else None,
                       'expiry': None, 'type': parts[3]})
    return leases


def parse_virsh_addresses(out):
    """``virsh domifaddr`` → domain_addresses records ("-" continues the row above)."""
    interfaces = []
    for parts in _table_rows(out):
        if len(parts) < 4:
            continue
        if parts[0] != '-' or not interfaces:
            interfaces.append({'name': parts[0], 'mac': parts[1].lower() if parts[1] != '-' else None,
                               'addresses': []})
        addr, _sep, prefix = parts[3].partition('/')
        interfaces[-1]['addresses'].append({'type': parts[2], 'addr': addr,
                                            'prefix': int(prefix) if prefix.isdigit() else None})
    return interfaces


def open_host_driver(uri):
    """The libvirt driver when libvirt-python is here, else virsh."""
    try:
        from ansible_collections.virtkit.virt.plugins.module_utils.driver.libvirt_listing import LibvirtListingDriver
        return LibvirtListingDriver(uri, readonly=False), 'libvirt-python'
    except MissingLibrary:
        return VirshListingReader(uri), 'virsh'


def list_uri(uri, params, force_virsh=False):
    driver, helper = (VirshListingReader(uri), 'virsh') if force_virsh else open_host_driver(uri)
    try:
        listing = collect_listing(driver, ip_sources=params.get('ip_sources', ('lease', 'agent')),
                                  agent_timeout=params.get('agent_timeout', 5),
                                  agent_channel=params.get('agent_channel'))
        return {'uri': uri, 'helper': helper, 'listing': listing}
    except VirtError as exc:
        return {'uri': uri, 'helper': helper, 'error': exc.describe(), 'kind': exc.kind}
    finally:
        driver.close()


def main(params, out=None):
    """Print {listings: [{uri, helper, listing | error, kind}]} as JSON."""
    out = out or sys.stdout
    result = {'listings': [list_uri(uri, params, params.get('force_virsh', False)) for uri in params['uris']]}
    out.write(json.dumps(result))
    out.flush()
