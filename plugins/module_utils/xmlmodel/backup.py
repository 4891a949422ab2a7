# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup and checkpoint XML ⇄ canonical dicts.

Backup request (push mode, ``virDomainBackupBegin``)::

    {incremental: checkpoint name or None,
     disks: [{name (target), backup: bool, file, format}]}

Checkpoint::

    {name, description, parent, creation_time, disks: [{name, checkpoint: bitmap|no, bitmap}]}
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel import common as x


def build_backup_xml(spec):
    root = x.element('domainbackup', {'mode': 'push'})
    if spec.get('incremental'):
        x.sub(root, 'incremental', text=spec['incremental'])
    disks = x.sub(root, 'disks')
    for disk in spec['disks']:
        if not disk['backup']:
            x.sub(disks, 'disk', {'name': disk['name'], 'backup': 'no'})
            continue
        el = x.sub(disks, 'disk', {'name': disk['name'], 'backup': 'yes', 'type': 'file'})
        if spec.get('incremental'):
            el.set('backupmode', 'incremental')
        else:
            el.set('backupmode', 'full')
        x.sub(el, 'target', {'file': disk['file']})
        x.sub(el, 'driver', {'type': disk.get('format') or 'qcow2'})
    return x.to_string(root)


def build_checkpoint_xml(spec):
    root = x.element('domaincheckpoint')
    x.sub(root, 'name', text=spec['name'])
    if spec.get('description'):
        x.sub(root, 'description', text=spec['description'])
    disks = x.sub(root, 'disks')
    for disk in spec['disks']:
        x.sub(disks, 'disk', {'name': disk['name'], 'checkpoint': disk['checkpoint']})
    return x.to_string(root)


def parse_checkpoint_xml(xml):
    root = x.parse(xml, 'checkpoint', 'domaincheckpoint')
    return {
        'name': x.text(root, 'name'),
        'description': x.text(root, 'description'),
        'parent': x.text(root, 'parent/name'),
        'creation_time': x.text(root, 'creationTime', int),
        'disks': [{'name': el.get('name'), 'checkpoint': el.get('checkpoint') or 'bitmap', 'bitmap': el.get('bitmap')}
                  for el in root.findall('disks/disk')],
    }


def backup_supported(domain_capabilities_xml):
    """What the domain capabilities say of the backup API
    (``<features><backup supported='yes'/>``): True, False, or None when
    they do not say (an older libvirt)."""
    root = x.parse(domain_capabilities_xml, 'domain capabilities', 'domainCapabilities')
    el = root.find('features/backup')
    if el is None:
        return None
    return el.get('supported') == 'yes'


def domain_platform(domain_xml):
    """``{virt_type, arch, machine}`` of a domain's XML: what the host's
    domain capabilities are asked for (the backup module reads no more of
    it, and so ships no domain parser)."""
    return x.platform(x.parse(domain_xml, 'domain XML', 'domain'))
