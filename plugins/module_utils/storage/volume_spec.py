# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module params of ``volume`` → the desired volume.

Pure functions, run before any connection exists; every error names its
field. The result::

    {name, pool, capacity (bytes or None), format, preallocate,
     source: None
           | {kind: 'backing', volume: {name, pool}} | {kind: 'backing', path}
           | {kind: 'clone', name, pool}
           | {kind: 'import', path | url, checksum: (algorithm, hex) or None, format}
           | {kind: 'cloud_init', files: {'user-data': bytes, ...}, sha256}}
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json

try:
    from urllib.parse import urlsplit, urlunsplit
except ImportError:  # pragma: no cover - Python 2 is not supported, but sanity imports it
    from urlparse import urlsplit, urlunsplit

from ansible_collections.virtkit.virt.plugins.module_utils.engine.sizes import parse_size
from ansible_collections.virtkit.virt.plugins.module_utils.engine import validation as v
from ansible_collections.virtkit.virt.plugins.module_utils.errors import InvalidSpec
from ansible_collections.virtkit.virt.plugins.module_utils.storage.cloud_init import FILES, content_hash

# Where a new volume's content comes from: one at most.
SOURCES = ('backing_volume', 'backing_path', 'clone_from', 'import', 'cloud_init')
# libvirt's file formats (storagevol.rng), the ones a user names in practice first.
FORMATS = ('raw', 'qcow2', 'qcow', 'qed', 'vmdk', 'vpc', 'vdi', 'vhdx', 'iso', 'bochs', 'cloop', 'dmg',
           'cow', 'fat', 'ploop', 'dir')
# Formats that can sit on a backing file (copy-on-write overlays).
OVERLAY_FORMATS = ('qcow2', 'qed', 'qcow', 'vmdk', 'cow')
CHECKSUM_ALGORITHMS = ('sha256', 'sha512', 'sha384', 'sha224', 'sha1', 'md5')
URL_SCHEMES = ('http://', 'https://', 'ftp://')


def volume_spec(params):
    spec = {'name': v.volume_name(params['name'], 'name'), 'pool': v.plain_name(params['pool'], 'pool'),
            'capacity': None, 'format': None, 'preallocate': bool(params.get('preallocate')), 'source': None}
    if params.get('state', 'present') == 'absent':
        return spec
    given = [key for key in SOURCES if params.get(key) is not None]
    if len(given) > 1:
        raise InvalidSpec(given[1], 'the content comes from one source at most, and %s is already given' % given[0])
    if params.get('capacity') is not None:
        spec['capacity'] = parse_size(params['capacity'], 'capacity')
        if spec['capacity'] <= 0:
            raise InvalidSpec('capacity', 'a volume needs a capacity above 0')
    fmt = params.get('format')
    if fmt is not None and fmt not in FORMATS:
        raise InvalidSpec('format', '%r is not one of %s' % (fmt, ', '.join(FORMATS)))
    spec['format'] = fmt
    if given:
        spec['source'] = _SOURCE_SPECS[given[0]](params[given[0]], spec)
        if spec['preallocate']:
            raise InvalidSpec('preallocate', 'only a new empty volume is preallocated, not one with %s' % given[0])
    return spec


def _backing_volume(value, spec):
    ref = _volume_ref(value, spec, 'backing_volume')
    return {'kind': 'backing', 'volume': ref, 'path': None, 'format': _overlay_format(spec)}


def _backing_path(value, spec):
    return {'kind': 'backing', 'volume': None, 'path': v.clean_path(value, 'backing_path'),
            'format': _overlay_format(spec)}


def _overlay_format(spec):
    if spec['format'] is None:
        spec['format'] = 'qcow2'
    if spec['format'] not in OVERLAY_FORMATS:
        raise InvalidSpec('format', 'a copy-on-write overlay needs one of %s, not %r'
                          % (', '.join(OVERLAY_FORMATS), spec['format']))
    return spec['format']


def _clone(value, spec):
    return dict(_volume_ref(value, spec, 'clone_from'), kind='clone')


def _volume_ref(value, spec, field):
    name = v.plain_name(value.get('name'), field + '.name')
    pool = v.plain_name(value.get('pool') or spec['pool'], field + '.pool')
    if (name, pool) == (spec['name'], spec['pool']):
        raise InvalidSpec(field, 'names the volume itself')
    return {'name': name, 'pool': pool}


def _import(value, spec):
    path, url = value.get('path'), value.get('url')
    if bool(path) == bool(url):
        raise InvalidSpec('import', 'give exactly one of import.path (a file on the target host) and import.url')
    result = {'kind': 'import', 'path': None, 'url': None, 'checksum': None, 'format': value.get('format')}
    if path:
        result['path'] = v.clean_path(path, 'import.path')
    else:
        if not isinstance(url, str) or not url.lower().startswith(URL_SCHEMES) or any(c.isspace() for c in url):
            raise InvalidSpec('import.url', '%r is not an http, https or ftp URL' % (url,))
        result['url'] = url
    result['shown'] = result['path'] or redact_url(result['url'])
    if value.get('checksum'):
        result['checksum'] = parse_checksum(value['checksum'], 'import.checksum')
    if result['format'] is not None and result['format'] not in FORMATS:
        raise InvalidSpec('import.format', '%r is not one of %s' % (result['format'], ', '.join(FORMATS)))
    if result['format'] and spec['format'] and result['format'] != spec['format']:
        raise InvalidSpec('import.format', 'the image is %s, but format says %s' % (result['format'], spec['format']))
    result['format'] = result['format'] or spec['format']
    return result


def redact_url(url):
    """The URL for actions, diffs and messages: credentials in it are masked."""
    parts = urlsplit(url)
    if '@' not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc='***@' + parts.netloc.rsplit('@', 1)[1]))


def parse_checksum(value, field):
    """'sha256:HEX' → ('sha256', 'hex')."""
    algorithm, sep, digest = str(value).strip().partition(':')
    algorithm = algorithm.lower()
    if not sep or algorithm not in CHECKSUM_ALGORITHMS:
        raise InvalidSpec(field, '%r is not ALGORITHM:HEX with ALGORITHM one of %s'
                          % (value, ', '.join(CHECKSUM_ALGORITHMS)))
    digest = digest.strip().lower()
    size = hashlib.new(algorithm).digest_size * 2
    if len(digest) != size or any(c not in '0123456789abcdef' for c in digest):
        raise InvalidSpec(field, 'a %s checksum has %d hexadecimal digits' % (algorithm, size))
    return (algorithm, digest)


def _cloud_init(value, spec):
    if spec['capacity'] is not None:
        raise InvalidSpec('capacity', 'a cloud-init seed is as large as its image; leave capacity out')
    if spec['format'] not in (None, 'raw', 'iso'):
        raise InvalidSpec('format', 'a cloud-init seed is a raw ISO image, not %s' % spec['format'])
    if all(value.get(option) is None for option, _name in FILES):
        raise InvalidSpec('cloud_init', 'give at least one of %s' % ', '.join(option for option, _name in FILES))
    files = {}
    for option, name in FILES:
        content = value.get(option)
        if content is None:
            continue
        files[name] = _file_bytes(content, 'cloud_init.' + option, cloud_config=option in ('user_data', 'vendor_data'))
    # NoCloud needs both files; meta-data names the instance.
    files.setdefault('user-data', b'')
    files.setdefault('meta-data', ('instance-id: %s\n' % spec['name']).encode('utf-8'))
    return {'kind': 'cloud_init', 'files': files, 'sha256': content_hash(files)}


def _file_bytes(content, field, cloud_config):
    """Text as given; a mapping as JSON (valid YAML, so no YAML library is needed),
    under '#cloud-config' for user and vendor data."""
    if isinstance(content, bytes):
        return content
    if isinstance(content, str):
        return content.encode('utf-8')
    if isinstance(content, (dict, list)):
        text = json.dumps(content, indent=2, sort_keys=True, default=str) + '\n'
        return (('#cloud-config\n' + text) if cloud_config else text).encode('utf-8')
    raise InvalidSpec(field, 'expected text or a mapping, got %s' % type(content).__name__)


_SOURCE_SPECS = {'backing_volume': _backing_volume, 'backing_path': _backing_path, 'clone_from': _clone,
                 'import': _import, 'cloud_init': _cloud_init}
