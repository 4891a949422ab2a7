#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: migrate
short_description: Move a libvirt guest to another host - live, with or without its storage, or offline
version_added: 0.2.0
description:
  - Moves the domain O(name) from the host of O(uri) (the source) to the host of O(dest_uri) (the destination)
    through libvirt's migration. A running guest moves live by default and keeps running, with its MAC addresses,
    on the destination; a shut-off guest moves offline - its definition, and its disks when O(copy_storage) asks.
  - Declarative and idempotent. The wanted state is the domain on the destination and not on the source. A domain
    that is on the destination and not on the source changes nothing; a definition left on the source by an earlier
    move with O(undefine_source=false) is not a conflict. The same name on both hosts otherwise is a conflict - the
    module refuses and shows both (their state and UUID). A name on neither host fails.
  - Before anything moves, the module checks what would make libvirt refuse or lose data, and refuses with every
    finding at once - both URIs reaching one host, a domain type, machine type or CPU the destination cannot offer,
    a network the guest uses that is missing (or, for a running guest, not active) on the destination, a disk the
    destination does not have while O(copy_storage=none) (or the pool that holds it on the source, when no pool
    there has its directory), a shared disk with cache mode C(unsafe), a copied disk
    whose pool is missing on the destination or keeps its volumes elsewhere there, snapshots whose metadata libvirt
    would leave behind.
  - With O(copy_storage) the destination's volumes are created first, in the pool of the same name there (which
    must keep its volumes in the same directory), the way M(virtkit.virt.volume) creates volumes; libvirt then
    copies the running guest's writable disks into them. Read-only disks (cloud-init seeds, install media), which
    libvirt never copies, and the disks of a shut-off guest are streamed from the source to the destination by the
    module. The source's copies stay; the module says which.
  - libvirt refuses to migrate a domain that has snapshots. With O(snapshot_metadata=move) their metadata moves
    too - redefined on the destination, removed (metadata only) from the source; the snapshots' data stays in the
    storage, which must be shared.
  - With O(timeout), a migration still running after that many seconds is aborted; the guest keeps running on the
    source, and the task fails saying so. What the task made for the move (new volumes on the destination, moved
    snapshot metadata) is taken back when the migration fails.
author:
  - virtkit.virt maintainers (@virtkit)
extends_documentation_fragment:
  - virtkit.virt.connection
  - virtkit.virt.attributes
attributes:
  check_mode:
    description: Check mode runs every check and reports exactly the actions a real run would take; nothing moves.
  diff_mode:
    description: The diff shows the host (URI) and the state of the domain before and after.
notes:
  - O(uri) and O(auth) are the source's connection; O(dest_uri) and O(dest_auth) the destination's. The module
    connects to both; a managed migration (the default) goes through both connections.
  - With O(peer_to_peer) or O(tunnelled), the source's libvirt daemon connects to O(dest_uri) itself, so the URI
    must work from the source host, and O(dest_auth) does not reach it - that daemon reads its credentials from a
    libvirt auth file (C(/etc/libvirt/auth.conf) there).
  - libvirt checks that the migration data reaches the destination under the destination's host name. When that
    name resolves to a loopback address, or the hosts have a dedicated migration network, set O(migrate_uri).
options:
  name:
    description: The domain to move.
    type: str
    required: true
  dest_uri:
    description:
      - The libvirt connection URI of the destination host, for example V(qemu+ssh://root@hv2/system) or
        V(qemu+tcp://hv2/system). Must not be the source URI itself.
    type: str
    required: true
  dest_auth:
    description: Credentials for the destination, as O(auth) gives them for the source (C(openAuth)).
    type: dict
    suboptions:
      username:
        description: The user name the destination's libvirt asks for.
        type: str
      password:
        description: The password or passphrase the destination's libvirt asks for. Never logged.
        type: str
  live:
    description:
      - A running guest keeps running while its memory is copied (V(true)); with V(false) it is paused for the
        whole migration and resumed on the destination. A shut-off guest always moves offline.
    type: bool
    default: true
  persistent:
    description:
      - Define the domain on the destination (V(true)); V(false) leaves it transient there. A shut-off guest moves
        as a definition, so it needs V(true).
    type: bool
    default: true
  undefine_source:
    description: Remove the domain's definition from the source once it has moved.
    type: bool
    default: true
  copy_storage:
    description:
      - V(none) - the storage is shared; every disk must be on the destination already at the same path.
      - V(all) - the disks are copied (a running guest's overlay arrives flattened, as one volume).
      - V(incremental) - only the top image of each disk is copied; its backing files must be on the
        destination already.
    type: str
    choices: [none, all, incremental]
    default: none
  tunnelled:
    description: Send the migration data through the libvirt connection (implies O(peer_to_peer)).
    type: bool
    default: false
  peer_to_peer:
    description: The source daemon drives the migration and connects to O(dest_uri) itself (see the notes).
    type: bool
    default: false
  migrate_uri:
    description:
      - Where the migration data goes, V(tcp://HOST[:PORT]) - an address of the destination on a migration
        network, or the address to use when the destination's host name does not resolve to it.
    type: str
  bandwidth:
    description: The most the migration may use, in MiB/s.
    type: int
  max_downtime:
    description: The longest pause (milliseconds) a live migration may end with; set once the migration runs.
    type: int
  auto_converge:
    description: Slow the guest's vCPUs down when its memory changes faster than it can be copied.
    type: bool
    default: false
  postcopy:
    description:
      - Start in pre-copy and switch to post-copy as soon as memory flows - the guest then runs on the destination
        and the rest of its memory follows on demand, so the move ends whatever the guest writes. If a host or the
        network fails during post-copy, the guest is lost. A migration that ends before the switch stays pre-copy
        (RV(migration.progress.postcopy) says which). Not with O(copy_storage); once switched, O(timeout) can no
        longer abort it.
    type: bool
    default: false
  timeout:
    description:
      - Seconds the migration may take. When they run out, the migration is aborted and the guest keeps running
        on the source; the task fails saying so. Not set - no limit.
      - If the migration ends all the same (libvirt refused the abort, as after the switch to post-copy, or the
        move was already ending), the task reports the move and warns, listing each abort it asked and libvirt's
        answer.
    type: int
  unsafe:
    description:
      - Migrate although libvirt calls it unsafe - disks on a file system libvirt does not know as shared (it knows
        NFS, GFS2, OCFS2, CephFS, ...) that both hosts do see, or a cache mode it distrusts - and skip the module's
        own cache mode check. The module's other checks stay.
    type: bool
    default: false
  snapshot_metadata:
    description:
      - V(refuse) - a domain with snapshots is not moved (libvirt would refuse).
      - V(move) - their metadata moves with it (needs O(copy_storage=none)).
    type: str
    choices: [refuse, move]
    default: refuse
seealso:
  - module: virtkit.virt.domain
  - module: virtkit.virt.volume
'''

EXAMPLES = r'''
- name: Move web1 to hv2 while it runs (shared storage)
  virtkit.virt.migrate:
    name: web1
    uri: qemu+ssh://root@hv1/system
    dest_uri: qemu+ssh://root@hv2/system

- name: Move db1 with its disks, within 10 minutes, over the migration network
  virtkit.virt.migrate:
    name: db1
    uri: qemu:///system
    dest_uri: qemu+tcp://hv2.example.com/system
    dest_auth:
      username: admin
      password: "{{ vault_hv2_password }}"
    copy_storage: all
    migrate_uri: tcp://10.10.0.2
    bandwidth: 200
    timeout: 600
  register: moved

- name: Show how long the guest paused
  ansible.builtin.debug:
    msg: "{{ moved.migration.progress.downtime_ms | default('n/a') }} ms"

- name: Move a shut-off guest's definition and disks
  virtkit.virt.migrate:
    name: template1
    dest_uri: qemu+ssh://root@hv2/system
    copy_storage: all

- name: Refresh the inventory so the guest shows on its new host
  ansible.builtin.meta: refresh_inventory
'''

RETURN = r'''
migration:
  description: Where the domain is after the task (before it, in check mode) and how the move went.
  returned: success
  type: dict
  contains:
    name: {description: The domain., type: str}
    source: {description: The source URI., type: str}
    destination: {description: The destination URI., type: str}
    host: {description: "Where the domain is now: V(source) or V(destination).", type: str}
    uri: {description: The URI of that host., type: str}
    state: {description: Its power state there., type: str}
    moved: {description: Whether this task moved it., type: bool}
    mode: {description: "How it moved (or would move): V(live), V(paused) or V(offline); null when it did not.", type: str}
    progress:
      description:
        - libvirt's figures of the migration (the destination's record of the completed job where it has one);
          empty when nothing moved. Times in milliseconds, amounts in bytes; libvirt leaves out what it does not
          count.
      type: dict
      contains:
        time_elapsed_ms: {description: How long the migration took., type: int}
        downtime_ms: {description: How long the guest was paused at the switch-over., type: int}
        setup_time_ms: {description: The time before data flowed., type: int}
        data_total: {description: Bytes to transfer (memory and disks)., type: int}
        data_processed: {description: Bytes transferred., type: int}
        data_remaining: {description: Bytes left to transfer when libvirt last counted., type: int}
        memory_total: {description: Guest memory in bytes., type: int}
        memory_processed: {description: Memory bytes transferred., type: int}
        memory_remaining: {description: Memory bytes left to transfer when libvirt last counted., type: int}
        memory_iterations: {description: Passes over the memory., type: int}
        memory_dirty_rate: {description: Memory pages the guest dirtied per second (QEMU's figure)., type: int}
        disk_total: {description: Disk bytes to copy (O(copy_storage))., type: int}
        disk_processed: {description: Disk bytes copied., type: int}
        disk_remaining: {description: Disk bytes left to copy when libvirt last counted., type: int}
        wall_seconds: {description: The time the task waited for libvirt., type: float}
        streamed: {description: "Bytes of volume content the module streamed to the destination itself (shut-off guests, read-only disks).", type: int}
        postcopy: {description: Whether it switched to post-copy., type: bool}
    domain:
      description: The domain's facts on that host, as RV(virtkit.virt.domain#module:domain) describes them.
      type: dict
actions:
  description: What the task did (or would do in check mode), in order.
  returned: success
  type: list
  elements: str
  sample: ["destination: volume images/db1.qcow2: create", "migrate live to qemu+tcp://hv2/system, copying disks vda (all)"]
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
from ansible_collections.virtkit.virt.plugins.module_utils.migrate.manager import MigrateManager


def main():
    module, result = run_module(
        dict(
            name=dict(type='str', required=True),
            dest_uri=dict(type='str', required=True),
            dest_auth=dict(type='dict', options=dict(
                username=dict(type='str'),
                password=dict(type='str', no_log=True))),
            live=dict(type='bool', default=True),
            persistent=dict(type='bool', default=True),
            undefine_source=dict(type='bool', default=True),
            copy_storage=dict(type='str', default='none', choices=['none', 'all', 'incremental']),
            tunnelled=dict(type='bool', default=False),
            peer_to_peer=dict(type='bool', default=False),
            migrate_uri=dict(type='str'),
            bandwidth=dict(type='int'),
            max_downtime=dict(type='int'),
            auto_converge=dict(type='bool', default=False),
            postcopy=dict(type='bool', default=False),
            timeout=dict(type='int'),
            unsafe=dict(type='bool', default=False),
            snapshot_metadata=dict(type='str', default='refuse', choices=['refuse', 'move']),
        ),
        MigrateManager,
    )
    if result.get('failed'):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
