# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The finder and loader of the bytecode cache, and writing its entries.

``bytecode_cache`` (what every module file imports first) loads this module
from the cache, or from the zip the first time, and calls ``install``: a
finder for this collection's module_utils goes in front of zipimport. Each
file is taken from the cache, or read from the zip, compiled once and
stored for the next run. See ``bytecode_cache`` for what an entry is and
when one is trusted.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.machinery
import importlib.util
import marshal
import os
import sys

from ansible_collections.virtkit.virt.plugins.module_utils.engine.bytecode_cache import (
    HEADER, PACKAGE, cache_key, relocated, stamp, zip_path)

# Entries kept: a few versions of the collection. A store beyond it removes the oldest half.
MAX_ENTRIES = 400


def store(cache, key, code):
    """Keep ``code`` under ``key`` in ``cache`` (a BytecodeCache), when it may write."""
    fd = cache.directory() if cache is not None and cache.write else None
    if fd is None:
        return
    name = key.hex()
    temporary = '%s.%d.tmp' % (name, os.getpid())
    try:
        entry = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=fd)
        with os.fdopen(entry, 'wb') as handle:
            handle.write(HEADER + key + marshal.dumps(code))
        os.replace(temporary, name, src_dir_fd=fd, dst_dir_fd=fd)
    except OSError:
        try:
            os.unlink(temporary, dir_fd=fd)
        except OSError:
            pass
        return
    _prune(fd)


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


def keep(archive, inner, cache):
    """Store the code of ``inner`` (this module, loaded from the zip) for the next run."""
    found = stamp(archive, inner) if cache is not None and cache.write else None
    if found:
        store(cache, cache_key(inner, *found),
              compile(archive.get_data(inner), zip_path(archive, inner), 'exec', dont_inherit=True))


class ZipSourceLoader:
    """Runs one module_utils file from the AnsiballZ zip: taken from the cache,
    or read from the zip and compiled once."""

    def __init__(self, archive, inner, found, is_package, cache):
        self.archive = archive
        self.inner = inner
        self.path = zip_path(archive, inner)
        self.stamp = found  # (CRC-32, length) of the source
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
        store(self.cache, key, code)
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

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith(PACKAGE + '.'):
            return None
        base = fullname.replace('.', '/')
        for inner, is_package in ((base + '/__init__.py', True), (base + '.py', False)):
            found = stamp(self.archive, inner)
            if found is None:
                continue
            loader = ZipSourceLoader(self.archive, inner, found, is_package, self.cache)
            spec = importlib.machinery.ModuleSpec(fullname, loader, origin=loader.path, is_package=is_package)
            if is_package:
                spec.submodule_search_locations = [loader.path.rsplit(os.sep, 1)[0]]
            spec.has_location = True
            return spec
        return None


def install(archive, cache):
    """Put a ZipFinder over ``archive`` first in ``sys.meta_path`` (once); returns it."""
    for finder in sys.meta_path:
        if isinstance(finder, ZipFinder):
            return finder
    finder = ZipFinder(archive, cache)
    sys.meta_path.insert(0, finder)
    return finder
