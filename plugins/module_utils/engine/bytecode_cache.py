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
finder (``bytecode_loader``) in front of zipimport for this collection's
module_utils alone: it compiles each file once and keeps the code in a
private cache of the user the module runs as
(``~/.ansible/virtkit.virt/bytecode``), keyed by the file's path, the CRC-32
and length the zip records for its source, and the Python's bytecode
version, so later runs - of this or another version of the collection -
load what was compiled before, without reading the source.

This file is what zipimport compiles (twice) at every run, so it holds only
what reading the cache needs; the finder itself comes from the cache too.

It also spares the module process walks of Python's cyclic garbage
collector over objects that live until the process ends (``spare_collector``).

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
import atexit
import gc
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
LOADER = PACKAGE + '.engine.bytecode_loader'
ENVIRONMENT = 'VIRTKIT_BYTECODE_CACHE'
DEFAULT_PATH = os.path.join('~', '.ansible', 'virtkit.virt', 'bytecode')
_OFF = ('off', 'no', 'false', '0')
HEADER = importlib.util.MAGIC_NUMBER
DIGEST_SIZE = 32


def cache_key(inner, crc, size):
    """What a compiled file depends on: its path in the package, its source (by
    the CRC-32 and length the zip records for it), the bytecode version and the
    optimisation level."""
    digest = hashlib.sha256(HEADER)
    digest.update(('%s:%d:%s:%d:%d' % (sys.implementation.cache_tag, sys.flags.optimize, inner, crc, size))
                  .encode('utf-8'))
    return digest.digest()


def zip_path(archive, inner):
    """The file name of ``inner`` (a path inside the zip), as zipimport gives it."""
    return archive.archive + os.sep + inner.replace('/', os.sep)


def relocated(code, filename):
    """``code`` with ``filename`` as the file name of it and of every code
    object in it: changed in place, as importlib does to code from __pycache__."""
    if code.co_filename != filename:
        _imp._fix_co_filename(code, filename)
    return code


def stamp(archive, inner):
    """(CRC-32, length) of ``inner``'s source in the zip, or None when it has no such file.

    From zipimport's directory of the zip where it has one (CPython's: the
    entries it read from the zip's own directory), so a file taken from the
    cache is never read; else from the source."""
    files = archive._get_files() if hasattr(archive, '_get_files') else getattr(archive, '_files', None)
    if isinstance(files, dict):
        entry = files.get(inner)
        if entry is None:
            return None
        if isinstance(entry, tuple) and len(entry) == 8 and isinstance(entry[7], int) and isinstance(entry[3], int):
            return entry[7], entry[3]  # (path, compress, data size, file size, offset, time, date, crc)
    try:
        source = archive.get_data(inner)
    except OSError:
        return None
    return zlib.crc32(source), len(source)


class BytecodeCache:
    """A directory of compiled code that only its owner can write: each
    entry named by its key and holding it, after the bytecode magic
    (``bytecode_loader.store`` writes them)."""

    def __init__(self, path, write=True):
        self.path = path
        self.write = write
        self._fd = None
        self._checked = False

    def directory(self):
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
        fd = self.directory()
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
        start = len(HEADER) + DIGEST_SIZE
        if data[:start] != HEADER + key:
            return None
        try:
            code = marshal.loads(data[start:])
        except (EOFError, ValueError, TypeError):
            return None
        return code if isinstance(code, types.CodeType) else None


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


def _cached_loader(archive, cache):
    """The bytecode_loader module, run from its code in the cache; None when it is not there."""
    inner = LOADER.replace('.', '/') + '.py'
    found = stamp(archive, inner) if cache is not None else None
    code = cache.load(cache_key(inner, *found)) if found else None
    if code is None:
        return None
    path = zip_path(archive, inner)
    relocated(code, path)  # this run's file names
    spec = importlib.machinery.ModuleSpec(LOADER, archive, origin=path)
    spec.has_location = True
    module = importlib.util.module_from_spec(spec)
    sys.modules[LOADER] = module
    try:
        exec(code, module.__dict__)  # pylint: disable=exec-used
    except Exception:  # pylint: disable=broad-except
        del sys.modules[LOADER]  # never a reason to fail: the zip has the source
        return None
    setattr(sys.modules[LOADER.rsplit('.', 1)[0]], 'bytecode_loader', module)
    return module


def spare_collector():
    """Tell Python's cyclic garbage collector that what the module process
    holds now, and again when it exits, lives until the process ends
    (``gc.freeze``): the collector leaves those objects alone from then on.

    A module process runs one task. What it has imported when this runs
    (Ansible's module_utils and the standard library) stays for the whole
    run, yet each full collection walks it again. Above all, Python makes
    full collections while it shuts down: in a domain task of the bench,
    shutting down took 21 ms, 7 ms with everything frozen. Frozen at exit,
    the objects are left to the operating system, which takes the process's
    memory back anyway. What must happen at exit - the result printed, the
    connection closed, files removed - is done explicitly before; no code of
    the collection waits for a finalizer. Garbage made after the first
    freeze is still collected while the task runs."""
    gc.freeze()
    atexit.register(gc.freeze)


def install(loader=None):
    """When ``loader`` (this file's) is AnsiballZ's zipimporter - a module
    process - spare the collector and put bytecode_loader's finder first in
    ``sys.meta_path``; returns the finder, or None."""
    loader = __spec__.loader if loader is None else loader
    if not isinstance(loader, zipimport.zipimporter):
        return None
    spare_collector()
    archive = zipimport.zipimporter(loader.archive)
    cache = configured_cache()
    implementation = sys.modules.get(LOADER) or _cached_loader(archive, cache)
    if implementation is None:
        # Not in the cache yet: from the zip, compiled as zipimport does; kept for the next run.
        from ansible_collections.virtkit.virt.plugins.module_utils.engine import bytecode_loader as implementation
        implementation.keep(archive, LOADER.replace('.', '/') + '.py', cache)
    return implementation.install(archive, cache)


install()
