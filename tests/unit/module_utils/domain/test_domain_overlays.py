"""A disk under an external snapshot's overlay is the disk the task names."""
from ansible_collections.virtkit.virt.plugins.module_utils.domain.overlays import keep_overlays
from ansible_collections.virtkit.virt.tests.unit.fake_driver import FakeDriver

CONFIG = """<domain type='qemu'><name>vm</name><memory unit='MiB'>64</memory><os><type>hvm</type></os><devices>
  <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/pools/p/vm.e1.qcow2'/>
    <backingStore type='file'><format type='qcow2'/><source file='/pools/p/vm.qcow2'/></backingStore>
    <target dev='vda' bus='virtio'/></disk>
  <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/data/other.img'/>
    <target dev='vdb' bus='virtio'/></disk>
</devices></domain>"""


def disk(**kw):
    base = {'target': None, 'bus': None, 'device': None, 'path': None, 'pool': None, 'volume': None, 'format': None,
            'readonly': None, 'cache': None, 'create': None}
    base.update(kw)
    return base


def test_the_named_image_under_an_overlay_becomes_the_overlay():
    driver = FakeDriver()
    driver.add_pool('p', "<pool type='dir'><name>p</name><target><path>/pools/p</path></target></pool>")
    driver.add_volume('p', 'vm.qcow2', 1, fmt='qcow2')
    disks = [disk(pool='p', volume='vm.qcow2'), disk(path='/data/other.img'), disk(path='/data/new.img')]
    kept = keep_overlays(driver, disks, CONFIG)
    assert (kept[0]['path'], kept[0]['pool'], kept[0]['volume'], kept[0]['target'], kept[0]['format']) == \
        ('/pools/p/vm.e1.qcow2', None, None, 'vda', 'qcow2')
    assert kept[1:] == disks[1:]  # no overlay on it; a new disk


def test_a_backing_volume_is_named_by_pool_and_volume():
    """libvirt keeps a volume disk's image as a volume in the backing chain."""
    config = CONFIG.replace("<backingStore type='file'><format type='qcow2'/><source file='/pools/p/vm.qcow2'/>",
                            "<backingStore type='volume'><format type='qcow2'/><source pool='p' volume='vm.qcow2'/>")
    (kept,) = keep_overlays(FakeDriver(), [disk(pool='p', volume='vm.qcow2')], config)
    assert (kept['path'], kept['volume'], kept['target']) == ('/pools/p/vm.e1.qcow2', None, 'vda')


def test_no_disks_or_no_overlays_change_nothing():
    assert keep_overlays(FakeDriver(), None, CONFIG) is None
    plain = CONFIG.replace("<backingStore type='file'><format type='qcow2'/><source file='/pools/p/vm.qcow2'/>"
                           "</backingStore>", '')
    disks = [disk(path='/pools/p/vm.qcow2')]
    assert keep_overlays(FakeDriver(), disks, plain) == disks
