"""UEFI, secure boot, the TPM, the cloud-init seed's drive, graceful shutdown
by ACPI or the agent, and removal with the NVRAM and TPM flags: specs, the
XML both ways (libvirt's own XML as it was measured on the bed: libvirt 9.0),
and the domain manager against the fake driver."""
import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.domain.devices import resolve_disks
from ansible_collections.virtkit.virt.plugins.module_utils.domain.facts import read_addresses
from ansible_collections.virtkit.virt.plugins.module_utils.domain.manager import DomainManager
from ansible_collections.virtkit.virt.plugins.module_utils.domain.spec import domain_spec
from ansible_collections.virtkit.virt.plugins.module_utils.domain.storage import seed_volume
from ansible_collections.virtkit.virt.plugins.module_utils.engine.plan import diff_specified
from ansible_collections.virtkit.virt.plugins.module_utils.errors import DriverError, InvalidSpec
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.domain import build_domain_xml, parse_domain_xml
from ansible_collections.virtkit.virt.tests.unit.fake_driver import FakeDriver

OPTIONS = ('virt_type', 'arch', 'machine', 'memory', 'max_memory', 'vcpus', 'max_vcpus', 'cpu', 'firmware',
           'secure_boot', 'boot', 'kernel', 'initrd', 'cmdline', 'disks', 'interfaces', 'graphics', 'console',
           'guest_agent', 'rng', 'tpm', 'cloud_init', 'tags', 'xml', 'xml_patches', 'wait_for_ip', 'autostart')


def params(**kw):
    base = dict((key, None) for key in OPTIONS)
    base.update(name='vm1', state='running', virt_type='qemu', live=True, restart=False, shutdown_timeout=120,
                force=False, remove_storage=False, shutdown_mode='acpi')
    base.update(kw)
    return base


def spec_of(**kw):
    return domain_spec(params(**kw))[0]


# What libvirt 9.0 kept of a UEFI guest with secure boot and a TPM (persistent
# definition) and what the running guest's XML said: the loader and NVRAM it
# picked at start show only there, and the live <os> has no firmware='efi'.
PERSISTENT = """<domain type='qemu'><name>vm1</name><uuid>0b6a0ad8-4b43-4b7f-9bb4-5d1e4f0e8b2a</uuid>
  <memory unit='KiB'>1048576</memory><currentMemory unit='KiB'>1048576</currentMemory><vcpu>2</vcpu>
  <os firmware='efi'><type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
    <firmware><feature enabled='yes' name='enrolled-keys'/><feature enabled='yes' name='secure-boot'/></firmware>
    <loader secure='yes'/><boot dev='hd'/></os>
  <features><acpi/><apic/><smm state='on'/></features>
  <devices><tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm></devices></domain>"""
LIVE = """<domain type='qemu' id='7'><name>vm1</name><uuid>0b6a0ad8-4b43-4b7f-9bb4-5d1e4f0e8b2a</uuid>
  <memory unit='KiB'>1048576</memory><currentMemory unit='KiB'>1048576</currentMemory><vcpu>2</vcpu>
  <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
    <firmware><feature enabled='yes' name='enrolled-keys'/><feature enabled='yes' name='secure-boot'/></firmware>
    <loader readonly='yes' secure='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.ms.fd</loader>
    <nvram template='/usr/share/OVMF/OVMF_VARS_4M.ms.fd'>/var/lib/libvirt/qemu/nvram/vm1_VARS.fd</nvram>
    <boot dev='hd'/></os>
  <features><acpi/><apic/><smm state='on'/></features>
  <devices><tpm model='tpm-crb'><backend type='emulator' version='2.0'/><alias name='tpm0'/></tpm></devices></domain>"""
PLAIN_UEFI_LIVE = """<domain type='qemu'><name>vm1</name><memory unit='KiB'>131072</memory>
  <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
    <firmware><feature enabled='no' name='secure-boot'/></firmware>
    <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>
    <nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'>/var/lib/libvirt/qemu/nvram/vm1_VARS.fd</nvram></os>
  <devices/></domain>"""


# -- specs ------------------------------------------------------------------------------

def test_uefi_says_no_secure_boot_unless_asked():
    assert spec_of(firmware='uefi')['secure_boot'] is False
    assert spec_of(firmware='uefi', secure_boot=True)['secure_boot'] is True
    assert spec_of(firmware='bios')['secure_boot'] is None
    assert spec_of(memory=512)['secure_boot'] is None and spec_of(memory=512)['tpm'] is None


@pytest.mark.parametrize('kw, field, words', [
    ({'secure_boot': True}, 'secure_boot', 'needs firmware: uefi'),
    ({'secure_boot': True, 'firmware': 'bios'}, 'secure_boot', 'needs firmware: uefi'),
    ({'secure_boot': True, 'firmware': 'uefi', 'machine': 'pc'}, 'machine', "'pc' cannot boot securely"),
    ({'secure_boot': True, 'firmware': 'uefi', 'machine': 'pc-i440fx-7.2'}, 'machine', 'Q35 machines only'),
    ({'secure_boot': 'maybe', 'firmware': 'uefi'}, 'secure_boot', 'not true or false'),
    ({'tpm': 'yes please'}, 'tpm', 'expected true, false or {model, version}'),
    ({'tpm': {'model': 'tpm-spapr'}}, 'tpm.model', 'not one of tpm-crb, tpm-tis'),
    ({'tpm': {'version': '3.0'}}, 'tpm.version', 'not one of 2.0, 1.2'),
    ({'tpm': {'version': '1.2'}}, 'tpm.version', 'a tpm-crb TPM is a TPM 2.0'),
    ({'tpm': {'backend': 'passthrough'}}, 'tpm.backend', 'unknown key'),
    ({'tpm': True, 'virt_type': 'xen'}, 'tpm', 'needs virt_type qemu or kvm'),
])
def test_bad_firmware_and_tpm_name_the_option(kw, field, words):
    with pytest.raises(InvalidSpec) as info:
        spec_of(memory=512, **kw)
    assert info.value.field == field and words in info.value.detail, (info.value.field, info.value.detail)


def test_tpm_values():
    crb = {'model': 'tpm-crb', 'backend': 'emulator', 'version': '2.0'}
    assert spec_of(tpm=True)['tpm'] == crb and spec_of(tpm={})['tpm'] == crb
    assert spec_of(tpm={'version': 2.0})['tpm'] == crb
    assert spec_of(tpm=False)['tpm'] is False
    assert spec_of(tpm={'model': 'tpm-tis', 'version': '1.2'})['tpm'] == {
        'model': 'tpm-tis', 'backend': 'emulator', 'version': '1.2'}


# -- XML ----------------------------------------------------------------------------------

def test_libvirt_chosen_loader_and_nvram_are_no_change():
    """The spec that made PERSISTENT compares equal with it and with the
    running guest's XML (where the firmware libvirt picked shows)."""
    desired = spec_of(firmware='uefi', secure_boot=True, tpm=True)
    desired = dict((k, v) for k, v in desired.items() if k in ('firmware', 'secure_boot', 'tpm'))
    for xml in (PERSISTENT, LIVE):
        assert diff_specified(desired, parse_domain_xml(xml)) == [], xml
    plain = parse_domain_xml(PLAIN_UEFI_LIVE)
    assert (plain['firmware'], plain['secure_boot'], plain['tpm']) == ('uefi', False, False)


def test_secure_boot_xml_on_and_off():
    base = {'name': 'vm1', 'virt_type': 'qemu', 'memory_kib': 131072, 'machine': 'q35', 'firmware': 'uefi'}
    on = build_domain_xml(dict(base, secure_boot=True, tpm={'model': 'tpm-crb', 'backend': 'emulator',
                                                            'version': '2.0'}))
    assert "<os firmware=\"efi\">" in on and '<smm state="on"/>' in on and '<loader secure="yes"/>' in on
    assert '<feature enabled="yes" name="secure-boot"/>' in on and '<feature enabled="yes" name="enrolled-keys"/>' in on
    parsed = parse_domain_xml(on)
    assert (parsed['secure_boot'], parsed['tpm']['model'], parsed['tpm']['version']) == (True, 'tpm-crb', '2.0')
    # Off again, onto what libvirt kept: no enrolled keys (no firmware has them
    # without secure boot), no secure loader; SMM stays.
    off = build_domain_xml(dict(base, secure_boot=False, tpm=False), base=PERSISTENT)
    assert '<feature enabled="no" name="secure-boot"/>' in off and 'enrolled-keys' not in off
    assert '<loader' not in off and '<smm state="on"/>' in off and '<tpm' not in off
    assert parse_domain_xml(off)['secure_boot'] is False and parse_domain_xml(off)['tpm'] is False
    # Back to BIOS: no firmware features left at all.
    bios = build_domain_xml(dict(base, firmware='bios'), base=PERSISTENT)
    assert '<firmware' not in bios and 'firmware=' not in bios and parse_domain_xml(bios)['secure_boot'] is None


def test_another_tpm_model_replaces_the_device():
    xml = build_domain_xml({'name': 'vm1', 'tpm': {'model': 'tpm-tis', 'backend': 'emulator', 'version': '1.2'}},
                           base=PERSISTENT)
    root_tpms = xml.count('<tpm ')
    assert root_tpms == 1 and parse_domain_xml(xml)['tpm'] == {'model': 'tpm-tis', 'backend': 'emulator',
                                                               'version': '1.2'}


# -- the seed's drive -------------------------------------------------------------------------

def test_a_new_seed_is_a_read_only_virtio_disk():
    _volume, disk = seed_volume('vm1', {'user_data': 'x'}, [{'pool': 'p', 'volume': 'root.qcow2'}], False)
    assert (disk['device'], disk['bus'], disk['readonly']) == (None, None, True)
    root = {'target': None, 'bus': None, 'device': None, 'pool': 'p', 'volume': 'root.qcow2', 'path': None}
    resolved = resolve_disks([root, disk], [], 'qemu')
    assert [(d['target'], d['device'], d['bus'], d['readonly']) for d in resolved[1:]] == [('vdb', 'disk', 'virtio', True)]


def test_a_seed_attached_as_a_cdrom_before_keeps_its_drive():
    """Not said, device and bus are no change for a seed an earlier release
    attached as a SATA cdrom."""
    _volume, disk = seed_volume('vm1', {'user_data': 'x'}, [{'pool': 'p'}], False)
    current = [{'target': 'sda', 'bus': 'sata', 'device': 'cdrom', 'type': 'volume', 'pool': 'p',
                'volume': 'vm1-cidata.iso', 'path': None, 'format': 'raw', 'readonly': True, 'cache': None}]
    (resolved,) = resolve_disks([dict(disk, create=None)], current, 'qemu')
    assert resolved['target'] == 'sda'
    assert diff_specified(dict((k, v) for k, v in resolved.items() if k != 'create'), current[0]) == []


@pytest.mark.parametrize('cloud_init, field', [
    ({'device': 'cdrom', 'bus': 'virtio'}, 'cloud_init.bus'),
    ({'device': 'floppy'}, 'cloud_init.device'),
    ({'bus': 'usb'}, 'cloud_init.bus'),
])
def test_bad_seed_drives_name_the_option(cloud_init, field):
    with pytest.raises(InvalidSpec) as info:
        seed_volume('vm1', dict(cloud_init, user_data='x'), [{'pool': 'p'}], False)
    assert info.value.field == field


def test_a_seed_on_a_scsi_cdrom_when_asked():
    _volume, disk = seed_volume('vm1', {'device': 'cdrom', 'bus': 'scsi'}, [{'pool': 'p'}], False)
    (resolved,) = resolve_disks([disk], [], 'qemu')
    assert (resolved['target'], resolved['device'], resolved['bus']) == ('sda', 'cdrom', 'scsi')


# -- the manager ------------------------------------------------------------------------------

def manager(driver, check=False, **kw):
    mgr = DomainManager(params(**kw), check)
    mgr.validate()
    mgr.driver = driver
    return mgr


def test_a_new_secure_boot_domain_is_q35_with_smm():
    driver = FakeDriver()
    plan = manager(driver, memory=512, firmware='uefi', secure_boot=True, tpm=True, state='present').plan()
    plan.apply()
    (define,) = driver.called('define_domain')
    parsed = parse_domain_xml(define['xml'])
    assert (parsed['machine'], parsed['firmware'], parsed['secure_boot']) == ('q35', 'uefi', True)
    assert parsed['tpm'] == {'model': 'tpm-crb', 'backend': 'emulator', 'version': '2.0'}
    assert '<smm state="on"/>' in define['xml']


def test_secure_boot_on_an_i440fx_domain_is_refused_naming_its_machine():
    driver = FakeDriver()
    driver.add_domain('vm1', state='shutoff', xml=PLAIN_UEFI_LIVE.replace('pc-q35-7.2', 'pc-i440fx-7.2'))
    with pytest.raises(InvalidSpec) as info:
        manager(driver, firmware='uefi', secure_boot=True, state='present').plan()
    assert info.value.field == 'machine' and "'pc-i440fx-7.2'" in info.value.detail
    assert driver.changes() == []


def test_a_running_guest_takes_firmware_and_tpm_changes_at_its_restart():
    driver = FakeDriver()
    driver.add_domain('vm1', state='running', xml=PERSISTENT)
    plan = manager(driver, firmware='uefi', secure_boot=False, tpm=False).plan()
    assert plan.action_names == ['redefine'] and plan.restart_required
    assert manager(driver, firmware='uefi', secure_boot=True, tpm=True).plan().action_names == []


def test_removal_asks_for_the_nvram_and_the_tpm_state():
    driver = FakeDriver()
    driver.add_domain('vm1', state='running', xml=PERSISTENT)
    manager(driver, state='absent').plan().apply()
    assert driver.names()[-2:] == ['destroy_domain', 'undefine_domain']
    (undefine,) = driver.called('undefine_domain')
    assert undefine['nvram'] is True and undefine['tpm'] is True


@pytest.mark.parametrize('mode', ['acpi', 'agent'])
def test_shutdown_asks_the_way_shutdown_mode_says(mode):
    driver = FakeDriver()
    driver.add_domain('vm1', state='running', xml=PERSISTENT)
    manager(driver, state='shutdown', shutdown_mode=mode).request_shutdown()
    assert driver.called('shutdown_domain') == [{'name': 'vm1', 'mode': mode}]


def test_a_driver_without_shutdown_modes_is_asked_its_way_for_acpi_only():
    driver = FakeDriver()
    unsupported = DriverError('unsupported flags (0x1) in function testDomainShutdownFlags')
    unsupported.unsupported = True
    driver.script('shutdown_domain', unsupported, mode='acpi')
    manager(driver, state='shutdown').request_shutdown()
    assert [call['mode'] for call in driver.called('shutdown_domain')] == ['acpi', None]
    driver.script('shutdown_domain', unsupported, mode='agent')
    with pytest.raises(DriverError):
        manager(driver, state='shutdown', shutdown_mode='agent').request_shutdown()
    with pytest.raises(InvalidSpec) as info:
        manager(driver, state='shutdown', shutdown_mode='power-button')
    assert info.value.field == 'shutdown_mode'


def test_the_agents_loopback_addresses_are_no_address():
    driver = FakeDriver()
    loopback = [{'type': 'ipv4', 'addr': '127.0.0.1', 'prefix': 8}, {'type': 'ipv6', 'addr': '::1', 'prefix': 128}]
    link_local = [{'type': 'ipv6', 'addr': 'fe80::5054:ff:fe00:1', 'prefix': 64}]
    driver.script('domain_addresses', [{'name': 'lo', 'mac': '00:00:00:00:00:00', 'addresses': loopback},
                                       {'name': 'eth0', 'mac': '52:54:00:00:00:01', 'addresses': link_local}])
    assert read_addresses(driver, 'vm1', ['agent']) == {}


def test_undefine_flags_come_from_the_binding():
    libvirt = pytest.importorskip('libvirt')
    from ansible_collections.virtkit.virt.plugins.module_utils.driver.libvirt_driver import undefine_flags
    flags = undefine_flags()
    assert flags & libvirt.VIR_DOMAIN_UNDEFINE_NVRAM and flags & libvirt.VIR_DOMAIN_UNDEFINE_TPM
    both = libvirt.VIR_DOMAIN_UNDEFINE_NVRAM | libvirt.VIR_DOMAIN_UNDEFINE_TPM
    assert not undefine_flags(nvram=False, tpm=False) & both
