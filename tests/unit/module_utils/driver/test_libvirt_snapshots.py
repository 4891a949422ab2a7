"""The libvirt driver's snapshot and checkpoint methods, and the snapshot
manager through them, on libvirt's test driver (real libvirt code with an
in-memory host; one connection keeps what the calls did)."""
import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.errors import NotFound

libvirt = pytest.importorskip('libvirt')

HOST = """<node>
  <cpu><mhz>2000</mhz><model>i686</model></cpu>
  <domain type='test'>
    <name>vm</name>
    <memory unit='MiB'>64</memory>
    <os><type>hvm</type></os>
    <devices>
      <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/guest/vm.qcow2'/>
        <target dev='vda' bus='virtio'/></disk>
    </devices>
  </domain>
</node>"""


@pytest.fixture
def driver(tmp_path):
    from ansible_collections.virtkit.virt.plugins.module_utils.driver.libvirt_jobs import LibvirtJobDriver
    host = tmp_path / 'host.xml'
    host.write_text(HOST)
    drv = LibvirtJobDriver('test://%s' % host)
    yield drv
    drv.close()


def snap(name):
    return "<domainsnapshot><name>%s</name><description>%s</description></domainsnapshot>" % (name, name)


def test_snapshots_listed_current_reverted_and_deleted_with_children(driver):
    assert driver.list_snapshots('vm') == []
    for name in ('s1', 's2', 's3'):
        assert driver.create_snapshot('vm', snap(name)) == name
    records = dict((r['name'], r) for r in driver.list_snapshots('vm'))
    assert [n for n in records if records[n]['current']] == ['s3']
    assert '<parent>' in records['s2']['xml'] and '<name>s1</name>' in records['s2']['xml'].split('<parent>')[1]
    driver.revert_snapshot('vm', 's1')
    assert [r['name'] for r in driver.list_snapshots('vm') if r['current']] == ['s1']
    driver.delete_snapshot('vm', 's2', children=True)
    assert sorted(r['name'] for r in driver.list_snapshots('vm')) == ['s1']


def test_redefine_changes_the_description_and_keeps_it_current(driver):
    driver.create_snapshot('vm', snap('s1'))
    xml = driver.list_snapshots('vm')[0]['xml'].replace('<description>s1</description>',
                                                        '<description>new</description>')
    driver.create_snapshot('vm', xml, redefine=True, current=True)
    (record,) = driver.list_snapshots('vm')
    assert '<description>new</description>' in record['xml'] and record['current']


def test_unknown_snapshots_and_domains_are_not_found(driver):
    with pytest.raises(NotFound):
        driver.revert_snapshot('vm', 'nosuch')
    with pytest.raises(NotFound):
        driver.delete_snapshot('vm', 'nosuch')
    with pytest.raises(NotFound):
        driver.list_snapshots('nosuch')


def test_the_snapshot_manager_through_libvirt(driver):
    from ansible_collections.virtkit.virt.plugins.module_utils.snapshot.manager import SnapshotManager

    def run(**kw):
        params = dict(domain='vm', name='s1', state='present', description=None, memory=None, external=None,
                      disk_only=False, disks=None, memory_file=None, quiesce=False, atomic=True, children=None,
                      metadata_only=None, revert_state=None, force_revert=None)
        params.update(kw)
        manager = SnapshotManager(params)
        manager.validate()
        manager.driver = driver
        plan = manager.plan()
        plan.apply()
        return plan, manager.facts(plan)

    plan, facts = run()
    assert plan.action_names == ['take internal snapshot with memory']
    assert facts['exists'] and facts['current'] and facts['state'] == 'running' and facts['memory']
    plan, _facts = run()
    assert plan.action_names == []
    plan, _facts = run(state='current')
    assert plan.action_names == []  # current, running, the same definition
    plan, facts = run(state='current', force_revert=True)
    assert plan.action_names == ['revert to s1'] and facts['domain_state'] == 'running'
    plan, facts = run(state='absent')
    assert plan.action_names == ['delete'] and not facts['exists']
