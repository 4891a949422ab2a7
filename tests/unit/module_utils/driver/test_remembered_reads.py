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


@pytest.fixture
def lookups(monkeypatch):
    """The names libvirt is asked to look up, by kind (the real calls, counted)."""
    seen = []
    for kind, cls, method in (('domain', libvirt.virConnect, 'lookupByName'),
                              ('network', libvirt.virConnect, 'networkLookupByName'),
                              ('pool', libvirt.virConnect, 'storagePoolLookupByName')):
        real = getattr(cls, method)

        def counted(self, name, _real=real, _kind=kind):
            seen.append((_kind, name))
            return _real(self, name)
        monkeypatch.setattr(cls, method, counted)
    return seen


def test_an_object_is_looked_up_once_while_reads_are_remembered(host, lookups):
    driver, _other = host
    driver.remember()
    driver.domain_status('test')
    driver.domain_xml('test')
    driver.domain_xml('test', inactive=True)
    driver.pool_xml('default-pool')
    assert driver.pool_exists('default-pool')
    assert lookups == [('domain', 'test'), ('pool', 'default-pool')]
    driver.forget()
    driver.domain_xml('test')
    driver.domain_xml('test')
    assert lookups[2:] == [('domain', 'test'), ('domain', 'test')]


def test_objects_found_are_dropped_with_their_connection(host, lookups):
    """A connection closed (or lost and reopened) takes what was looked up through it along."""
    driver, _other = host
    driver.remember()
    driver.domain_status('test')
    driver.close()
    assert driver.domain_xml('test')
    assert lookups == [('domain', 'test'), ('domain', 'test')]


def test_exists_is_one_lookup(host, lookups):
    driver, _other = host
    assert driver.network_exists('default') is True
    assert driver.network_exists('vkt-nosuch') is False
    assert driver.pool_exists('default-pool') is True
    assert driver.pool_exists('vkt-nosuch') is False
    assert lookups == [('network', 'default'), ('network', 'vkt-nosuch'), ('pool', 'default-pool'),
                       ('pool', 'vkt-nosuch')]
