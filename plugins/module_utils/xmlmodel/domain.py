# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Domain XML ⇄ canonical dict.

Canonical form (``name`` required, everything else optional)::

    {name, uuid, virt_type, arch, machine,
     memory_kib (<currentMemory>), max_memory_kib (<memory>),
     vcpus (online), max_vcpus, cpu: {mode, model}, firmware: bios|uefi,
     secure_boot (None: the XML does not say), boot: [hd, cdrom, network],
     kernel, initrd, cmdline, disks: [...], interfaces: [...],
     graphics: {...}, console: {...}, guest_agent, rng, tpm, tags: {key: value}}

(devices: see xmlmodel.domain_devices), and for containers (``<os><type>exe``)
the keys of xmlmodel.container. The parser keeps only what the canonical
form models: UUIDs, PCI and drive addresses, aliases, default controllers and
the like are what libvirt fills in by itself, and leaving them out is what
keeps re-runs unchanged. An absent kernel, initrd or cmdline parses as ``''``
so that ``''`` can say "none".
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel import common as x
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.container import (
    CONTAINER_KEYS, is_container, parse_container_parts, set_container_parts)
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.domain_devices import (
    agent_channels, build_agent_channel, build_disk_element, build_graphics_element,
    build_interface_element, build_rng_element, build_serial_element, build_tpm_element, parse_console,
    parse_disk_element, parse_graphics, parse_interface_element, parse_tpm, patch_disk_element,
    patch_interface_element)

TAGS_TAG = '{%s}tags' % x.VIRTKIT_NS
TAG_TAG = '{%s}tag' % x.VIRTKIT_NS
_X86 = (None, 'x86_64', 'i686', 'i386')
# Domain types whose disks take <driver name='qemu'>.
_QEMU_DISK_DRIVER = ('qemu', 'kvm', 'xen')


# -- build -------------------------------------------------------------------

def build_domain_xml(spec, base=None, uuid=None):
    """XML for ``spec``. With ``base`` (the current persistent XML) only what
    the spec names is replaced, so that what the model does not cover and
    what libvirt filled in (addresses, controllers, MACs) survive."""
    if base:
        root = x.parse(base, 'xml', 'domain')
    else:
        root = _skeleton(spec)
    if spec.get('virt_type'):
        root.set('type', spec['virt_type'])
    x.set_text(root, 'name', spec['name'], first=True)
    if uuid:
        x.set_text(root, 'uuid', uuid, after=('name',))
    if spec.get('tags') is not None:
        set_tags(root, spec['tags'])
    _set_memory(root, spec)
    _set_vcpus(root, spec)
    _set_os(root, spec)
    if spec.get('cpu') is not None:
        _set_cpu(root, spec['cpu'])
    devices = x.child(root, 'devices')
    virt_type = root.get('type')
    if spec.get('disks') is not None:
        _set_disks(devices, spec['disks'], 'qemu' if virt_type in _QEMU_DISK_DRIVER else None)
    if spec.get('interfaces') is not None:
        _set_interfaces(devices, spec['interfaces'])
    if spec.get('graphics') is not None:
        _set_graphics(devices, spec['graphics'])
    if spec.get('console') is not None:
        _set_console(devices, spec['console'])
    if spec.get('guest_agent') is not None:
        _ensure(devices, agent_channels(devices), spec['guest_agent'], build_agent_channel)
    if spec.get('rng') is not None:
        _ensure(devices, devices.findall('rng'), spec['rng'], build_rng_element)
    if spec.get('tpm') is not None:
        _set_tpm(devices, spec['tpm'])
    if any(spec.get(key) is not None for key in CONTAINER_KEYS):
        set_container_parts(root, spec)
    return x.to_string(root)


def _skeleton(spec):
    root = x.element('domain', {'type': spec.get('virt_type') or 'qemu'})
    x.sub(root, 'name', text=spec['name'])
    os_el = x.sub(root, 'os')
    if spec.get('virt_type') == 'lxc':
        # A container: an init instead of a kernel, and the PTY console libvirt's LXC driver requires.
        x.sub(os_el, 'type', text='exe')
        devices = x.sub(root, 'devices')
        x.sub(devices, 'console', {'type': 'pty'})
        return root
    x.sub(os_el, 'type', text='hvm')
    if spec.get('arch') in _X86:
        # ACPI is how a graceful shutdown reaches the guest.
        features = x.sub(root, 'features')
        x.sub(features, 'acpi')
        x.sub(features, 'apic')
    x.sub(root, 'devices')
    return root


def _set_memory(root, spec):
    if spec.get('max_memory_kib') is not None:
        _sized(root, 'memory', spec['max_memory_kib'], after=('name',))
    elif spec.get('memory_kib') is not None and root.find('memory') is None:
        _sized(root, 'memory', spec['memory_kib'], after=('name',))
    if spec.get('memory_kib') is not None:
        _sized(root, 'currentMemory', spec['memory_kib'], after=('memory',))


def _sized(root, tag, kib, after):
    el = x.set_text(root, tag, kib, after=after)
    el.attrib.clear()
    el.set('unit', 'KiB')


def _set_vcpus(root, spec):
    online, most = spec.get('vcpus'), spec.get('max_vcpus')
    if online is None and most is None:
        return
    el = root.find('vcpu')
    if most is None:
        most = int(el.text) if el is not None and el.text else online
    if online is None:
        online = int(el.get('current') or el.text) if el is not None and el.text else most
    el = x.set_text(root, 'vcpu', most, after=('currentMemory', 'memory'))
    if online < most:
        el.set('current', str(online))
    elif 'current' in el.attrib:
        del el.attrib['current']
    if root.find('vcpus') is not None:
        root.remove(root.find('vcpus'))  # per-vCPU settings for another count


def _set_os(root, spec):
    os_el = x.child(root, 'os')
    os_type = x.child(os_el, 'type')
    if os_type.text is None:
        os_type.text = 'hvm'
    os_el.remove(os_type)
    os_el.insert(0, os_type)
    for key in ('arch', 'machine'):
        if spec.get(key):
            os_type.set(key, spec[key])
    firmware = spec.get('firmware')
    if firmware == 'uefi':
        os_el.set('firmware', 'efi')
    elif firmware == 'bios' and parse_firmware(os_el) == 'uefi':
        os_el.attrib.pop('firmware', None)
        for tag in ('loader', 'nvram', 'firmware'):
            for el in os_el.findall(tag):
                os_el.remove(el)
    if spec.get('secure_boot') is not None and parse_firmware(os_el) == 'uefi':
        _set_secure_boot(root, os_el, spec['secure_boot'])
    for key in ('kernel', 'initrd', 'cmdline'):
        if spec.get(key) is None:
            continue
        old = os_el.find(key)
        if spec[key] == '':
            if old is not None:
                os_el.remove(old)
        else:
            x.set_text(os_el, key, spec[key])
    if spec.get('boot') is not None:
        for el in os_el.findall('boot'):
            os_el.remove(el)
        for dev in spec['boot']:
            x.sub(os_el, 'boot', {'dev': dev})


def _set_secure_boot(root, os_el, wanted):
    """The firmware features libvirt picks OVMF by (at start; the live XML
    then names the loader and NVRAM it chose). Said either way: on q35,
    ``firmware='efi'`` alone picks the secure-boot build with Microsoft's
    keys enrolled. Secure boot also needs SMM and a secure loader; SMM stays
    when it is turned off (harmless, and it may be there for other reasons)."""
    firmware = x.child(os_el, 'firmware', after=('type',))
    for feature in firmware.findall('feature'):
        if feature.get('name') in ('secure-boot', 'enrolled-keys'):
            firmware.remove(feature)
    # No firmware has enrolled keys without secure boot: the key goes with it.
    x.sub(firmware, 'feature', {'enabled': wanted, 'name': 'secure-boot'})
    if wanted:
        x.sub(firmware, 'feature', {'enabled': True, 'name': 'enrolled-keys'})
    loader = os_el.find('loader')
    if wanted:
        x.child(os_el, 'loader', after=('firmware',)).set('secure', 'yes')
    elif loader is not None and loader.get('secure') is not None:
        del loader.attrib['secure']
        if not loader.attrib and not (loader.text or '').strip():
            os_el.remove(loader)
    if wanted:
        features = x.child(root, 'features', after=('os',))
        x.child(features, 'smm').set('state', 'on')


def _set_tpm(devices, tpm):
    current = parse_tpm(devices)
    if tpm is False or current != tpm:
        for el in devices.findall('tpm'):
            devices.remove(el)
        if tpm is not False:
            devices.append(build_tpm_element(tpm))


def _set_cpu(root, cpu):
    el = x.child(root, 'cpu', after=('features', 'os'))
    if parse_cpu(root) == {'mode': cpu['mode'], 'model': cpu.get('model')}:
        return
    # A new mode or model: keep topology and NUMA, drop model-bound details.
    for child in list(el):
        if child.tag in ('model', 'vendor', 'feature'):
            el.remove(child)
    for attr in ('match', 'check', 'migratable'):
        el.attrib.pop(attr, None)
    el.set('mode', cpu['mode'])
    if cpu['mode'] == 'custom':
        el.set('match', 'exact')
    if cpu.get('model'):
        model = x.element('model', {'fallback': 'allow'}, cpu['model'])
        el.insert(0, model)


def set_tags(root, tags):
    if root.find('metadata') is None and not tags:
        return
    metadata = x.child(root, 'metadata', after=('uuid', 'name'), first=True)
    for old in metadata.findall(TAGS_TAG):
        metadata.remove(old)
    if tags:
        metadata.append(tags_element(tags))
    elif len(metadata) == 0:
        root.remove(metadata)


def tags_element(tags):
    """<virtkit:tags> (the inventory reads this format)."""
    holder = x.element(TAGS_TAG)
    for key in sorted(tags):
        x.sub(holder, TAG_TAG, {'name': key}, tags[key])
    return holder


# What a redefinition changed that a running guest takes only at its next start
# (the CPU, the user's XML patches), stamped in the definition's metadata. A
# running guest's XML carries the stamps of the definition it started from, so a
# stamp of the definition that differs says "not in the running guest yet",
# without comparing what libvirt rewrites when it starts a guest.
DEFINED_NS = x.VIRTKIT_NS + '/defined'
DEFINED_TAG = '{%s}defined' % DEFINED_NS


def definition_stamps(xml):
    """The stamps of a domain's XML: ``{part: value}``, {} for none."""
    el = x.parse(xml, 'xml', 'domain').find('metadata/%s' % DEFINED_TAG)
    return {} if el is None else dict(el.attrib)


def with_stamps(xml, stamps):
    """``xml`` with ``stamps`` ({part: value}) added to its own, in its
    metadata; a part whose value is None loses its stamp."""
    root = x.parse(xml, 'xml', 'domain')
    metadata = root.find('metadata')
    el = None if metadata is None else metadata.find(DEFINED_TAG)
    values = {} if el is None else dict(el.attrib)
    if el is not None:
        metadata.remove(el)
    values.update(stamps)
    values = dict((part, value) for part, value in values.items() if value is not None)
    if values:
        metadata = x.child(root, 'metadata', after=('uuid', 'name'), first=True)
        el = x.etree.SubElement(metadata, DEFINED_TAG, nsmap={'virtkit-defined': DEFINED_NS})
        for part, value in sorted(values.items()):
            el.set(part, value)
    return x.to_string(root)


def cpu_stamp(cpu):
    """A CPU ({mode, model}) as its stamp, None for none."""
    return ' '.join(v for v in (cpu['mode'], cpu.get('model')) if v) if cpu else None


def running_cpu_stamp(stamps, cpu):
    """The stamp of the CPU a running guest started with, or None, from its
    running XML's stamps (definition_stamps()) and parsed CPU (parse_cpu()):
    None where it has no stamp, or where its XML shows another CPU (a
    definition edited by hand keeps its stamps). libvirt expands a
    host-model CPU when the guest starts, so there only the stamp tells."""
    stamp = stamps.get('cpu')
    if stamp is None or stamp.split(' ')[0] == 'host-model':
        return stamp
    return stamp if cpu_stamp(cpu) == stamp else None


def metadata_tags_xml(tags):
    """The tags' metadata element alone, for setMetadata on a running domain."""
    return x.to_string(tags_element(tags))


def _set_disks(devices, disks, driver_name):
    current = dict((x.attr(el, 'target', 'dev'), el) for el in devices.findall('disk'))
    wanted = set(d['target'] for d in disks)
    for target, el in current.items():
        if target not in wanted:
            devices.remove(el)
    anchor = x.last(devices, ('disk', 'emulator'))
    for disk in disks:
        el = current.get(disk['target'])
        if el is not None:
            patch_disk_element(el, disk, driver_name)
        else:
            el = build_disk_element(disk, driver_name)
            x.insert_after(devices, anchor, el)
        anchor = el


def _set_interfaces(devices, interfaces):
    current = dict((x.attr(el, 'mac', 'address', str.lower), el) for el in devices.findall('interface'))
    wanted = set(i['mac'] for i in interfaces if i.get('mac'))
    for mac, el in current.items():
        if mac not in wanted:
            devices.remove(el)
    anchor = x.last(devices, ('interface', 'disk', 'emulator'))
    for iface in interfaces:
        el = current.get(iface.get('mac'))
        if el is not None:
            patch_interface_element(el, iface)
        else:
            el = build_interface_element(iface)
            x.insert_after(devices, anchor, el)
        anchor = el


def _set_graphics(devices, graphics):
    existing = devices.findall('graphics')
    if graphics['type'] == 'none':
        for el in existing:
            devices.remove(el)
        return
    if len(existing) == 1 and existing[0].get('type') == graphics['type']:
        el = existing[0]
        if graphics.get('listen') is not None and parse_graphics(devices)['listen'] != graphics['listen']:
            el.set('listen', graphics['listen'])
            for child in el.findall('listen'):
                el.remove(child)
            x.sub(el, 'listen', {'type': 'address', 'address': graphics['listen']})
        if graphics.get('password') is not None:
            if graphics['password']:
                el.set('passwd', graphics['password'])
            else:
                el.attrib.pop('passwd', None)
        return
    for el in existing:
        devices.remove(el)
    devices.append(build_graphics_element(graphics))


def _set_console(devices, console):
    if parse_console(devices) == {'type': console['type'], 'path': console.get('path')}:
        return
    serials = devices.findall('serial')
    # libvirt derives the <console> of a serial port from the port itself.
    for el in devices.findall('console'):
        if x.attr(el, 'target', 'type') in (None, 'serial'):
            devices.remove(el)
    new = build_serial_element(console) if console['type'] != 'none' else None
    if serials:
        if new is not None:
            serials[0].addprevious(new)
        devices.remove(serials[0])
        if new is None:
            for el in serials[1:]:
                devices.remove(el)
    elif new is not None:
        devices.append(new)


def _ensure(devices, existing, wanted, build):
    if wanted and not existing:
        devices.append(build())
    elif not wanted:
        for el in existing:
            devices.remove(el)


# -- parse -------------------------------------------------------------------

def parse_domain_xml(xml, field='xml'):
    root = x.parse(xml, field, 'domain')
    os_el = root.find('os')
    devices = root.find('devices')
    result = {
        'name': x.text(root, 'name'),
        'uuid': x.text(root, 'uuid'),
        'cpu': parse_cpu(root),
        'firmware': parse_firmware(os_el),
        'secure_boot': parse_secure_boot(os_el),
        'boot': [b.get('dev') for b in os_el.findall('boot')] if os_el is not None else [],
        'kernel': x.text(os_el, 'kernel', default='') if os_el is not None else '',
        'initrd': x.text(os_el, 'initrd', default='') if os_el is not None else '',
        'cmdline': x.text(os_el, 'cmdline', default='') if os_el is not None else '',
        'disks': [],
        'interfaces': [],
        'graphics': parse_graphics(devices),
        'console': parse_console(devices),
        'guest_agent': bool(agent_channels(devices)) if devices is not None else False,
        'rng': devices is not None and devices.find('rng') is not None,
        'tpm': parse_tpm(devices),
        'tags': parse_tags(root),
    }
    result.update(x.platform(root))
    result.update(_memory_and_vcpus(root))
    if devices is not None:
        result['disks'] = [parse_disk_element(d) for d in devices.findall('disk')]
        result['interfaces'] = [parse_interface_element(i) for i in devices.findall('interface')]
    if is_container(root):
        result.update(parse_container_parts(root, result['interfaces']))
    return result


def parse_domain_summary(xml, field='xml'):
    """What a listing of guests shows of a domain - name, uuid, virt_type,
    memory and vCPUs, interfaces, tags - read as parse_domain_xml reads it.
    The inventory parses every guest's XML: the whole model would cost it
    twice as much."""
    root = x.parse(xml, field, 'domain')
    devices = root.find('devices')
    result = {
        'name': x.text(root, 'name'),
        'uuid': x.text(root, 'uuid'),
        'virt_type': root.get('type'),
        'interfaces': [parse_interface_element(i) for i in devices.findall('interface')] if devices is not None else [],
        'tags': parse_tags(root),
    }
    result.update(_memory_and_vcpus(root))
    return result


def _memory_and_vcpus(root):
    vcpu = root.find('vcpu')
    max_vcpus = int(vcpu.text.strip()) if vcpu is not None and vcpu.text else None
    memory = x.size_kib(root.find('memory'))
    current_memory = x.size_kib(root.find('currentMemory'))
    return {
        'memory_kib': current_memory if current_memory is not None else memory,
        'max_memory_kib': memory,
        'vcpus': int(vcpu.get('current')) if vcpu is not None and vcpu.get('current') else max_vcpus,
        'max_vcpus': max_vcpus,
    }


def fixed_vcpus(xml):
    """How many of a running guest's online vCPUs libvirt cannot unplug:
    QEMU's vCPUs from its start, unless its ``<vcpus>`` list marks them
    hotpluggable. A guest that never had one hot-plugged has no such list:
    all its online vCPUs are the ones it started with."""
    root = x.parse(xml, 'xml', 'domain')
    listed = root.find('vcpus')
    if listed is None:
        return _memory_and_vcpus(root)['vcpus'] or 0
    return len([cpu for cpu in listed.findall('vcpu') if cpu.get('enabled') == 'yes'
                and cpu.get('hotpluggable') != 'yes'])


def parse_cpu(root):
    el = root.find('cpu')
    if el is None:
        return None
    model = x.text(el, 'model')
    mode = el.get('mode') or ('custom' if model else None)
    if mode is None:
        return None
    return {'mode': mode, 'model': model if mode == 'custom' else None}


def parse_firmware(os_el):
    if os_el is None:
        return 'bios'
    loader = os_el.find('loader')
    if os_el.get('firmware') == 'efi' or (loader is not None and loader.get('type') == 'pflash'):
        return 'uefi'
    return 'bios'


def parse_secure_boot(os_el):
    """What the firmware features (or the loader) say about secure boot;
    None when they say nothing (libvirt then picks the firmware alone)."""
    if os_el is None:
        return None
    for feature in os_el.findall('firmware/feature'):
        if feature.get('name') == 'secure-boot':
            return x.yes_no(feature.get('enabled'))
    loader = os_el.find('loader')
    if loader is not None and loader.get('secure') is not None:
        return x.yes_no(loader.get('secure'))
    return None


def parse_tags(root):
    holder = root.find('metadata/%s' % TAGS_TAG)
    if holder is None:
        return {}
    return dict((tag.get('name'), tag.text or '') for tag in holder.findall(TAG_TAG))


# -- machine types -------------------------------------------------------------

def machine_family(machine):
    """'q35' for Q35 machines, 'pc' for i440FX, else the name itself."""
    if not machine:
        return None
    if 'q35' in machine:
        return 'q35'
    if machine == 'pc' or machine.startswith('pc-i440fx') or machine.startswith('pc-'):
        return 'pc'
    return machine


def forget_bus_layout(xml):
    """The XML without PCI addresses and the controllers that give them:
    a new machine family (i440FX ⇄ Q35) has another bus layout, which
    libvirt lays out again on definition."""
    root = x.parse(xml, 'xml', 'domain')
    devices = root.find('devices')
    if devices is not None:
        for el in devices.findall('controller'):
            if el.get('type') in ('pci', 'usb', 'ide', 'sata'):
                devices.remove(el)
        for el in devices.iter('address'):
            if el.get('type') == 'pci':
                el.getparent().remove(el)
    return x.to_string(root)
