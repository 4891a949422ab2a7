"""An existing domain on a driver that cannot redefine one (libvirt's esx
driver): memory and vCPUs through their own calls, in the order power allows;
anything else refused before anything is changed, naming option and driver;
a new domain defined without the metadata esx drops.
The integration tests run the same against VMware's vSphere simulator."""
import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.domain.manager import DomainManager
from ansible_collections.virtkit.virt.plugins.module_utils.domain.setters import setter_changes
from ansible_collections.virtkit.virt.plugins.module_utils.errors import Conflict
from ansible_collections.virtkit.virt.tests.unit.fake_driver import FakeDriver

OPTIONS = ('autostart', 'arch', 'machine', 'memory', 'max_memory', 'vcpus', 'max_vcpus', 'cpu', 'firmware', 'boot',
           'kernel', 'initrd', 'cmdline', 'disks', 'interfaces', 'graphics', 'console', 'guest_agent', 'rng',
           'cloud_init', 'tags', 'xml', 'xml_patches', 'wait_for_ip', 'auth')
NO_REDEFINE = ("changing the definition of an existing domain (it defines new domains only) "
               "is not supported by libvirt's esx driver")
NO_LIVE_SIZE = "a live change of the memory size (only a powered-off domain gets one) is not supported by libvirt's esx driver"
ESX_XML = """<domain type='vmware'><name>vm1</name><uuid>0a71ed28-9676-4e5a-8a88-acac1dae0001</uuid>
<memory unit='KiB'>{size}</memory><currentMemory unit='KiB'>{current}</currentMemory><vcpu>{vcpus}</vcpu>
<os><type arch='x86_64'>hvm</type></os><devices>
<disk type='file' device='disk'><source file='[ds1] vm1/vm1.vmdk'/><target dev='sda' bus='scsi'/></disk>
</devices></domain>"""


def esx_driver(state='shutoff', size=262144, current=None, vcpus=1):
    driver = FakeDriver('esx://esx1/?no_verify=1')
    driver.add_domain('vm1', state=state, xml=ESX_XML.format(size=size, current=current or size, vcpus=vcpus))
    driver.script('unsupported', NO_REDEFINE, feature='redefine_domain')
    driver.script('unsupported', NO_LIVE_SIZE, feature='live_max_memory')
    return driver


def plan(driver, check=False, **kw):
    params = dict((key, None) for key in OPTIONS)
    params.update(name='vm1', state='present', virt_type='auto', live=True, restart=False, shutdown_timeout=120,
                  force=False, remove_storage=False)
    params.update(kw)
    manager = DomainManager(params, check)
    manager.validate()
    manager.driver = driver
    return manager.plan()


def test_memory_and_vcpus_of_a_shut_off_domain_by_their_own_calls():
    driver = esx_driver()
    result = plan(driver, max_memory=512, vcpus=2)
    assert result.action_names == ['set max_memory to 512 MiB', 'set vcpus to 2']
    result.apply()
    assert driver.changes() == [('set_domain_max_memory', {'name': 'vm1', 'kib': 524288}),
                                ('set_domain_vcpus', {'name': 'vm1', 'count': 2, 'live': False, 'config': True})]
    # memory alone raises the size too, and sets the memory (a limit equal to the size looks like none)
    assert plan(esx_driver(), memory=512).action_names == ['set max_memory to 512 MiB', 'set memory to 512 MiB']
    assert 'define_domain' not in driver.names()


def test_less_memory_than_the_size_is_a_limit_live_too():
    driver = esx_driver(state='running', size=524288)
    result = plan(driver, memory=256)
    assert result.action_names == ['set memory to 256 MiB']
    result.apply()
    assert driver.called('set_domain_memory') == [{'name': 'vm1', 'kib': 262144, 'live': True, 'config': True}]


def test_a_running_domain_gets_a_new_memory_size_only_with_restart_or_stopped():
    with pytest.raises(Conflict) as refused:
        plan(esx_driver(state='running'), memory=512)
    assert 'memory: ' + NO_LIVE_SIZE in refused.value.message
    assert 'state: shutdown' in refused.value.message and 'restart: true' in refused.value.message
    assert plan(esx_driver(state='running'), max_memory=512, restart=True).action_names == [
        'shutdown', 'set max_memory to 512 MiB', 'start']
    assert plan(esx_driver(state='running'), memory=512, state='destroyed').action_names == [
        'destroy', 'set max_memory to 512 MiB', 'set memory to 512 MiB']


def test_anything_else_is_refused_naming_the_options_before_anything_changes():
    driver = esx_driver()
    with pytest.raises(Conflict) as refused:
        plan(driver, memory=512, disks=[], boot=['cdrom'])
    assert refused.value.message.startswith('boot, disks: ' + NO_REDEFINE)
    assert driver.changes() == []


def test_a_vcpu_maximum_above_the_count_is_refused():
    with pytest.raises(Conflict) as refused:
        plan(esx_driver(), vcpus=1, max_vcpus=4)
    assert refused.value.message.startswith('max_vcpus: ')


def test_live_false_refuses_what_would_change_a_running_domain_at_once():
    with pytest.raises(Conflict) as refused:
        plan(esx_driver(state='running', vcpus=1), vcpus=2, live=False)
    assert refused.value.message.startswith('vcpus: live: false, but ')
    assert plan(esx_driver(state='shutoff'), vcpus=2, live=False).action_names == ['set vcpus to 2']


def test_unchanged_is_unchanged():
    assert plan(esx_driver(vcpus=2), memory=256, vcpus=2).action_names == []


def test_tags_where_the_driver_has_no_metadata():
    driver = esx_driver()
    driver.script('unsupported', "domain metadata (tags) is not supported by libvirt's esx driver",
                  feature='domain_metadata')
    with pytest.raises(Conflict) as refused:
        plan(driver, tags={'env': 'ci'})
    assert refused.value.message == "tags: domain metadata (tags) is not supported by libvirt's esx driver"


@pytest.mark.parametrize('desired, config, changes', [
    # a new size alone: a limit stays, or the memory follows the size
    ({'max_memory_kib': 2048, 'memory_kib': None}, {'max_memory_kib': 1024, 'memory_kib': 512},
     {'max_memory_kib': 2048}),
    # a new size and the memory: both set (a limit as large as the size looks like none)
    ({'max_memory_kib': 2048, 'memory_kib': 2048}, {'max_memory_kib': 1024, 'memory_kib': 1024},
     {'max_memory_kib': 2048, 'memory_kib': 2048}),
    ({'memory_kib': 512, 'max_memory_kib': None}, {'max_memory_kib': 1024, 'memory_kib': 1024}, {'memory_kib': 512}),
    ({'vcpus': None, 'max_vcpus': 4}, {'vcpus': 2, 'max_vcpus': 2}, {'vcpus': 4}),
    ({'vcpus': 2, 'max_vcpus': 2}, {'vcpus': 2, 'max_vcpus': 2}, {}),
])
def test_setter_changes(desired, config, changes):
    assert setter_changes(desired, config) == changes


def test_a_new_domain_where_the_driver_keeps_no_metadata_is_defined_without_stamps():
    """esx drops <metadata>: a new guest's XML carries no stamps there, where
    another driver's records the task's CPU from the start."""
    for why in ("domain metadata (tags) is not supported by libvirt's esx driver", None):
        driver = esx_driver()
        driver.script('unsupported', why, feature='domain_metadata')
        driver.capabilities = ("<capabilities><host><cpu><arch>x86_64</arch></cpu></host><guest><os_type>hvm"
                               "</os_type><arch name='x86_64'><domain type='vmware'/></arch></guest></capabilities>")
        plan(driver, name='vm2', memory=256, cpu={'mode': 'custom', 'model': 'core2duo'}).apply()
        (defined,) = driver.called('define_domain')
        assert ('virtkit' in defined['xml']) is (why is None), defined['xml']
        assert '<model' in defined['xml'] and 'core2duo' in defined['xml']
