# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Images to import into volumes: a file on the target host or a URL it fetches.

Everything here happens before a volume exists: the image is fetched to a
temporary file, its checksum verified and its format read from its header,
so a bad download or a wrong checksum leaves nothing behind in the pool.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import shutil
import tempfile

from ansible_collections.virtkit.virt.plugins.module_utils.errors import DriverError, InvalidSpec, NotFound
from ansible_collections.virtkit.virt.plugins.module_utils.storage.volume_manager import probe

_CHUNK = 1024 * 1024


class Image:
    """An image file ready to upload; ``close()`` removes a fetched copy."""

    def __init__(self, path, temporary):
        self.path = path
        self.temporary = temporary
        self.length = os.path.getsize(path)
        with open(path, 'rb') as handle:
            header = handle.read(32)
        self.detected_format, self.virtual_size = probe(header, self.length)

    def close(self):
        if self.temporary and os.path.exists(self.path):
            os.unlink(self.path)


def open_image(source):
    """Fetch (for a URL) and verify the image of an ``import`` source spec."""
    if source['url']:
        image = Image(_fetch(source['url'], source.get('shown') or source['url'], source.get('validate_certs', True)),
                      temporary=True)
    else:
        if not os.path.isfile(source['path']):
            raise NotFound('no such file on the target host', resource='image %r' % source['path'],
                           action='import')
        image = Image(source['path'], temporary=False)
    try:
        if source.get('checksum'):
            verify(image.path, source['checksum'])
        declared = source.get('format')
        # File pools report the format they probe; a declaration that
        # contradicts the header would never match on the next run.
        if declared and 'qcow2' in (declared, image.detected_format) and declared != image.detected_format:
            raise InvalidSpec('import.format', 'the image has a qcow2 header, so it is qcow2, not %s' % declared
                              if image.detected_format == 'qcow2' else 'the image has no qcow2 header, so it is not qcow2')
    except Exception:
        image.close()
        raise
    return image


def verify(path, checksum):
    algorithm, expected = checksum
    digest = hashlib.new(algorithm)
    with open(path, 'rb') as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b''):
            digest.update(chunk)
    if digest.hexdigest() != expected:
        raise InvalidSpec('import.checksum', 'the image has %s:%s, not %s:%s'
                          % (algorithm, digest.hexdigest(), algorithm, expected))


def _fetch(url, shown, validate_certs):
    # Imported here: ansible's urls (with cryptography, email, http.client)
    # takes longer to import than most tasks take to run, and only a URL needs it.
    from ansible.module_utils.urls import open_url
    handle, path = tempfile.mkstemp(prefix='virtkit-import-')
    try:
        with os.fdopen(handle, 'wb') as out:
            response = open_url(url, validate_certs=validate_certs, timeout=30)
            try:
                shutil.copyfileobj(response, out, _CHUNK)
            finally:
                response.close()
    except BaseException as exc:
        os.unlink(path)  # also when the run is interrupted: an image left in /tmp is never found again
        if not isinstance(exc, Exception):
            raise
        detail = str(exc).replace(url, shown)  # never echo credentials
        raise DriverError('%s: %s' % (type(exc).__name__, detail), resource='URL %r' % shown, action='fetch')
    return path
