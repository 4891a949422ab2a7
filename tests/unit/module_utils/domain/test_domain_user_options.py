"""What the domain module says and does with options as the user wrote them:
errors name them (disks[1].bus, cloud_init.user_data, memory), kernel: ''
takes initrd and cmdline with it, a cdrom is never writable, cache: default
is what libvirt stores as no cache attribute, and the diff pairs disks by
target and interfaces by MAC. Runs on libvirt's test driver, one connection
kept for a task and its re-run (the test driver forgets at every connection)."""
import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.domain.storage import disk_volumes, seed_volume
from ansible_collections.virtkit.virt.plugins.module_utils.driver.connection import connect
from ansible_collections.virtkit.virt.plugins.module_utils.errors import InvalidSpec
from ansible_collections.virtkit.virt.tests.unit.module_utils.domain.one_host import kept_open, task_runner

libvirt = pytest.importorskip('libvirt')


@pytest.fixture
def host(tmp_path):
    """``host(domain_xml)``: ``run(check=False, **options)`` on one test-driver
    connection to a host with that domain (shut off), and the connection."""
    opened = []

    def make(domain_xml):
        path = tmp_path / 'host.xml'
        path.write_text("<node><cpu><mhz>2000</mhz><model>i686</model></cpu>%s</node>" % domain_xml)
        driver = connect({'uri': 'test://%s' % path, 'auth': None})
        opened.append(kept_open(driver))
        return task_runner(driver), driver

    yield make
    for close in opened:
        close()


def four_steps(run, **options):
    """check mode, apply, both again: the first two change, the last two not. Returns the applied result."""
    predicted, done = run(check=True, **options), run(**options)
    assert not predicted.get('failed') and not done.get('failed'), (predicted.get('msg'), done.get('msg'))
    assert predicted['changed'] is True and done['changed'] is True
    assert predicted['actions'] == done['actions']
    for check in (True, False):
        again = run(check=check, **options)
        assert again['changed'] is False and again['actions'] == [], again
    return done


# -- 1: errors name the user's options ---------------------------------------------

def test_a_patch_that_contradicts_memory_names_the_option_not_the_canonical_key(host):
    run, _driver = host("<domain type='test'><name>vm</name><memory unit='MiB'>64</memory>"
                        "<os><type>hvm</type></os></domain>")
    result = run(name='vm', memory=128, state='present',
                 xml_patches=[{'xpath': '/domain/currentMemory', 'value': '65536'}])
    assert result['failed'] and result['changed'] is False
    assert result['msg'] == ('Invalid xml_patches: the patches change memory, which the options set; set it with '
                             'the option instead'), result['msg']


def test_a_bad_cloud_init_file_names_cloud_init_dot_the_file():
    volume, _disk = seed_volume('vm1', {'user_data': 5}, [{'pool': 'p'}], False)
    with pytest.raises(InvalidSpec) as info:
        volume.validate()
    assert info.value.field == 'cloud_init.user_data'


def test_the_volume_module_s_options_of_a_disk_are_named_as_the_disk_names_them():
    disks = [{'pool': 'p', 'volume': None, 'format': None, 'create': {'capacity': 2 ** 30, 'backing_volume': None}}]
    ((_index, volume),) = disk_volumes('vm1', disks, False)
    assert volume.user_field('capacity') == 'disks[0].size'
    assert volume.user_field('name') == 'disks[0].volume'
    assert volume.user_field('format') == 'disks[0].format'


# -- 2: kernel: '' ends direct kernel boot, initrd and cmdline with it ------------------

DIRECT_BOOT = ("<domain type='test'><name>vm</name><memory unit='MiB'>64</memory><os><type>hvm</type>"
               "<kernel>/boot/vmlinuz</kernel><initrd>/boot/initrd.img</initrd><cmdline>console=ttyS0</cmdline>"
               "</os></domain>")


def test_kernel_empty_removes_initrd_and_cmdline_too(host):
    run, driver = host(DIRECT_BOOT)
    done = four_steps(run, name='vm', state='destroyed', kernel='')
    assert (done['domain']['kernel'], done['domain']['initrd'], done['domain']['cmdline']) == (None, None, None)
    xml = driver.domain_xml('vm', inactive=True)
    assert '<initrd>' not in xml and '<cmdline>' not in xml and '<kernel>' not in xml, xml
    assert done['diff']['before']['initrd'] == '/boot/initrd.img' and done['diff']['after']['initrd'] == ''


# -- 3: a cdrom is read-only ------------------------------------------------------------

WITH_CDROM = ("<domain type='test'><name>vm</name><memory unit='MiB'>64</memory><os><type>hvm</type></os>"
              "<devices><disk type='file' device='disk'><source file='/guest/root.img'/><target dev='vda' bus='virtio'/>"
              "</disk><disk type='file' device='cdrom'><source file='/guest/install.iso'/>"
              "<target dev='sda' bus='sata'/><readonly/></disk></devices></domain>")


@pytest.mark.parametrize('disks, field', [
    ([{'path': '/guest/root.img'}, {'device': 'cdrom', 'path': '/guest/other.iso', 'readonly': False}],
     'disks[1].readonly'),
    # device not said: the drive it matches is a cdrom
    ([{'path': '/guest/install.iso', 'readonly': False}, {'path': '/guest/root.img'}], 'disks[0].readonly'),
])
def test_a_writable_cdrom_fails_naming_readonly_before_anything_is_touched(host, disks, field):
    run, driver = host(WITH_CDROM)
    before = driver.domain_xml('vm', inactive=True)
    for check in (True, False):
        result = run(check=check, name='vm', state='destroyed', disks=disks)
        assert result['failed'] and result['changed'] is False and result.get('actions', []) == [], result
        assert result['msg'].startswith('Invalid %s: a cdrom is always read-only' % field), result['msg']
    assert driver.domain_xml('vm', inactive=True) == before and driver.domain_status('vm')['state'] == 'running'


def test_a_new_domain_with_a_writable_cdrom_is_not_defined(host):
    run, driver = host(WITH_CDROM)
    result = run(name='vm2', memory=64, virt_type='test', state='present',
                 disks=[{'device': 'cdrom', 'path': '/guest/install.iso', 'readonly': False}])
    assert result['failed'] and result['changed'] is False, result
    assert result['msg'].startswith('Invalid disks[0].readonly: a cdrom is always read-only'), result['msg']
    assert 'vm2' not in [d['name'] for d in driver.list_domains()]


# -- 4: cache: default is no cache attribute ----------------------------------------------

WITH_CACHE = ("<domain type='test'><name>vm</name><memory unit='MiB'>64</memory><os><type>hvm</type></os>"
              "<devices><disk type='file' device='disk'><driver name='qemu' type='raw' cache='none'/>"
              "<source file='/guest/root.img'/><target dev='vda' bus='virtio'/></disk></devices></domain>")


def test_cache_default_removes_the_cache_mode_and_is_then_no_change(host):
    run, driver = host(WITH_CACHE)
    done = four_steps(run, name='vm', state='destroyed', disks=[{'path': '/guest/root.img', 'cache': 'default'}])
    assert "cache=" not in driver.domain_xml('vm', inactive=True)
    assert done['diff']['before']['disks'][0]['cache'] == 'none'
    assert done['diff']['after']['disks'][0]['cache'] == 'default'


def test_a_new_disk_with_cache_default_is_no_change_on_the_next_run(host):
    run, _driver = host(WITH_CACHE)
    four_steps(run, name='vm', state='destroyed',
               disks=[{'path': '/guest/root.img'}, {'path': '/guest/data.img', 'cache': 'default'}])


# -- 5: the diff pairs disks by target and interfaces by MAC --------------------------------

TWO_OF_EACH = ("<network><name>default</name><bridge name='virbr0'/><forward/>"
               "<ip address='192.168.122.1' netmask='255.255.255.0'/></network>"
               "<domain type='test'><name>vm</name><memory unit='MiB'>64</memory><os><type>hvm</type></os><devices>"
               "<disk type='file' device='disk'><source file='/guest/a.img'/><target dev='vda' bus='virtio'/></disk>"
               "<disk type='file' device='disk'><source file='/guest/b.img'/><target dev='vdb' bus='virtio'/></disk>"
               "<interface type='network'><mac address='52:54:00:00:00:01'/><source network='default'/></interface>"
               "<interface type='network'><mac address='52:54:00:00:00:02'/><source network='default'/></interface>"
               "</devices></domain>")


def test_a_disk_and_an_interface_inserted_in_the_middle_leave_the_others_unchanged_in_the_diff(host):
    run, _driver = host(TWO_OF_EACH)
    result = run(check=True, name='vm', state='destroyed',
                 disks=[{'path': '/guest/a.img'}, {'path': '/guest/new.img'}, {'path': '/guest/b.img'}],
                 interfaces=[{'network': 'default', 'mac': '52:54:00:00:00:01'}, {'network': 'default'},
                             {'network': 'default', 'mac': '52:54:00:00:00:02'}])
    before, after = result['diff']['before'], result['diff']['after']
    assert [d['target'] for d in after['disks']] == ['vda', 'vdc', 'vdb']
    assert before['disks'] == [after['disks'][0], after['disks'][2]] == [
        {'target': 'vda', 'path': '/guest/a.img'}, {'target': 'vdb', 'path': '/guest/b.img'}]
    assert before['interfaces'] == [after['interfaces'][0], after['interfaces'][2]]


def test_a_removed_disk_shows_what_it_was_and_the_kept_one_is_paired_by_target(host):
    run, _driver = host(TWO_OF_EACH)
    result = run(check=True, name='vm', state='destroyed', disks=[{'path': '/guest/b.img'}])
    before, after = result['diff']['before'], result['diff']['after']
    assert after['disks'] == [{'target': 'vdb', 'path': '/guest/b.img'}]
    assert before['disks'] == [{'target': 'vda', 'device': 'disk', 'path': '/guest/a.img'},
                               {'target': 'vdb', 'path': '/guest/b.img'}]
