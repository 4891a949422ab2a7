"""The bed end to end through the driver layer: an isolated network, a TCG
guest from the cached kernel and initrd, its console marker, its DHCP lease."""
import os

from ansible_collections.virtkit.virt.plugins.module_utils.errors import NotFound
from ansible_collections.virtkit.virt.plugins.module_utils.driver.libvirt_driver import LibvirtDriver
from ansible_collections.virtkit.virt.plugins.module_utils.engine.plan import diff_specified
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.domain import build_domain_xml, parse_domain_xml
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.network import build_network_xml, parse_network_xml

from harness import free_subnet, unique_prefix, wait_for

MARKER = 'VIRTKIT-GUEST-READY'


def _cleanup(driver, domain, network):
    for action in (lambda: driver.destroy_domain(domain), lambda: driver.undefine_domain(domain),
                   lambda: driver.stop_network(network), lambda: driver.undefine_network(network)):
        try:
            action()
        except Exception:  # pylint: disable=broad-except  # best effort: it may not exist
            pass


def test_guest_boots_prints_marker_and_takes_a_lease(bed, tmp_path):
    prefix = unique_prefix()
    subnet = free_subnet()
    hosts = list(subnet.hosts())
    net_spec = {'name': prefix + '-net', 'mode': 'isolated', 'bridge': prefix + 'br',
                'ipv4': {'address': '%s/%d' % (hosts[0], subnet.prefixlen),
                         'dhcp': {'ranges': [{'start': str(hosts[99]), 'end': str(hosts[149])}]}}}
    log = str(tmp_path / 'console.log')
    dom_spec = {'name': prefix + '-guest', 'virt_type': 'qemu', 'memory_kib': 256 * 1024, 'vcpus': 1,
                'kernel': bed['kernel'], 'initrd': bed['initrd'], 'cmdline': 'console=ttyS0',
                'interfaces': [{'network': net_spec['name'], 'model': 'virtio'}],
                'console': {'type': 'file', 'path': log}}
    driver = LibvirtDriver('qemu:///system')
    try:
        driver.define_network(build_network_xml(net_spec))
        driver.start_network(net_spec['name'])
        # libvirt fills in uuid, MAC, stp...: none of it is a change.
        assert diff_specified(net_spec, parse_network_xml(driver.network_xml(net_spec['name']))) == []

        driver.define_domain(build_domain_xml(dom_spec))
        defined = parse_domain_xml(driver.domain_xml(dom_spec['name'], inactive=True))
        assert diff_specified(dom_spec, defined) == []
        mac = defined['interfaces'][0]['mac']
        assert mac, 'libvirt assigns a MAC'

        driver.start_domain(dom_spec['name'])
        assert driver.domain_status(dom_spec['name'])['state'] == 'running'

        def marker():
            return os.path.exists(log) and MARKER in open(log, errors='replace').read()
        wait_for(marker, 120, what='the guest marker %r on its serial console' % MARKER)

        def lease():
            return [item for item in driver.network_leases(net_spec['name']) if item['mac'] == mac]
        leased = wait_for(lease, 120, interval=2, what='a DHCP lease for %s' % mac)
        address = leased[0]['ip']
        assert address in [str(h) for h in hosts[99:150]]

        by_domain = driver.domain_addresses(dom_spec['name'], 'lease')
        assert [a['addr'] for i in by_domain for a in i['addresses']] == [address]
        assert [d['name'] for d in driver.list_domains() if d['state'] == 'running'].count(dom_spec['name']) == 1
    finally:
        _cleanup(driver, dom_spec['name'], net_spec['name'])
        try:
            assert dom_spec['name'] not in [d['name'] for d in driver.list_domains()]
            assert net_spec['name'] not in [n['name'] for n in driver.list_networks()]
        finally:
            driver.close()


def test_lookups_of_missing_objects_are_not_found():
    driver = LibvirtDriver('qemu:///system')
    try:
        for call in (lambda: driver.domain_status('vk-no-such-domain'),
                     lambda: driver.network_status('vk-no-such-network'),
                     lambda: driver.pool_status('vk-no-such-pool')):
            try:
                call()
            except NotFound as exc:
                assert 'not found' in str(exc)
            else:
                raise AssertionError('expected NotFound')
    finally:
        driver.close()
