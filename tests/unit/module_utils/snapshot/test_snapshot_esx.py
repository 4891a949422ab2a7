"""Snapshots on VMware ESX (libvirt's esx driver): the manager's plans against
the fake driver, and the libvirt driver's other paths where esx lacks a call
or a flag (a stand-in connection that answers as esx 9.0 did against the
vSphere simulator).

The XML here is what libvirt's esx driver wrote against the simulator."""
import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.errors import Conflict
from ansible_collections.virtkit.virt.plugins.module_utils.snapshot.facts import SnapshotInfoManager
from ansible_collections.virtkit.virt.plugins.module_utils.snapshot.manager import SnapshotManager
from ansible_collections.virtkit.virt.tests.unit.fake_driver import FakeDriver

VMWARE = """<domain type='vmware'>
  <name>vm</name>
  <uuid>b03b24de-847f-5b0d-85f4-221b300038a8</uuid>
  <memory unit='KiB'>131072</memory>
  <vcpu placement='static'>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <source file='[LocalDS_0] vm/vm.vmdk'/>
      <target dev='sda' bus='scsi'/>
    </disk>
  </devices>
</domain>"""
# esx records no memory, no disks, and of the domain only its UUID.
ESX_SNAPSHOT = """<domainsnapshot>
  <name>{name}</name>
  <description></description>
  <state>{state}</state>
  {parent}
  <creationTime>{time}</creationTime>
  <domain>
    <uuid>b03b24de-847f-5b0d-85f4-221b300038a8</uuid>
  </domain>
</domainsnapshot>"""
LIMITS = {
    'external_snapshot': "an external snapshot (overlay files) is not supported by libvirt's esx driver",
    'snapshot_redefine': "changing an existing snapshot (its description) is not supported by libvirt's esx driver",
    'snapshot_metadata_only': "forgetting a snapshot while its data stays is not supported by libvirt's esx driver",
}


def esx_snapshot(name, state='shutoff', parent=None, time=100):
    return ESX_SNAPSHOT.format(name=name, state=state, time=time,
                               parent='<parent><name>%s</name></parent>' % parent if parent else '')


def esx_host(state='running'):
    driver = FakeDriver(uri='esx://esx.example/?no_verify=1')
    driver.add_domain('vm', state=state, xml=VMWARE)
    for feature, why in LIMITS.items():
        driver.script('unsupported', why, feature=feature)
    return driver


def run(driver, check=False, **kw):
    params = dict(domain='vm', name='s1', state='present', description=None, memory=None, external=None,
                  disk_only=False, disks=None, memory_file=None, quiesce=False, atomic=True, children=None,
                  metadata_only=None, revert_state=None, force_revert=None)
    params.update(kw)
    manager = SnapshotManager(params, check_mode=check)
    manager.validate()
    manager.driver = driver
    plan = manager.plan()
    if not check:
        plan.apply()
    return plan, manager


@pytest.mark.parametrize('state, action', [('running', 'take internal snapshot with memory'),
                                           ('shutoff', 'take internal snapshot (disks only)')])
def test_a_vmware_snapshot_names_neither_disks_nor_memory(state, action):
    # ESX snapshots every disk (vmdk, not qcow2) in delta disks of its own; esx refuses a disk list.
    driver = esx_host(state)
    plan, _manager = run(driver)
    assert plan.action_names == [action]
    (call,) = driver.called('create_snapshot')
    assert '<disks>' not in call['xml'] and '<memory' not in call['xml']
    assert call['disk_only'] is False and call['quiesce'] is False


@pytest.mark.parametrize('kw, option, why', [
    (dict(disk_only=True), 'disk_only', LIMITS['external_snapshot']),
    (dict(external=True, memory=True), 'external', LIMITS['external_snapshot']),
    (dict(memory=False), 'memory', "false: libvirt's esx driver does not record whether a snapshot holds"),
])
def test_what_esx_cannot_take_is_refused_naming_the_option_and_the_driver(kw, option, why):
    driver = esx_host()
    with pytest.raises(Conflict) as err:
        run(driver, **kw)
    assert err.value.message.startswith('%s: ' % option) and why in err.value.message
    assert driver.changes() == []


def test_a_new_description_and_metadata_only_are_refused_on_esx():
    driver = esx_host()
    driver.add_snapshot('vm', esx_snapshot('s1', state='running'), current=True)
    with pytest.raises(Conflict) as err:
        run(driver, description='another')
    assert err.value.message == 'description: ' + LIMITS['snapshot_redefine']
    with pytest.raises(Conflict) as err:
        run(driver, state='absent', metadata_only=True)
    assert err.value.message.startswith('metadata_only: ' + LIMITS['snapshot_metadata_only'])
    assert driver.changes() == []
    plan, _manager = run(driver, state='absent', children=True)
    assert plan.action_names == ['delete'] and driver.snapshots['vm'] == {}


def test_the_current_esx_snapshot_is_no_change_without_a_saved_definition():
    # Only the UUID of the domain is in the snapshot: no drift to see, the power state decides.
    driver = esx_host('running')
    driver.add_snapshot('vm', esx_snapshot('s1', state='running'), current=True)
    plan, _manager = run(driver, state='current')
    assert plan.action_names == [] and 'differs_from_snapshot' not in plan.before
    plan, _manager = run(driver, check=True, state='current', revert_state='paused')
    assert plan.action_names == ['revert to s1 (then paused)']


def test_esx_snapshots_report_memory_as_unknown():
    driver = esx_host()
    driver.add_snapshot('vm', esx_snapshot('s1'))
    driver.add_snapshot('vm', esx_snapshot('s2', state='running', parent='s1', time=200), current=True)
    manager = SnapshotInfoManager({'domain': 'vm', 'name': None})
    manager.validate()
    manager.driver = driver
    facts = manager.facts(None)
    assert [(s['name'], s['parent'], s['children'], s['current'], s['memory'], s['location']) for s in facts] == \
        [('s1', None, ['s2'], False, None, 'internal'), ('s2', 's1', [], True, None, 'internal')]


# -- the libvirt driver's other paths ---------------------------------------------------

libvirt = pytest.importorskip('libvirt')


def esx_error(code, message):
    exc = libvirt.libvirtError(message)
    exc.err = (code, 0, message, 2, None, None, None, 0, 0)
    return exc


class EsxSnapshot:
    def __init__(self, dom, name):
        self.dom, self.name = dom, name

    def getName(self):
        return self.name

    def isCurrent(self, flags):
        return self.dom.current == self.name

    def getXMLDesc(self, flags):
        return esx_snapshot(self.name)


class EsxDomain:
    """The snapshot calls of libvirt's esx driver 9.0, with its refusals."""

    def __init__(self):
        self.snapshots, self.current, self.state_now, self.calls = ['s1'], 's1', 5, []

    def listAllSnapshots(self, flags):
        raise esx_error(libvirt.VIR_ERR_NO_SUPPORT, 'this function is not supported by the connection driver: '
                                                    'virDomainListAllSnapshots')

    def snapshotListNames(self, flags):
        return list(self.snapshots) + ['gone']  # deleted by another client after the listing

    def snapshotLookupByName(self, name, flags):
        if name not in self.snapshots:
            raise esx_error(libvirt.VIR_ERR_NO_DOMAIN_SNAPSHOT, "Could not find snapshot with name '%s'" % name)
        return EsxSnapshot(self, name)

    def snapshotCreateXML(self, xml, flags):
        self.calls.append(('create', flags))
        if flags & ~(libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY | libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE):
            raise esx_error(libvirt.VIR_ERR_INVALID_ARG, 'unsupported flags (0x%x) in function '
                                                         'esxDomainSnapshotCreateXML' % flags)
        self.snapshots.append('s2')
        self.current = 's2'
        return EsxSnapshot(self, 's2')

    def revertToSnapshot(self, snap, flags):
        self.calls.append(('revert', flags))
        if flags:
            raise esx_error(libvirt.VIR_ERR_INVALID_ARG, 'unsupported flags (0x%x) in function '
                                                         'esxDomainRevertToSnapshot' % flags)
        self.current, self.state_now = snap.name, libvirt.VIR_DOMAIN_SHUTOFF

    def state(self):
        return [self.state_now, 0]

    def create(self):
        self.calls.append(('start', 0))
        self.state_now = libvirt.VIR_DOMAIN_RUNNING

    def suspend(self):
        self.calls.append(('suspend', 0))
        self.state_now = libvirt.VIR_DOMAIN_PAUSED


class EsxConnection:
    def __init__(self):
        self.dom = EsxDomain()

    def getType(self):
        return 'ESX'

    def lookupByName(self, name):
        return self.dom

    def isAlive(self):
        return 1


@pytest.fixture
def esx():
    from ansible_collections.virtkit.virt.plugins.module_utils.driver.libvirt_jobs import LibvirtJobDriver
    driver = LibvirtJobDriver('esx://esx.example/?no_verify=1')
    driver._conn = EsxConnection()
    return driver


def test_snapshots_are_listed_one_name_at_a_time_where_esx_lacks_the_bulk_call(esx):
    assert [(r['name'], r['current']) for r in esx.list_snapshots('vm')] == [('s1', True)]
    assert esx.unsupported('listAllSnapshots') == "listAllSnapshots is not supported by libvirt's esx driver"


def test_a_snapshot_is_taken_without_the_atomic_flag_esx_refuses(esx):
    assert esx.create_snapshot('vm', esx_snapshot('s2')) == 's2'
    assert esx._conn.dom.calls == [('create', libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC), ('create', 0)]
    esx._conn.dom.snapshots.remove('s2')
    esx.create_snapshot('vm', esx_snapshot('s2'))  # learned: the flag is not tried again
    assert esx._conn.dom.calls[2:] == [('create', 0)]


@pytest.mark.parametrize('start, after', [('running', [('start', 0)]), ('paused', [('start', 0), ('suspend', 0)]),
                                          (None, [])])
def test_a_revert_then_starts_or_pauses_where_esx_refuses_the_flags(esx, start, after):
    esx.revert_snapshot('vm', 's1', start=start, force=True)
    calls = esx._conn.dom.calls
    if start is None:  # FORCE alone: esx has no compatibility check to override
        assert calls == [('revert', libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_FORCE), ('revert', 0)]
    else:
        assert calls[1:] == [('revert', 0)] + after and calls[0][1] & libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_FORCE
