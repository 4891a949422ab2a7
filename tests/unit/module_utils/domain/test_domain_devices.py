from ansible_collections.virtkit.virt.plugins.module_utils.domain.devices import (
    free_target, resolve_disks, resolve_interfaces)
from ansible_collections.virtkit.virt.plugins.module_utils.domain.live import (
    disk_changes, interface_changes, plan_live)


def disk(**kw):
    base = {'target': None, 'bus': None, 'device': None, 'path': None, 'pool': None, 'volume': None,
            'format': None, 'readonly': None, 'cache': None}
    base.update(kw)
    return base


def current_disk(target, bus='virtio', device='disk', **kw):
    base = {'target': target, 'bus': bus, 'device': device, 'type': 'file', 'path': None, 'pool': None,
            'volume': None, 'format': None, 'readonly': device == 'cdrom', 'cache': None}
    base.update(kw)
    return base


def iface(**kw):
    base = {'type': 'network', 'network': None, 'bridge': None, 'direct': None, 'mac': None, 'model': None}
    base.update(kw)
    if base['bridge']:
        base['type'] = 'bridge'
    return base


def test_new_disks_get_defaults_and_free_targets():
    disks = resolve_disks([disk(pool='p', volume='a'), disk(device='cdrom', path=''), disk(path='/b')], [], 'qemu')
    assert [(d['target'], d['bus'], d['device']) for d in disks] == [
        ('vda', 'virtio', 'disk'), ('sda', 'sata', 'cdrom'), ('vdb', 'virtio', 'disk')]
    xen = resolve_disks([disk(path='/dev/vg/a')], [], 'xen')
    assert (xen[0]['target'], xen[0]['bus']) == ('xvda', 'xen')


def test_targets_stay_with_their_sources():
    current = [current_disk('vda', pool='p', volume='a'), current_disk('vdc', path='/b')]
    # The user reorders the list and adds a disk: nobody moves, the new disk takes a free name.
    disks = resolve_disks([disk(path='/new'), disk(path='/b'), disk(pool='p', volume='a')], current, 'qemu')
    assert [d['target'] for d in disks] == ['vdb', 'vdc', 'vda']
    # A removed disk's target is not given to a new disk in the same run.
    disks = resolve_disks([disk(path='/other')], current, 'qemu')
    assert disks[0]['target'] == 'vdb'
    # Existing disks keep what the spec does not say (bus, device).
    disks = resolve_disks([disk(path='/b')], current, 'qemu')
    assert disks[0]['bus'] is None and disks[0]['device'] is None


def test_free_target_naming():
    assert free_target('virtio', set()) == 'vda'
    assert free_target('sata', set('sd' + chr(c) for c in range(ord('a'), ord('z') + 1))) == 'sdaa'


def test_interfaces_keep_libvirt_macs():
    current = [iface(network='lab', mac='52:54:00:00:00:01'), iface(network='lab', mac='52:54:00:00:00:02'),
               iface(bridge='br0', mac='52:54:00:00:00:03')]
    wanted = [iface(bridge='br0'), iface(network='lab'), iface(network='lab', mac='52:54:00:00:00:01'),
              iface(network='other')]
    resolved = resolve_interfaces(wanted, current, 'qemu')
    assert [i['mac'] for i in resolved] == ['52:54:00:00:00:03', '52:54:00:00:00:02', '52:54:00:00:00:01', None]
    assert resolved[3]['model'] == 'virtio' and resolved[0]['model'] is None
    added, removed, modified = interface_changes(resolved, current)
    assert [i['network'] for i in added] == ['other'] and removed == [] and modified == []


def test_interfaces_on_one_network_keep_their_macs_by_model():
    current = [iface(network='lab', mac='52:54:00:00:00:01', model='virtio'),
               iface(network='lab', mac='52:54:00:00:00:02', model='e1000')]

    def resolve(*models, **kw):
        have = kw.get('have', current)
        resolved = resolve_interfaces([iface(network='lab', model=m) for m in models], have, 'qemu')
        return [i['mac'] for i in resolved], interface_changes(resolved, have)

    # listed in another order: the same NICs, nothing changes
    macs, (added, removed, modified) = resolve('e1000', 'virtio')
    assert macs == ['52:54:00:00:00:02', '52:54:00:00:00:01'] and (added, removed, modified) == ([], [], [])
    # one added in front: it is the new one; the others keep their MACs and models
    macs, (added, removed, modified) = resolve('rtl8139', 'e1000', 'virtio')
    assert macs == [None, '52:54:00:00:00:02', '52:54:00:00:00:01'] and modified == [] and removed == []
    assert [i['model'] for i in added] == ['rtl8139']
    # another model for one of them: the NIC left over changes its model and keeps its MAC
    macs, (added, removed, modified) = resolve('e1000', 'rtl8139')
    assert macs == ['52:54:00:00:00:02', '52:54:00:00:00:01'] and added == [] and removed == []
    assert [(w['mac'], w['model'], h['model']) for w, h in modified] == [('52:54:00:00:00:01', 'rtl8139', 'virtio')]
    # one that says no model takes what the others leave, whatever its model
    macs, changes = resolve(None, 'e1000')
    assert macs == ['52:54:00:00:00:01', '52:54:00:00:00:02'] and changes == ([], [], [])
    # ... before one that would change a model: the other model is a new NIC, not a NIC changed
    macs, (added, removed, modified) = resolve('rtl8139', None, have=current[:1])
    assert macs == [None, '52:54:00:00:00:01'] and modified == [] and removed == []
    assert [(i['model'], i['mac']) for i in added] == [('rtl8139', None)]


def test_device_changes():
    current = [current_disk('vda', path='/a'), current_disk('vdb', path='/b')]
    added, removed, modified = disk_changes([disk(target='vda', path='/a2'), disk(target='vdc', path='/c')], current)
    assert [d['target'] for d in added] == ['vdc']
    assert [d['target'] for d in removed] == ['vdb']
    assert [w['target'] for w, _h in modified] == ['vda']


LIVE = {'virt_type': 'qemu', 'machine': 'pc-i440fx-7.2', 'memory_kib': 262144, 'max_memory_kib': 393216,
        'vcpus': 1, 'max_vcpus': 2, 'cpu': None, 'tags': {},
        'disks': [current_disk('vda', path='/a'), current_disk('sda', bus='sata', device='cdrom', path='')],
        'interfaces': [iface(network='lab', mac='52:54:00:00:00:01', model='virtio')]}


def test_live_operations_and_what_waits_for_a_restart():
    desired = {'memory_kib': 393216, 'vcpus': 2, 'tags': {'a': 'b'},
               'disks': [disk(target='sda', path=''), disk(target='vdb', bus='virtio', device='disk', path='/b')],
               'interfaces': [iface(network='lab', mac='52:54:00:00:00:01'), iface(network='lab2', model='virtio')]}
    ops, pending = plan_live(desired, LIVE, LIVE, 'qemu')
    assert [op[0] for op in ops] == ['memory', 'vcpus', 'detach-disk', 'attach-disk', 'attach-interface', 'tags']
    assert [op[1]['target'] for op in ops[2:4]] == ['vda', 'vdb']
    assert pending == []
    # A cdrom on SATA cannot be unplugged from a running guest.
    ops, pending = plan_live({'disks': [disk(target='vda', path='/a')]}, LIVE, LIVE, 'qemu')
    assert ops == [] and pending == ['disks.sda']


def test_new_interfaces_on_one_network_are_told_apart_by_their_place():
    """Without MACs yet (libvirt gives them theirs when it redefines the
    guest), two new interfaces on one network carry their place in the
    desired list, which their actions name."""
    first, second = iface(network='lab'), iface(network='lab')
    desired = {'interfaces': [iface(network='lab', mac='52:54:00:00:00:01'), first, second]}
    ops, pending = plan_live(desired, LIVE, LIVE, 'qemu')
    assert ops == [('attach-interface', (1, first)), ('attach-interface', (2, second))] and pending == []
    assert ops[0][1][1] is first and ops[1][1][1] is second
    # Beyond the maxima, on a bus without hot-plug, or with live: false: restart.
    desired = {'memory_kib': 524288, 'vcpus': 3,
               'disks': [disk(target='vda', path='/a'), disk(target='sda', bus='sata', device='cdrom', path=''),
                         disk(target='sdb', bus='sata', device='disk', path='/c')]}
    ops, pending = plan_live(desired, LIVE, LIVE, 'qemu')
    assert ops == [] and pending == ['memory_kib', 'vcpus', 'disks.sdb']
    ops, pending = plan_live({'vcpus': 2}, LIVE, LIVE, 'qemu', live_updates=False)
    assert ops == [] and pending == ['vcpus']
    # Only restart-bound keys the spec names count; memory compares with the persistent definition.
    ops, pending = plan_live({'machine': 'pc-q35-7.2', 'memory_kib': 262144}, dict(LIVE, memory_kib=262144),
                             dict(LIVE, memory_kib=300000), 'qemu')
    assert ops == [] and pending == ['machine']


def test_a_cdrom_medium_and_a_graphics_password_change_live():
    cdrom = current_disk('sda', bus='sata', device='cdrom', path='/x.iso', format='raw')
    live = dict(LIVE, graphics={'type': 'vnc', 'listen': '127.0.0.1', 'password': 'old'},
                disks=[current_disk('vda', path='/a'), cdrom])
    desired = {'disks': [disk(target='vda', path='/a'), disk(target='sda', path='/y.iso')],
               'graphics': {'type': 'vnc', 'listen': '127.0.0.1', 'password': 'new'}}
    ops, pending = plan_live(desired, live, live, 'qemu')
    assert ops == [('graphics-password', None), ('change-medium', desired['disks'][1])] and pending == []
    # ejecting is a medium change too
    ops, pending = plan_live({'disks': [disk(target='vda', path='/a'), disk(target='sda', path='')]}, live, live,
                             'qemu')
    assert [op[0] for op in ops] == ['change-medium'] and pending == []
    # anything else about them, a removed password, live: false or a container: restart
    for wanted, kwargs in (
            ({'disks': [disk(target='vda', path='/a'), disk(target='sda', bus='scsi', path='/y.iso')]}, {}),
            ({'disks': [disk(target='vda', path='/b'), disk(target='sda', path='/x.iso')]}, {}),
            ({'graphics': {'type': 'vnc', 'listen': '0.0.0.0', 'password': 'new'}}, {}),
            ({'graphics': {'type': 'vnc', 'listen': '127.0.0.1', 'password': ''}}, {}),
            ({'graphics': {'type': 'spice', 'listen': '127.0.0.1', 'password': 'new'}}, {}),
            (desired, {'live_updates': False})):
        ops, pending = plan_live(wanted, live, live, 'qemu', **kwargs)
        assert ops == [] and pending, (wanted, kwargs)
    ops, pending = plan_live(desired, live, live, 'lxc')
    assert ops == [] and sorted(pending) == ['disks.sda', 'graphics']


def test_a_cdrom_with_another_medium_keeps_its_drive():
    seed = current_disk('sda', bus='sata', device='cdrom', pool='p', volume='seed.iso')
    current = [current_disk('vda', path='/a'), seed, current_disk('sdb', bus='sata', device='cdrom', path='/x.iso')]
    disks = resolve_disks([disk(path='/a'), disk(pool='p', volume='seed.iso', device='cdrom'),
                           disk(device='cdrom', path='/y.iso')], current, 'qemu')
    assert [d['target'] for d in disks] == ['vda', 'sda', 'sdb']
    # two new media for one leftover drive: the second gets a new drive
    disks = resolve_disks([disk(device='cdrom', path='/y.iso'), disk(device='cdrom', path='/z.iso')],
                          current[2:], 'qemu')
    assert [d['target'] for d in disks] == ['sdb', 'sda']
    # a plain disk with another path is another disk, as before
    disks = resolve_disks([disk(path='/b')], current[:1], 'qemu')
    assert disks[0]['target'] == 'vdb'


def test_an_interface_moves_to_another_network_live():
    have = iface(network='lab', mac='52:54:00:00:00:01', model='virtio')
    live = dict(LIVE, interfaces=[have])
    for want in (iface(network='lab2', mac='52:54:00:00:00:01'), iface(bridge='br0', mac='52:54:00:00:00:01')):
        ops, pending = plan_live({'interfaces': [want]}, live, live, 'qemu')
        assert ops == [('move-interface', want)] and pending == []
    # another model, a direct (macvtap) interface, live: false, a container: restart
    for want, kwargs, virt_type in (
            (iface(network='lab2', mac='52:54:00:00:00:01', model='e1000'), {}, 'qemu'),
            (dict(iface(mac='52:54:00:00:00:01'), type='direct', direct='eth0'), {}, 'qemu'),
            (iface(network='lab2', mac='52:54:00:00:00:01'), {'live_updates': False}, 'qemu'),
            (iface(network='lab2', mac='52:54:00:00:00:01'), {}, 'lxc')):
        ops, pending = plan_live({'interfaces': [want]}, live, live, virt_type, **kwargs)
        assert ops == [] and pending == ['interfaces.52:54:00:00:00:01'], (want, kwargs, virt_type)
