"""The domain manager end to end on libvirt's test driver (test:///default:
an in-memory host with one running domain, fresh for every connection)."""
import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.domain.manager import DomainManager
from ansible_collections.virtkit.virt.plugins.module_utils.engine.runner import execute

libvirt = pytest.importorskip('libvirt')

OPTIONS = ('autostart', 'arch', 'machine', 'memory', 'max_memory', 'vcpus', 'max_vcpus', 'cpu', 'firmware', 'boot',
           'kernel', 'initrd', 'cmdline', 'disks', 'interfaces', 'graphics', 'console', 'guest_agent', 'rng',
           'cloud_init', 'tags', 'xml', 'xml_patches', 'wait_for_ip', 'auth')


def run(check=False, **kw):
    params = dict((key, None) for key in OPTIONS)
    params.update(uri='test:///default', state='running', virt_type='auto', live=True, restart=False,
                  shutdown_timeout=120, force=False, remove_storage=False)
    params.update(kw)
    return execute(DomainManager(params, check), want_diff=True)


def test_libvirt_own_xml_changes_nothing():
    conn = libvirt.open('test:///default')
    xml = conn.lookupByName('test').XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    conn.close()
    result = run(name='test', xml=xml)
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] is False and result['actions'] == []


def test_the_domain_as_it_is_changes_nothing_and_check_mode_agrees():
    same = dict(name='test', memory='2GiB', max_memory='8GiB', vcpus=2, interfaces=[{'network': 'default'}],
                disks=[{'path': '/guest/diskimage1'}])
    for check in (True, False):
        result = run(check=check, **same)
        assert result['changed'] is False and result['actions'] == [], result
    changed = dict(same)
    changed.update(memory='3GiB', tags={'env': 'ci'})
    predicted, done = run(check=True, **changed), run(**changed)
    assert predicted['actions'] == done['actions'] == ['redefine', 'set memory to 3072 MiB (live)', 'set tags (live)']
    assert predicted['diff']['before']['memory_kib'] == 2097152 and predicted['diff']['after']['memory_kib'] == 3145728
    assert done['domain']['memory'] == 3072 and done['domain']['tags'] == {'env': 'ci'}
    assert predicted['domain']['memory'] == 2048  # check mode shows the domain as it is


def test_a_missing_network_fails_before_anything_is_done():
    result = run(name='new', memory=64, interfaces=[{'network': 'nowhere'}])
    assert result['failed'] and result['error'] == 'invalid'
    assert result['msg'] == "Invalid interfaces[0].network: there is no network 'nowhere'"


def test_a_new_domain_needs_memory():
    result = run(name='new', vcpus=1)
    assert result['failed'] and result['msg'].startswith('Invalid memory')
    result = run(name='new')
    assert result['failed'] and 'does not exist' in result['msg']


def test_a_tag_left_out_is_removed_from_the_persistent_definition_too(tmp_path):
    """Tags are a whole set: a persistent definition with a tag the task
    leaves out is redefined, not only the running domain's metadata."""
    host = tmp_path / 'host.xml'
    host.write_text(
        "<node><cpu><mhz>2000</mhz><model>i686</model></cpu><domain type='test'><name>tagged</name>"
        "<memory unit='MiB'>64</memory><os><type>hvm</type></os><metadata>"
        "<virtkit:tags xmlns:virtkit='https://virtkit.dev/xmlns/virt/1.0'><virtkit:tag name='a'>1</virtkit:tag>"
        "<virtkit:tag name='b'>2</virtkit:tag></virtkit:tags></metadata></domain></node>")
    uri = 'test://%s' % host
    for state, actions in (('running', ['redefine', 'set tags (live)']), ('destroyed', ['redefine', 'destroy'])):
        result = run(uri=uri, name='tagged', state=state, tags={'a': '1'})
        assert result['actions'] == actions, result
        assert result['diff']['before']['tags'] == {'a': '1', 'b': '2'} and result['diff']['after']['tags'] == {'a': '1'}
    assert run(uri=uri, name='tagged', tags={'a': '1', 'b': '2'})['actions'] == []


# -- issue 19: what libvirt does not keep, check mode before the pool exists ---------

def test_a_patch_libvirt_does_not_know_fails_naming_it_and_defines_nothing():
    for name in ('test', 'vknew'):  # an existing domain and a new one
        result = run(name=name, memory=128, virt_type='test',
                     xml_patches=[{'xpath': '/domain/clock', 'attribute': 'offset', 'value': 'utc'},
                                  {'xpath': '/domain/nonexistent/thing', 'value': '1'}])
        assert result['failed'] and result['changed'] is False, result
        assert result['msg'].startswith("Invalid xml_patches[1]: libvirt's schema refuses the patched domain XML"), \
            result['msg']
        assert 'nonexistent' in result['msg'] and 'Traceback' not in result['msg']


def test_check_mode_predicts_a_domain_on_a_network_and_pool_made_earlier_in_the_play():
    spec = dict(name='vkcheck', memory=128, virt_type='test', interfaces=[{'network': 'vk-later-net'}],
                disks=[{'pool': 'vk-later-pool', 'size': '1GiB'}, {'pool': 'vk-later-pool', 'volume': 'data.qcow2'}])
    predicted = run(check=True, **spec)
    assert not predicted.get('failed'), predicted['msg']
    assert predicted['changed'] is True and 'define' in predicted['actions']
    said = ' '.join(predicted['warnings'])
    assert "there is no network 'vk-later-net'" in said and "there is no storage pool 'vk-later-pool'" in said
    done = run(**spec)
    assert done['failed'] and "interfaces[0].network: there is no network 'vk-later-net'" in done['msg']


def test_a_run_that_changes_nothing_reads_the_domain_once_and_a_change_reads_it_again(monkeypatch):
    """The plan's reads answer the result's when nothing was applied; an applied change is read back."""
    looks = []
    real_state = libvirt.virDomain.state

    def state(dom, *args):
        looks.append(dom.name())
        return real_state(dom, *args)
    monkeypatch.setattr(libvirt.virDomain, 'state', state)
    same = dict(name='test', memory='2GiB', max_memory='8GiB', vcpus=2)
    assert run(**same)['changed'] is False
    assert looks == ['test']
    del looks[:]
    changed = dict(same)
    changed['memory'] = '3GiB'
    done = run(**changed)
    assert done['changed'] is True and done['domain']['memory'] == 3072
    assert len(looks) >= 2  # the plan's look, and the result's after the change


def test_another_graphics_password_shows_in_the_diff_without_either_password(tmp_path):
    """Both passwords would read ******** in the diff, which then showed no
    change although the task reported one."""
    host = tmp_path / 'host.xml'
    host.write_text(
        "<node><cpu><mhz>2000</mhz><model>i686</model></cpu><domain type='test'><name>vnc</name>"
        "<memory unit='MiB'>64</memory><os><type>hvm</type></os><devices>"
        "<graphics type='vnc' port='-1' autoport='yes' passwd='Old1'/></devices></domain></node>")
    uri = 'test://%s' % host
    for check in (True, False):  # the test driver starts from the file at every connection
        result = run(check=check, uri=uri, name='vnc', graphics={'type': 'vnc', 'password': 'New2'})
        assert result['changed'] is True, result
        assert result['diff']['before']['graphics']['password'] == '********'
        assert result['diff']['after']['graphics']['password'] == '******** (another)'
        assert 'Old1' not in repr(result) and 'New2' not in repr(result)
    same = run(uri=uri, name='vnc', graphics={'type': 'vnc', 'password': 'Old1'})
    assert same['changed'] is False and 'diff' not in same, same
