#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: pool
short_description: Declarative libvirt storage pools
version_added: 0.1.0
description:
  - Defines, builds, starts, stops, changes and removes libvirt storage pools - a directory, a filesystem on a
    device, an NFS export, an LVM volume group, a partitioned disk, an iSCSI target, a Ceph RBD pool or a ZFS pool.
  - Idempotent. Only what you specify is compared, so values libvirt fills in (UUID, default permissions, the
    volume group's target path) never count as a change.
  - A new pool is built once (O(build)) - the directory made, the filesystem created, the volume group created - and
    never over data already on its devices. An existing pool is never built again.
author:
  - virtkit.virt maintainers (@virtkit)
extends_documentation_fragment:
  - virtkit.virt.connection
  - virtkit.virt.attributes
options:
  name:
    description: Name of the pool. A plain name (no C(/), not C(..)).
    type: str
    required: true
  state:
    description:
      - V(active) - defined and started. V(inactive) - defined, not started.
      - V(absent) - stopped and undefined; its storage stays unless O(purge=true).
    type: str
    choices: [active, inactive, absent]
    default: active
  autostart:
    description: Start the pool when the libvirt daemon starts. Left as it is when not set.
    type: bool
  type:
    description:
      - The kind of storage. A new pool without it is a V(dir) pool; an existing pool cannot change its type.
      - V(dir) needs O(path). V(fs) needs O(path) and one device in O(source.devices). V(netfs) needs O(path),
        O(source.host) and O(source.dir). V(logical) takes O(source.devices) (to build the volume group) and
        O(source.name) (the volume group, default the pool name). V(disk) needs O(path) (usually V(/dev)) and one
        device. V(iscsi) needs O(path) (usually V(/dev/disk/by-path)), O(source.host) and the target IQN in
        O(source.devices). V(rbd) needs O(source.name) and O(source.host). V(zfs) needs O(source.name).
    type: str
    choices: [dir, fs, netfs, logical, disk, iscsi, rbd, zfs]
  path:
    description: The target path - the directory, the mount point, or where the pool's devices appear.
    type: path
  source:
    description: Where the storage comes from; which parts a type takes is described under O(type).
    type: dict
    suboptions:
      devices:
        description: Device paths (V(fs), V(logical), V(disk), V(zfs)), or the iSCSI target IQN (V(iscsi)).
        type: list
        elements: str
      host:
        description: The server (V(netfs), V(iscsi), V(rbd)).
        type: str
      dir:
        description: The exported directory on the server (V(netfs)).
        type: str
      name:
        description: The volume group (V(logical)), the Ceph pool (V(rbd)) or the zpool (V(zfs)).
        type: str
      format:
        description:
          - The filesystem (V(fs) - V(ext4), V(xfs), V(auto), ...; V(netfs) - V(nfs), V(cifs), ...), V(lvm2)
            (V(logical)) or the partition table (V(disk) - V(gpt), V(dos), ...).
        type: str
  permissions:
    description:
      - Permissions of the pool's directory - a V(dir) pool's target, the mounted filesystem of an V(fs) or V(netfs)
        pool. Other pool types have no directory of their own and refuse them.
      - Kept in the pool's definition and compared with the directory as it really is. libvirt applies them only
        when it builds a new directory; the module sets them (C(chown), C(chmod)) on a directory that is already there
        - action C(set permissions), predicted in check mode. An V(fs) or V(netfs) pool's filesystem is set once it is
        mounted (O(state=active)); while it is not, the definition alone changes, with a warning. Where the libvirt
        daemon mounts it in a mount namespace of its own, the task cannot see it, and a change fails naming
        O(permissions).
      - With a daemon on another host (a remote O(uri)) the directory cannot be reached from the task, so only a new
        V(dir) pool takes permissions (libvirt's build makes its directory with them); any other change of them fails
        naming O(permissions). Run the task on the hypervisor itself (a local O(uri), C(delegate_to)) to change them.
    type: dict
    suboptions:
      mode:
        description:
          - Octal mode as a string, for example V('0755'). Quote it - YAML reads an unquoted V(0755) as the number
            493 and V(755) as 755, and which mode was meant cannot be told from the number, so a number fails
            naming O(permissions.mode) before anything is touched.
        type: raw
      owner:
        description: Numeric user ID.
        type: int
      group:
        description: Numeric group ID.
        type: int
  build:
    description:
      - Build the storage when the pool is first created (C(mkdir), C(mkfs), C(vgcreate), a partition table).
        A device that already holds a filesystem, a volume group or a partition table is never overwritten.
      - Set V(false) to use storage that already exists (an existing volume group, a mounted export).
    type: bool
    default: true
  purge:
    description:
      - With O(state=absent), also delete the pool's storage (the directory, the volume group, ...).
      - Refused while the pool holds volumes, and for an inactive pool (its volumes cannot be seen), unless
        O(force=true).
    type: bool
    default: false
  force:
    description: With O(purge=true), delete the pool's volumes too.
    type: bool
    default: false
notes:
  - A changed definition is written persistently; an active pool uses it after a restart (O(state=inactive), then
    V(active)), which RV(restart_required) reports.
'''

EXAMPLES = r'''
- name: A directory pool
  virtkit.virt.pool:
    name: images
    type: dir
    path: /var/lib/libvirt/images
    permissions:
      mode: '0711'
    autostart: true

- name: An ext4 filesystem on a disk, mounted by libvirt
  virtkit.virt.pool:
    name: fast
    type: fs
    path: /srv/fast
    source:
      devices: [/dev/sdb1]
      format: ext4

- name: An LVM volume group on two disks
  virtkit.virt.pool:
    name: vg_guests
    type: logical
    source:
      devices: [/dev/sdc, /dev/sdd]

- name: Remove a pool and its (empty) directory
  virtkit.virt.pool:
    name: images
    state: absent
    purge: true
'''

RETURN = r'''
pool:
  description: The pool after the task (before it, in check mode). C(exists=false) when there is none.
  returned: success
  type: dict
  contains:
    name: {description: Name., type: str}
    exists: {description: Whether the pool is defined., type: bool}
    uuid: {description: UUID., type: str}
    type: {description: The pool type., type: str}
    state: {description: "V(active) or V(inactive) (or libvirt's V(building), V(degraded), V(inaccessible)).", type: str}
    active: {description: Whether it is started., type: bool}
    autostart: {description: Whether it starts with the daemon., type: bool}
    persistent: {description: Whether it has a persistent definition., type: bool}
    path: {description: The target path., type: str}
    source: {description: "C(devices), C(host), C(dir), C(name), C(format).", type: dict}
    permissions: {description: "C(mode), C(owner), C(group) of the directory as it is, where the task can read it
      (else as libvirt reports them).", type: dict}
    capacity: {description: Size in bytes (0 while inactive)., type: int}
    allocation: {description: Bytes in use., type: int}
    available: {description: Bytes free., type: int}
    volumes: {description: "Names of its volumes (empty while inactive; an fs pool's C(lost+found) left out).", type: list, elements: str}
restart_required:
  description: Whether the active pool still runs an older definition.
  returned: success
  type: bool
actions:
  description: What the task did (or would do in check mode), in order.
  returned: success
  type: list
  elements: str
  sample: [define, build, start]
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
from ansible_collections.virtkit.virt.plugins.module_utils.storage.pool_manager import PoolManager


def main():
    module, result = run_module(
        dict(
            name=dict(type='str', required=True),
            state=dict(type='str', default='active', choices=['active', 'inactive', 'absent']),
            autostart=dict(type='bool'),
            type=dict(type='str', choices=['dir', 'fs', 'netfs', 'logical', 'disk', 'iscsi', 'rbd', 'zfs']),
            path=dict(type='path'),
            source=dict(type='dict', options=dict(
                devices=dict(type='list', elements='str'),
                host=dict(type='str'),
                dir=dict(type='str'),
                name=dict(type='str'),
                format=dict(type='str'))),
            permissions=dict(type='dict', options=dict(
                mode=dict(type='raw'),  # a number is refused, not turned into its decimal digits
                owner=dict(type='int'),
                group=dict(type='int'))),
            build=dict(type='bool', default=True),
            purge=dict(type='bool', default=False),
            force=dict(type='bool', default=False),
        ),
        PoolManager,
    )
    if result.get('failed'):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
