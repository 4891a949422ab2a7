#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: container
short_description: Declarative libvirt LXC system containers
version_added: 0.1.0
description:
  - Defines, changes, starts, freezes, stops and removes system containers through libvirt's LXC driver
    (V(lxc:///)) - from options or from a whole XML document - and waits for their IP addresses.
  - The same engine as M(virtkit.virt.domain), with the same rules. Idempotent - only what you specify is compared,
    so a second run reports C(changed=false), in check mode too. Changes go to the persistent definition; a running
    container gets O(memory) (its limit, up to the one it started with), O(cpu_shares), interfaces and tags live, and the rest
    at its next restart, which the result reports as RV(restart_required) unless O(restart=true) restarts it at once.
  - The root filesystem is a directory on the container host, or an archive unpacked there once (see
    O(rootfs.archive)). Sharing the host's own root or network takes an explicit O(share_host_root) or
    O(share_host_network).
  - Run tasks inside a running container with the C(virtkit.virt.lxc) connection plugin.
author:
  - virtkit.virt maintainers (@virtkit)
extends_documentation_fragment:
  - virtkit.virt.connection
  - virtkit.virt.attributes
  - virtkit.virt.guest
attributes:
  check_mode:
    description:
      - Check mode reports exactly the actions a real run would take, the archive to unpack included.
      - A network the container names that does not exist yet - an earlier task of the play makes it - is no error
        in check mode; the container is predicted as planned, with a warning. The real run needs it by then.
options:
  uri:
    description:
      - The libvirt connection URI. Default V(lxc:///) (not E(LIBVIRT_DEFAULT_URI), which usually names QEMU).
      - Checking paths, unpacking O(rootfs.archive), O(hostname) and RV(container.init_pid) need the container host
        to be the host the module runs on (a URI without a host name).
    type: str
  name:
    description: Name of the container (and its host name, unless O(hostname) says another).
    type: str
    required: true
  state:
    description:
      - V(running) - defined and running (a frozen container is thawed). V(present) - defined; the power state is left
        as it is. V(shutdown) - stopped gracefully (see O(shutdown_timeout) and O(force)). V(destroyed) - its processes
        killed at once. V(paused) - running but frozen (the freezer cgroup). V(absent) - stopped and undefined; its
        root filesystem stays on the host.
      - A container that does not exist yet is defined for every state but V(absent); that needs O(rootfs) (or
        O(share_host_root)) and O(memory), or O(xml).
    type: str
    choices: [running, present, shutdown, destroyed, paused, absent]
    default: running
  rootfs:
    description:
      - The root filesystem - a directory on the container host, mounted as the container's C(/).
      - With O(rootfs.archive), the directory is made from a tarball the first time - unpacked into a temporary
        directory beside O(rootfs.path), renamed into place, then stamped. Later runs find the stamp and unpack
        nothing, whatever the container changed inside.
    type: dict
    suboptions:
      path:
        description:
          - Absolute path of the directory. Without O(rootfs.archive) it must exist.
          - With O(rootfs.archive) it must not exist yet, or be empty, or be a directory this module unpacked (it
            keeps its stamp C(.NAME.virtkit-rootfs.json) in the parent directory, outside the container's view).
        type: str
        required: true
      archive:
        description:
          - A tarball (any compression GNU tar reads) - a path on the container host, or an C(http://),
            C(https://) or C(ftp://) URL the container host fetches. Owners, modes and links are kept as archived
            (numeric IDs).
          - A rootfs is never unpacked again over itself. A local archive that changed since (other size, time and
            SHA-256), or another O(rootfs.checksum), is reported as a warning; remove the directory and its stamp to
            unpack again.
        type: str
      checksum:
        description: The archive's SHA-256 (C(sha256:HEX) or C(HEX)), verified before unpacking.
        type: str
  share_host_root:
    description:
      - V(true) - the container has no root filesystem of its own and sees the host's C(/). Excludes O(rootfs).
      - V(false) with O(rootfs) is the same as leaving it out.
    type: bool
  share_host_network:
    description:
      - V(true) - the container has no network namespace of its own and uses the host's network (libvirt's
        behaviour for a container without interfaces); needs O(interfaces=[]) and no O(idmap).
      - V(false) - its own network namespace, empty but for loopback when it has no interfaces.
      - Not set - a new container gets its own; an existing one keeps what it has. A change takes effect at the next
        restart.
    type: bool
  init:
    description:
      - What the container runs as PID 1 - a list (the command and its arguments, as they are) or a string (split
        like a shell does). The command is an absolute path inside the container; when the container host is this
        host, it must exist in the root filesystem. Default for a new container - V(/sbin/init).
    type: raw
  env:
    description: Environment variables of the init. The whole set is replaced; V({}) removes them all.
    type: dict
  hostname:
    description:
      - The container's host name. libvirt's LXC driver names a container's host after the container and has no
        setting for another name, so this module sets it inside the running container - each time it starts it, and
        whenever it differs. A container started otherwise (autostart, a reboot from inside) is O(name) until the
        next run. Needs the container host to be this host.
    type: str
  memory:
    description:
      - The most memory the container's processes may use (its memory cgroup limit); a bare number is MiB, or a
        size with unit (V(512MiB), V(2G)). Needed to define a new container.
      - A running container takes a change live up to the limit it started with; more takes effect at its next
        restart.
    type: raw
  vcpus:
    description:
      - Number of vCPUs in the definition. libvirt's LXC driver does not limit a container by it (use O(cpu_shares));
        a change takes effect at the next restart.
    type: int
  cpu_shares:
    description: Relative CPU weight against other containers and guests (cgroup CPU shares; 1024 is the usual default). Changes live.
    type: int
  interfaces:
    description:
      - The container's network interfaces (veth pairs), all of them - those the list leaves out are removed. Each is
        one of C({network}) (a libvirt network), C({bridge}) (a host bridge) or C({direct}) (macvtap).
      - An interface without O(interfaces[].mac) keeps the MAC libvirt gave it on earlier runs. A container that
        runs with a network namespace of its own gets new and removed interfaces live.
    type: list
    elements: dict
    suboptions:
      network:
        description: Name of a libvirt network.
        type: str
      bridge:
        description: Name of a host bridge.
        type: str
      direct:
        description: Host device for a macvtap interface (bridge mode).
        type: str
      mac:
        description: MAC address.
        type: str
      model:
        description: NIC model (rarely meaningful for containers).
        type: str
  mounts:
    description:
      - Host directories mounted into the container, all of them - those the list leaves out are removed. Outer
        mounts go before the mounts inside them. Changes take effect at the next restart.
    type: list
    elements: dict
    suboptions:
      source:
        description: Absolute path on the container host; it must exist.
        type: str
        required: true
      target:
        description: Absolute path inside the container (not V(/); that is O(rootfs)).
        type: str
        required: true
      readonly:
        description: Mount read-only.
        type: bool
        default: false
  idmap:
    description:
      - A user namespace - container IDs from C(start) are host IDs from C(target), C(count) of them. Both O(idmap.uid)
        and O(idmap.gid) are needed, one range with C(start=0) among them (root in the container), no ranges that
        overlap inside the container or on the host. V({}) removes the user namespace. The root filesystem must be
        owned by the host ID that container root maps to.
      - A container with a user namespace has its own network namespace too (libvirt cannot mount its C(/sys)
        otherwise).
    type: dict
    suboptions:
      uid:
        description: A range C({start, target, count}), or a list of them.
        type: raw
      gid:
        description: A range C({start, target, count}), or a list of them.
        type: raw
  xml:
    description:
      - A whole C(<domain type='lxc'>) document instead of the options above, under the rules of M(virtkit.virt.domain)
        - re-applying it changes nothing, what it leaves out is wanted absent (except what libvirt fills in).
      - Its C(<name>) must be O(name).
    type: str
  shutdown_timeout:
    description:
      - Seconds a graceful stop (O(state=shutdown), O(restart=true)) may take. It writes runlevel 0 to the init's
        initctl pipe when the container has one (systemd, sysvinit), else sends its init SIGTERM.
    type: int
    default: 120
  force:
    description: Kill the container when a graceful stop runs out of O(shutdown_timeout); else the task fails.
    type: bool
    default: false
  wait_for_ip:
    description:
      - With O(state=running), return only once the container has an IP address (in RV(container.ip) and the
        C(addresses) of RV(container.interfaces)). A source that fails on this host is skipped, with a warning.
    type: dict
    suboptions:
      timeout:
        description: Seconds to wait.
        type: int
        default: 300
      sources:
        description: Where to look - V(lease) (DHCP leases of libvirt networks), V(arp) (the host's ARP table).
        type: list
        elements: str
        choices: [lease, arp]
        default: [lease, arp]
notes:
  - libvirt's LXC driver needs a PTY console in every container; a new container gets one.
  - Removal leaves the root filesystem (and an archive's stamp) on the host.
seealso:
  - module: virtkit.virt.domain
'''

EXAMPLES = r'''
- name: A container from a directory, with its own network on a libvirt network
  virtkit.virt.container:
    name: web1
    rootfs:
      path: /srv/containers/web1
    memory: 512MiB
    cpu_shares: 512
    interfaces:
      - network: lab
    tags:
      role: web
    wait_for_ip:
      timeout: 60

- name: A container unpacked once from a tarball the host downloads
  virtkit.virt.container:
    name: app1
    rootfs:
      path: /srv/containers/app1
      archive: https://images.example.org/debian-12-rootfs.tar.xz
      checksum: sha256:9dd4ecc541c785be82690b39ad4a82603e22c8eeec1e52b13bd4cc7b0135f97f
    memory: 1G
    hostname: app1.example.org
    env:
      APP_ENV: production
    mounts:
      - source: /srv/shared/config
        target: /etc/app
        readonly: true

- name: A busybox container running one shell command
  virtkit.virt.container:
    name: probe
    rootfs:
      path: /srv/containers/busybox
    memory: 64
    init: ["/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]

- name: An unprivileged container (its rootfs owned by host UID 100000)
  virtkit.virt.container:
    name: unpriv1
    rootfs:
      path: /srv/containers/unpriv1
    memory: 256
    idmap:
      uid: {start: 0, target: 100000, count: 65536}
      gid: {start: 0, target: 100000, count: 65536}

- name: Freeze it, then thaw it
  virtkit.virt.container:
    name: web1
    state: paused

- name: Stop gracefully, kill after 30 s
  virtkit.virt.container:
    name: web1
    state: shutdown
    shutdown_timeout: 30
    force: true

- name: Remove it (its rootfs stays)
  virtkit.virt.container:
    name: web1
    state: absent
'''

RETURN = r'''
container:
  description: The container after the task (before it, in check mode). C(exists=false) when there is none.
  returned: success
  type: dict
  contains:
    name: {description: Name., type: str}
    exists: {description: Whether the container exists., type: bool}
    uuid: {description: UUID., type: str}
    state: {description: "Power state: running, paused (frozen), shutoff, crashed ...", type: str}
    persistent: {description: Whether it has a persistent definition., type: bool}
    autostart: {description: Whether it starts with the daemon., type: bool}
    init_pid: {description: "Host PID of its init while it runs (null when stopped, or on another host).", type: int}
    init: {description: The init command and its arguments., type: list, elements: str}
    env: {description: The init's environment variables., type: dict}
    hostname: {description: "Its host name while it runs (null otherwise, or on another host).", type: str}
    rootfs: {description: "The root filesystem's directory (null when it shares the host's).", type: str}
    share_host_root: {description: Whether it sees the host's root filesystem., type: bool}
    share_host_network: {description: Whether it uses the host's network namespace., type: bool}
    mounts: {description: "Mounts (C(source), C(target), C(readonly)).", type: list, elements: dict}
    idmap: {description: "User namespace ID ranges (C(uid), C(gid)), or {}.", type: dict}
    memory: {description: Memory limit in MiB (the live one while it runs)., type: int}
    vcpus: {description: vCPUs of the definition., type: int}
    cpu_shares: {description: CPU shares (null when libvirt's default)., type: int}
    interfaces:
      description: Interfaces (C(type), C(network), C(bridge) or C(direct), C(mac), C(model), C(addresses)).
      type: list
      elements: dict
    tags: {description: Tags., type: dict}
    ip: {description: The first IP address found (IPv4 first)., type: str}
restart_required:
  description: Whether the running container still runs an older definition; the rest takes effect when it restarts.
  returned: success
  type: bool
actions:
  description: What the task did (or would do in check mode), in order.
  returned: success
  type: list
  elements: str
  sample: [unpack /srv/images/rootfs.tar.gz into /srv/containers/app1, define, start]
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
from ansible_collections.virtkit.virt.plugins.module_utils.container.manager import ContainerManager
from ansible_collections.virtkit.virt.plugins.module_utils.container.spec import DEFINITION
from ansible_collections.virtkit.virt.plugins.module_utils.domain.guest_args import guest_argument_spec
from ansible_collections.virtkit.virt.plugins.module_utils.engine.runner import run_module


def main():
    spec = guest_argument_spec(address_sources=('lease', 'arp'))
    spec.update(
        rootfs=dict(type='dict', options=dict(
            path=dict(type='str', required=True),
            archive=dict(type='str'),
            checksum=dict(type='str'))),
        share_host_root=dict(type='bool'),
        share_host_network=dict(type='bool'),
        init=dict(type='raw'),
        env=dict(type='dict'),
        hostname=dict(type='str'),
        memory=dict(type='raw'),
        vcpus=dict(type='int'),
        cpu_shares=dict(type='int'),
        mounts=dict(type='list', elements='dict', options=dict(
            source=dict(type='str', required=True),
            target=dict(type='str', required=True),
            readonly=dict(type='bool', default=False))),
        idmap=dict(type='dict', options=dict(
            uid=dict(type='raw'),
            gid=dict(type='raw'))),
    )
    module, result = run_module(spec, ContainerManager, mutually_exclusive=[('xml', key) for key in DEFINITION])
    if result.get('failed'):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
