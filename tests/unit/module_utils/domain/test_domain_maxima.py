"""A max_memory or max_vcpus below the domain's memory or vCPUs, in a task
that does not give those: libvirt brings them down to the new maximum when
it defines the domain, so the plan does so first - the diff, check mode, the
running guest's live change and the result show it. On libvirt's test
driver (test:///default: a running domain 'test' with 2 GiB of 8 GiB and 2
of 2 vCPUs); a running QEMU guest, whose vCPUs from its start libvirt does
not unplug, on the fake driver."""
import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.domain.live import plan_live
from ansible_collections.virtkit.virt.plugins.module_utils.domain.manager import DomainManager
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.domain import fixed_vcpus, parse_domain_xml
from ansible_collections.virtkit.virt.tests.unit.fake_driver import FakeDriver
from ansible_collections.virtkit.virt.tests.unit.module_utils.domain.one_host import domain_params

GIB = 1024 * 1024


def predicted_and_done(run, **task):
    """Check mode, then the real run: both say the same."""
    predicted, done = run(check=True, **task), run(**task)
    assert not done.get('failed'), done.get('msg')
    for key in ('changed', 'actions', 'restart_required', 'diff'):
        assert predicted.get(key) == done.get(key), (key, predicted, done)
    return done


def sizes(host, inactive):
    """``(memory KiB, max memory KiB, vCPUs, max vCPUs)`` as libvirt has them."""
    parsed = parse_domain_xml(host.domain_xml('test', inactive=inactive))
    return parsed['memory_kib'], parsed['max_memory_kib'], parsed['vcpus'], parsed['max_vcpus']


def test_a_lower_max_memory_brings_memory_down_in_the_diff_and_live(run, host):
    done = predicted_and_done(run, max_memory='1GiB')
    assert done['actions'] == ['redefine', 'set memory to 1024 MiB (live)']
    assert done['diff']['before']['memory_kib'] == 2 * GIB and done['diff']['after']['memory_kib'] == GIB
    assert done['diff']['before']['max_memory_kib'] == 8 * GIB and done['diff']['after']['max_memory_kib'] == GIB
    # The running guest's maximum is what it started with: that waits for a restart, its memory does not.
    assert done['restart_required'] is True
    assert "domain 'test': max_memory change takes effect when the domain restarts" in ' '.join(done['warnings'])
    assert sizes(host, inactive=True)[:2] == (GIB, GIB)
    assert sizes(host, inactive=False)[:2] == (GIB, 8 * GIB) and done['domain']['memory'] == 1024
    again = predicted_and_done(run, max_memory='1GiB')
    assert again['changed'] is False and again['actions'] == [] and again['restart_required'] is True
    restarted = predicted_and_done(run, max_memory='1GiB', restart=True)
    assert restarted['actions'] == ['restart']
    after = predicted_and_done(run, max_memory='1GiB')
    assert after['changed'] is False and after['restart_required'] is False
    assert sizes(host, inactive=False)[:2] == (GIB, GIB)


def test_a_lower_max_vcpus_brings_the_vcpus_down_in_the_diff_and_live(run, host):
    done = predicted_and_done(run, max_vcpus=1)
    assert done['actions'] == ['redefine', 'set vcpus to 1 (live)']
    assert done['diff']['before']['vcpus'] == 2 and done['diff']['after']['vcpus'] == 1
    assert done['restart_required'] is True
    assert sizes(host, inactive=True)[2:] == (1, 1)
    assert sizes(host, inactive=False)[2:] == (1, 2) and done['domain']['vcpus'] == 1
    again = predicted_and_done(run, max_vcpus=1)
    assert again['changed'] is False and again['actions'] == []


def test_a_shut_off_domain_gets_both_in_one_redefinition(run, host):
    assert run(state='shutdown')['domain']['state'] == 'shutoff'
    task = dict(state='present', max_memory='1GiB', max_vcpus=1)
    done = predicted_and_done(run, **task)
    assert done['actions'] == ['redefine'] and done['restart_required'] is False
    before, after = done['diff']['before'], done['diff']['after']
    assert (before['memory_kib'], before['vcpus']) == (2 * GIB, 2)
    assert (after['memory_kib'], after['max_memory_kib'], after['vcpus'], after['max_vcpus']) == (GIB, GIB, 1, 1)
    assert (done['domain']['memory'], done['domain']['vcpus']) == (1024, 1)
    assert sizes(host, inactive=True) == (GIB, GIB, 1, 1)
    assert predicted_and_done(run, **task)['changed'] is False


@pytest.mark.parametrize('task', [
    dict(max_memory='4GiB', max_vcpus=2),  # still at least what the domain has
    dict(max_memory='1GiB', memory='512MiB'),  # the task says the memory itself
])
def test_a_maximum_the_amount_fits_in_changes_only_the_maximum(run, task):
    done = predicted_and_done(run, state='present', **task)
    said = set(key + '_kib' if 'memory' in key else key for key in task)
    assert set(done['diff']['after']) - {'state', 'autostart', 'name'} == said


def test_a_whole_xml_with_current_memory_above_memory_is_what_libvirt_stores(run, host):
    """libvirt keeps such a <currentMemory> as <memory>: compared as given,
    the memory was changed (live, too) on every run."""
    xml = host.domain_xml('test', inactive=True)
    xml = xml.replace("<memory unit='KiB'>8388608</memory>", "<memory unit='KiB'>1048576</memory>")
    assert "<currentMemory unit='KiB'>2097152</currentMemory>" in xml
    done = predicted_and_done(run, xml=xml)
    assert done['actions'] == ['redefine', 'set memory to 1024 MiB (live)'] and done['restart_required'] is True
    assert done['diff']['before']['memory_kib'] == 2 * GIB and done['diff']['after']['memory_kib'] == GIB
    again = predicted_and_done(run, xml=xml)
    assert again['changed'] is False and again['actions'] == []


LOWER_MEMORY = [{'xpath': '/domain/memory', 'value': '1048576'}]


def test_a_patch_that_lowers_memory_below_current_memory_shows_the_memory_in_the_diff(run, host):
    done = predicted_and_done(run, xml_patches=LOWER_MEMORY)
    assert done['actions'] == ['redefine'] and done['restart_required'] is True
    assert done['diff']['before']['xml_patches'] == {'/domain/memory': '8388608'}
    assert done['diff']['after']['xml_patches'] == {'/domain/memory': '1048576'}
    assert done['diff']['before']['memory_kib'] == 2 * GIB and done['diff']['after']['memory_kib'] == GIB
    assert sizes(host, inactive=True)[:2] == (GIB, GIB)
    assert predicted_and_done(run, xml_patches=LOWER_MEMORY)['changed'] is False


def test_a_patch_that_lowers_memory_below_the_memory_the_task_gives_is_refused(run, host):
    """Else libvirt would keep the lower memory and the next run redefine it again."""
    for check in (True, False):
        result = run(check=check, xml_patches=LOWER_MEMORY, memory='2GiB')
        assert result['failed'] and result['msg'].startswith('Invalid xml_patches: the patches change max_memory'), \
            result
    assert sizes(host, inactive=True)[:2] == (2 * GIB, 8 * GIB)


# -- a running QEMU guest unplugs only the vCPUs it hot-plugged ----------------------

QEMU_XML = """<domain type='qemu'><name>vm1</name><uuid>0a71ed28-9676-4e5a-8a88-acac1dae0001</uuid>
<memory unit='KiB'>262144</memory><currentMemory unit='KiB'>262144</currentMemory>{vcpus}
<os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type></os><devices/></domain>"""
# Started with 1 of 2 vCPUs, the second hot-plugged since (how libvirt's running XML says so).
HOTPLUGGED = ("<vcpu placement='static'>2</vcpu><vcpus><vcpu id='0' enabled='yes' hotpluggable='no' order='1'/>"
              "<vcpu id='1' enabled='yes' hotpluggable='yes' order='2'/></vcpus>")
STARTED_WITH_TWO = "<vcpu placement='static'>2</vcpu>"


@pytest.mark.parametrize('vcpus, fixed', [
    (STARTED_WITH_TWO, 2),
    ("<vcpu placement='static' current='1'>3</vcpu>", 1),
    (HOTPLUGGED, 1),
    (HOTPLUGGED.replace("id='1' enabled='yes'", "id='1' enabled='no'"), 1),
    (HOTPLUGGED.replace("hotpluggable='no'", "hotpluggable='yes'"), 0),
])
def test_the_vcpus_a_running_guest_cannot_unplug(vcpus, fixed):
    assert fixed_vcpus(QEMU_XML.format(vcpus=vcpus)) == fixed


def test_fewer_vcpus_than_qemu_started_with_wait_for_the_restart():
    live = {'vcpus': 2, 'max_vcpus': 2}
    assert plan_live({'vcpus': 1}, live, live, 'qemu', fixed_vcpus=2) == ([], ['vcpus'])
    assert plan_live({'vcpus': 1}, live, live, 'kvm', fixed_vcpus=1) == ([('vcpus', 1)], [])
    assert plan_live({'vcpus': 1}, live, live, 'test', fixed_vcpus=2) == ([('vcpus', 1)], [])


def plan_on(driver, **kw):
    manager = DomainManager(domain_params(uri=None, name='vm1', **kw), False)
    manager.validate()
    manager.driver = driver
    return manager.plan()


@pytest.mark.parametrize('vcpus, actions', [
    (STARTED_WITH_TWO, ['redefine']),  # libvirt would refuse to unplug vCPU 1: the restart brings it down
    (HOTPLUGGED, ['redefine', 'set vcpus to 1 (live)']),
])
def test_a_lower_max_vcpus_on_a_running_qemu_guest(vcpus, actions):
    driver = FakeDriver('qemu:///system')
    driver.add_domain('vm1', state='running', xml=QEMU_XML.format(vcpus=vcpus))
    result = plan_on(driver, max_vcpus=1)
    assert result.action_names == actions
    assert result.restart_required is True  # the maximum, in both
    assert result.before['vcpus'] == 2 and result.after['vcpus'] == 1
