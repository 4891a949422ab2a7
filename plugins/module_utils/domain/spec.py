# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module params of ``domain`` → the desired canonical domain.

Pure functions: everything that can be checked without a connection is
checked here, and every error names its field. ``None`` in the result means
"not said": it is never compared and never changed. Disk targets, MACs and
defaults for new devices need the current domain and come later
(domain.devices).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.virtkit.virt.plugins.module_utils.engine.sizes import parse_memory_kib, parse_size
from ansible_collections.virtkit.virt.plugins.module_utils.engine import validation as v
from ansible_collections.virtkit.virt.plugins.module_utils.errors import InvalidSpec
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.common import require_lxml
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.domain import machine_family, parse_domain_xml

STATES = ('running', 'present', 'shutdown', 'destroyed', 'paused', 'absent')
VIRT_TYPES = ('kvm', 'qemu', 'xen', 'vmware', 'hyperv', 'vbox', 'vz', 'bhyve', 'test')
CPU_MODES = ('host-passthrough', 'host-model', 'maximum', 'custom')
BOOT_DEVICES = ('hd', 'cdrom', 'network', 'fd')
DISK_DEVICES = ('disk', 'cdrom')
DISK_BUSES = ('virtio', 'sata', 'scsi', 'ide', 'xen', 'usb')
DISK_FORMATS = ('raw', 'qcow2', 'qed', 'vmdk', 'vdi', 'vhd', 'vpc', 'vhdx', 'iso', 'cloop', 'dmg', 'bochs', 'host_device')
CACHE_MODES = ('default', 'none', 'writethrough', 'writeback', 'directsync', 'unsafe')
GRAPHICS = ('none', 'vnc', 'spice')
ADDRESS_SOURCES = ('lease', 'arp', 'agent')
TPM_MODELS = ('tpm-crb', 'tpm-tis')
TPM_VERSIONS = ('2.0', '1.2')
# tpm: true - what QEMU guests on x86 use: CRB, TPM 2.0, swtpm.
DEFAULT_TPM = {'model': 'tpm-crb', 'backend': 'emulator', 'version': '2.0'}
# Target name prefixes per bus.
TARGET_PREFIX = {'virtio': 'vd', 'sata': 'sd', 'scsi': 'sd', 'usb': 'sd', 'ide': 'hd', 'xen': 'xvd'}
# libvirt makes every cdrom read-only: a writable one would be redefined on every run.
READONLY_CDROM = 'a cdrom is always read-only (leave readonly out, or use device: disk for a writable image)'
_TARGET_RE = r'^(vd|sd|hd|xvd)[a-z]{1,3}$'  # compiled (and cached) by re when a task first uses it
# What libvirt fills in when a whole XML leaves it out: not compared then.
LIBVIRT_FILLED = ('uuid', 'arch', 'machine', 'cpu', 'vcpus', 'max_vcpus')
# The options that say something about the definition (state, autostart and the like do not): each excludes xml.
DEFINITION = ('virt_type', 'arch', 'machine', 'memory', 'max_memory', 'vcpus', 'max_vcpus', 'cpu', 'firmware',
              'secure_boot', 'boot', 'kernel', 'initrd', 'cmdline', 'disks', 'interfaces', 'graphics', 'console',
              'guest_agent', 'rng', 'tpm', 'cloud_init', 'tags')


def domain_spec(params):
    """``(spec, xml)``: the desired domain, and with the ``xml`` option that
    whole document (patched): then the comparison is strict, what the
    document leaves out is wanted absent."""
    return guest_spec(params, spec_from_options, spec_from_xml)


def guest_spec(params, from_options, from_xml):
    """``(spec, xml)`` of a domain or a container: ``from_xml(xml, name)``
    for the ``xml`` option (with ``xml_patches`` applied), else
    ``from_options(params, name)``."""
    name = v.plain_name(params['name'], 'name')
    if not (params.get('xml_patches') or params.get('xml')):
        require_lxml()  # what check_patches() says first, without importing it: nothing to patch
        return from_options(params, name), None
    # Imported here: only a task with xml or xml_patches needs them.
    from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.user_xml import apply_patches, check_patches
    check_patches(params.get('xml_patches'))
    if params.get('xml'):
        xml = params['xml']
        if params.get('xml_patches'):
            xml = apply_patches(xml, params['xml_patches'], new_domain=True)
        return from_xml(xml, name), xml
    return from_options(params, name), None


def defines_something(params):
    if params.get('xml'):
        return True
    return any(params.get(key) is not None for key in DEFINITION if not (key == 'virt_type' and params[key] == 'auto'))


# libvirt's password attributes (graphics passwd) in a user's XML or patch fragment.
_PASSWD_RE = r"""\bpasswd\s*=\s*(?:"([^"]*)"|'([^']*)')"""
_ENTITIES = (('&lt;', '<'), ('&gt;', '>'), ('&quot;', '"'), ('&apos;', "'"), ('&amp;', '&'))


def xml_secrets(params):
    """The display passwords in ``xml`` and ``xml_patches`` (the raw params):
    those options are not no_log as a whole (the rest of an XML is worth
    seeing), so these values are masked one by one wherever Ansible shows or
    logs the task's arguments."""
    patches = [p for p in params.get('xml_patches') or [] if isinstance(p, dict)]
    found = set()
    for text in [params.get('xml')] + [p.get('xml') for p in patches]:
        for match in re.finditer(_PASSWD_RE, text if isinstance(text, str) else ''):
            value = match.group(1) if match.group(1) is not None else match.group(2)
            found.add(value)
            for entity, char in _ENTITIES:
                value = value.replace(entity, char)
            found.add(value)  # as libvirt and an error message would show it
    found.update(str(p['value']) for p in patches if p.get('attribute') == 'passwd' and p.get('value') is not None)
    found.discard('')
    return found


def spec_from_options(params, name):
    spec = {'name': name, 'virt_type': None}
    virt_type = params.get('virt_type') or 'auto'
    if virt_type != 'auto':
        if virt_type not in VIRT_TYPES:
            raise InvalidSpec('virt_type', '%r is not one of auto, %s' % (virt_type, ', '.join(VIRT_TYPES)))
        spec['virt_type'] = virt_type
    for key in ('arch', 'machine'):
        spec[key] = _token(params.get(key), key)
    spec['memory_kib'] = memory_spec(params.get('memory'), 'memory')
    spec['max_memory_kib'] = memory_spec(params.get('max_memory'), 'max_memory')
    if spec['memory_kib'] and spec['max_memory_kib'] and spec['memory_kib'] > spec['max_memory_kib']:
        raise InvalidSpec('memory', 'is more than max_memory')
    spec['vcpus'] = count_spec(params.get('vcpus'), 'vcpus')
    spec['max_vcpus'] = count_spec(params.get('max_vcpus'), 'max_vcpus')
    if spec['vcpus'] and spec['max_vcpus'] and spec['vcpus'] > spec['max_vcpus']:
        raise InvalidSpec('vcpus', 'is more than max_vcpus')
    spec['cpu'] = cpu_spec(params.get('cpu'))
    spec['firmware'] = params.get('firmware')
    if spec['firmware'] not in (None, 'bios', 'uefi'):
        raise InvalidSpec('firmware', '%r is not bios or uefi' % (spec['firmware'],))
    spec['secure_boot'] = secure_boot_spec(params.get('secure_boot'), spec['firmware'], spec['machine'])
    spec['boot'] = boot_spec(params.get('boot'))
    for key in ('kernel', 'initrd', 'cmdline'):
        spec[key] = params.get(key)
    for key in ('kernel', 'initrd'):
        if spec[key] and not spec[key].startswith('/'):
            raise InvalidSpec(key, '%r is not an absolute path on the host' % spec[key])
    if spec['kernel'] == '' and (spec['initrd'] or spec['cmdline']):
        raise InvalidSpec('kernel', "'' removes direct kernel boot, but initrd or cmdline is set")
    if spec['kernel'] == '':
        # Without its kernel an initrd or command line means nothing (and QEMU refuses to start).
        spec['initrd'] = spec['cmdline'] = ''
    spec['disks'] = None
    if params.get('disks') is not None:
        spec['disks'] = [disk_spec(d, 'disks[%d]' % i) for i, d in enumerate(params['disks'])]
        v.unique_items(spec['disks'], 'disks', 'target')
    spec['interfaces'] = None
    if params.get('interfaces') is not None:
        spec['interfaces'] = [interface_spec(i, 'interfaces[%d]' % n) for n, i in enumerate(params['interfaces'])]
        v.unique_items(spec['interfaces'], 'interfaces', 'mac')
    spec['graphics'] = graphics_spec(params.get('graphics'))
    spec['console'] = console_spec(params.get('console'))
    spec['guest_agent'] = params.get('guest_agent')
    spec['rng'] = params.get('rng')
    spec['tpm'] = tpm_spec(params.get('tpm'))
    spec['tags'] = tags_spec(params.get('tags'))
    _check_virt_type_fit(spec)
    return spec


def _token(value, field):
    if value is None:
        return None
    if not re.match(r'^[A-Za-z0-9_.+-]+$', str(value)):
        raise InvalidSpec(field, '%r is not a valid name' % (value,))
    return str(value)


def memory_spec(value, field):
    if value is None:
        return None
    kib = parse_memory_kib(value, field)
    if kib < 1024:
        raise InvalidSpec(field, '%r is less than 1 MiB (a bare number means MiB)' % (value,))
    return kib


def count_spec(value, field):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidSpec(field, '%r is not a positive number of vCPUs' % (value,))
    return value


def cpu_spec(cpu):
    if cpu is None:
        return None
    mode = cpu.get('mode') or ('custom' if cpu.get('model') else None)
    if mode not in CPU_MODES:
        raise InvalidSpec('cpu.mode', '%r is not one of %s' % (mode, ', '.join(CPU_MODES)))
    if mode == 'custom' and not cpu.get('model'):
        raise InvalidSpec('cpu.model', "mode 'custom' needs a model")
    if mode != 'custom' and cpu.get('model'):
        raise InvalidSpec('cpu.model', "a model only goes with mode 'custom'")
    return {'mode': mode, 'model': cpu.get('model') if mode == 'custom' else None}


def secure_boot_spec(value, firmware, machine):
    """UEFI says whether it boots securely: on q35, libvirt would otherwise
    pick the secure-boot firmware by itself."""
    if value is not None and not isinstance(value, bool):
        raise InvalidSpec('secure_boot', '%r is not true or false' % (value,))
    if value and firmware != 'uefi':
        raise InvalidSpec('secure_boot', 'secure boot is a UEFI feature: it needs firmware: uefi')
    if value and machine and machine_family(machine) != 'q35':
        raise InvalidSpec('machine', '%r cannot boot securely: UEFI secure boot needs SMM, which OVMF has on '
                                     'Q35 machines only (machine: q35)' % machine)
    if firmware == 'uefi' and value is None:
        return False
    return value


def tpm_spec(tpm):
    """``True`` (a TPM 2.0), ``False`` (none) or ``{model, version}``; always an emulated one (swtpm)."""
    if tpm is None:
        return None
    if tpm in (True, 'true', 'yes'):
        return dict(DEFAULT_TPM)
    if tpm in (False, 'false', 'no'):
        return False
    if not isinstance(tpm, dict):
        raise InvalidSpec('tpm', 'expected true, false or {model, version}, not %r' % (tpm,))
    unknown = sorted(set(tpm) - set(('model', 'version')))
    if unknown:
        raise InvalidSpec('tpm.%s' % unknown[0], 'unknown key (a TPM takes model and version)')
    model = tpm.get('model') or DEFAULT_TPM['model']
    if model not in TPM_MODELS:
        raise InvalidSpec('tpm.model', '%r is not one of %s' % (model, ', '.join(TPM_MODELS)))
    version = tpm.get('version')
    version = DEFAULT_TPM['version'] if version is None else str(version)
    if version == '2':
        version = '2.0'
    if version not in TPM_VERSIONS:
        raise InvalidSpec('tpm.version', '%r is not one of %s' % (tpm.get('version'), ', '.join(TPM_VERSIONS)))
    if model == 'tpm-crb' and version != '2.0':
        raise InvalidSpec('tpm.version', 'a tpm-crb TPM is a TPM 2.0 (model tpm-tis for 1.2)')
    return {'model': model, 'backend': 'emulator', 'version': version}


def boot_spec(boot):
    if boot is None:
        return None
    for index, dev in enumerate(boot):
        if dev not in BOOT_DEVICES:
            raise InvalidSpec('boot[%d]' % index, '%r is not one of %s' % (dev, ', '.join(BOOT_DEVICES)))
    v.unique(boot, 'boot', 'device')
    return list(boot)


def disk_spec(disk, field):
    """One disk: its source and settings; ``target`` may stay None."""
    if not isinstance(disk, dict):
        raise InvalidSpec(field, 'a disk is a dict ({volume, pool}, {path} or {size, pool})')
    device = disk.get('device') or 'disk'
    if device not in DISK_DEVICES:
        raise InvalidSpec(field + '.device', '%r is not one of %s' % (device, ', '.join(DISK_DEVICES)))
    # device stays None when not said: an existing disk keeps what it is.
    result = {'target': disk.get('target'), 'bus': disk.get('bus'), 'device': disk.get('device'),
              'path': None, 'pool': None, 'volume': None, 'format': disk.get('format'),
              'readonly': disk.get('readonly'), 'cache': disk.get('cache'),
              'create': None}
    has = dict((key, disk.get(key) not in (None, '')) for key in ('path', 'pool', 'volume', 'size', 'backing_volume'))
    if has['path']:
        for other in ('pool', 'volume', 'size', 'backing_volume'):
            if has[other]:
                raise InvalidSpec(field + '.' + other, 'a disk is either a path or a volume in a pool, not both')
        if not disk['path'].startswith('/') and not disk['path'].startswith('['):
            raise InvalidSpec(field + '.path', '%r is not an absolute path' % disk['path'])
        result['path'] = disk['path']
    elif has['size'] or has['backing_volume']:
        if not has['pool']:
            raise InvalidSpec(field + '.pool', 'a volume created for the domain needs the pool to create it in')
        if device == 'cdrom':
            raise InvalidSpec(field + '.device', 'a cdrom cannot be a new empty volume')
        result['pool'] = v.plain_name(disk['pool'], field + '.pool')
        result['volume'] = v.plain_name(disk['volume'], field + '.volume') if has['volume'] else None
        result['create'] = {
            'capacity': parse_size(disk['size'], field + '.size', default_unit='gib') if has['size'] else None,
            'backing_volume': v.plain_name(disk['backing_volume'], field + '.backing_volume')
            if has['backing_volume'] else None}
        if result['create']['capacity'] is not None and result['create']['capacity'] < 1024 ** 2:
            raise InvalidSpec(field + '.size', '%r is less than 1 MiB (a bare number means GiB)' % (disk['size'],))
    elif has['volume'] or has['pool']:
        if not (has['volume'] and has['pool']):
            missing = 'pool' if has['volume'] else 'volume'
            raise InvalidSpec(field + '.' + missing, 'a disk from a pool needs both volume and pool')
        result['pool'] = v.plain_name(disk['pool'], field + '.pool')
        result['volume'] = v.plain_name(disk['volume'], field + '.volume')
    elif device == 'cdrom':
        result['path'] = ''  # a drive with no medium
    else:
        raise InvalidSpec(field, 'a disk needs a source: {volume, pool}, {path} or {size, pool}')
    if result['bus'] is not None and result['bus'] not in DISK_BUSES:
        raise InvalidSpec(field + '.bus', '%r is not one of %s' % (result['bus'], ', '.join(DISK_BUSES)))
    if result['target'] is not None:
        if not re.match(_TARGET_RE, result['target']):
            raise InvalidSpec(field + '.target', '%r is not a disk target (vda, sdb, hdc, xvda ...)' % result['target'])
        if result['bus'] and not result['target'].startswith(TARGET_PREFIX[result['bus']]) \
                and not (result['bus'] == 'xen' and result['target'].startswith('xvd')):
            raise InvalidSpec(field + '.target', '%r does not fit bus %r (expected %s...)'
                              % (result['target'], result['bus'], TARGET_PREFIX[result['bus']]))
    if result['format'] is not None and result['format'] not in DISK_FORMATS:
        raise InvalidSpec(field + '.format', '%r is not one of %s' % (result['format'], ', '.join(DISK_FORMATS)))
    if result['cache'] is not None and result['cache'] not in CACHE_MODES:
        raise InvalidSpec(field + '.cache', '%r is not one of %s' % (result['cache'], ', '.join(CACHE_MODES)))
    if device == 'cdrom' and result['readonly'] is False:
        raise InvalidSpec(field + '.readonly', READONLY_CDROM)
    if device == 'cdrom' and result['bus'] == 'virtio':
        raise InvalidSpec(field + '.bus', 'a cdrom cannot be on the virtio bus (use sata, scsi or ide)')
    return result


def interface_spec(iface, field):
    if not isinstance(iface, dict):
        raise InvalidSpec(field, 'an interface is a dict ({network}, {bridge} or {direct})')
    kinds = [k for k in ('network', 'bridge', 'direct') if iface.get(k)]
    if not kinds:
        raise InvalidSpec(field, 'an interface needs a network, a bridge or a direct (macvtap) device')
    if len(kinds) > 1:
        raise InvalidSpec(field, 'an interface takes one of network, bridge and direct, not %s' % ' and '.join(kinds))
    kind = kinds[0]
    result = {'type': kind, 'network': None, 'bridge': None, 'direct': None, 'mac': None, 'model': iface.get('model')}
    result[kind] = v.plain_name(iface[kind], '%s.%s' % (field, kind))
    if iface.get('mac'):
        result['mac'] = v.mac_address(iface['mac'], field + '.mac')
    if result['model'] is not None and not re.match(r'^[A-Za-z0-9_.-]+$', result['model']):
        raise InvalidSpec(field + '.model', '%r is not a NIC model name' % result['model'])
    return result


def graphics_spec(graphics):
    if graphics is None:
        return None
    kind = graphics.get('type') or 'vnc'
    if kind not in GRAPHICS:
        raise InvalidSpec('graphics.type', '%r is not one of %s' % (kind, ', '.join(GRAPHICS)))
    if kind == 'none':
        if graphics.get('listen') or graphics.get('password'):
            raise InvalidSpec('graphics', "listen and password have no meaning with type 'none'")
        return {'type': 'none', 'listen': None, 'password': None}
    listen = graphics.get('listen')
    if listen is not None:
        listen = str(v.ip_address(listen, 'graphics.listen'))
    password = graphics.get('password')
    if password is not None and len(password) > 8 and kind == 'vnc':
        # VNC authentication uses only the first 8 characters; say so rather than surprise.
        raise InvalidSpec('graphics.password', 'VNC passwords have at most 8 characters')
    return {'type': kind, 'listen': listen, 'password': password}


def console_spec(console):
    if console is None:
        return None
    if isinstance(console, str):
        if console not in ('pty', 'none'):
            raise InvalidSpec('console', "%r is not pty, none or {file: PATH}" % console)
        return {'type': console, 'path': None}
    if isinstance(console, dict) and console.get('file'):
        if not str(console['file']).startswith('/'):
            raise InvalidSpec('console.file', '%r is not an absolute path' % console['file'])
        return {'type': 'file', 'path': str(console['file'])}
    raise InvalidSpec('console', 'expected pty, none or {file: PATH}')


def tags_spec(tags):
    if tags is None:
        return None
    result = {}
    for key, value in tags.items():
        if not re.match(r'^[A-Za-z0-9_.:-]+$', str(key)):
            raise InvalidSpec('tags', '%r is not a valid tag name (letters, digits, _ . : -)' % (key,))
        if isinstance(value, (dict, list)):
            raise InvalidSpec('tags.%s' % key, 'a tag value is a string')
        result[str(key)] = '' if value is None else (str(value).lower() if isinstance(value, bool) else str(value))
    return result


def _check_virt_type_fit(spec):
    kind = spec['virt_type']
    qemu_only = kind not in (None, 'qemu', 'kvm')
    if qemu_only and spec.get('guest_agent'):
        raise InvalidSpec('guest_agent', 'the QEMU guest agent channel needs virt_type qemu or kvm')
    if qemu_only and spec.get('rng'):
        raise InvalidSpec('rng', 'a virtio RNG needs virt_type qemu or kvm')
    if qemu_only and spec.get('tpm'):
        raise InvalidSpec('tpm', 'an emulated TPM (swtpm) needs virt_type qemu or kvm')
    if qemu_only and (spec.get('graphics') or {}).get('type') == 'spice':
        raise InvalidSpec('graphics.type', 'SPICE needs virt_type qemu or kvm')
    if kind == 'vmware':
        for key, option in (('memory_kib', 'memory'), ('max_memory_kib', 'max_memory')):
            if spec.get(key) and spec[key] % 4096:
                raise InvalidSpec(option, 'VMware takes memory in multiples of 4 MiB (%d MiB is not one)'
                                  % (spec[key] // 1024))


def wait_spec(params, allowed=ADDRESS_SOURCES):
    """``wait_for_ip``; ``allowed``: the address sources of this kind of domain."""
    wait = params.get('wait_for_ip')
    if wait is None:
        return None
    timeout = wait.get('timeout')
    timeout = 300 if timeout is None else timeout
    if timeout < 0:
        raise InvalidSpec('wait_for_ip.timeout', 'must not be negative')
    sources = wait.get('sources') or list(allowed)
    for index, source in enumerate(sources):
        if source not in allowed:
            raise InvalidSpec('wait_for_ip.sources[%d]' % index,
                              '%r is not one of %s' % (source, ', '.join(allowed)))
    if params.get('state') not in ('running', None):
        raise InvalidSpec('wait_for_ip', "only with state 'running'")
    return {'timeout': timeout, 'sources': list(sources)}


def remove_storage_spec(value):
    if value in (None, False, 'false', 'no', 'False'):
        return False
    if value in (True, 'true', 'yes', 'True'):
        return True
    if value == 'all':
        return 'all'
    raise InvalidSpec('remove_storage', '%r is not true, false or all' % (value,))


def spec_from_xml(xml, name, filled=LIBVIRT_FILLED):
    """A whole domain XML: everything it models is desired, and what it leaves
    out is desired absent, except what libvirt fills in by itself (``filled``)."""
    parsed = parse_domain_xml(xml, 'xml')
    if parsed['name'] and parsed['name'] != name:
        raise InvalidSpec('xml', 'the XML names domain %r, but name is %r' % (parsed['name'], name))
    if parsed['memory_kib'] is None:
        raise InvalidSpec('xml', 'the XML has no <memory>')
    spec = dict(parsed, name=name)
    if spec['max_memory_kib'] is not None and spec['memory_kib'] > spec['max_memory_kib']:
        spec['memory_kib'] = spec['max_memory_kib']  # libvirt stores a <currentMemory> above <memory> as <memory>
    for key in filled:
        if spec.get(key) is None:
            spec.pop(key, None)
    if not spec['boot']:
        del spec['boot']  # libvirt adds <boot dev='hd'/> when nothing says how to boot
    for disk in spec['disks']:
        disk.pop('type')
        for key in ('bus', 'format', 'cache'):
            if disk[key] is None:
                del disk[key]  # libvirt derives the bus from the target name
    for iface in spec['interfaces']:
        if iface['model'] is None:
            del iface['model']
    if spec['graphics']['listen'] is None:
        del spec['graphics']['listen']
    return spec
