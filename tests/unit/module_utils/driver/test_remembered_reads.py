"""Reads the libvirt driver remembers between remember() and forget(), on libvirt's test driver.

test:///default is one host shared by every connection of a process: a change
made through a second connection shows whether a read asked libvirt again.
"""
import pytest

libvirt = pytest.importorskip('libvirt')

from ansible_collections.virtkit.virt.plugins.module_utils.driver.libvirt_driver import LibvirtDriver  # noqa: E402


@pytest.fixture
def host():
    """The driver under test, and a second connection that changes the host behind its back."""
    driver = LibvirtDriver('test:///default')
    other = libvirt.open('test:///default')
    yield driver, other
    dom = other.lookupByName('test')
    if dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED:
        dom.resume()
    dom.setAutostart(0)
    driver.close()
    other.close()


def test_a_read_asked_again_is_answered_from_memory_until_forget(host):
    driver, other = host
    driver.remember()
    assert driver.domain_status('test')['state'] == 'running'
    xml = driver.domain_xml('test')
    other.lookupByName('test').suspend()
    assert driver.domain_status('test')['state'] == 'running'  # what libvirt said the first time
    assert driver.domain_xml('test') == xml
    driver.forget()
    assert driver.domain_status('test')['state'] == 'paused'


def test_each_call_and_its_arguments_are_remembered_apart(host):
    driver, other = host
    driver.remember()
    assert driver.domain_status('test')['autostart'] is False
    other.lookupByName('test').setAutostart(1)
    assert driver.domain_status('test')['autostart'] is False
    # Another object is asked anew; so is a call that is never remembered (a listing).
    other.defineXML("<domain type='test'><name>vkt-memo</name><memory>65536</memory>"
                    "<os><type>hvm</type></os></domain>")
    try:
        assert driver.domain_status('vkt-memo')['state'] == 'shutoff'
        assert [d['autostart'] for d in driver.list_domains() if d['name'] == 'test'] == [True]
    finally:
        other.lookupByName('vkt-memo').undefine()


def test_without_remember_every_read_asks(host):
    driver, other = host
    assert driver.domain_status('test')['state'] == 'running'
    other.lookupByName('test').suspend()
    assert driver.domain_status('test')['state'] == 'paused'


def test_a_remembered_record_is_a_copy(host):
    driver, _other = host
    driver.remember()
    first = driver.domain_status('test')
    first['state'] = 'changed by a caller'
    assert driver.domain_status('test')['state'] == 'running'


def test_a_missing_object_is_asked_again(host):
    """NotFound is not remembered: an object that appears is seen at once."""
    from ansible_collections.virtkit.virt.plugins.module_utils.errors import NotFound
    driver, _other = host
    driver.remember()
    with pytest.raises(NotFound):
        driver.domain_status('vkt-nosuch')
    with pytest.raises(NotFound):
        driver.domain_status('vkt-nosuch')
