"""A running guest whose definition changed through ``xml``, ``xml_patches``
or ``cpu`` where only a restart applies it: every run says restart_required
until the guest restarted (not only the run that redefined it), and
``restart: true`` restarts it. Runs one after another on one connection to
libvirt's test driver (test:///default keeps a running domain's new
persistent definition apart from the running one, as qemu does); the stamps
that tell a fresh guest from one still waiting against the fake driver."""
import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.domain.manager import DomainManager
from ansible_collections.virtkit.virt.plugins.module_utils.errors import DriverError
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel import user_xml
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.domain import (
    definition_stamps, parse_domain_xml, running_cpu_stamp, with_stamps)
from ansible_collections.virtkit.virt.tests.unit.fake_driver import FakeDriver
from ansible_collections.virtkit.virt.tests.unit.module_utils.domain.one_host import domain_params

libvirt = pytest.importorskip('libvirt')
from ansible_collections.virtkit.virt.plugins.module_utils.driver.libvirt_driver import LibvirtDriver  # noqa: E402

ON_CRASH = [{'xpath': '/domain/on_crash', 'value': 'restart'}]
PENDING = "domain 'test': XML change takes effect when the domain restarts (set restart: true to restart it now)"


def _steps(run, **task):
    """The four runs of a change only a restart applies, each predicted by check mode first."""
    results = []
    for extra in ({}, {}, {'restart': True}, {}):
        options = dict(task, **extra)
        predicted, done = run(check=True, **options), run(**options)
        for key in ('changed', 'actions', 'restart_required'):
            assert predicted[key] == done[key], (key, predicted, done)
        results.append(done)
    return results


def test_patches_a_running_guest_lacks_are_pending_until_it_restarts(run):
    first, again, restarted, after = _steps(run, xml_patches=ON_CRASH)
    assert first['actions'] == ['redefine'] and first['restart_required'] is True and PENDING in first['warnings']
    # The persistent definition has it now; the running guest still has not.
    assert again['changed'] is False and again['actions'] == []
    assert again['restart_required'] is True and PENDING in again['warnings']
    assert restarted['actions'] == ['restart'] and restarted['restart_required'] is False
    assert after['changed'] is False and after['restart_required'] is False and after['warnings'] == []


def test_a_cpu_a_running_guest_lacks_is_pending_until_it_restarts(run):
    cpu = {'mode': 'custom', 'model': 'qemu64'}
    first, again, restarted, after = _steps(run, cpu=cpu)
    assert first['actions'] == ['redefine'] and first['restart_required'] is True
    assert again['changed'] is False and again['restart_required'] is True
    assert "domain 'test': cpu change takes effect" in ' '.join(again['warnings'])
    assert restarted['actions'] == ['restart'] and after['restart_required'] is False and after['changed'] is False


def test_a_whole_xml_a_running_guest_lacks_is_pending_until_it_restarts(run):
    conn = libvirt.open('test:///default')
    xml = conn.lookupByName('test').XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    conn.close()
    assert '<on_crash>destroy</on_crash>' in xml
    first, again, restarted, after = _steps(run, xml=xml.replace('<on_crash>destroy', '<on_crash>restart'))
    assert first['actions'] == ['redefine'] and first['restart_required'] is True
    assert again['changed'] is False and again['restart_required'] is True and PENDING in again['warnings']
    assert restarted['actions'] == ['restart'] and after['restart_required'] is False and after['changed'] is False


def test_a_fresh_guest_is_not_pending_where_its_running_xml_differs():
    """libvirt rewrites parts of a running guest's XML (a graphics port, an
    expanded CPU): with the stamps the guest started with equal to the
    definition's, a patch that reads otherwise in the running XML is no
    pending change; a stamp the guest has not got is one."""
    patch = [{'xpath': "/domain/devices/graphics[@type='vnc']", 'attribute': 'port', 'value': '-1'}]
    config = ("<domain type='kvm'><name>vm1</name><uuid>0a71ed28-9676-4e5a-8a88-acac1dae0001</uuid>"
              "<memory unit='KiB'>262144</memory><currentMemory unit='KiB'>262144</currentMemory><vcpu>1</vcpu>"
              "<cpu mode='custom' match='exact'><model fallback='allow'>qemu64</model></cpu>"
              "<os><type arch='x86_64'>hvm</type></os><devices><graphics type='vnc' port='-1' autoport='yes'/>"
              "</devices></domain>")
    config = with_stamps(config, {'patches': user_xml.patches_digest(patch), 'cpu': 'custom qemu64'})
    live = config.replace('port="-1"', 'port="5900"').replace(
        '<model fallback="allow">qemu64</model>', '<model fallback="forbid">qemu64</model><feature name="x2apic"/>')
    assert 'port="5900"' in live and 'x2apic' in live

    def plan(running_xml):
        driver = FakeDriver('qemu:///system')
        driver.add_domain('vm1', state='running', xml=config)
        driver.script('domain_xml', running_xml, inactive=False)
        manager = DomainManager(domain_params(uri=None, name='vm1', xml_patches=patch,
                                              cpu={'mode': 'custom', 'model': 'qemu64'}), False)
        manager.validate()
        manager.driver = driver
        return manager.plan()
    fresh = plan(live)
    assert fresh.action_names == [] and fresh.restart_required is False
    # Started before the patches' redefinition, but with what they set: nothing waits.
    assert plan(with_stamps(config, {'patches': 'another'})).restart_required is False
    waiting = plan(with_stamps(live, {'patches': 'another', 'cpu': 'host-model'}))
    assert waiting.action_names == [] and waiting.restart_required is True
    assert 'XML, cpu changes take effect' in waiting.warnings[0]


def test_patches_show_in_the_diff_without_passwords(run):
    patches = [{'xpath': '/domain/on_crash', 'value': 'restart'},
               {'xpath': '/domain/devices', 'xml': "<graphics type='vnc' port='-1' passwd='Secret1'/>"},
               {'xpath': '/domain/devices/memballoon', 'remove': True}]
    for check in (True, False):
        result = run(check=check, xml_patches=patches)
        assert result['changed'] is True, result
        before, after = result['diff']['before']['xml_patches'], result['diff']['after']['xml_patches']
        assert before['/domain/on_crash'] == 'destroy' and after['/domain/on_crash'] == 'restart'
        assert '/domain/devices/graphics' not in before
        assert after['/domain/devices/graphics'] == "<graphics type=\"vnc\" port=\"-1\" passwd='********'/>"
        assert before['/domain/devices/memballoon'].startswith('<memballoon model="virtio">')
        assert '/domain/devices/memballoon' not in after
        assert 'Secret1' not in repr(result)
    assert run(xml_patches=patches)['changed'] is False


def test_another_password_through_a_patch_shows_as_another():
    before = {"/domain/devices/graphics/@passwd": 'Old1', '/domain/devices/graphics': "<graphics passwd='Old1'/>"}
    after = {"/domain/devices/graphics/@passwd": 'New2', '/domain/devices/graphics': "<graphics passwd='New2'/>"}
    shown_before, shown_after = user_xml.hide_passwords(before, after, '********')
    assert shown_before == {"/domain/devices/graphics/@passwd": '********',
                            '/domain/devices/graphics': "<graphics passwd='********'/>"}
    assert shown_after == {"/domain/devices/graphics/@passwd": '******** (another password)',
                           '/domain/devices/graphics': "<graphics passwd='********'/> (another password)"}


def test_a_new_domain_shows_its_patches_after(run):
    result = run(check=True, name='vknew', memory=64, virt_type='test', xml_patches=ON_CRASH)
    assert result['diff']['before'] == {} and result['diff']['after']['xml_patches'] == {'/domain/on_crash': 'restart'}


def test_a_redefinition_taken_back_is_undone(run, monkeypatch):
    """libvirt answers a define with the domain's name; the undo that
    restores the definition is undone all the same, and nothing is changed."""
    def refused(*args, **kwargs):
        raise DriverError('memory refused')
    monkeypatch.setattr(LibvirtDriver, 'set_domain_memory', refused)
    result = run(memory='3GiB', xml_patches=ON_CRASH)
    assert result['failed'] and result['changed'] is False, result
    assert result['msg'].endswith('memory refused (undone: redefine)'), result['msg']
    again = run(check=True, memory='3GiB', xml_patches=ON_CRASH)
    assert again['actions'][0] == 'redefine'  # the definition was restored: the change is still to make
    assert again['diff']['before']['xml_patches'] == {'/domain/on_crash': 'destroy'}


def test_a_cpu_taken_back_before_the_restart_is_not_pending(run):
    """A guest stamped with the CPU it started with (from its creation on):
    a change to another CPU waits for the restart; taking it back before
    then leaves nothing to wait for."""
    first, second = {'mode': 'custom', 'model': 'qemu64'}, {'mode': 'custom', 'model': 'Nehalem'}
    new = dict(name='vkcpu', memory=64, virt_type='test', cpu=first)
    created = run(**new)
    assert created['changed'] is True and created['restart_required'] is False, created
    for check in (True, False):
        changed = run(check=check, **dict(new, cpu=second))
        assert changed['actions'] == ['redefine'] and changed['restart_required'] is True, changed
    assert run(**dict(new, cpu=second))['restart_required'] is True
    for check in (True, False):
        back = run(check=check, **new)
        assert back['actions'] == ['redefine'] and back['restart_required'] is False, back
        assert back['warnings'] == []
    again = run(**new)
    assert again['changed'] is False and again['restart_required'] is False


def test_a_guest_without_a_cpu_stamp_waits_for_its_restart(run):
    """The bed's 'test' guest started with no stamp: what it runs is not
    known, so a CPU changed and taken back is pending until it restarts."""
    run(cpu={'mode': 'custom', 'model': 'Nehalem'})
    back = run(cpu={'mode': 'custom', 'model': 'qemu64'})
    assert back['restart_required'] is True


def test_a_new_definition_carries_the_stamps_of_its_task_only():
    """A clone's definition starts from its source's XML: the source's
    stamps go, the task's come."""
    xml = with_stamps("<domain type='kvm'><name>src</name></domain>", {'cpu': 'custom Nehalem', 'patches': 'p1'})
    assert definition_stamps(xml) == {'cpu': 'custom Nehalem', 'patches': 'p1'}
    assert definition_stamps(with_stamps(xml, {'cpu': 'host-model', 'patches': None})) == {'cpu': 'host-model'}
    assert definition_stamps(with_stamps(xml, {'cpu': None, 'patches': None})) == {}
    assert definition_stamps(with_stamps(xml, {'patches': 'p2'})) == {'cpu': 'custom Nehalem', 'patches': 'p2'}


@pytest.mark.parametrize('live_cpu, stamp, expected', [
    ("<cpu mode='custom'><model>qemu64</model></cpu>", 'custom qemu64', 'custom qemu64'),
    ("<cpu mode='custom'><model>Haswell</model></cpu>", 'custom qemu64', None),  # edited by hand, restarted
    ("<cpu mode='custom'><model>Haswell</model><feature name='x2apic'/></cpu>", 'host-model', 'host-model'),
    ("<cpu mode='host-passthrough'/>", 'host-passthrough', 'host-passthrough'),
    ("<cpu mode='custom'><model>qemu64</model></cpu>", None, None),
])
def test_the_cpu_a_running_guest_started_with(live_cpu, stamp, expected):
    live = with_stamps("<domain type='kvm'><name>vm1</name>%s</domain>" % live_cpu, {'cpu': stamp})
    assert running_cpu_stamp(definition_stamps(live), parse_domain_xml(live)['cpu']) == expected
