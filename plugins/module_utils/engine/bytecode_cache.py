# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's compiled module_utils, kept between module runs on the target.

AnsiballZ ships a module with the sources of what it imports, in a zip file
that Python's zipimport reads. zipimport never keeps bytecode, so every run
compiles every file anew - for a task on an unchanged guest that costs more
than the task's own work - and Python 3.11's compiles each file twice (once
to answer ``get_filename``, once to run it).

Every module file imports this first. Run from an AnsiballZ zip, it puts a
finder in front of zipimport for this collection's module_utils alone: it
compiles each file once and keeps the code in a private cache of the user
the module runs as (``~/.ansible/virtkit.virt/bytecode``), keyed by the
file's path, the CRC-32 and length the zip records for its source, and the
Python's bytecode version, so later runs - of this or another version of the
collection - load what was compiled before, without reading the source.

Never a reason for a task to fail: without a home directory, with a
read-only one, with a cache directory that is not the user's own and
private, or with a damaged entry, the code is compiled from the source as
zipimport would. Code loaded from the cache carries the file names of this
run, so tracebacks and coverage read as without it. Imported from files (on
the controller, in tests, by ansible-test) it does nothing.

``VIRTKIT_BYTECODE_CACHE`` in the module's environment: ``off`` keeps
nothing on disk (each file is still compiled once), a path uses that
directory instead. ``PYTHONDONTWRITEBYTECODE`` keeps it from writing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import _imp
import hashlib
import importlib.machinery
import importlib.util
import marshal
import os
import stat
import sys
import types
import zipimport
import zlib

PACKAGE = __name__.rsplit('.', 2)[0]  # ansible_collections.virtkit.virt.plugins.module_utils
ENVIRONMENT = 'VIRTKIT_BYTECODE_CACHE'
DEFAULT_PATH = os.path.join('~', '.ansible', 'virtkit.virt', 'bytecode')
# Entries kept: a few versions of the collection. A store beyond it removes the oldest half.
MAX_ENTRIES = 400
_OFF = ('off', 'no', 'false', '0')
_HEADER = importlib.util.MAGIC_NUMBER
_DIGEST_SIZE = 32


def cache_key(inner, crc, size):
    """What a compiled file depends on: its path in the package, its source (by
    the CRC-32 and length the zip records for it), the bytecode version and the
    optimisation level."""
    digest = hashlib.sha256(_HEADER)
    digest.update(('%s:%d:%s:%d:%d' % (sys.implementation.cache_tag, sys.flags.optimize, inner, crc, size))
                  .encode('utf-8'))
    return digest.digest()


def relocated(code, filename):
    """``code`` with ``filename`` as the file name of it and of every code
    object in it: changed in place, as importlib does to code from __pycache__."""
    if code.co_filename != filename:
        _imp._fix_co_filename(code, filename)
    return code


class BytecodeCache:
    """A directory of compiled code that only its owner can write: each
    entry named by its key and holding it, after the bytecode magic."""

    def __init__(self, path, write=True):
        self.path = path
        self.write = write
        self._fd = None
        self._checked = False

    def _directory(self):
        """A descriptor of the directory once it is known to be ours and private, else None."""
        if self._checked:
            return self._fd
        self._checked = True
        if not (os.open in os.supports_dir_fd and hasattr(os, 'O_NOFOLLOW') and hasattr(os, 'geteuid')):
            return None
        try:
            if self.write:
                os.makedirs(self.path, 0o700, exist_ok=True)
            fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            return None
        info = os.fstat(fd)
        if info.st_uid != os.geteuid() or info.st_mode & 0o077:
            os.close(fd)  # another user's, or one others can write into: never trusted
            return None
        self._fd = fd
        return fd

    def load(self, key):
        """The code stored under ``key``, or None."""
        fd = self._directory()
        if fd is None:
            return None
        try:
            entry = os.open(key.hex(), os.O_RDONLY | os.O_NOFOLLOW, dir_fd=fd)
        except OSError:
            return None
        try:
            info = os.fstat(entry)
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
                return None
            data = os.read(entry, info.st_size)  # a regular file of that size: one read is all of it
        except OSError:
            return None
        finally:
            os.close(entry)
        start = len(_HEADER) + _DIGEST_SIZE
        if data[:start] != _HEADER + key:
            return None
        try:
            code = marshal.loads(data[start:])
        except (EOFError, ValueError, TypeError):
            return None
        return code if isinstance(code, types.CodeType) else None

    def store(self, key, code):
        fd = self._directory() if self.write else None
        if fd is None:
            return
        name = key.hex()
        temporary = '%s.%d.tmp' % (name, os.getpid())
        try:
            entry = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=fd)
            with os.fdopen(entry, 'wb') as handle:
                handle.write(_HEADER + key + marshal.dumps(code))
            os.replace(temporary, name, src_dir_fd=fd, dst_dir_fd=fd)
        except OSError:
            try:
                os.unlink(temporary, dir_fd=fd)
            except OSError:
                pass
            return
        self._prune(fd)

    @staticmethod
    def _prune(fd):
        try:
            names = os.listdir(fd)
            if len(names) <= MAX_ENTRIES:
                return
            dated = []
            for name in names:
                try:
                    dated.append((os.stat(name, dir_fd=fd, follow_symlinks=False).st_mtime, name))
                except OSError:
                    continue
            for _mtime, name in sorted(dated)[:len(dated) - MAX_ENTRIES // 2]:
                os.unlink(name, dir_fd=fd)
        except OSError:
            pass


class ZipSourceLoader:
    """Runs one module_utils file from the AnsiballZ zip: taken from the cache,
    or read from the zip and compiled once."""

    def __init__(self, archive, inner, stamp, is_package, cache):
        self.archive = archive
        self.inner = inner
        self.path = archive.archive + os.sep + inner.replace('/', os.sep)
        self.stamp = stamp  # (CRC-32, length) of the source
        self._is_package = is_package
        self.cache = cache

    def create_module(self, spec):
        return None  # the default module object

    def exec_module(self, module):
        exec(self.get_code(module.__name__), module.__dict__)  # pylint: disable=exec-used

    def get_code(self, fullname):
        key = cache_key(self.inner, *self.stamp)
        code = self.cache.load(key) if self.cache else None
        if code is not None:
            return relocated(code, self.path)
        code = compile(self.get_data(self.inner), self.path, 'exec', dont_inherit=True)
        if self.cache:
            self.cache.store(key, code)
        return code

    def get_source(self, fullname):
        return importlib.util.decode_source(self.get_data(self.inner))

    def get_filename(self, fullname):
        return self.path

    def get_data(self, path):
        return self.archive.get_data(path)

    def is_package(self, fullname):
        return self._is_package


class ZipFinder:
    """Finds ``PACKAGE``'s modules in the zip this file came from."""

    def __init__(self, archive, cache):
        self.archive = archive
        self.cache = cache

    def _stamp(self, inner):
        """(CRC-32, length) of ``inner``'s source, or None when the zip has no such file.

        From zipimport's directory of the zip where it has one (CPython's: the
        entries it read from the zip's own directory), so a file taken from the
        cache is never read; else from the source."""
        files = self.archive._get_files() if hasattr(self.archive, '_get_files') else getattr(self.archive, '_files', None)
        if isinstance(files, dict):
            entry = files.get(inner)
            if entry is None:
                return None
            if isinstance(entry, tuple) and len(entry) == 8 and isinstance(entry[7], int) and isinstance(entry[3], int):
                return entry[7], entry[3]  # (path, compress, data size, file size, offset, time, date, crc)
        try:
            source = self.archive.get_data(inner)
        except OSError:
            return None
        return zlib.crc32(source), len(source)

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith(PACKAGE + '.'):
            return None
        base = fullname.replace('.', '/')
        for inner, is_package in ((base + '/__init__.py', True), (base + '.py', False)):
            stamp = self._stamp(inner)
            if stamp is None:
                continue
            loader = ZipSourceLoader(self.archive, inner, stamp, is_package, self.cache)
            spec = importlib.machinery.ModuleSpec(fullname, loader, origin=loader.path, is_package=is_package)
            if is_package:
                spec.submodule_search_locations = [loader.path.rsplit(os.sep, 1)[0]]
            spec.has_location = True
            return spec
        return None


def configured_cache(environ=None):
    """The cache the environment asks for, or None."""
    environ = os.environ if environ is None else environ
    setting = environ.get(ENVIRONMENT, '').strip()
    if setting.lower() in _OFF:
        return None
    path = os.path.expanduser(setting or DEFAULT_PATH)
    if not os.path.isabs(path):
        return None  # no home directory to put it in
    return BytecodeCache(path, write=not sys.dont_write_bytecode)


def install(loader=None):
    """Put a ZipFinder first in ``sys.meta_path`` when ``loader`` (this
    file's) is AnsiballZ's zipimporter; returns the finder, or None."""
    loader = __spec__.loader if loader is None else loader
    if not isinstance(loader, zipimport.zipimporter):
        return None
    for finder in sys.meta_path:
        if isinstance(finder, ZipFinder):
            return finder
    finder = ZipFinder(zipimport.zipimporter(loader.archive), configured_cache())
    sys.meta_path.insert(0, finder)
    return finder


install()
