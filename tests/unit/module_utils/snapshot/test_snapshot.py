"""Snapshots: the spec, the XML, and the manager's plans against the fake driver.

The domain and snapshot XML here is what libvirt 9.0 wrote on the test bed
(trimmed), so the parsers meet the real thing.
"""
import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.engine.runner import execute
from ansible_collections.virtkit.virt.plugins.module_utils.errors import Conflict, DriverError, InvalidSpec, NotFound
from ansible_collections.virtkit.virt.plugins.module_utils.snapshot.facts import SnapshotInfoManager
from ansible_collections.virtkit.virt.plugins.module_utils.snapshot.manager import (
    SnapshotManager, beside, definition_drift, power_state)
from ansible_collections.virtkit.virt.plugins.module_utils.snapshot.spec import snapshot_spec
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.snapshot import (
    agent_state, build_snapshot_xml, disk_snapshots_offered, parse_snapshot_xml, pflash_nvram, snapshot_disks)
from ansible_collections.virtkit.virt.tests.unit.fake_driver import FakeDriver

DOMAIN = """<domain type='qemu'>
  <name>vm</name>
  <uuid>9d1190b4-9d4f-4eff-99cf-018ace1dc1b0</uuid>
  <memory unit='KiB'>262144</memory>
  <currentMemory unit='KiB'>262144</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>
    <kernel>/boot/vmlinuz</kernel>
    <cmdline>console=ttyS0</cmdline>
    {loader}
  </os>
  <devices>
    <disk type='volume' device='disk'>
      <driver name='qemu' type='{fmt}'/>
      <source pool='p' volume='vm.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='/pools/p/seed.iso'/>
      <target dev='sda' bus='sata'/>
      <readonly/>
    </disk>
    {channel}
  </devices>
</domain>"""
AGENT = """<channel type='unix'>
      <target type='virtio' name='org.qemu.guest_agent.0' state='{state}'/>
    </channel>"""
PFLASH = "<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>"

INTERNAL = """<domainsnapshot>
  <name>{name}</name>
  {parent}
  <state>{state}</state>
  <creationTime>{time}</creationTime>
  <memory snapshot='{memory}'/>
  <disks>
    <disk name='vda' snapshot='internal'/>
    <disk name='sda' snapshot='no'/>
  </disks>
  {domain}
</domainsnapshot>"""
EXTERNAL = """<domainsnapshot>
  <name>{name}</name>
  {parent}
  <state>disk-snapshot</state>
  <creationTime>{time}</creationTime>
  <memory snapshot='no'/>
  <disks>
    <disk name='vda' snapshot='external' type='file'>
      <driver type='qcow2'/>
      <source file='/pools/p/vm.{name}.qcow2'/>
    </disk>
    <disk name='sda' snapshot='no'/>
  </disks>
  {domain}
</domainsnapshot>"""
CAPS = """<capabilities><host><cpu><arch>x86_64</arch></cpu></host>
  <guest><os_type>hvm</os_type><arch name='x86_64'><domain type='qemu'/></arch>
  <features><disksnapshot default='{snap}' toggle='no'/></features></guest></capabilities>"""
POOL = "<pool type='dir'><name>p</name><target><path>/pools/p</path></target></pool>"


def domain_xml(fmt='qcow2', loader='', agent=None, cmdline='console=ttyS0'):
    channel = AGENT.format(state=agent) if agent else ''
    return DOMAIN.format(fmt=fmt, loader=loader, channel=channel).replace('console=ttyS0', cmdline)


def snapshot_xml(name, parent=None, state='running', memory='internal', time=100, external=False, domain=None):
    template = EXTERNAL if external else INTERNAL
    return template.format(name=name, parent='<parent><name>%s</name></parent>' % parent if parent else '',
                           state=state, memory=memory, time=time, domain=domain or domain_xml())


def host(state='running', xml=None, version='9.0.0'):
    driver = FakeDriver(uri='qemu:///system')
    driver.add_domain('vm', state=state, xml=xml or domain_xml())
    driver.add_pool('p', POOL)
    driver.add_volume('p', 'vm.qcow2', 16 * 1024 ** 2, fmt='qcow2')
    driver.script('host_capabilities', CAPS.format(snap='on'))
    driver.script('host_summary', {'libvirt_version': version})
    driver.script('list_pools', [{'name': 'p', 'active': True}])
    return driver


def params(**kw):
    base = dict(domain='vm', name='s1', state='present', description=None, memory=None, external=None,
                disk_only=False, disks=None, memory_file=None, quiesce=False, atomic=True, children=None,
                metadata_only=None, revert_state=None, force_revert=None)
    base.update(kw)
    return base


def run(driver, check=False, **kw):
    manager = SnapshotManager(params(**kw), check_mode=check)
    manager.validate()
    manager.driver = driver
    plan = manager.plan()
    if not check:
        plan.apply()
    return plan, manager


# -- the spec ---------------------------------------------------------------------

def test_disk_only_is_external_without_memory():
    spec = snapshot_spec(params(disk_only=True))
    assert spec['external'] and spec['memory'] is False


@pytest.mark.parametrize('kw, field', [
    (dict(disk_only=True, memory=True), 'memory'),
    (dict(disk_only=True, external=False), 'external'),
    (dict(quiesce=True), 'quiesce'),
    (dict(disks=[{'name': 'vdb', 'exclude': True}]), 'disks[0].exclude'),
    (dict(disks=[{'name': 'vdb', 'file': '/x.qcow2'}]), 'disks[0].file'),
    (dict(disk_only=True, disks=[{'name': 'vdb', 'file': 'rel.qcow2'}]), 'disks[0].file'),
    (dict(disk_only=True, disks=[{'name': 'vda'}, {'name': 'vda'}]), 'disks[1].name'),
    (dict(disk_only=True, disks=[{'name': 'vda', 'file': '/a'}, {'name': 'vdb', 'file': '/a'}]), 'disks'),
    (dict(children=True), 'children'),
    (dict(force_revert=True, state='absent'), 'force_revert'),
    (dict(memory_file='/m'), 'memory_file'),
    (dict(name='a/b'), 'name'),
])
def test_bad_specs_name_their_field(kw, field):
    with pytest.raises(InvalidSpec) as err:
        snapshot_spec(params(**kw))
    assert err.value.field == field


@pytest.mark.parametrize('state', ['current', 'absent'])
@pytest.mark.parametrize('option, value', [
    ('description', 'why'), ('description', ''), ('memory', True), ('memory', False), ('external', True),
    ('external', False), ('disk_only', True), ('disks', [{'name': 'vda'}]), ('memory_file', '/m'),
    ('quiesce', True), ('atomic', False),
])
def test_options_that_take_a_snapshot_fail_with_the_other_states(state, option, value):
    with pytest.raises(InvalidSpec) as err:
        snapshot_spec(params(state=state, **{option: value}))
    assert err.value.field == option
    assert err.value.describe() == ('Invalid %s: only with state present (taking a snapshot); state %s would '
                                    'ignore it' % (option, state))


@pytest.mark.parametrize('state', ['current', 'absent'])
def test_their_defaults_ask_for_nothing(state):
    assert snapshot_spec(params(state=state, disk_only=False, quiesce=False, atomic=True, disks=[]))['state'] == state


def test_one_error_names_every_misplaced_option_and_the_state():
    with pytest.raises(InvalidSpec) as err:
        snapshot_spec(params(state='absent', memory=True, disk_only=True))
    assert err.value.describe() == ('Invalid memory, disk_only: only with state present (taking a snapshot); '
                                    'state absent would ignore them')
    with pytest.raises(InvalidSpec) as err:
        snapshot_spec(params(state='current', description='x', children=True))
    assert err.value.describe() == ('Invalid description, children: description only with state present (taking a '
                                    'snapshot); children only with state absent (deleting a snapshot); state current '
                                    'would ignore them')


@pytest.mark.parametrize('state', ['current', 'absent'])
def test_a_refused_option_fails_the_task_before_it_connects(state):
    driver = host(state='running')
    driver.add_snapshot('vm', snapshot_xml('s1'))
    manager = SnapshotManager(params(state=state, description='new text'))
    manager.connector = lambda *args, **kw: driver
    result = execute(manager)
    assert result['failed'] and not result['changed'] and result['error'] == 'invalid'
    assert result['msg'] == ('Invalid description: only with state present (taking a snapshot); state %s would '
                             'ignore it' % state)
    assert driver.calls == []


# -- the XML ----------------------------------------------------------------------

def test_request_xml_round_trips():
    xml = build_snapshot_xml({'name': 'e1', 'description': 'why', 'memory': {'snapshot': 'no'},
                              'disks': [{'name': 'vda', 'snapshot': 'external', 'file': '/p/vm.e1.qcow2'},
                                        {'name': 'sda', 'snapshot': 'no'}]})
    parsed = parse_snapshot_xml(xml)
    assert parsed['description'] == 'why' and parsed['external']
    assert [(d['name'], d['snapshot'], d['overlay']) for d in parsed['disks']] == \
        [('vda', 'external', '/p/vm.e1.qcow2'), ('sda', 'no', None)]


def test_libvirt_snapshot_xml_parses_with_the_disks_sources():
    parsed = parse_snapshot_xml(snapshot_xml('s2', parent='s1', time=1796024328))
    assert parsed['parent'] == 's1' and parsed['state'] == 'running' and parsed['creation_time'] == 1796024328
    assert parsed['disks'][0] == {'name': 'vda', 'snapshot': 'internal', 'overlay': None, 'source': 'p/vm.qcow2',
                                  'format': None}
    assert not parsed['external'] and parsed['memory'] == {'snapshot': 'internal', 'file': None}


def test_what_the_domain_xml_tells():
    disks = snapshot_disks(domain_xml())
    assert [(d['name'], d['readonly'], d['format'], d['pool'], d['volume']) for d in disks] == \
        [('vda', False, 'qcow2', 'p', 'vm.qcow2'), ('sda', True, 'raw', None, None)]
    assert agent_state(domain_xml()) is None
    assert agent_state(domain_xml(agent='disconnected')) == 'disconnected'
    assert pflash_nvram(domain_xml(loader=PFLASH)) == (True, None)
    assert pflash_nvram(domain_xml()) == (False, None)
    assert disk_snapshots_offered(CAPS.format(snap='on'), 'x86_64', 'qemu') is True
    assert disk_snapshots_offered(CAPS.format(snap='off'), 'x86_64', 'qemu') is False
    assert disk_snapshots_offered(CAPS.format(snap='on'), 'aarch64', 'qemu') is None


def test_overlays_are_named_after_disk_and_snapshot():
    assert beside('/pools/p/web1.qcow2', 'web1', 'nightly', '.qcow2') == '/pools/p/web1.nightly.qcow2'
    assert beside('/pools/p/data', 'web1', 'n', '.qcow2') == '/pools/p/data.n.qcow2'


def test_states_a_revert_leaves():
    assert [power_state(s) for s in ('running', 'blocked', 'paused', 'shutoff', 'disk-snapshot', 'crashed')] == \
        ['running', 'running', 'paused', 'shutoff', 'shutoff', 'shutoff']


def test_definition_drift_names_what_changed():
    assert definition_drift(domain_xml(), domain_xml()) == []
    assert definition_drift(domain_xml(), domain_xml(cmdline='console=ttyS0 quiet')) == ['cmdline']
    assert definition_drift(domain_xml(), domain_xml(fmt='raw')) == ['disks']


# -- taking one ---------------------------------------------------------------------

def test_a_running_guest_gets_an_internal_snapshot_with_its_memory():
    driver = host()
    plan, _m = run(driver, check=True)
    assert plan.action_names == ['take internal snapshot with memory'] and driver.changes() == []
    assert plan.after == {'name': 's1', 'location': 'internal', 'memory': True,
                          'disks': {'vda': 'internal', 'sda': 'no'}}
    run(driver)
    call = driver.called('create_snapshot')[0]
    assert (call['disk_only'], call['quiesce'], call['atomic']) == (False, False, True)
    sent = parse_snapshot_xml(call['xml'])
    assert sent['memory']['snapshot'] == 'internal'
    assert [(d['name'], d['snapshot']) for d in sent['disks']] == [('vda', 'internal'), ('sda', 'no')]


def test_an_existing_snapshot_is_never_taken_again():
    driver = host()
    driver.add_snapshot('vm', snapshot_xml('s1'), current=True)
    plan, _m = run(driver, external=True, disk_only=True)
    assert plan.action_names == [] and driver.changes() == []
    assert any('never taken again' in w for w in plan.warnings)


def test_only_the_description_of_an_existing_snapshot_changes():
    driver = host()
    driver.add_snapshot('vm', snapshot_xml('s1'), current=True)
    plan, _m = run(driver, description='before the upgrade')
    assert plan.action_names == ['set the description']
    call = driver.called('create_snapshot')[0]
    assert call['redefine'] and call['current']
    assert parse_snapshot_xml(call['xml'])['description'] == 'before the upgrade'


@pytest.mark.parametrize('xml, kw, words', [
    (domain_xml(fmt='raw'), {}, 'internal snapshots need qcow2 disks, and disk vda is raw'),
    (domain_xml(), dict(memory=False), 'must include the memory state'),
    (domain_xml(loader=PFLASH), {}, 'pflash based firmware are not supported'),
    (domain_xml(), dict(disk_only=True, quiesce=True), 'has no agent channel'),
    (domain_xml(agent='disconnected'), dict(disk_only=True, quiesce=True), 'no agent answers in the guest'),
    (domain_xml(), dict(disk_only=True, disks=[{'name': 'vdz', 'file': '/x'}]), 'has no disk vdz'),
])
def test_libvirt_limits_are_refused_before_anything_is_touched(xml, kw, words):
    driver = host(xml=xml)
    for check in (True, False):
        with pytest.raises(Conflict) as err:
            run(driver, check=check, **kw)
        assert words in err.value.message
    assert driver.changes() == []


def test_memory_of_a_shut_off_guest_is_refused():
    driver = host(state='shutoff')
    with pytest.raises(Conflict, match='no memory to save'):
        run(driver, memory=True)


def test_a_shut_off_guest_gets_its_disks_only():
    driver = host(state='shutoff')
    plan, _m = run(driver)
    assert plan.action_names == ['take internal snapshot (disks only)']
    assert parse_snapshot_xml(driver.called('create_snapshot')[0]['xml'])['memory']['snapshot'] == 'no'


def test_disk_only_overlays_go_beside_the_disks_and_the_pool_learns_them():
    driver = host()
    plan, _m = run(driver, name='e1', disk_only=True)
    assert plan.action_names == ['take external snapshot (disks only) (/pools/p/vm.e1.qcow2)']
    call = driver.called('create_snapshot')[0]
    assert call['disk_only'] and call['atomic']
    sent = parse_snapshot_xml(call['xml'])
    assert [(d['name'], d['snapshot'], d['overlay']) for d in sent['disks']] == \
        [('vda', 'external', '/pools/p/vm.e1.qcow2'), ('sda', 'no', None)]
    assert driver.called('refresh_pool') == [{'name': 'p'}]


def test_a_quiesced_snapshot_says_so_in_its_action_and_diff():
    """The agent freezes the guest's filesystems: check mode and the diff show it, the call asks for it."""
    driver = host(xml=domain_xml(agent='connected'))
    plain, _m = run(driver, check=True, name='e1', disk_only=True)
    assert 'quiesce' not in plain.after
    plan, _m = run(driver, name='e1', disk_only=True, quiesce=True)
    assert plan.action_names == ['take external snapshot (disks only, quiesced) (/pools/p/vm.e1.qcow2)']
    assert plan.after['quiesce'] is True
    call = driver.called('create_snapshot')[0]
    assert call['quiesce'] and call['disk_only']


def test_an_overlay_that_exists_is_refused(tmp_path):
    taken = tmp_path / 'taken.qcow2'
    taken.write_text('')
    driver = host()
    with pytest.raises(Conflict, match='exists already'):
        run(driver, name='e1', disk_only=True, disks=[{'name': 'vda', 'file': str(taken)}])
    assert driver.changes() == []


def test_no_disk_snapshots_where_the_capabilities_say_so():
    driver = host()
    driver.script('host_capabilities', CAPS.format(snap='off'))
    with pytest.raises(Conflict, match='disksnapshot'):
        run(driver, disk_only=True)


def test_an_unknown_domain():
    driver = FakeDriver()
    with pytest.raises(NotFound, match="domain 'vm' does not exist"):
        run(driver)
    plan, _m = run(driver, state='absent')
    assert plan.action_names == []


# -- reverting ----------------------------------------------------------------------

def test_the_current_snapshot_of_an_unchanged_domain_is_no_change():
    driver = host()
    driver.add_snapshot('vm', snapshot_xml('s1'), current=True)
    plan, _m = run(driver, state='current')
    assert plan.action_names == [] and driver.changes() == []
    plan, _m = run(driver, state='current', force_revert=True)
    assert plan.action_names == ['revert to s1']
    assert driver.called('revert_snapshot') == [{'domain': 'vm', 'name': 's1', 'start': None, 'force': True}]


def test_a_changed_definition_is_reverted_and_the_diff_says_why():
    driver = host(xml=domain_xml(cmdline='console=ttyS0 virtkit.mark=/dev/vda:M'))
    driver.add_snapshot('vm', snapshot_xml('s1'), current=True)
    plan, _m = run(driver, state='current', check=True)
    assert plan.action_names == ['revert to s1']
    assert plan.before == {'current_snapshot': 's1', 'state': 'running', 'differs_from_snapshot': ['cmdline']}
    assert plan.after == {'current_snapshot': 's1', 'state': 'running'}


def test_a_revert_that_powers_off_a_running_guest_says_so():
    driver = host()
    driver.add_snapshot('vm', snapshot_xml('s0', state='shutoff', memory='no'), current=False)
    plan, _m = run(driver, name='s0', state='current', check=True)
    assert plan.action_names == ['stop the running guest (powered off, not shut down) and revert to s0']
    assert plan.after['stops_running_guest'] and plan.after['state'] == 'shutoff'
    assert any('powers off the running guest' in w for w in plan.warnings)
    plan, _m = run(driver, name='s0', state='current', revert_state='running')
    assert plan.action_names == ['stop the running guest (powered off, not shut down) and revert to s0 (then running)']
    assert driver.called('revert_snapshot')[0]['start'] == 'running'


def test_external_reverts_need_libvirt_9_9():
    driver = host(version='9.0.0')
    driver.add_snapshot('vm', snapshot_xml('e1', external=True), current=True)
    with pytest.raises(Conflict, match=r'needs libvirt 9\.9\.0 or later; the host runs libvirt 9\.0\.0'):
        run(driver, name='e1', state='current', force_revert=True)
    driver = host(version='9.9.0')
    driver.add_snapshot('vm', snapshot_xml('e1', external=True), current=True)
    plan, _m = run(driver, name='e1', state='current', force_revert=True)
    assert plan.action_names == ['stop the running guest (powered off, not shut down) and revert to e1']


def test_a_risky_revert_asks_for_force_revert():
    driver = host(xml=domain_xml(cmdline='other'))
    driver.add_snapshot('vm', snapshot_xml('s1'), current=True)
    driver.script('revert_snapshot', DriverError('revert requires force: target domain definition is not ABI '
                                                 'compatible'))
    with pytest.raises(DriverError, match='set force_revert: true'):
        run(driver, state='current')


def test_an_unknown_snapshot_names_the_ones_there():
    driver = host()
    driver.add_snapshot('vm', snapshot_xml('s1'), current=True)
    with pytest.raises(NotFound, match=r"has no snapshot 'x' \(it has: s1\)"):
        run(driver, name='x', state='current')


# -- deleting -------------------------------------------------------------------------

def tree(driver):
    driver.add_snapshot('vm', snapshot_xml('s1', time=1))
    driver.add_snapshot('vm', snapshot_xml('s2', parent='s1', time=2))
    driver.add_snapshot('vm', snapshot_xml('s3', parent='s2', time=3), current=True)


def test_delete_with_descendants():
    driver = host()
    tree(driver)
    plan, _m = run(driver, name='s2', state='absent', children=True, check=True)
    assert plan.action_names == ['delete with 1 descendant (s3)'] and plan.before == {'snapshots': ['s2', 's3']}
    run(driver, name='s2', state='absent', children=True)
    assert driver.called('delete_snapshot') == [{'domain': 'vm', 'name': 's2', 'children': True,
                                                 'metadata_only': False}]
    plan, _m = run(driver, name='s2', state='absent', children=True)
    assert plan.action_names == []


def test_external_snapshots_are_not_deleted_with_descendants():
    driver = host()
    driver.add_snapshot('vm', snapshot_xml('e1', external=True, time=1))
    driver.add_snapshot('vm', snapshot_xml('e2', parent='e1', external=True, time=2), current=True)
    with pytest.raises(Conflict, match='deletion of external children disk snapshots not supported'):
        run(driver, name='e1', state='absent', children=True)
    assert driver.changes() == []


def test_an_external_snapshot_on_an_internal_one_is_not_merged():
    driver = host(xml=domain_xml().replace("type='volume'", "type='file'").replace(
        "<source pool='p' volume='vm.qcow2'/>", "<source file='/pools/p/vm.e1.qcow2'/>"))
    driver.add_snapshot('vm', snapshot_xml('s1', time=1))
    driver.add_snapshot('vm', snapshot_xml('e1', parent='s1', external=True, time=2), current=True)
    with pytest.raises(Conflict, match='internal snapshot as parent not supported'):
        run(driver, name='e1', state='absent')
    with pytest.raises(Conflict, match='not the same as disk image currently used by VM'):
        run(driver, name='s1', state='absent')
    assert driver.changes() == []
    plan, _m = run(driver, name='e1', state='absent', metadata_only=True)
    assert plan.action_names == ['delete (metadata only: the data stays in the images and files)']


# -- the tree ---------------------------------------------------------------------------

def test_info_lists_the_tree_oldest_first():
    driver = host()
    tree(driver)
    manager = SnapshotInfoManager({'domain': 'vm', 'name': None}, check_mode=False)
    manager.validate()
    manager.driver = driver
    facts = manager.facts(None)
    assert [(s['name'], s['parent'], s['children'], s['current']) for s in facts] == \
        [('s1', None, ['s2'], False), ('s2', 's1', ['s3'], False), ('s3', 's2', [], True)]
    assert facts[0]['disks'][0] == {'name': 'vda', 'snapshot': 'internal', 'source': 'p/vm.qcow2', 'overlay': None}
    manager.driver = FakeDriver()
    assert manager.facts(None) == []
