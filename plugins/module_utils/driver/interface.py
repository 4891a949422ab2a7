# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The driver interface every resource manager talks to.

Resources are addressed by name, never by live handles: a handle dies with
its connection, and names let the implementation reconnect and retry once
when a connection drops. Methods take and return XML strings and plain
values; parsing is the XML layer's job. libvirt_driver.py is the one
implementation (and the only code that imports libvirt). A domain's jobs -
migrations, snapshots, checkpoints, backups - extend it in jobs.py and
libvirt_jobs.py, which only the modules that run them ship.

Errors: NotFound when the object does not exist, DriverError when the
hypervisor refuses, ConnectionFailed when the daemon cannot be reached.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import abc

# Power states as names, shared by every resource and the inventory.
DOMAIN_STATES = ('nostate', 'running', 'blocked', 'paused', 'shutdown',
                 'shutoff', 'crashed', 'pmsuspended')
# The states of a domain that is up: it has a running (or paused) instance to change, stop or destroy.
ACTIVE_STATES = ('running', 'paused', 'blocked', 'pmsuspended')
# virStoragePoolState by number; libvirt's RUNNING is the modules' 'active' (the pool module's state: active).
POOL_STATES = ('inactive', 'building', 'active', 'degraded', 'inaccessible')
# How a guest is asked to shut down: ACPI, the guest agent, a container's initctl pipe, SIGTERM to its init.
SHUTDOWN_MODES = ('acpi', 'agent', 'initctl', 'signal')


# What a driver may be unable to do although libvirt has the call (Driver.unsupported).
FEATURES = ('redefine_domain', 'live_max_memory', 'domain_metadata', 'external_snapshot', 'snapshot_redefine',
            'snapshot_metadata_only')


class Driver(abc.ABC):
    """Hypervisor operations, addressed by object name."""

    uri = None

    # -- connection --------------------------------------------------------
    @abc.abstractmethod
    def close(self):
        """Release the connection; safe to call twice."""

    @abc.abstractmethod
    def remember(self):
        """From now until forget(), a read asked again - the same call with the
        same arguments - is answered with what the hypervisor said the first
        time: a run's plan and, when it changed nothing, its result read each
        object once. A loop that waits for something to change calls forget()
        first."""

    @abc.abstractmethod
    def forget(self):
        """Every read asks the hypervisor again (the default)."""

    def unsupported(self, feature):
        """Why the connection's driver cannot do ``feature`` (one of FEATURES),
        as a sentence that names the driver; None when it can, or when
        nothing says it cannot (libvirt then answers when it is tried)."""
        return None

    # -- host --------------------------------------------------------------
    @abc.abstractmethod
    def host_summary(self):
        """Dict: hostname, driver, hypervisor_version, libvirt_version,
        cpus, mhz, numa_nodes, sockets, cores, threads, memory_kib,
        free_memory_kib, available_memory_kib (free + buffers + cache),
        capabilities_xml."""

    # -- domains -----------------------------------------------------------
    @abc.abstractmethod
    def list_domains(self):
        """List of dicts: name, uuid, id, state, persistent, autostart."""

    @abc.abstractmethod
    def domain_xml(self, name, inactive=False, secure=False):
        """The domain's XML (the persistent config with ``inactive``; with
        ``secure``, including passwords such as the VNC one)."""

    @abc.abstractmethod
    def domain_status(self, name):
        """Dict: name, uuid, id, state, persistent, autostart, and ``reason``:
        why a shut-off or crashed domain is so (shutdown, destroyed, crashed,
        failed, panicked, ...; None for other states or when unknown)."""

    @abc.abstractmethod
    def define_domain(self, xml):
        """Define (or redefine) a persistent domain; returns its name."""

    @abc.abstractmethod
    def undefine_domain(self, name, nvram=True, snapshots=True, managed_save=True, tpm=True):
        """Remove a domain's persistent definition and its metadata, with its
        UEFI variables (``nvram``) and its emulated TPM's state (``tpm``)."""

    @abc.abstractmethod
    def start_domain(self, name):
        """Boot a defined domain."""

    @abc.abstractmethod
    def shutdown_domain(self, name, mode=None):
        """Ask the guest to shut down; returns at once. ``mode``: None (the
        driver's default: ACPI for VMs), or one of SHUTDOWN_MODES."""

    @abc.abstractmethod
    def destroy_domain(self, name):
        """Power a domain off at once."""

    @abc.abstractmethod
    def suspend_domain(self, name):
        """Pause (freeze) a running domain."""

    @abc.abstractmethod
    def resume_domain(self, name):
        """Resume a paused domain."""

    @abc.abstractmethod
    def set_domain_autostart(self, name, enabled):
        """Start the domain with the daemon, or not."""

    @abc.abstractmethod
    def set_domain_memory(self, name, kib, live, config):
        """Balloon target memory, live and/or in the persistent config."""

    @abc.abstractmethod
    def resize_domain_disk(self, name, target, capacity):
        """Grow the image under a running domain's disk ``target`` to
        ``capacity`` bytes through the hypervisor, which has it open and
        tells the guest (virDomainBlockResize)."""

    @abc.abstractmethod
    def set_domain_vcpus(self, name, count, live, config):
        """Online vCPU count, live and/or in the persistent config."""

    def set_domain_max_memory(self, name, kib):
        """The memory a domain boots with (its maximum), where a driver cannot
        redefine a domain to change it (libvirt's esx driver: powered off)."""
        raise NotImplementedError

    @abc.abstractmethod
    def container_namespaces(self, name):
        """How many namespaces of a running LXC container libvirt can open
        (0 while it does not know the container's init yet)."""

    @abc.abstractmethod
    def set_domain_cpu_shares(self, name, shares, live, config):
        """The relative CPU weight (cputune shares), live and/or in the persistent config."""

    @abc.abstractmethod
    def attach_device(self, name, xml, live, config):
        """Hot-plug (live) and/or add to the config a device."""

    @abc.abstractmethod
    def update_device(self, name, xml, live, config):
        """Change a device in place (a cdrom's medium, a graphics password),
        live and/or in the config."""

    @abc.abstractmethod
    def detach_device(self, name, xml, live, config):
        """Unplug (live) and/or remove from the config a device."""

    @abc.abstractmethod
    def domain_addresses(self, name, source):
        """Interface addresses by source (lease, agent, arp): list of dicts
        name, mac, addresses [{type, addr, prefix}]. A guest agent that does
        not answer yet (a booting guest) knows none: []."""

    @abc.abstractmethod
    def set_domain_metadata(self, name, xml, key, namespace, live, config):
        """Replace the domain's <metadata> element of ``namespace`` (prefix
        ``key``) with ``xml``, live and/or in the persistent config."""

    @abc.abstractmethod
    def host_capabilities(self):
        """The host's capabilities XML (guest types, machine types)."""

    @abc.abstractmethod
    def list_snapshots(self, domain):
        """Every snapshot of a domain: list of dicts name, current (bool), xml.
        A listing, here for clones and ``snapshot_info``; taking, reverting
        and deleting snapshots are jobs (jobs.py)."""

    # -- networks ----------------------------------------------------------
    @abc.abstractmethod
    def list_networks(self):
        """List of dicts: name, uuid, active, persistent, autostart, bridge."""

    @abc.abstractmethod
    def network_xml(self, name, inactive=False):
        """The network's XML (the persistent config with ``inactive``)."""

    @abc.abstractmethod
    def network_status(self, name):
        """Dict: name, uuid, active, persistent, autostart, bridge."""

    @abc.abstractmethod
    def network_exists(self, name):
        """Whether network ``name`` is defined: a lookup, nothing read about it."""

    @abc.abstractmethod
    def define_network(self, xml):
        """Define (or redefine) a persistent network; returns its name."""

    @abc.abstractmethod
    def undefine_network(self, name):
        """Remove a network's persistent definition."""

    @abc.abstractmethod
    def start_network(self, name):
        """Start a defined network."""

    @abc.abstractmethod
    def stop_network(self, name):
        """Stop a running network."""

    @abc.abstractmethod
    def set_network_autostart(self, name, enabled):
        """Start the network with the daemon, or not."""

    @abc.abstractmethod
    def update_network(self, name, command, section, xml, parent_index=-1, live=True, config=True):
        """Change one section of a network in place (virNetworkUpdate).
        ``command``: add-first, add-last, delete, modify; ``section``:
        ip-dhcp-host, dns-host, ip-dhcp-range, ..."""

    @abc.abstractmethod
    def network_leases(self, name):
        """Current DHCP leases: list of dicts mac, ip, prefix, hostname,
        expiry (epoch seconds), type."""

    # -- storage pools -----------------------------------------------------
    @abc.abstractmethod
    def list_pools(self):
        """List of dicts: name, uuid, active, persistent, autostart,
        capacity, allocation, available (bytes)."""

    @abc.abstractmethod
    def pool_xml(self, name, inactive=False):
        """The pool's XML."""

    @abc.abstractmethod
    def pool_status(self, name):
        """Dict as in list_pools, for one pool."""

    @abc.abstractmethod
    def pool_exists(self, name):
        """Whether storage pool ``name`` is defined: a lookup, nothing read about it."""

    @abc.abstractmethod
    def define_pool(self, xml):
        """Define a persistent pool; returns its name."""

    @abc.abstractmethod
    def build_pool(self, name, no_overwrite=False):
        """Build the pool's storage (mkdir, mkfs, vgcreate ...). With
        ``no_overwrite``, a device that already holds data is left alone:
        returns libvirt's message saying what is there, else None."""

    @abc.abstractmethod
    def start_pool(self, name):
        """Start (mount/activate) a pool."""

    @abc.abstractmethod
    def stop_pool(self, name):
        """Stop a running pool."""

    @abc.abstractmethod
    def delete_pool(self, name):
        """Delete the pool's underlying storage (pool must be stopped)."""

    @abc.abstractmethod
    def undefine_pool(self, name):
        """Remove a pool's persistent definition."""

    @abc.abstractmethod
    def refresh_pool(self, name):
        """Rescan the pool's volumes."""

    @abc.abstractmethod
    def set_pool_autostart(self, name, enabled):
        """Start the pool with the daemon, or not."""

    # -- storage volumes ---------------------------------------------------
    @abc.abstractmethod
    def list_volumes(self, pool):
        """List of dicts: name, key, path, type, capacity, allocation."""

    @abc.abstractmethod
    def volume_xml(self, pool, name):
        """The volume's XML."""

    @abc.abstractmethod
    def create_volume(self, pool, xml, clone_from=None):
        """Create a volume from XML, optionally as a full copy of
        ``clone_from`` = (pool, name); returns its name."""

    @abc.abstractmethod
    def delete_volume(self, pool, name, wipe=False):
        """Delete a volume, wiping its data first with ``wipe``."""

    @abc.abstractmethod
    def resize_volume(self, pool, name, capacity, shrink=False, allocate=False):
        """Set a volume's capacity in bytes (``allocate``: the space it grows
        by is allocated, as a preallocated volume's was)."""

    @abc.abstractmethod
    def upload_volume(self, pool, name, reader, length):
        """Stream ``length`` bytes from the file object ``reader``."""

    @abc.abstractmethod
    def download_volume(self, pool, name, offset, length):
        """``length`` bytes of the volume's content from ``offset`` (fewer at its end)."""

    @abc.abstractmethod
    def volume_by_path(self, path):
        """The volume whose target path is ``path``: dict pool, name (NotFound)."""

    @abc.abstractmethod
    def create_transient_pool(self, xml):
        """Create and start a pool that is gone once stopped; returns its name."""
