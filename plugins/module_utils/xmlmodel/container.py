# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The container parts of a domain's XML ⇄ canonical keys (libvirt's LXC
driver): used by xmlmodel.domain's one builder and parser, never on their own.

Canonical keys (only for ``<os><type>exe</type>`` domains)::

    init: '/sbin/init'            <os><init>
    init_args: ['-c', '...']      <os><initarg> ...
    init_env: {NAME: value}       <os><initenv name=NAME>
    rootfs: '/srv/ct1' | ''       <filesystem type='mount'> with target '/'; '' = the host's root
    mounts: [{source, target, readonly}]   the other <filesystem type='mount'>
    idmap: {} | {uid: [{start, target, count}], gid: [...]}
    cpu_shares: 1024              <cputune><shares>
    host_network: bool            no <features><privnet/> and no interface: the host's network namespace

libvirt 9.0 has no element for the container's host name (its UTS name is
the domain name); see container/namespaces.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel import common as x

CONTAINER_KEYS = ('init', 'init_args', 'init_env', 'rootfs', 'mounts', 'idmap', 'cpu_shares', 'host_network')
ID_KINDS = ('uid', 'gid')


def is_container(root):
    os_type = root.find('os/type')
    return os_type is not None and (os_type.text or '').strip() == 'exe'


# -- build -------------------------------------------------------------------

def set_container_os(os_el, spec):
    """<init>, <initarg> and <initenv> under <os>, as far as ``spec`` says."""
    if spec.get('init') is not None:
        x.set_text(os_el, 'init', spec['init'], after=('type',))
    if spec.get('init_args') is not None:
        for el in os_el.findall('initarg'):
            os_el.remove(el)
        after = os_el.find('init') if os_el.find('init') is not None else os_el.find('type')
        for arg in reversed(spec['init_args']):
            after.addnext(x.element('initarg', text=arg))
    if spec.get('init_env') is not None:
        for el in os_el.findall('initenv'):
            os_el.remove(el)
        after = x.last(os_el, ('initarg', 'init', 'type'))
        for name in sorted(spec['init_env'], reverse=True):
            after.addnext(x.element('initenv', {'name': name}, spec['init_env'][name]))


def set_container_devices(devices, spec):
    """The root filesystem and the mounts (other filesystem types stay)."""
    if spec.get('rootfs') is not None:
        _set_rootfs(devices, spec['rootfs'])
    if spec.get('mounts') is not None:
        _set_mounts(devices, spec['mounts'])


def _mount_elements(devices):
    return [el for el in devices.findall('filesystem') if el.get('type') in (None, 'mount')]


def _rootfs_element(devices):
    for el in _mount_elements(devices):
        if x.attr(el, 'target', 'dir') == '/':
            return el
    return None


def _set_rootfs(devices, path):
    el = _rootfs_element(devices)
    if path == '':
        if el is not None:
            devices.remove(el)
        return
    if el is None:
        el = build_filesystem_element({'source': path, 'target': '/', 'readonly': False})
        first = devices.find('filesystem')
        if first is not None:
            first.addprevious(el)
        else:
            x.insert_after(devices, devices.find('emulator'), el)  # after the emulator, or first
        return
    _patch_filesystem(el, {'source': path, 'target': '/', 'readonly': None})


def _set_mounts(devices, mounts):
    current = dict((x.attr(el, 'target', 'dir'), el) for el in _mount_elements(devices)
                   if x.attr(el, 'target', 'dir') != '/')
    wanted = set(m['target'] for m in mounts)
    for target, el in current.items():
        if target not in wanted:
            devices.remove(el)
    anchor = _rootfs_element(devices)
    for mount in mounts:
        el = current.get(mount['target'])
        if el is not None:
            _patch_filesystem(el, mount)
            devices.remove(el)  # moved into the wanted order: an outer mount comes before the inner ones
        else:
            el = build_filesystem_element(mount)
        x.insert_after(devices, anchor if anchor is not None else devices.find('emulator'), el)
        anchor = el


def build_filesystem_element(mount):
    el = x.element('filesystem', {'type': 'mount'})
    x.sub(el, 'source', {'dir': mount['source']})
    x.sub(el, 'target', {'dir': mount['target']})
    if mount.get('readonly'):
        x.sub(el, 'readonly')
    return el


def _patch_filesystem(el, mount):
    source = x.child(el, 'source', first=True)
    source.attrib.clear()
    source.set('dir', mount['source'])
    if mount.get('readonly') is None:
        return
    readonly = el.find('readonly')
    if mount['readonly'] and readonly is None:
        x.sub(el, 'readonly')
    elif not mount['readonly'] and readonly is not None:
        el.remove(readonly)


def set_idmap(root, idmap):
    old = root.find('idmap')
    if old is not None:
        root.remove(old)
    if not idmap:
        return
    el = x.element('idmap')
    for kind in ID_KINDS:
        for item in idmap.get(kind) or []:
            x.sub(el, kind, {'start': item['start'], 'target': item['target'], 'count': item['count']})
    anchor = root.find('os')
    anchor.addnext(el)


def set_cpu_shares(root, shares):
    cputune = x.child(root, 'cputune', after=('vcpu', 'memory'))
    x.set_text(cputune, 'shares', shares, first=True)


def set_host_network(root, host_network):
    """``False``: a private network namespace even without interfaces
    (<privnet/>); ``True``: none (the host's, as long as there is no interface)."""
    features = root.find('features')
    privnet = features.find('privnet') if features is not None else None
    if host_network:
        if privnet is not None:
            features.remove(privnet)
            if len(features) == 0:
                root.remove(features)
        return
    if privnet is None:
        x.sub(x.child(root, 'features', after=('os',)), 'privnet')


def set_container_parts(root, spec):
    os_el = root.find('os')
    set_container_os(os_el, spec)
    set_container_devices(x.child(root, 'devices'), spec)
    if spec.get('idmap') is not None:
        set_idmap(root, spec['idmap'])
    if spec.get('cpu_shares') is not None:
        set_cpu_shares(root, spec['cpu_shares'])
    if spec.get('host_network') is not None:
        set_host_network(root, spec['host_network'])


# -- parse -------------------------------------------------------------------

def parse_container_parts(root, interfaces):
    """The canonical container keys of an ``exe`` domain."""
    os_el = root.find('os')
    devices = root.find('devices')
    mounts, rootfs = [], ''
    for el in _mount_elements(devices) if devices is not None else []:
        target = x.attr(el, 'target', 'dir')
        source = x.attr(el, 'source', 'dir')
        if target == '/':
            rootfs = source or ''
        else:
            mounts.append({'source': source, 'target': target, 'readonly': el.find('readonly') is not None})
    idmap = {}
    idmap_el = root.find('idmap')
    if idmap_el is not None:
        for kind in ID_KINDS:
            idmap[kind] = [{'start': int(el.get('start')), 'target': int(el.get('target')),
                            'count': int(el.get('count'))} for el in idmap_el.findall(kind)]
    shares = x.text(root, 'cputune/shares', int)
    privnet = root.find('features/privnet') is not None
    return {
        'init': x.text(os_el, 'init'),
        'init_args': [el.text or '' for el in os_el.findall('initarg')],
        'init_env': dict((el.get('name'), el.text or '') for el in os_el.findall('initenv')),
        'rootfs': rootfs,
        'mounts': mounts,
        'idmap': idmap,
        'cpu_shares': shares,
        'host_network': not privnet and not interfaces,
    }
