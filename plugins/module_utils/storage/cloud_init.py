# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cloud-init NoCloud seed images (an ISO 9660 volume labelled ``cidata``).

How a seed knows whether it is current: the SHA-256 of its content (file
names and bytes, plus a layout version) is written into the ISO's
*application use* field of the primary volume descriptor, which the ISO 9660
standard reserves for the application that wrote the image. Checking a seed
then reads 2 KiB at a fixed offset (sector 16) through libvirt - no mount, no
pycdlib, works on remote hosts and on any pool type - and an image someone
else made simply has no marker. File timestamps inside the ISO vary from
build to build, so hashing the image itself would never match; hashing the
content does.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import io
import json

from ansible_collections.virtkit.virt.plugins.module_utils.errors import MissingLibrary

LABEL = 'cidata'
LAYOUT = 'virtkit-seed-v1'
# ISO 9660: the primary volume descriptor is sector 16 (2048-byte sectors).
PVD_OFFSET = 16 * 2048
HEADER_BYTES = PVD_OFFSET + 2048
_APP_USE = (883, 883 + 512)
_VOLUME_ID = (40, 72)
_MARKER = 'virtkit-seed sha256='
# option name → file name in the seed, in the order they are written.
FILES = (('user_data', 'user-data'), ('meta_data', 'meta-data'),
         ('vendor_data', 'vendor-data'), ('network_config', 'network-config'))
# ISO 9660 level-1 names for the files (Rock Ridge and Joliet carry the real ones).
_ISO_NAMES = {'user-data': '/USERDATA.;1', 'meta-data': '/METADATA.;1',
              'vendor-data': '/VENDORDA.;1', 'network-config': '/NETWORKC.;1'}


def require_pycdlib():
    """pycdlib, imported on first use: only building or reading a seed needs
    it, and its import costs a task that has no seed more than its work."""
    try:
        import pycdlib
    except ImportError:
        raise MissingLibrary(
            'The Python library pycdlib is missing on the target host (the host the module runs on); '
            'it builds cloud-init seed images. Install it there: "apt-get install python3-pycdlib", '
            '"dnf install python3-pycdlib" or "pip install pycdlib".', action='import pycdlib')
    return pycdlib


def content_hash(files):
    """SHA-256 over the layout version and each file's name and bytes."""
    digest = hashlib.sha256(LAYOUT.encode('ascii'))
    for name in sorted(files):
        data = files[name]
        digest.update(json.dumps([name, len(data)]).encode('ascii'))
        digest.update(data)
    return digest.hexdigest()


def build_seed(files):
    """``files`` ({'user-data': bytes, ...}) → the ISO image as bytes."""
    pycdlib = require_pycdlib()
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=3, vol_ident=LABEL, sys_ident='LINUX',
            app_ident_str='VIRTKIT.VIRT CLOUD-INIT SEED', app_use=_MARKER + content_hash(files),
            joliet=3, rock_ridge='1.09')
    for _option, name in FILES:
        if name in files:
            data = files[name]
            iso.add_fp(io.BytesIO(data), len(data), _ISO_NAMES[name], rr_name=name, joliet_path='/' + name)
    out = io.BytesIO()
    iso.write_fp(out)
    iso.close()
    return out.getvalue()


def seed_hash(header):
    """The content hash a seed carries, from its first HEADER_BYTES bytes; None
    for anything else (not ISO 9660, another label, no marker)."""
    pvd = header[PVD_OFFSET:PVD_OFFSET + 2048]
    if len(pvd) < _APP_USE[1] or pvd[:6] != b'\x01CD001':
        return None
    if pvd[_VOLUME_ID[0]:_VOLUME_ID[1]].decode('ascii', 'replace').strip().lower() != LABEL:
        return None
    app_use = pvd[_APP_USE[0]:_APP_USE[1]].decode('ascii', 'replace').strip()
    if not app_use.startswith(_MARKER):
        return None
    value = app_use[len(_MARKER):]
    return value if len(value) == 64 else None
