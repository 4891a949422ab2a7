#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: backup
short_description: Full and incremental backups of libvirt domains to qcow2 files
version_added: 0.2.0
description:
  - Backs up the disks of a domain with libvirt's backup API (push mode) - QEMU copies the disks as they were when the
    backup began, while the guest runs on - to qcow2 files in a file pool or a directory on the hypervisor host, and
    waits for the job (at most O(timeout) seconds).
  - A backup has a O(name). Its files are C(DOMAIN-NAME-DISK.qcow2) in the target, and a checkpoint of that name (a
    dirty bitmap in each qcow2 disk) records the instant, so that a later O(mode=incremental) backup copies only
    what changed since. An incremental backup's files are qcow2 overlays on the files of the backup it follows, so
    the newest file is the whole disk with its backing chain.
  - Declarative. A backup whose files are in the target is not made again; give each backup a new name (a date, for
    example).
  - libvirt backs up only running domains. A shut-off guest is started paused (its CPUs never run), backed up and
    powered off again; the actions say so.
  - A job that fails or outlasts O(timeout) is aborted, and its checkpoint and files are removed - nothing is left
    half done.
  - To restore, make a volume from a backup file - M(virtkit.virt.volume) with C(clone_from) the newest file in a
    pool (the copy is a whole, standalone image), or with C(import) a full backup's file - and attach it to a domain.
    The user guide shows the recipe.
author:
  - virtkit.virt maintainers (@virtkit)
extends_documentation_fragment:
  - virtkit.virt.connection
  - virtkit.virt.attributes
attributes:
  check_mode:
    description: Check mode reports the actions a real run would take - the files, whether the guest is started
      paused - and fails where the real run would (no checkpoint to start from, a disk that is not qcow2, a target
      that is no directory).
  diff_mode:
    description: The diff shows the files and checkpoint a backup makes, or those a deletion removes.
options:
  domain:
    description: The domain to back up.
    type: str
    required: true
  name:
    description: Name of the backup - of its checkpoint, and part of its file names. A plain name (no C(/)).
    type: str
    required: true
  state:
    description:
      - V(present) - the backup exists; it is made when its files are not in the target.
      - V(absent) - its checkpoint (its bitmaps merge into the one before) and its files are deleted. Refused while a
        later incremental backup's files lie on them. libvirt deletes checkpoints of running domains only, so a
        shut-off guest is started paused for it and powered off again.
    type: str
    choices: [present, absent]
    default: present
  mode:
    description:
      - V(full) - every block of the disks. V(incremental) - only what changed since the checkpoint of O(since), into
        overlays on that backup's files (which must be in the same target).
    type: str
    choices: [full, incremental]
    default: full
  since:
    description: For O(mode=incremental), the backup to start from. Not set - the domain's newest checkpoint.
    type: str
  target:
    description: Where the files go - exactly one of O(target.pool) and O(target.dir).
    type: dict
    required: true
    suboptions:
      pool:
        description: A file pool (V(dir), V(fs) or V(netfs)); the files are its volumes.
        type: str
      dir:
        description:
          - A directory on the hypervisor host. A pool that holds it is used; else a transient one for the run (gone
            afterwards, the files stay) - only where the module runs on the hypervisor host itself (a local URI); a
            remote host's directory needs a pool (O(target.pool)).
        type: path
  disks:
    description: The disks (by target) to back up. Not set - every writable disk (read-only disks and cdroms are left
      out).
    type: list
    elements: str
  checkpoint:
    description:
      - Make a checkpoint at the backup, for later incremental backups. Needs qcow2 disks; V(false) backs up raw disks
        too (only fully).
    type: bool
    default: true
  description:
    description: Description of the checkpoint.
    type: str
  timeout:
    description: Seconds to wait for the backup job; a job still running then is aborted and undone.
    type: int
    default: 3600
notes:
  - Needs libvirt 7.2 or later with QEMU 6.0 or later (the domain capabilities say C(<backup supported='yes'/>)); the
    module reads that and fails naming it.
  - The checkpoints are metadata of the domain; M(virtkit.virt.domain) with O(virtkit.virt.domain#module:state=absent)
    removes them with it, and leaves the backup files alone.
seealso:
  - module: virtkit.virt.backup_info
  - name: libvirt backup XML format
    description: The backup job and its files.
    link: https://libvirt.org/formatbackup.html
'''

EXAMPLES = r'''
- name: A full backup of web1 on Sunday
  virtkit.virt.backup:
    domain: web1
    name: "full-{{ ansible_date_time.date }}"
    target:
      pool: backups

- name: Then what changed each day since the newest checkpoint
  virtkit.virt.backup:
    domain: web1
    name: "inc-{{ ansible_date_time.date }}"
    mode: incremental
    target:
      pool: backups
    timeout: 1800
  register: nightly

- name: Its size
  ansible.builtin.debug:
    msg: "{{ nightly.backup.size_human }} in {{ nightly.backup.files | map(attribute='path') | join(', ') }}"

- name: A restored disk - the newest backup file as one standalone volume
  virtkit.virt.volume:
    pool: images
    name: web1-restored.qcow2
    clone_from:
      pool: backups
      name: "web1-inc-{{ ansible_date_time.date }}-vda.qcow2"
'''

RETURN = r'''
backup:
  description: The backup after the task (before it, in check mode).
  returned: success
  type: dict
  contains:
    domain: {description: The domain., type: str}
    name: {description: The backup's name., type: str}
    exists: {description: Whether its files are in the target., type: bool}
    mode: {description: "V(full), V(incremental) (its files have backing files), or null when there are none.", type: str}
    target: {description: The directory of its files., type: str}
    files:
      description: Each file with C(disk), C(path), C(pool) and C(volume) (when a pool holds it), C(capacity),
        C(allocation) (bytes on the host) and C(backing) (the file it lies on, for an incremental backup).
      type: list
      elements: dict
    size: {description: Bytes its files take on the host., type: int}
    size_human: {description: The same in a unit people read., type: str}
    checkpoint:
      description: Its checkpoint - C(name), C(parent), C(children), C(creation_time), C(description), C(disks) (each
        with C(name), C(checkpoint) and C(bitmap)) - or null.
      type: dict
    job:
      description: Only when the task ran a backup - the job's C(data_total) and C(data_processed) (bytes) and
        C(time_elapsed_ms).
      type: dict
actions:
  description: What the task did (or would do in check mode), in order.
  returned: success
  type: list
  elements: str
  sample: ["full backup of vda to /srv/backups"]
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
from ansible_collections.virtkit.virt.plugins.module_utils.backup.manager import BackupManager
from ansible_collections.virtkit.virt.plugins.module_utils.engine.runner import run_module


def main():
    argument_spec = dict(
        domain=dict(type='str', required=True),
        name=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        mode=dict(type='str', default='full', choices=['full', 'incremental']),
        since=dict(type='str'),
        target=dict(type='dict', required=True, options=dict(
            pool=dict(type='str'),
            dir=dict(type='path')),
            mutually_exclusive=[('pool', 'dir')], required_one_of=[('pool', 'dir')]),
        disks=dict(type='list', elements='str'),
        checkpoint=dict(type='bool', default=True),
        description=dict(type='str'),
        timeout=dict(type='int', default=3600),
    )
    module, result = run_module(argument_spec, BackupManager)
    if result.get('failed'):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
