# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory's bulk read of a host's guests: LibvirtListingDriver, the
libvirt driver with ``list_domains_with_xml``.

Only the inventory lists this way (plugin_utils/client.py on the controller,
plugin_utils/remote_listing.py on a host reached over SSH), so no module
ships this file or parallel.py: a module's payload holds every file its
imports reach, also inside functions.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtkit.virt.plugins.module_utils.driver.libvirt_driver import _NOT_FOUND, LibvirtDriver, libvirt
from ansible_collections.virtkit.virt.plugins.module_utils.driver.parallel import run_bounded

# Domain XML has no bulk call: this many requests are kept in flight on the
# one connection (libvirtd serves 5 per client by default), which hides the
# round trip to a remote host.
XML_READERS = 4


def _xml_or_none(dom):
    """The domain's XML; None when it was undefined meanwhile."""
    try:
        return dom.XMLDesc(0)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() in _NOT_FOUND:
            return None
        raise


def _in_threads(items, func, workers):
    """[func(item)] in the order of ``items``, ``workers`` calls at a time
    (libvirt-python lets go of the GIL while it waits on the daemon): one
    job a worker, each taking every ``workers``-th item. The first
    exception is raised in the caller."""
    workers = max(1, min(workers, len(items)))
    jobs = [lambda share=items[first::workers]: [func(item) for item in share] for first in range(workers)]
    results = [None] * len(items)
    for first, (ok, value) in enumerate(run_bounded(jobs, concurrency=workers, timeout=None) if items else []):
        if not ok:
            raise value
        results[first::workers] = value
    return results


class LibvirtListingDriver(LibvirtDriver):

    def list_domains_with_xml(self):
        """list_domains' records, each with the domain's live ``xml`` too (a
        domain undefined while it is read is left out)."""
        def listing(conn):
            pairs = self._domain_records(conn)
            xml = _in_threads([dom for _record, dom in pairs], _xml_or_none, XML_READERS)
            return [dict(record, xml=text) for (record, _dom), text in zip(pairs, xml) if text is not None]
        return self._run('read the XML of', 'domains', listing)
