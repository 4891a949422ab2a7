# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A user's own domain XML: XPath patches, whether it is contained in
libvirt's, its digest, and completing it for a redefinition.

Patches are how users reach what the options do not model. Each is one of
``{xpath, value}`` (element text), ``{xpath, attribute, value}``,
``{xpath, remove: true}`` and ``{xpath, xml}`` (append a child element unless
an equal one is there). A path of plain steps (``/domain/clock``,
``/domain/devices/controller[@type='usb']``) that matches nothing is
created; any other XPath that matches nothing is an error naming the patch,
except a removal on an existing domain (already removed).

Containment answers "does the running definition already say everything the
user's XML says?" for the parts no canonical key models: every element,
attribute and text of the user's XML must be found in libvirt's, which may
add more (addresses, aliases, defaults).

Containment cannot see what a user's XML no longer says (libvirt adds
elements of its own, so an element of the definition missing from the XML
proves nothing). So a definition made from a user's XML carries the SHA-256
of that XML (canonical form) in its metadata: another XML than the one last
applied is a change, a removed element included.

Redefining an existing domain from a user's XML carries over what libvirt
chose and the XML leaves out: the UUID, interface MACs, the machine type.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import hashlib
import json
import re

from ansible_collections.virtkit.virt.plugins.module_utils.errors import InvalidSpec
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel import common as x

_STEP_RE = re.compile(r"^([A-Za-z_][\w.-]*)((?:\[@[A-Za-z_][\w.-]*=(?:'[^']*'|\"[^\"]*\")\])*)$")
_PASSWD_ATTR_RE = r"""\b(passwd)=(?:'[^']*'|"[^"]*")"""
_PASSWD_VALUE_RE = r"""\b(passwd)=(?:'([^']*)'|"([^"]*)")"""
_PRED_RE = re.compile(r"\[@([A-Za-z_][\w.-]*)=(?:'([^']*)'|\"([^\"]*)\")\]")
# Modelled by canonical keys (units, aliases) or filled in by libvirt.
_NOT_CONTAINED = ('name', 'uuid', 'memory', 'currentMemory', 'vcpu', 'metadata', 'os', 'id')


def _field(index, key='xpath'):
    return 'xml_patches[%d].%s' % (index, key)


def check_patches(patches):
    """Each patch has one meaning and a valid XPath (no connection needed)."""
    x.require_lxml()
    for index, patch in enumerate(patches or []):
        xpath = patch.get('xpath')
        if not xpath:
            raise InvalidSpec(_field(index), 'an XPath is required')
        try:
            x.etree.XPath(xpath)
        except x.etree.XPathSyntaxError as exc:
            raise InvalidSpec(_field(index), '%r is not a valid XPath: %s' % (xpath, exc))
        kinds = [k for k in ('value', 'remove', 'xml') if patch.get(k) not in (None, False)]
        if len(kinds) != 1:
            raise InvalidSpec(_field(index, 'value'), 'give exactly one of value, remove: true or xml')
        if patch.get('attribute') and 'value' not in kinds:
            raise InvalidSpec(_field(index, 'attribute'), 'an attribute patch needs a value')
        if patch.get('xml') is not None:
            _fragment(patch['xml'], index)


def _fragment(text, index):
    try:
        return x.etree.fromstring(text.encode('utf-8'), parser=x.etree.XMLParser(remove_blank_text=True,
                                                                                 resolve_entities=False))
    except x.etree.XMLSyntaxError as exc:
        raise InvalidSpec(_field(index, 'xml'), 'the XML does not parse: %s' % exc)


def apply_patches(xml, patches, new_domain):
    """``xml`` with the patches applied, in order."""
    root = x.parse(xml, 'xml', 'domain')
    for index, patch in enumerate(patches or []):
        nodes = _select(root, patch['xpath'], index)
        if patch.get('remove'):
            if not nodes and new_domain:
                raise InvalidSpec(_field(index), '%r matches nothing in the domain XML' % patch['xpath'])
            for node in nodes:
                if node is root:
                    raise InvalidSpec(_field(index), 'the root element cannot be removed')
                node.getparent().remove(node)
            continue
        if not nodes:
            created = _create(root, patch['xpath'])
            if created is None:
                raise InvalidSpec(_field(index), '%r matches nothing in the domain XML (and is not a plain '
                                                 'path of elements that could be created)' % patch['xpath'])
            nodes = [created]
        for node in nodes:
            if patch.get('xml') is not None:
                child = _fragment(patch['xml'], index)
                if not any(contains(child, have) for have in node if have.tag == child.tag):
                    node.append(child)
            elif patch.get('attribute'):
                node.set(patch['attribute'], _string(patch['value']))
            else:
                node.text = _string(patch['value'])
    return x.to_string(root)


def patches_digest(patches):
    """The SHA-256 of a list of patches (the stamp of a definition they
    changed), display passwords in them replaced by their stand-ins."""
    text = json.dumps([dict((k, _password_free(patch, k, v)) for k, v in sorted(patch.items()) if v not in (None, False))
                       for patch in patches], sort_keys=True)
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def patched_parts(xml, patches):
    """What the patches reach in ``xml``, as a diff shows it: each patch's
    XPath (``/@name`` added for an attribute, the tag for an element it
    appends) → the attribute's value, the element's text, or the element (a
    removal, an appended element) as XML; a list where it reaches several,
    left out where it reaches nothing."""
    root = x.parse(xml, 'xml', 'domain')
    parts = {}
    for index, patch in enumerate(patches or []):
        try:
            nodes = _select(root, patch['xpath'], index)
        except InvalidSpec:
            nodes = []
        if patch.get('attribute'):
            key = '%s/@%s' % (patch['xpath'], patch['attribute'])
            found = [node.get(patch['attribute']) for node in nodes if node.get(patch['attribute']) is not None]
        elif patch.get('xml') is not None:
            child = _fragment(patch['xml'], index)
            key = '%s/%s' % (patch['xpath'], child.tag)
            found = [_shown_element(have) for node in nodes for have in node
                     if have.tag == child.tag and contains(child, have)]
        elif patch.get('remove'):
            key, found = patch['xpath'], [_shown_element(node) for node in nodes]
        else:
            key, found = patch['xpath'], [node.text or '' for node in nodes]
        if found:
            parts[key] = found[0] if len(found) == 1 else found
    return parts


def _shown_element(el):
    return x.etree.tostring(el, encoding='unicode', with_tail=False).strip()


def hide_passwords(before, after, hidden):
    """``(before, after)`` of patched_parts() with display passwords hidden,
    another one shown as such (both would read ``hidden``)."""
    def hide(key, value):
        if isinstance(value, list):
            return [hide(key, item) for item in value]
        if key.endswith('/@passwd'):
            return hidden
        return re.sub(_PASSWD_ATTR_RE, lambda m: "%s='%s'" % (m.group(1), hidden), value)
    shown_before = dict((key, hide(key, value)) for key, value in before.items())
    shown_after = dict((key, hide(key, value)) for key, value in after.items())
    for key, value in shown_after.items():
        if key in before and value == shown_before[key] and after[key] != before[key]:
            shown_after[key] = '%s (another password)' % (value if isinstance(value, str) else ', '.join(value))
    return shown_before, shown_after


def _string(value):
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    return str(value)


def _select(root, xpath, index):
    try:
        found = root.xpath(xpath)
    except x.etree.XPathError as exc:
        raise InvalidSpec(_field(index), '%r: %s' % (xpath, exc))
    if not isinstance(found, list) or not all(x.etree.iselement(n) for n in found):
        raise InvalidSpec(_field(index), '%r must select elements (use attribute: to set an attribute)' % xpath)
    return found


def _create(root, xpath):
    """Create the elements of a plain absolute path; None for anything else."""
    steps = xpath.split('/')
    if len(steps) < 3 or steps[0] != '' or steps[1] != root.tag:
        return None
    parsed = []
    for step in steps[2:]:
        match = _STEP_RE.match(step)
        if not match:
            return None
        attrs = dict((m[0], m[1] or m[2]) for m in _PRED_RE.findall(match.group(2)))
        parsed.append((match.group(1), attrs))
    node = root
    for tag, attrs in parsed:
        found = [c for c in node if c.tag == tag and all(c.get(k) == v for k, v in attrs.items())]
        node = found[0] if found else x.sub(node, tag, attrs)
    return node


# -- containment -----------------------------------------------------------------

def canonical_string(xml):
    """Exclusive C14N of a parsed document: equal strings mean equal XML."""
    root = x.parse(xml, 'xml', 'domain')
    return x.etree.tostring(root, method='c14n')


# A namespace of its own: libvirt keeps one metadata element per namespace,
# and the tags' element (virtkit's namespace) is replaced live on its own.
SOURCE_NS = 'https://virtkit.dev/xmlns/virt-source/1.0'
_SOURCE_TAG = '{%s}source' % SOURCE_NS


# Digests live in the domain's metadata, which read-only connections see
# while libvirt hides passwd from them; a plain hash of a display password
# (8 characters for VNC) would be guessed offline, so each one is first
# stretched (PBKDF2, OWASP's count for SHA-256). A change of password still
# changes the digest.
_STRETCH_SALT = b'virtkit.virt display password'
_STRETCH_ROUNDS = 600000


@functools.lru_cache(maxsize=8)
def password_stand_in(password):
    """What a digest takes in place of a display password."""
    return 'pbkdf2-sha256:' + hashlib.pbkdf2_hmac('sha256', password.encode('utf-8'), _STRETCH_SALT,
                                                  _STRETCH_ROUNDS).hex()


def _password_free(patch, key, value):
    """A patch's ``key`` as a digest takes it: passwords replaced by stand-ins."""
    if key == 'value' and patch.get('attribute') == 'passwd':
        return password_stand_in(_string(value))
    if key == 'xml':
        return re.sub(_PASSWD_VALUE_RE, lambda m: "%s='%s'" % (
            m.group(1), password_stand_in(m.group(3) if m.group(2) is None else m.group(2))), value)
    return value


def xml_digest(xml):
    """The SHA-256 of a user's whole XML in canonical form, comments left
    out (libvirt drops them; a generated comment must not be a change),
    display passwords replaced by their stand-ins."""
    root = x.parse(xml, 'xml', 'domain')
    for el in root.iter():
        if isinstance(el.tag, str) and el.get('passwd') is not None:
            el.set('passwd', password_stand_in(el.get('passwd')))
    return hashlib.sha256(x.etree.tostring(root, method='c14n', with_comments=False)).hexdigest()


def applied_digest(definition_xml):
    """The digest a definition made from a user's XML carries, or None."""
    el = x.parse(definition_xml, 'xml', 'domain').find('metadata/%s' % _SOURCE_TAG)
    return None if el is None else el.get('sha256')


def with_digest(xml, digest):
    """``xml`` carrying ``digest`` in its metadata (replacing an older one)."""
    root = x.parse(xml, 'xml', 'domain')
    metadata = x.child(root, 'metadata', after=('uuid', 'name'))
    for old in metadata.findall(_SOURCE_TAG):
        metadata.remove(old)
    metadata.append(x.etree.Element(_SOURCE_TAG, {'sha256': digest}, nsmap={'virtkit-source': SOURCE_NS}))
    return x.to_string(root)


def missing_parts(user_xml, current_xml):
    """Paths of the parts of ``user_xml`` (outside the canonical keys) that
    ``current_xml`` does not say."""
    want = x.parse(user_xml, 'xml', 'domain')
    have = x.parse(current_xml, 'xml', 'domain')
    missing = []
    for key, value in want.attrib.items():
        if key != 'id' and not _same(have.get(key), value):
            missing.append('/domain/@%s' % key)
    used = []
    for child in want:
        if child.tag in _NOT_CONTAINED or not isinstance(child.tag, str):
            continue
        if child.tag == 'devices':
            devices = have.find('devices')
            for device in child:
                if not isinstance(device.tag, str):
                    continue
                if devices is None or not _claim(device, devices, used):
                    missing.append('/domain/devices/%s%s' % (device.tag, _describe(device)))
        elif not _claim(child, have, used):
            missing.append('/domain/%s' % child.tag)
    return missing


def _claim(want, parent, used):
    # ``used`` holds the elements themselves: lxml proxies die and their id()s come back.
    for have in parent:
        if not any(have is u for u in used) and have.tag == want.tag and contains(want, have):
            used.append(have)
            return True
    return False


def _describe(el):
    for key in ('type', 'model', 'device'):
        if el.get(key):
            return "[@%s='%s']" % (key, el.get(key))
    return ''


def contains(want, have):
    """Whether element ``have`` says everything ``want`` says."""
    if want.get('unit') is not None or have.get('unit') is not None:
        if x.size_kib(want) != x.size_kib(have):
            return False
    elif (want.text or '').strip() and (want.text or '').strip() != (have.text or '').strip():
        return False
    for key, value in want.attrib.items():
        if key != 'unit' and not _same(have.get(key), value):
            return False
    taken = set()
    for child in want:
        if not isinstance(child.tag, str):
            continue  # comments
        match = None
        for index, candidate in enumerate(have):
            if index not in taken and candidate.tag == child.tag and contains(child, candidate):
                match = index
                break
        if match is None:
            return False
        taken.add(match)
    return True


def _same(have, want):
    if have == want:
        return True
    if have is None:
        return False
    try:
        return int(have, 0) == int(want, 0)  # 0x3 and 0x03 are one PCI slot
    except (TypeError, ValueError):
        return False


# -- completing a whole XML --------------------------------------------------------

def complete_user_xml(xml, uuid=None, macs=None, machine=None):
    """A user's whole domain XML, ready to redefine an existing domain: its
    UUID, and the MACs (``macs``: interface index → MAC) and machine type
    libvirt chose, where the user's XML leaves them out."""
    root = x.parse(xml, 'xml', 'domain')
    if uuid:
        x.set_text(root, 'uuid', uuid, after=('name',))
    devices = root.find('devices')
    if macs and devices is not None:
        for index, el in enumerate(devices.findall('interface')):
            if index in macs and el.find('mac') is None:
                el.insert(0, x.element('mac', {'address': macs[index]}))
    if machine:
        os_type = root.find('os/type')
        if os_type is not None and not os_type.get('machine'):
            os_type.set('machine', machine)
    return x.to_string(root)
