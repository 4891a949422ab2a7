"""The inventory's bulk listing (libvirt_listing.py) on libvirt's test driver, and its thread helper."""
import threading
import time

import pytest


def one_by_one(driver):
    """What the bulk listing stands for: a domain_xml call per listed domain."""
    return [dict(record, xml=driver.domain_xml(record['name'])) for record in driver.list_domains()]


def test_list_domains_with_xml_bulk_and_one_by_one():
    pytest.importorskip('libvirt')
    from ansible_collections.virtkit.virt.plugins.module_utils.driver.libvirt_listing import LibvirtListingDriver
    driver = LibvirtListingDriver('test:///default', readonly=True)
    try:
        bulk = driver.list_domains_with_xml()
        assert one_by_one(driver) == bulk
    finally:
        driver.close()
    (record,) = bulk
    assert record['name'] == 'test' and record['state'] == 'running' and record['persistent']
    assert record['xml'].startswith('<domain') and '<name>test</name>' in record['xml']


def test_list_domains_with_xml_many_domains_in_order(tmp_path):
    """Several XML readers on one connection: every domain, each with its own XML."""
    pytest.importorskip('libvirt')
    from ansible_collections.virtkit.virt.plugins.module_utils.driver.libvirt_listing import LibvirtListingDriver
    host = tmp_path / 'host.xml'
    host.write_text('<node><cpu><mhz>2000</mhz><nodes>1</nodes><sockets>1</sockets><cores>2</cores>'
                    '<threads>1</threads></cpu><memory>8388608</memory>%s</node>' % ''.join(
                        "<domain type='test'><name>d%02d</name><memory unit='MiB'>%d</memory>"
                        "<os><type>hvm</type></os></domain>" % (i, 64 + i) for i in range(37)))
    driver = LibvirtListingDriver('test://%s' % host, readonly=True)
    try:
        bulk = driver.list_domains_with_xml()
        assert one_by_one(driver) == bulk
    finally:
        driver.close()
    assert sorted(r['name'] for r in bulk) == ['d%02d' % i for i in range(37)]
    for record in bulk:
        assert '<name>%s</name>' % record['name'] in record['xml']
        assert "<memory unit='KiB'>%d</memory>" % ((64 + int(record['name'][1:])) * 1024) in record['xml']


def test_in_threads_keeps_order_and_raises_the_first_error():
    pytest.importorskip('libvirt')
    from ansible_collections.virtkit.virt.plugins.module_utils.driver.libvirt_listing import _in_threads
    seen = set()

    def slow_square(n):
        seen.add(threading.current_thread().name)
        time.sleep(0.001 * (n % 3))
        return n * n
    assert _in_threads(list(range(50)), slow_square, 4) == [n * n for n in range(50)]
    assert len(seen) == 4
    assert _in_threads([], slow_square, 4) == []

    def fails_on_7(n):
        if n == 7:
            raise ValueError('seven')
        return n
    with pytest.raises(ValueError, match='seven'):
        _in_threads(list(range(20)), fails_on_7, 3)
