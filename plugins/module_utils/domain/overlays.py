# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Disks under external snapshots.

After an external snapshot a disk's source is the overlay file, and the
image the task names (a volume, a path) is in its backing chain. A task
that names the image means that disk: putting the image back as the source
would drop what the guest wrote since and write into a file the snapshot
froze. So a desired disk whose source is in a current disk's backing chain
takes that disk's overlay.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtkit.virt.plugins.module_utils.errors import NotFound
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.snapshot import snapshot_disks
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.storage import parse_volume_xml


def keep_overlays(driver, disks, config_xml):
    """``disks`` (desired, or None) with the sources of the disks an
    external snapshot has put overlays on replaced by the overlays."""
    if not disks:
        return disks
    chains = [disk for disk in snapshot_disks(config_xml) if disk['backing'] and disk['path']]
    if not chains:
        return disks
    result = []
    for disk in disks:
        names = _names(driver, disk)
        for current in chains:
            if names & set(current['backing']) and disk.get('target') in (None, current['name']):
                disk = dict(disk, path=current['path'], pool=None, volume=None, format=current['format'],
                            target=current['name'])
                break
        result.append(disk)
    return result


def _names(driver, disk):
    """What a backing chain may call the disk's image: its path, POOL/VOLUME."""
    names = set()
    if disk.get('pool') and disk.get('volume'):
        names.add('%s/%s' % (disk['pool'], disk['volume']))
        try:
            names.add(parse_volume_xml(driver.volume_xml(disk['pool'], disk['volume']))['path'])
        except NotFound:
            pass
    elif disk.get('path'):
        names.add(disk['path'])
    return set(name for name in names if name)
