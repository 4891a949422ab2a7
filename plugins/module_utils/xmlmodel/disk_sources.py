# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a domain's disks come from, read off its XML: what snapshots need
of a domain, and what tells a volume module which running guest uses a
volume (small, so that the volume module ships no domain parser for it)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel import common as x


def disk_sources(domain_xml):
    """``{target: source}`` of a domain's disks (a path, or POOL/VOLUME)."""
    return sources_of(x.parse(domain_xml, 'domain', 'domain'))


def disk_chains(domain_xml):
    """``{target: [source, then the files under it, nearest first]}`` of a
    domain's disks (a running domain's XML shows each disk's backing chain)."""
    return dict((x.attr(disk, 'target', 'dev'), [disk_source(disk)] + backing_chain(disk))
                for disk in x.parse(domain_xml, 'domain', 'domain').findall('devices/disk'))


def backing_chain(disk):
    """The sources under a <disk> (or a <backingStore>), nearest first."""
    chain, store = [], disk.find('backingStore')
    while store is not None and store.find('source') is not None:
        chain.append(disk_source(store))
        store = store.find('backingStore')
    return chain


def sources_of(domain):
    return dict((x.attr(disk, 'target', 'dev'), disk_source(disk)) for disk in domain.findall('devices/disk'))


def disk_source(disk):
    source = disk.find('source')
    if source is None:
        return None
    if disk.get('type') == 'volume':
        return '%s/%s' % (source.get('pool'), source.get('volume'))
    return source_path(disk.get('type'), source)


def source_path(kind, source):
    if source is None:
        return None
    if kind == 'block':
        return source.get('dev')
    if kind == 'dir':
        return source.get('dir')
    if kind == 'network':
        return '%s:%s' % (source.get('protocol'), source.get('name'))
    return source.get('file')
