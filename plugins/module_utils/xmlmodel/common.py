# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers shared by the XML builders and parsers (the only lxml users)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import traceback

from ansible_collections.virtkit.virt.plugins.module_utils.errors import InvalidSpec, MissingLibrary

try:
    from lxml import etree
    LXML_IMPORT_ERROR = None
except ImportError:
    etree = None
    LXML_IMPORT_ERROR = traceback.format_exc()

# The collection's own namespace for <metadata> (tags and bookkeeping).
VIRTKIT_NS = 'https://virtkit.dev/xmlns/virt/1.0'
# One parser a thread (lxml's must not be used by two threads at once):
# making one costs as much as parsing a domain's XML, which the inventory
# does for every guest.
_PARSERS = threading.local()


def require_lxml():
    if etree is None:
        raise MissingLibrary(
            'The Python library lxml is missing on the target host (the host the module runs on). '
            'Install it there: "apt-get install python3-lxml", "dnf install python3-lxml" or '
            '"pip install lxml".', action='import lxml')


def parse(text, field, root_tag):
    """Parse user or libvirt XML; errors name ``field``."""
    require_lxml()
    if not isinstance(text, (str, bytes)) or not text.strip():
        raise InvalidSpec(field, 'the XML is empty')
    if isinstance(text, str):
        text = text.encode('utf-8')
    parser = getattr(_PARSERS, 'parser', None)
    if parser is None:
        parser = _PARSERS.parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False)
    try:
        root = etree.fromstring(text, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise InvalidSpec(field, 'the XML does not parse: %s' % exc)
    if root.tag != root_tag:
        raise InvalidSpec(field, 'expected a <%s> document, got <%s>' % (root_tag, root.tag))
    return root


def element(tag, attrib=None, text=None):
    require_lxml()
    el = etree.Element(tag, {k: str(v) for k, v in (attrib or {}).items() if v is not None})
    if text is not None:
        el.text = str(text)
    return el


def sub(parent, tag, attrib=None, text=None):
    el = etree.SubElement(parent, tag, {k: _attr(v) for k, v in (attrib or {}).items() if v is not None})
    if text is not None:
        el.text = str(text)
    return el


def child(parent, tag, after=(), first=False):
    """``parent``'s first <tag>, made when missing and placed as place()
    says: the one way to find-or-create an element of the XML layer."""
    el = parent.find(tag)
    if el is None:
        el = element(tag)
        place(parent, el, after, first)
    return el


def set_text(parent, tag, value, after=(), first=False):
    """``parent``'s <tag> (made as child() makes it) with ``value`` as its text."""
    el = child(parent, tag, after, first)
    el.text = str(value)
    return el


def put(parent, tag, new, after=(), first=False):
    """``new`` where ``parent``'s first <tag> was (``new`` None: that one is
    removed); without one, ``new`` is placed as place() says."""
    old = parent.find(tag)
    if old is not None:
        if new is not None:
            old.addprevious(new)
        parent.remove(old)
    elif new is not None:
        place(parent, new, after, first)


def place(parent, el, after=(), first=False):
    """Add ``el`` to ``parent`` after the first of the ``after`` children
    found; without one, first (``first``) or last."""
    anchor = next((a for a in (parent.find(name) for name in after) if a is not None), None)
    if anchor is not None:
        anchor.addnext(el)
    elif first:
        parent.insert(0, el)
    else:
        parent.append(el)


def insert_after(parent, anchor, el):
    """``el`` right after ``anchor`` (an element or None: then first)."""
    if anchor is None:
        parent.insert(0, el)
    else:
        anchor.addnext(el)


def last(parent, tags):
    """The last child of the first of ``tags`` ``parent`` has, or None."""
    for tag in tags:
        found = parent.findall(tag)
        if found:
            return found[-1]
    return None


def _attr(value):
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    return str(value)


def to_string(el):
    return etree.tostring(el, pretty_print=True, encoding='unicode')


def text(el, path, convert=None, default=None):
    """Text at ``path`` under ``el`` (converted), or ``default``."""
    found = el.find(path)
    if found is None or found.text is None:
        return default
    value = found.text.strip()
    return convert(value) if convert else value


def attr(el, path, name, convert=None, default=None):
    found = el if path in (None, '.') else el.find(path)
    if found is None or found.get(name) is None:
        return default
    value = found.get(name)
    return convert(value) if convert else value


def platform(root):
    """{virt_type, arch, machine} of a domain's root element: what the host's
    capabilities are asked for, and what a migration's destination must offer."""
    return {'virt_type': root.get('type'), 'arch': attr(root, 'os/type', 'arch'),
            'machine': attr(root, 'os/type', 'machine')}


def yes_no(value):
    return value in ('yes', 'on', '1', 'true')


def size_kib(el):
    """A libvirt size element (<memory unit='MiB'>512</memory>) in KiB."""
    if el is None or el.text is None:
        return None
    factors = {'b': 1.0 / 1024, 'bytes': 1.0 / 1024, 'k': 1, 'kib': 1, 'kb': 1000 / 1024.0,
               'm': 1024, 'mib': 1024, 'mb': 10 ** 6 / 1024.0,
               'g': 1024 ** 2, 'gib': 1024 ** 2, 'gb': 10 ** 9 / 1024.0,
               't': 1024 ** 3, 'tib': 1024 ** 3, 'tb': 10 ** 12 / 1024.0}
    unit = (el.get('unit') or 'KiB').lower()
    return int(int(el.text.strip()) * factors.get(unit, 1))
