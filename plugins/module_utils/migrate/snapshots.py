# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Snapshot metadata across a migration.

libvirt refuses to migrate a domain that has snapshots ("cannot migrate
domain with N snapshots"): their metadata lives in the source daemon and
would be left behind. With ``snapshot_metadata: move`` it travels beside the
guest: each snapshot's XML is read, the metadata (only) is deleted on the
source, the guest moves, and the snapshots are redefined on the destination,
parents first, the current one current again. Their data - internal
snapshots inside qcow2 files, external overlay files - is in the storage,
which must be shared for that data to mean anything on the destination.
If the move fails, the metadata is redefined on the source.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtkit.virt.plugins.module_utils.errors import DriverError
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.migration import snapshot_summary


def read_snapshots(driver, name):
    """The domain's snapshots, parents before children: [{name, parent, current, xml}]."""
    try:
        listed = driver.list_snapshots(name)
    except DriverError as exc:
        if getattr(exc, 'unsupported', False):
            return []  # a driver without snapshots has none to leave behind
        raise
    by_name = {}
    for snap in listed:
        summary = snapshot_summary(snap['xml'])
        by_name[snap['name']] = dict(summary, name=snap['name'], current=snap['current'], xml=snap['xml'])
    ordered, placed = [], set()

    def place(snap, depth=0):
        if snap['name'] in placed or depth > len(by_name):
            return
        parent = by_name.get(snap['parent'])
        if parent is not None:
            place(parent, depth + 1)
        placed.add(snap['name'])
        ordered.append(snap)
    for snap in sorted(by_name.values(), key=lambda s: (s['created'], s['name'])):
        place(snap)
    return ordered


def roots(snapshots):
    names = set(s['name'] for s in snapshots)
    return [s for s in snapshots if s['parent'] not in names]


def forget(driver, name, snapshots):
    """Delete the metadata of every snapshot (each root with its children), never their data."""
    for snap in roots(snapshots):
        driver.delete_snapshot(name, snap['name'], children=True, metadata_only=True)


def redefine(driver, name, snapshots):
    """Redefine the snapshots, parents first; the current one last, as current."""
    for snap in snapshots:
        driver.create_snapshot(name, snap['xml'], redefine=True, current=False)
    current = [snap for snap in snapshots if snap['current']]
    for snap in current:
        driver.create_snapshot(name, snap['xml'], redefine=True, current=True)
