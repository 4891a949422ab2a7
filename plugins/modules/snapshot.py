#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: snapshot
short_description: Snapshots of libvirt domains - take, revert to, delete
version_added: 0.2.0
description:
  - Takes a snapshot of a domain, reverts the domain to one, or deletes one.
  - Declarative. A snapshot that exists is never taken again (only its O(description) can change); reverting to the
    snapshot that is current, with the domain as the revert would leave it, changes nothing unless
    O(force_revert=true).
  - An B(internal) snapshot lives inside the domain's qcow2 images (and, for a running guest, holds its memory, so a
    revert resumes it where it was). An B(external) snapshot freezes the disks' files and lets the guest write to
    new overlay files from then on (O(disk_only=true)), placed beside the disks or at the paths in O(disks).
  - libvirt's limits are checked before anything is touched, and the task fails naming them - internal snapshots
    need qcow2 disks, an internal snapshot of a running guest always holds its memory, libvirt makes no internal
    snapshot of a running UEFI guest, O(quiesce) needs an answering guest agent, reverting to an external snapshot
    needs libvirt 9.9, deleting an external snapshot together with its descendants is refused. A refused request
    leaves nothing half done.
  - Beside O(domain), O(name), O(state) and the connection's options, each option serves one state - O(description),
    O(memory), O(external), O(disk_only), O(disks), O(memory_file), O(quiesce) and O(atomic) taking a snapshot
    (O(state=present)), O(children) and O(metadata_only) deleting one (O(state=absent)), O(revert_state) and
    O(force_revert) reverting to one (O(state=current)). Given with another state, an option fails the task before
    anything is touched, naming the option and the state. V(false) for O(disk_only), O(quiesce), O(children),
    O(metadata_only) and O(force_revert), and V(true) for O(atomic), ask for nothing and pass with any state.
author:
  - virtkit.virt maintainers (@virtkit)
extends_documentation_fragment:
  - virtkit.virt.connection
  - virtkit.virt.attributes
attributes:
  check_mode:
    description: Check mode reports exactly the actions a real run would take, a revert that powers off a running
      guest included; libvirt's limits fail in check mode as they would in a real run.
  diff_mode:
    description: The diff shows the snapshot taken (location, memory, disks and their overlay files, C(quiesce) when
      the agent freezes the guest's filesystems for it), the current snapshot and the power state before and after
      a revert, the snapshots a deletion removes.
options:
  domain:
    description: The domain (by name).
    type: str
    required: true
  name:
    description: Name of the snapshot. A plain name (no C(/)); it becomes part of overlay file names.
    type: str
    required: true
  state:
    description:
      - V(present) - the snapshot exists; it is taken if it does not, never taken again.
      - V(current) - the domain is reverted to the snapshot (see O(revert_state)). No change when it is the current
        snapshot, the domain is in the state the revert would leave, and its definition (memory, vCPUs, machine,
        kernel and command line, disks, interfaces) is the one saved in the snapshot. What the guest did inside
        since (files written, packages installed) is invisible to libvirt - set O(force_revert=true) to go back
        anyway.
      - V(absent) - the snapshot is deleted (with O(children=true) its descendants too). Deleting an internal
        snapshot frees its space in the images; deleting an external one merges its overlay files back (libvirt
        9.0 and later).
    type: str
    choices: [present, current, absent]
    default: present
  description:
    description: Free text kept with the snapshot. Changing it later changes only the description.
    type: str
  memory:
    description:
      - Also save the guest's memory, so that a revert resumes it running (or paused) where it was. Needs a running
        or paused guest.
      - Not set - V(true) for an internal snapshot of a running or paused guest (libvirt makes those only with the
        memory), V(false) otherwise. The guest is paused while its memory is saved.
    type: bool
  external:
    description:
      - Make an external snapshot - overlay files - instead of an internal one. With O(memory=true) the memory goes to
        O(memory_file). O(disk_only=true) implies it.
    type: bool
  disk_only:
    description:
      - Only the disks, as overlay files (an external snapshot without memory) - the guest keeps running and writes to
        the overlays from then on; works for disks of any format.
    type: bool
    default: false
  disks:
    description:
      - How each disk (by target) is handled. Disks not listed are in the snapshot, except read-only disks, cdroms,
        shareable disks and empty drives, which never are (so an internal snapshot works with a raw cloud-init seed
        attached read-only, but not with a writable raw disk).
    type: list
    elements: dict
    suboptions:
      name:
        description: The disk's target (V(vda), V(sdb) ...).
        type: str
        required: true
      file:
        description:
          - For an external snapshot, the overlay file to create (it must not exist). Not set - beside the disk's
            file, named after it and the snapshot (C(web1.qcow2) gets C(web1.NAME.qcow2)).
        type: path
      exclude:
        description:
          - Leave this disk out of an external snapshot (it gets no overlay). libvirt puts every writable disk in an
            internal snapshot, so internal snapshots exclude none.
        type: bool
        default: false
  memory_file:
    description: For an external snapshot with memory, the file to save the memory to. Not set - beside the first
      overlay, C(DOMAIN.NAME.mem).
    type: path
  quiesce:
    description:
      - Freeze the guest's filesystems through the QEMU guest agent while the snapshot is taken (consistent
        filesystems). Only with O(disk_only=true) and a running guest whose agent answers; fails, taking nothing,
        when no agent answers.
    type: bool
    default: false
  atomic:
    description: All disks are in the snapshot or none is - a failure on one disk leaves no overlay on the others.
    type: bool
    default: true
  children:
    description: With O(state=absent), also delete the snapshot's descendants.
    type: bool
  metadata_only:
    description:
      - With O(state=absent), only make libvirt forget the snapshot - its data stays in the images (internal) or in
        the overlay and memory files (external).
    type: bool
  revert_state:
    description:
      - With O(state=current), the power state after the revert. V(saved) - as the snapshot saved it (a snapshot
        with memory resumes running or paused; one without leaves the domain shut off). V(running) or V(paused) -
        a snapshot without memory boots from its disks.
      - A revert to a snapshot without memory powers off a running guest at once (not a graceful shutdown); the
        actions, the diff (C(stops_running_guest)) and check mode say so.
    type: str
    choices: [saved, running, paused]
  force_revert:
    description:
      - With O(state=current), revert even when the snapshot is current and the domain is as the revert would leave
        it, and let libvirt do a revert it calls risky (a definition that is not ABI compatible).
    type: bool
notes:
  - Internal snapshots are in the qcow2 images, so M(virtkit.virt.volume) and M(virtkit.virt.domain) with
    O(virtkit.virt.domain#module:remove_storage) remove them with the images. M(virtkit.virt.domain) with
    O(virtkit.virt.domain#module:state=absent) removes the snapshot metadata too.
  - After an external snapshot the domain's disks are the overlay files, backed by the files that were its disks. A
    later M(virtkit.virt.domain) task that names a disk by its image (a volume or a path now in the overlay's backing
    chain) means the overlay, and leaves it in place.
  - The UEFI variables (NVRAM) are never part of a snapshot.
  - On VMware ESX and vCenter (C(esx://), C(vpx://)) a snapshot is VMware's own, of every disk (delta disks ESX
    places) and of a running VM's memory. External and disk-only snapshots, O(memory=false) for a running VM, a new
    O(description) for an existing snapshot and O(metadata_only) fail naming the option and libvirt's esx driver;
    O(revert_state=running) and O(revert_state=paused) start (and suspend) the VM after the revert.
seealso:
  - module: virtkit.virt.snapshot_info
  - name: libvirt snapshot XML format
    description: What libvirt records of a snapshot.
    link: https://libvirt.org/formatsnapshot.html
'''

EXAMPLES = r'''
- name: A snapshot of the running guest, with its memory, before the upgrade
  virtkit.virt.snapshot:
    domain: web1
    name: before-upgrade
    description: Debian 12.5, before apt full-upgrade

- name: Back to it (the guest resumes where it was)
  virtkit.virt.snapshot:
    domain: web1
    name: before-upgrade
    state: current
    force_revert: true   # the upgrade happened inside the guest, which libvirt cannot see

- name: A disk-only snapshot of a running guest in overlay files, filesystems frozen by the agent
  virtkit.virt.snapshot:
    domain: db1
    name: nightly
    disk_only: true
    quiesce: true
    disks:
      - name: vdb
        file: /srv/overlays/db1-data.nightly.qcow2

- name: Delete a snapshot and everything taken after it
  virtkit.virt.snapshot:
    domain: web1
    name: before-upgrade
    state: absent
    children: true
'''

RETURN = r'''
snapshot:
  description: The snapshot after the task (before it, in check mode). C(exists=false) when there is none.
  returned: success
  type: dict
  contains:
    domain: {description: The domain., type: str}
    name: {description: The snapshot's name., type: str}
    exists: {description: Whether it exists., type: bool}
    description: {description: Its description., type: str}
    parent: {description: The snapshot it was taken after (null for a root)., type: str}
    children: {description: 'Names of the snapshots taken after it, oldest first.', type: list, elements: str}
    state:
      description: The domain's state it saved (V(running), V(paused), V(shutoff), V(disk-snapshot) for one without
        memory of a running guest).
      type: str
    creation_time: {description: When it was taken (seconds since the epoch)., type: int}
    current: {description: Whether it is the domain's current snapshot., type: bool}
    location: {description: V(internal) or V(external)., type: str}
    memory:
      description: Whether it holds the guest's memory; null where libvirt does not record it (libvirt's esx
        driver).
      type: bool
    memory_file: {description: The file holding the memory of an external snapshot., type: str}
    disks:
      description: Each disk with C(name) (target), C(snapshot) (V(internal), V(external) or V(no)), C(source) (the
        file the disk was at the snapshot - frozen for an external one) and C(overlay) (the file an external
        snapshot made, which the guest wrote to afterwards).
      type: list
      elements: dict
    domain_state: {description: The domain's power state after the task., type: str}
actions:
  description: What the task did (or would do in check mode), in order.
  returned: success
  type: list
  elements: str
  sample: ["take internal snapshot with memory"]
error:
  description:
    - The kind of failure, for C(failed_when), C(until) and C(rescue) to tell apart without reading C(msg).
    - V(invalid) (bad input, named in C(msg); nothing was touched), V(not found), V(conflict) (the request
      contradicts the current state), V(missing library) (on the target host), V(connection), V(driver) (libvirt
      refused), V(timeout), V(interrupted) (a signal; what the task made was undone) or V(internal) (a bug).
  returned: failure
  type: str
  sample: not found
'''

# First: the module_utils below load through it (compiled once, kept between runs on the target).
from ansible_collections.virtkit.virt.plugins.module_utils.engine import bytecode_cache  # pylint: disable=unused-import
from ansible_collections.virtkit.virt.plugins.module_utils.engine.runner import run_module
from ansible_collections.virtkit.virt.plugins.module_utils.snapshot.manager import SnapshotManager


def main():
    argument_spec = dict(
        domain=dict(type='str', required=True),
        name=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'current', 'absent']),
        description=dict(type='str'),
        memory=dict(type='bool'),
        external=dict(type='bool'),
        disk_only=dict(type='bool', default=False),
        disks=dict(type='list', elements='dict', options=dict(
            name=dict(type='str', required=True),
            file=dict(type='path'),
            exclude=dict(type='bool', default=False))),
        memory_file=dict(type='path'),
        quiesce=dict(type='bool', default=False),
        atomic=dict(type='bool', default=True),
        children=dict(type='bool'),
        metadata_only=dict(type='bool'),
        revert_state=dict(type='str', choices=['saved', 'running', 'paused']),
        force_revert=dict(type='bool'),
    )
    module, result = run_module(argument_spec, SnapshotManager)
    if result.get('failed'):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
