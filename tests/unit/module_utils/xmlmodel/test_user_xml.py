import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.errors import InvalidSpec
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.user_xml import (
    apply_patches, canonical_string, check_patches, missing_parts)

XML = """<domain type='qemu'><name>vm</name><memory unit='KiB'>262144</memory>
<os><type>hvm</type></os><features><acpi/><apic/></features>
<devices><interface type='network'><source network='lab'/></interface></devices></domain>"""


def patched(*patches, **kw):
    check_patches(list(patches))
    return apply_patches(XML, list(patches), kw.get('new', True))


def test_value_attribute_remove_and_append():
    xml = patched({'xpath': '/domain/on_reboot', 'value': 'destroy'},
                  {'xpath': '/domain/clock', 'attribute': 'offset', 'value': 'localtime'},
                  {'xpath': '/domain/features/acpi', 'remove': True},
                  {'xpath': '/domain/devices', 'xml': "<watchdog model='i6300esb'/>"},
                  {'xpath': "/domain/devices/controller[@type='usb']", 'attribute': 'model', 'value': 'none'})
    assert '<on_reboot>destroy</on_reboot>' in xml
    assert 'offset="localtime"' in xml and '<acpi/>' not in xml and '<watchdog' in xml
    assert '<controller type="usb" model="none"/>' in xml
    # Appending twice adds one element; re-applying everything changes nothing.
    again = apply_patches(xml, [{'xpath': '/domain/devices', 'xml': "<watchdog model='i6300esb'/>"},
                                {'xpath': '/domain/features/acpi', 'remove': True}], False)
    assert canonical_string(again) == canonical_string(xml)


@pytest.mark.parametrize('patch', [
    {'xpath': "/domain/devices/interface[source/@network='nowhere']", 'value': 'x'},
    {'xpath': '/domain/features/hap', 'remove': True},
    {'xpath': '//nothing[1]', 'xml': '<a/>'},
])
def test_an_xpath_matching_nothing_is_an_error(patch):
    with pytest.raises(InvalidSpec) as info:
        patched(patch)
    assert info.value.field == 'xml_patches[0].xpath'


def test_removal_on_an_existing_domain_is_done_when_nothing_matches():
    assert canonical_string(patched({'xpath': '/domain/features/hap', 'remove': True}, new=False)) == \
        canonical_string(XML)


def test_non_element_results_are_refused():
    with pytest.raises(InvalidSpec) as info:
        patched({'xpath': '/domain/@type', 'value': 'kvm'})
    assert 'attribute' in info.value.detail


def test_containment_finds_what_libvirt_does_not_say():
    user = ("<domain type='qemu'><name>vm</name><memory unit='MiB'>256</memory><on_reboot>destroy</on_reboot>"
            "<clock offset='utc'/><devices><interface type='network'><source network='lab'/>"
            "<address type='pci' slot='0x3'/></interface><sound model='ich9'/></devices></domain>")
    libvirt = ("<domain type='qemu'><name>vm</name><uuid>x</uuid><memory unit='KiB'>262144</memory>"
               "<on_reboot>destroy</on_reboot><clock offset='utc'><timer name='rtc'/></clock>"
               "<devices><interface type='network'><mac address='52:54:00:00:00:01'/><source network='lab'/>"
               "<address type='pci' domain='0x0000' slot='0x03'/></interface></devices></domain>")
    assert missing_parts(user, libvirt) == ["/domain/devices/sound[@model='ich9']"]
    with_sound = libvirt.replace('</devices>', "<sound model='ich9'><address type='pci'/></sound></devices>")
    assert missing_parts(user, with_sound) == []
    assert missing_parts(user.replace('destroy', 'restart'), with_sound) == ['/domain/on_reboot']


def test_the_applied_xml_digest():
    from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.domain import parse_domain_xml
    from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.user_xml import (
        applied_digest, with_digest, xml_digest)
    user = "<domain type='qemu'><name>a</name><memory>1</memory><devices><sound model='ich9'/></devices></domain>"
    same = '<domain type="qemu">\n  <name>a</name>\n  <memory>1</memory>\n  <devices><sound model="ich9"></sound></devices>\n</domain>'
    assert xml_digest(user) == xml_digest(same)  # canonical: layout and quoting are no change
    assert xml_digest(user) == xml_digest(user.replace('<name>', '<!-- made 12:00 --><name>'))
    assert xml_digest(user) != xml_digest(user.replace("<sound model='ich9'/>", ''))
    marked = with_digest(user, xml_digest(user))
    assert applied_digest(marked) == xml_digest(user) and applied_digest(user) is None
    # replaced, not added; beside the tags, which stay the modules' own
    tagged = with_digest(with_digest(marked.replace(
        '<metadata>', '<metadata><virtkit:tags xmlns:virtkit="https://virtkit.dev/xmlns/virt/1.0">'
        '<virtkit:tag name="k">v</virtkit:tag></virtkit:tags>'), 'abc'), 'def')
    assert applied_digest(tagged) == 'def' and tagged.count('sha256=') == 1
    assert parse_domain_xml(tagged)['tags'] == {'k': 'v'}


def test_digests_take_display_passwords_stretched(monkeypatch):
    """The digests sit in metadata a read-only connection reads: a display
    password enters them only through its PBKDF2 stand-in."""
    import hashlib
    from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel import user_xml
    assert user_xml.password_stand_in('s3cret') == 'pbkdf2-sha256:' + hashlib.pbkdf2_hmac(
        'sha256', b's3cret', b'virtkit.virt display password', 600000).hex()
    xml = "<domain type='kvm'><name>a</name><devices><graphics type='vnc' passwd='%s'/></devices></domain>"
    attribute = [{'xpath': '/domain/devices/graphics', 'attribute': 'passwd', 'value': '%s'}]
    fragment = [{'xpath': '/domain/devices', 'xml': "<graphics type='spice' passwd=\"%s\"/>"}]

    def digests(password):
        return (user_xml.xml_digest(xml % password),
                user_xml.patches_digest([dict(p, value=p['value'] % password) for p in attribute]),
                user_xml.patches_digest([dict(p, xml=p['xml'] % password) for p in fragment]))

    one, other = digests('s3cret'), digests('0ther')
    assert all(a != b for a, b in zip(one, other))  # a new password is still a change
    monkeypatch.setattr(user_xml, 'password_stand_in', lambda password: 'stand-in')
    assert digests('s3cret') == digests('0ther')  # nothing else of the password enters
