#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: volume
short_description: Declarative libvirt storage volumes - disks, overlays, clones, imported images, cloud-init seeds
version_added: 0.1.0
description:
  - Creates, grows and deletes volumes in a libvirt storage pool.
  - The content of a new volume comes from at most one source - nothing (an empty disk), a backing file
    (O(backing_volume) or O(backing_path), a copy-on-write overlay), another volume (O(clone_from), a full copy),
    an image (O(import), a file on the target host or a URL the target host fetches) or cloud-init data
    (O(cloud_init), a NoCloud seed image labelled C(cidata)).
  - Idempotent. The same spec changes nothing. A larger O(capacity) grows the volume in place; a smaller one is
    refused unless O(allow_shrink=true).
  - A file volume that a running guest uses as a disk grows through the hypervisor, which holds it open, and the
    guest sees the new size at once (C(grow from 16GiB to 32GiB (live, as disk vdb of 'web1'))). Other volumes grow
    in their pool, and the running guest sees it once it restarts (a warning says so). A volume in use by a running
    guest is never shrunk, nor resized while several running guests use it, nor deleted or replaced (O(replace))
    while a running guest has it as a disk or under one.
  - A spec whose content source does not match the existing volume (another
    backing file, not a seed, another format) fails instead of replacing data, unless O(replace=true).
  - A cloud-init seed is rebuilt only when its content changes. It carries the SHA-256 of its content in its ISO
    header, which the module reads back (2 KiB) to decide; the diff and the actions show that hash, never the data.
  - While a clone, an import or a seed fills a new volume, an empty marker volume C(NAME.virtkit-partial) sits
    beside it. A run stopped half way (killed, its host or the daemon gone) leaves both; the next run deletes the
    half-made volume and its marker and makes it anew. A failure or SIGTERM/SIGINT deletes both at once.
  - Space is checked before a volume that needs it is made - preallocated, in an LVM or disk pool, an import, a
    clone, a seed, a preallocated volume grown - and the task fails with "not enough space in pool X" before
    anything is created. A thin volume larger than the pool's free space is made, with a warning.
  - Two tasks on the same volume (from one host) take turns; the second sees what the first made.
author:
  - virtkit.virt maintainers (@virtkit)
extends_documentation_fragment:
  - virtkit.virt.connection
  - virtkit.virt.attributes
attributes:
  check_mode:
    description:
      - Check mode reports exactly the actions a real run would take, and fails where it would fail; nothing is
        fetched.
      - A pool (or a source volume) that does not exist yet or is not started - an earlier task of the play makes or
        starts it - is no error in check mode; the volume is predicted as created, with a warning. It goes through
        every check of the real run that needs no pool - O(capacity), the source volume or file, and an
        O(import.path) image's format header, size and checksum - and fails with the real run's message where that
        fails. Only the pool's free space is left to the real run, which needs the pool by then.
  diff_mode:
    description: The diff shows capacity, format and content source before and after (a seed by its hash).
options:
  name:
    description:
      - Name of the volume (its file name in file-based pools). A plain name, or on VMware ESX, whose datastores
        name a disk by its folder too, names joined by C(/) (V(web1/web1.vmdk)); never C(..), never a leading C(/).
    type: str
    required: true
  pool:
    description: The pool the volume is in. It must be active.
    type: str
    required: true
  state:
    description:
      - V(present) - the volume exists as specified. V(absent) - it is deleted.
      - Deleting a volume that a running guest has as a disk, or under one (a backing file of its disk's chain), is
        refused, naming the guest and the disk; a shut-off guest's disks are not checked.
    type: str
    choices: [present, absent]
    default: present
  capacity:
    description:
      - The size the guest sees. A bare number is bytes; V(512MiB), V(20G) (= GiB), V(10GB) (= 10^9 bytes) work too.
      - Needed for a new empty volume. Overlays default to their backing file's size, clones to their original's,
        imports to the image's; a larger value grows them after creation. Not for O(cloud_init).
      - A volume replaced (O(replace=true)) without it keeps its current capacity - or takes its new content's, where
        that is larger, so that nothing of it is cut off. A cloud-init seed is as large as its image.
    type: raw
  format:
    description:
      - The volume format, for example V(raw) or V(qcow2). Not set - libvirt's default for a new empty volume
        (V(raw) in file pools), V(qcow2) for an overlay, the original's for a clone, the image's for an import.
      - New qcow2 volumes (empty, overlays, clones) are qcow2 v3 (compat 1.1, what C(qemu-img) makes), not libvirt's
        own default v2, which can hold no dirty bitmaps (checkpoints for incremental backups).
    type: str
  preallocate:
    description: Allocate all of a new empty volume's capacity at once instead of on first write.
    type: bool
    default: false
  backing_volume:
    description: Make a copy-on-write overlay on this volume (its format defaults to V(qcow2)).
    type: dict
    suboptions:
      name:
        description: The backing volume.
        type: str
        required: true
      pool:
        description: Its pool; the volume's own pool when not set.
        type: str
  backing_path:
    description: Make a copy-on-write overlay on this file (a path on the target host).
    type: path
  clone_from:
    description: Make a full copy of this volume (through libvirt, also across pools).
    type: dict
    suboptions:
      name:
        description: The volume to copy.
        type: str
        required: true
      pool:
        description: Its pool; the volume's own pool when not set.
        type: str
  import:
    description:
      - Fill a new volume with an image, uploaded through libvirt's stream API (so it works on any pool type and
        over remote connections). The image is verified before anything is created; a wrong checksum or a failed
        download leaves nothing behind.
      - An image file on the target host (O(import.path)) is verified when the task is planned, in check mode too. An
        image from O(import.url) is fetched by the real run only (to a temporary file); where it replaces a volume
        (O(replace=true)), it is fetched and verified first (the action C(fetch URL)), and only then is the volume
        deleted, so a failed download or a wrong checksum leaves that volume as it is.
    type: dict
    suboptions:
      path:
        description: An image file on the target host.
        type: path
      url:
        description: An http, https or ftp URL the target host fetches the image from.
        type: str
      checksum:
        description: V(ALGORITHM:HEX), for example V(sha256:9f86d0...), with ALGORITHM one of V(sha256), V(sha512),
          V(sha384), V(sha224), V(sha1), V(md5).
        type: str
      format:
        description: The image format. Not set - V(qcow2) when the image has a qcow2 header, else V(raw).
        type: str
      validate_certs:
        description: Verify the server's TLS certificate for https URLs.
        type: bool
        default: true
  cloud_init:
    description:
      - Make a cloud-init NoCloud seed, an ISO 9660 image labelled C(cidata), attached to a guest as a disk or CD-ROM.
      - Each value is text (written as it is) or a mapping (written as JSON, which is YAML; user and vendor data get a
        C(#cloud-config) line first). The values are never logged.
      - Needs the Python library pycdlib on the target host.
    type: dict
    suboptions:
      user_data:
        description: The C(user-data) file. Empty when not set.
        type: raw
      meta_data:
        description: The C(meta-data) file. C(instance-id) set to the volume name when not set.
        type: raw
      network_config:
        description: The C(network-config) file. Left out when not set.
        type: raw
      vendor_data:
        description: The C(vendor-data) file. Left out when not set.
        type: raw
  allow_shrink:
    description: Let a smaller O(capacity) shrink the volume. What lies beyond the new end is lost. Never for a volume
      a running guest uses.
    type: bool
    default: false
  replace:
    description:
      - Delete and recreate an existing volume whose content source, format or seed marker does not match the spec.
        Its data is lost.
      - The new volume keeps the old one's capacity unless O(capacity) says otherwise (see there). The old volume's
        space counts as free when the new one's is checked.
    type: bool
    default: false
  wipe:
    description: With O(state=absent), overwrite the volume's data before deleting it.
    type: bool
    default: false
requirements:
  - pycdlib (on the target host, for O(cloud_init))
notes:
  - What a volume was cloned or imported from leaves no trace libvirt can show, so an existing volume that is not an
    overlay and not a seed satisfies O(clone_from) and O(import) as it is; it is never fetched or copied again.
  - Capacities are rounded up where volumes are made - to whole extents in logical (LVM) pools, to partition
    alignment in disk pools, to whole KiB for every volume but a raw file (V(100MB) becomes 97657 KiB); a capacity
    within that rounding counts as met, so a second run changes nothing.
'''

EXAMPLES = r'''
- name: An empty 20 GiB qcow2 disk
  virtkit.virt.volume:
    pool: images
    name: db-data.qcow2
    format: qcow2
    capacity: 20G

- name: A base image, fetched by the hypervisor host and verified
  virtkit.virt.volume:
    pool: images
    name: debian-12-base.qcow2
    import:
      url: https://images.example.org/debian-12-generic-amd64.qcow2
      checksum: sha256:5b2e3d4f7f1e1d0a9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d

- name: A guest disk as a copy-on-write overlay on it, grown to 30 GiB
  virtkit.virt.volume:
    pool: images
    name: web1.qcow2
    backing_volume:
      name: debian-12-base.qcow2
    capacity: 30G

- name: Its cloud-init seed
  virtkit.virt.volume:
    pool: images
    name: web1-seed.iso
    cloud_init:
      meta_data:
        instance-id: web1
        local-hostname: web1
      user_data:
        users:
          - name: admin
            ssh_authorized_keys: ["{{ lookup('ansible.builtin.file', '~/.ssh/id_ed25519.pub') }}"]

- name: Delete a volume, overwriting its data first
  virtkit.virt.volume:
    pool: images
    name: old.qcow2
    state: absent
    wipe: true
'''

RETURN = r'''
volume:
  description: The volume after the task (before it, in check mode). C(exists=false) when there is none.
  returned: success
  type: dict
  contains:
    name: {description: Name., type: str}
    pool: {description: Its pool., type: str}
    exists: {description: Whether it exists., type: bool}
    key: {description: libvirt's unique key (the path in file pools)., type: str}
    path: {description: Its path on the host., type: str}
    type: {description: "V(file), V(block), V(dir), V(network) or V(netdir).", type: str}
    format: {description: Its format as libvirt sees it (V(iso) for a seed in a file pool)., type: str}
    capacity: {description: "Size the guest sees, in bytes.", type: int}
    allocation: {description: Bytes allocated on the host., type: int}
    backing_chain:
      description: Its backing files, nearest first, each with C(path), C(format), and C(pool) and C(name) when
        the file is a volume libvirt knows.
      type: list
      elements: dict
    cloud_init:
      description: C(sha256) of a seed's content, for seeds libvirt reports as V(iso); else null.
      type: dict
restart_required:
  description: Always false; volumes have no running state.
  returned: success
  type: bool
actions:
  description: What the task did (or would do in check mode), in order.
  returned: success
  type: list
  elements: str
  sample: ["create overlay on /var/lib/libvirt/images/base.qcow2", "grow from 2GiB to 30GiB"]
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
from ansible_collections.virtkit.virt.plugins.module_utils.storage.importing_volume_manager import ImportingVolumeManager
from ansible_collections.virtkit.virt.plugins.module_utils.storage.volume_spec import SOURCES

VOLUME_REF = dict(name=dict(type='str', required=True), pool=dict(type='str'))


def main():
    argument_spec = dict(
        name=dict(type='str', required=True),
        pool=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        capacity=dict(type='raw'),
        format=dict(type='str'),
        preallocate=dict(type='bool', default=False),
        backing_volume=dict(type='dict', options=VOLUME_REF),
        backing_path=dict(type='path'),
        clone_from=dict(type='dict', options=VOLUME_REF),
        cloud_init=dict(type='dict', options=dict(
            user_data=dict(type='raw', no_log=True),
            meta_data=dict(type='raw', no_log=True),
            network_config=dict(type='raw', no_log=True),
            vendor_data=dict(type='raw', no_log=True))),
        allow_shrink=dict(type='bool', default=False),
        replace=dict(type='bool', default=False),
        wipe=dict(type='bool', default=False),
    )
    # 'import' is a Python keyword: no dict(import=...).
    argument_spec['import'] = dict(type='dict', options=dict(
        path=dict(type='path'),
        url=dict(type='str'),
        checksum=dict(type='str'),
        format=dict(type='str'),
        validate_certs=dict(type='bool', default=True)))
    module, result = run_module(argument_spec, ImportingVolumeManager, mutually_exclusive=[list(SOURCES)])
    if result.get('failed'):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
