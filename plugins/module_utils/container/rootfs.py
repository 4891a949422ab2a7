# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A container's root filesystem and the paths its spec names, on the
container host itself, beside libvirt: checking them before anything is
touched, and unpacking a rootfs archive once.

All of it needs the container host to be the host the module runs on (a
local ``lxc:///`` URI); nothing here imports libvirt.

A rootfs unpacked from an archive is tracked by a stamp file *next to* the
rootfs directory (``.NAME.virtkit-rootfs.json`` in its parent), not inside
it: the container cannot see, change or delete it, and nothing appears in
its ``/``. The stamp records the archive (source, SHA-256, size and mtime)
and is written only after the whole archive was unpacked into a temporary
directory and renamed into place, so a directory is either complete and
stamped or not there. A rootfs is never unpacked over: once stamped, it is
the container's, whatever the archive does later (a changed archive is
reported, not applied).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile

from ansible_collections.virtkit.virt.plugins.module_utils.errors import DriverError, InvalidSpec

_CHUNK = 1024 * 1024


def stamp_path(path):
    parent, base = os.path.split(path.rstrip('/'))
    return os.path.join(parent, '.%s.virtkit-rootfs.json' % base)


def shown_url(url):
    """A URL without its credentials, for messages."""
    return re.sub(r'^([a-z]+://)[^/@]*@', r'\1', url)


def _has_content(path):
    try:
        return bool(os.listdir(path))
    except OSError:
        return True  # not a readable directory: never unpack over it


# -- checks before anything is touched ------------------------------------------------

def check_rootfs(rootfs):
    """A rootfs without archive must be a directory; returns a RootfsArchive
    when an archive is given (it decides whether to unpack), else None."""
    path = rootfs['path']
    if rootfs['archive'] is None:
        if not os.path.isdir(path):
            raise InvalidSpec('rootfs.path', '%r %s on the target host; give rootfs.archive to unpack one there'
                              % (path, 'is not a directory' if os.path.exists(path) else 'does not exist'))
        return None
    archive = RootfsArchive(path, rootfs['archive'], rootfs['checksum'])
    archive.check()
    return archive


def check_mount_sources(mounts):
    for index, mount in enumerate(mounts or []):
        if not os.path.exists(mount['source']):
            raise InvalidSpec('mounts[%d].source' % index, '%r does not exist on the target host' % mount['source'])


def check_init(rootfs, init, default=False):
    """The init exists in the rootfs (``''``: the host's root). A link is
    enough: its target means something only inside the container."""
    root = rootfs or '/'
    if not os.path.lexists(os.path.join(root, init.lstrip('/'))):
        raise InvalidSpec('init', '%s%r is not in the root filesystem %s%s'
                          % ('the default, ' if default else '', init, root, '; set init' if default else ''))


def _can(st, uid, gid, bits):
    """Whether ``uid``/``gid`` (not root on the host) has ``bits`` (r=4, w=2, x=1) on a file of stat ``st``."""
    if st.st_uid == uid:
        return st.st_mode >> 6 & bits == bits
    if st.st_gid == gid:
        return st.st_mode >> 3 & bits == bits
    return st.st_mode & bits == bits


def check_idmap_access(path, uid, gid, owned=True):
    """In a user namespace, libvirt sets up the root filesystem as the host
    IDs that container root maps to: every directory above ``path`` must let
    them through, and (``owned``) the rootfs must be theirs to write."""
    if uid == 0:
        return
    parts = os.path.abspath(path).rstrip('/').split('/')
    for depth in range(1, len(parts)):
        ancestor = '/'.join(parts[:depth]) or '/'
        try:
            st = os.stat(ancestor)
        except OSError:
            return  # not there yet: other checks say so
        if not _can(st, uid, gid, 1):
            raise InvalidSpec('rootfs.path', 'container root is host UID %d with this idmap, and it cannot enter %s '
                                             '(mode %o, owner %d:%d): move the rootfs, or open the directory to it'
                              % (uid, ancestor, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid))
    if owned and os.path.isdir(path):
        st = os.stat(path)
        if not _can(st, uid, gid, 7):
            raise InvalidSpec('rootfs.path', 'container root is host UID %d with this idmap, but %s belongs to %d:%d '
                                             '(mode %o): chown the rootfs to the mapped IDs'
                              % (uid, path, st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)))


class RootfsArchive:
    """A rootfs directory unpacked once from an archive (a file on the
    target host or a URL), tracked by its stamp file."""

    def __init__(self, path, source, checksum=None):
        self.path, self.source, self.checksum = path, source, checksum
        self.is_url = source.startswith(('http://', 'https://', 'ftp://'))
        self.stamp = stamp_path(path)
        self.needed = False
        self.warning = None

    def _read_stamp(self):
        try:
            with open(self.stamp) as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return None

    def check(self):
        """Decide (without touching anything) whether to unpack; a path with
        content that no archive put there is an error."""
        parent = os.path.dirname(self.path.rstrip('/'))
        if not os.path.isdir(parent):
            raise InvalidSpec('rootfs.path', 'the parent directory %r does not exist on the target host' % parent)
        stamp = self._read_stamp() if os.path.isdir(self.path) else None
        if stamp is None:
            if os.path.exists(self.path) and (not os.path.isdir(self.path) or _has_content(self.path)):
                raise InvalidSpec('rootfs.path', '%r already has content that was not unpacked from an archive by '
                                                 'this module (no %s): remove it, or leave out rootfs.archive to use '
                                                 'it as it is' % (self.path, os.path.basename(self.stamp)))
            if not self.is_url and not os.path.isfile(self.source):
                raise InvalidSpec('rootfs.archive', 'there is no file %r on the target host' % self.source)
            self.needed = True
            return
        if self._same_archive(stamp):
            return
        self.warning = ('rootfs %s was unpacked from %s (sha256 %s); the archive %s differs now: the rootfs is left '
                        'as it is (remove the directory and %s to unpack again)'
                        % (self.path, shown_url(stamp.get('archive') or '?'), stamp.get('sha256'),
                           shown_url(self.source), os.path.basename(self.stamp)))

    def _same_archive(self, stamp):
        if self.checksum:
            return self.checksum == stamp.get('sha256')
        if self.is_url:
            return stamp.get('archive') == self.source  # not fetched again to find out
        try:
            info = os.stat(self.source)
        except OSError:
            return stamp.get('archive') == self.source  # the archive went away; the rootfs stays
        if stamp.get('archive') == self.source and stamp.get('size') == info.st_size \
                and stamp.get('mtime') == info.st_mtime:
            return True
        return _sha256(self.source) == stamp.get('sha256')

    def unpack(self, run):
        """Fetch, verify, unpack into a temporary directory beside the
        rootfs, rename it into place, write the stamp. ``run``:
        AnsibleModule.run_command (argv -> rc, stdout, stderr)."""
        parent = os.path.dirname(self.path.rstrip('/'))
        work = tempfile.mkdtemp(prefix='.%s.unpack-' % os.path.basename(self.path.rstrip('/')), dir=parent)
        try:
            if self.is_url:
                archive = os.path.join(work, 'archive')
                digest = _fetch(self.source, archive)
            else:
                archive = self.source
                digest = _sha256(archive)
            if self.checksum and digest != self.checksum:
                raise InvalidSpec('rootfs.checksum', 'the archive has sha256:%s, not sha256:%s'
                                  % (digest, self.checksum))
            tree = os.path.join(work, 'rootfs')
            os.mkdir(tree)
            _untar(run, archive, tree, shown_url(self.source))
            if os.path.isdir(self.path):
                os.rmdir(self.path)  # empty, checked before
            os.rename(tree, self.path)
            info = None if self.is_url else os.stat(self.source)
            record = {'archive': self.source, 'sha256': digest,
                      'size': info.st_size if info else None, 'mtime': info.st_mtime if info else None,
                      'unpacked': datetime.datetime.now(datetime.timezone.utc).isoformat()}
            with open(self.stamp + '.tmp', 'w') as handle:
                json.dump(record, handle, indent=1, sort_keys=True)
            os.rename(self.stamp + '.tmp', self.stamp)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b''):
            digest.update(chunk)
    return digest.hexdigest()


def _fetch(url, dest):
    # Imported here: ansible's urls (with cryptography, email, http.client)
    # takes longer to import than most tasks take to run, and only a URL needs it.
    from ansible.module_utils.urls import open_url
    digest = hashlib.sha256()
    try:
        response = open_url(url, timeout=30)
        try:
            with open(dest, 'wb') as out:
                for chunk in iter(lambda: response.read(_CHUNK), b''):
                    digest.update(chunk)
                    out.write(chunk)
        finally:
            response.close()
    except Exception as exc:
        detail = str(exc).replace(url, shown_url(url))  # never echo credentials
        raise DriverError('%s: %s' % (type(exc).__name__, detail), resource='URL %r' % shown_url(url),
                          action='fetch rootfs.archive')
    return digest.hexdigest()


def _untar(run, archive, tree, shown):
    """GNU tar: any compression it knows, owners and modes as archived
    (numeric IDs: the host's user names mean nothing in the container),
    members never outside ``tree`` (it refuses absolute and ``..`` names and
    creates links last)."""
    rc, dummy, err = run(['tar', '--extract', '--file', archive, '--directory', tree, '--numeric-owner',
                          '--same-permissions', '--same-owner'])
    if rc != 0:
        raise DriverError('tar failed (exit %d): %s' % (rc, err.strip()[-2000:]),
                          resource='rootfs archive %r' % shown, action='unpack')
