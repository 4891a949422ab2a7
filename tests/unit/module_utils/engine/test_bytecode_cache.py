"""engine/bytecode_cache.py, run the way AnsiballZ runs a module: from a zip file.

Each case builds a payload zip (the cache's own file and a small module_utils
package beside it) in a temporary folder, as AnsiballZ does for each run, and
imports from it in a fresh interpreter.
"""
import importlib.util
import json
import os
import subprocess
import sys
import zipfile
import zlib

import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.engine import bytecode_cache

MU = 'ansible_collections/virtkit/virt/plugins/module_utils/'
PACKAGE = 'ansible_collections.virtkit.virt.plugins.module_utils'
SAMPLE = '''
"""A module_utils file of the test payload."""
VALUE = 42


def fail():
    raise RuntimeError('the sample fails here')
'''

RUN = r'''
import atexit, builtins, gc, json, sys, traceback
sys.path.insert(0, sys.argv[1])
# Registered before the cache's own exit hook, so it runs after it.
atexit.register(lambda: print(json.dumps({'frozen_at_exit': gc.get_freeze_count()})))
every = []  # every file compiled in this run, zipimport's compiles included
real_compile = compile
def counting(source, filename, *args, **kwargs):
    if 'module_utils/' in str(filename):  # not the traceback module's own parsing
        every.append(filename.rsplit('module_utils/', 1)[-1])
    return real_compile(source, filename, *args, **kwargs)
builtins.compile = counting
from ansible_collections.virtkit.virt.plugins.module_utils.engine import bytecode_cache
frozen = gc.get_freeze_count()
compiled = list(every)
del every[:]  # what the finder compiles from here on
import zipimport
read = []
real_get_data = zipimport.zipimporter.get_data
def reading(self, path):
    read.append(path)
    return real_get_data(self, path)
zipimport.zipimporter.get_data = reading
from ansible_collections.virtkit.virt.plugins.module_utils.tools import sample
read_by_import = list(read)  # a traceback reads the source for its lines
try:
    sample.fail()
    lines = []
except RuntimeError:
    lines = traceback.format_exc().splitlines()
print(json.dumps({'value': sample.VALUE, 'compiled': every, 'installing': compiled, 'file': sample.__file__,
                  'read': read_by_import, 'planted': getattr(builtins, 'VIRTKIT_PLANTED', None),
                  'loader': type(sample.__loader__).__name__, 'traceback': lines,
                  'finders': [type(f).__name__ for f in sys.meta_path],
                  'marker': getattr(sample, 'MARKER', None), 'frozen': frozen}))
made_after = [[] for _ in range(1000)]  # tracked by the collector, made after the first freeze
'''


def payload(folder, sample=SAMPLE):
    """A fresh AnsiballZ-like zip (each run of a module gets its own path)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / 'payload.zip'
    with zipfile.ZipFile(str(path), 'w', zipfile.ZIP_DEFLATED) as zf:
        for name in ('ansible_collections/', 'ansible_collections/virtkit/', 'ansible_collections/virtkit/virt/',
                     'ansible_collections/virtkit/virt/plugins/', MU, MU + 'engine/', MU + 'tools/'):
            zf.writestr(name + '__init__.py', '')
        for name in ('bytecode_cache', 'bytecode_loader'):
            with open(os.path.join(os.path.dirname(bytecode_cache.__file__), name + '.py')) as handle:
                zf.writestr(MU + 'engine/%s.py' % name, handle.read())
        zf.writestr(MU + 'tools/sample.py', sample)
    return str(path)


def run(zip_path, cache, **env):
    environ = dict(os.environ, VIRTKIT_BYTECODE_CACHE=str(cache), **env)
    environ.pop('PYTHONDONTWRITEBYTECODE', None)
    environ.update(env)
    proc = subprocess.run([sys.executable, '-c', RUN, zip_path], env=environ, capture_output=True, text=True,
                          check=True)
    result, at_exit = proc.stdout.splitlines()
    return dict(json.loads(result), **json.loads(at_exit))


def entries(cache):
    return sorted(os.listdir(str(cache))) if os.path.isdir(str(cache)) else []


def test_a_second_run_compiles_nothing(tmp_path):
    cache = tmp_path / 'cache'
    first = run(payload(tmp_path / 'run1'), cache)
    assert first['value'] == 42 and first['loader'] == 'ZipSourceLoader'
    assert first['finders'][0] == 'ZipFinder'
    # Each file once (zipimport of Python 3.11 compiles each twice), the package files too.
    assert sorted(first['compiled']) == ['tools/__init__.py', 'tools/sample.py']
    # The finder's own module, from the zip as zipimport loads it, then once more to keep it.
    assert first['installing'].count('engine/bytecode_loader.py') == 3
    assert len(entries(cache)) == 3
    assert oct(os.stat(str(cache)).st_mode & 0o777) == '0o700'
    assert all(os.stat(str(cache / name)).st_mode & 0o777 == 0o600 for name in entries(cache))

    second = run(payload(tmp_path / 'run2'), cache)
    assert second['value'] == 42 and second['compiled'] == []
    assert second['read'] == []  # what the zip's directory says of a file is its key: no source is read
    # Only what zipimport compiles before the cache is there: the packages on the way and
    # bytecode_cache.py itself (twice); the finder's module comes from the cache.
    assert second['installing'].count('engine/bytecode_cache.py') == 2
    assert not [f for f in second['installing'] if not f.endswith(('__init__.py', 'engine/bytecode_cache.py'))]


def test_code_from_the_cache_names_this_runs_files(tmp_path):
    cache = tmp_path / 'cache'
    run(payload(tmp_path / 'run1'), cache)
    second_zip = payload(tmp_path / 'run2')
    second = run(second_zip, cache)
    assert second['compiled'] == []
    where = os.path.join(second_zip, *(MU + 'tools/sample.py').split('/'))
    assert second['file'] == where
    assert '  File "%s", line 7, in fail' % where in second['traceback']
    assert "    raise RuntimeError('the sample fails here')" in second['traceback']


def test_another_source_is_compiled_anew(tmp_path):
    cache = tmp_path / 'cache'
    run(payload(tmp_path / 'run1'), cache)
    changed = run(payload(tmp_path / 'run2', SAMPLE.replace('42', '43')), cache)
    assert changed['value'] == 43 and changed['compiled'] == ['tools/sample.py']
    assert len(entries(cache)) == 4


def _plant(cache, source, code_text, inner=MU + 'tools/sample.py'):
    """An entry for ``source`` that holds other code (what an attacker would write)."""
    key = bytecode_cache.cache_key(inner, zlib.crc32(source.encode()), len(source.encode()))
    code = compile(code_text, 'planted', 'exec')
    with open(str(cache / key.hex()), 'wb') as handle:
        handle.write(importlib.util.MAGIC_NUMBER + key + __import__('marshal').dumps(code))
    os.chmod(str(cache / key.hex()), 0o600)


class _Directoryless(object):
    """A zipimporter without the directory CPython's keeps (another Python's)."""

    def __init__(self, archive):
        self.archive = archive.archive
        self.get_data = archive.get_data


def test_a_zip_without_zipimports_directory_is_keyed_the_same(tmp_path):
    import zipimport
    archive = zipimport.zipimporter(payload(tmp_path / 'run'))
    inner = MU + 'tools/sample.py'
    expected = (zlib.crc32(SAMPLE.encode()), len(SAMPLE.encode()))
    assert bytecode_cache.stamp(archive, inner) == expected
    assert bytecode_cache.stamp(_Directoryless(archive), inner) == expected
    for each in (archive, _Directoryless(archive)):
        assert bytecode_cache.stamp(each, MU + 'tools/missing.py') is None


def _plant_loader(cache):
    """An entry for the finder's own module that runs more than it says."""
    with open(os.path.join(os.path.dirname(bytecode_cache.__file__), 'bytecode_loader.py')) as handle:
        source = handle.read()
    _plant(cache, source, source + '\nimport builtins\nbuiltins.VIRTKIT_PLANTED = "loader"\n',
           inner=MU + 'engine/bytecode_loader.py')


@pytest.mark.parametrize('mode, used', [(0o700, True), (0o770, False), (0o755, False)])
def test_the_finder_itself_is_run_from_the_cache_on_the_same_terms(tmp_path, mode, used):
    cache = tmp_path / 'cache'
    cache.mkdir()
    _plant_loader(cache)
    os.chmod(str(cache), mode)
    result = run(payload(tmp_path / 'run'), cache)
    assert result['value'] == 42 and result['finders'][0] == 'ZipFinder'
    assert result['planted'] == ('loader' if used else None)
    assert ('engine/bytecode_loader.py' in result['installing']) is not used


def test_a_private_cache_is_read(tmp_path):
    """The planting works when the directory is the user's own (the next tests rely on it)."""
    cache = tmp_path / 'cache'
    cache.mkdir(mode=0o700)
    _plant(cache, SAMPLE, SAMPLE + 'MARKER = "planted"\n')
    assert run(payload(tmp_path / 'run'), cache)['marker'] == 'planted'


@pytest.mark.parametrize('mode', [0o770, 0o707, 0o755])
def test_a_cache_others_can_write_or_read_is_never_read(tmp_path, mode):
    cache = tmp_path / 'cache'
    cache.mkdir()
    _plant(cache, SAMPLE, SAMPLE + 'MARKER = "planted"\n')
    os.chmod(str(cache), mode)
    result = run(payload(tmp_path / 'run'), cache)
    assert result['marker'] is None and result['value'] == 42


@pytest.mark.skipif(os.geteuid() != 0, reason='changing an owner needs root')
def test_a_cache_of_another_user_is_never_read(tmp_path):
    cache = tmp_path / 'cache'
    cache.mkdir(mode=0o700)
    _plant(cache, SAMPLE, SAMPLE + 'MARKER = "planted"\n')
    os.chown(str(cache), 65534, 65534)
    result = run(payload(tmp_path / 'run'), cache)
    assert result['marker'] is None and result['value'] == 42


def test_an_entry_others_can_write_is_never_read(tmp_path):
    cache = tmp_path / 'cache'
    cache.mkdir(mode=0o700)
    _plant(cache, SAMPLE, SAMPLE + 'MARKER = "planted"\n')
    for name in entries(cache):
        os.chmod(str(cache / name), 0o666)
    assert run(payload(tmp_path / 'run'), cache)['marker'] is None


def test_a_symlinked_cache_is_never_read(tmp_path):
    real = tmp_path / 'real'
    real.mkdir(mode=0o700)
    _plant(real, SAMPLE, SAMPLE + 'MARKER = "planted"\n')
    (tmp_path / 'cache').symlink_to(real)
    assert run(payload(tmp_path / 'run'), tmp_path / 'cache')['marker'] is None


@pytest.mark.parametrize('damage', [
    lambda data: data[:20],                       # cut short
    lambda data: data[:60] + b'\x00' * 10,        # not marshal data
    lambda data: b'\x00\x00\x00\x00' + data[4:],  # another bytecode version
])
def test_a_damaged_entry_is_compiled_anew(tmp_path, damage):
    cache = tmp_path / 'cache'
    run(payload(tmp_path / 'run1'), cache)
    for name in entries(cache):
        with open(str(cache / name), 'rb') as handle:
            data = handle.read()
        with open(str(cache / name), 'wb') as handle:
            handle.write(damage(data))
    result = run(payload(tmp_path / 'run2'), cache)
    assert result['value'] == 42 and sorted(result['compiled']) == ['tools/__init__.py', 'tools/sample.py']
    assert result['installing'].count('engine/bytecode_loader.py') == 3  # from the zip, and kept again


def test_off_or_no_bytecode_writes_nothing(tmp_path):
    cache = tmp_path / 'cache'
    off = run(payload(tmp_path / 'run1'), 'off')
    assert off['value'] == 42 and off['loader'] == 'ZipSourceLoader' and len(off['compiled']) == 2
    run(payload(tmp_path / 'run2'), cache, PYTHONDONTWRITEBYTECODE='1')
    assert entries(cache) == []


def test_a_module_process_spares_the_collector_what_lives_until_it_ends(tmp_path):
    result = run(payload(tmp_path / 'run'), tmp_path / 'cache')
    # What the process holds when the cache is imported is frozen at once (in a module: Ansible's
    # module_utils and the standard library; here the standard library).
    assert result['frozen'] > 1000
    # At exit, the rest too (the 1000 lists made at the end among them), so that shutting down walks none of it.
    assert result['frozen_at_exit'] >= result['frozen'] + 1000


def test_imported_from_files_it_installs_nothing():
    import gc
    frozen = gc.get_freeze_count()
    assert bytecode_cache.install() is None
    assert gc.get_freeze_count() == frozen  # the controller's or pytest's objects are never frozen
    assert not [f for f in sys.meta_path if type(f).__name__ == 'ZipFinder']


def test_a_full_cache_keeps_the_newest_half(tmp_path, monkeypatch):
    from ansible_collections.virtkit.virt.plugins.module_utils.engine import bytecode_loader
    monkeypatch.setattr(bytecode_loader, 'MAX_ENTRIES', 6)
    cache = bytecode_cache.BytecodeCache(str(tmp_path / 'cache'))
    keys = [bytecode_cache.cache_key('f.py', index, 1) for index in range(7)]
    for index, key in enumerate(keys):
        bytecode_loader.store(cache, key, compile('x = %d' % index, 'f', 'exec'))
        os.utime(os.path.join(str(tmp_path / 'cache'), key.hex()), (index, index))
    left = entries(tmp_path / 'cache')
    assert len(left) == 3 and keys[-1].hex() in left and keys[0].hex() not in left
    assert cache.load(keys[-1]) is not None and cache.load(keys[0]) is None


def test_every_module_file_imports_the_cache_before_other_module_utils():
    """A module that imports another module_utils file first compiles it (and
    what it imports) from the zip at every run: the cache must come first."""
    modules = os.path.join(os.path.dirname(bytecode_cache.__file__), '..', '..', 'modules')
    names = sorted(n for n in os.listdir(modules) if n.endswith('.py') and n != '__init__.py')
    assert names
    for name in names:
        with open(os.path.join(modules, name)) as handle:
            imports = [line for line in handle if line.startswith('from ansible_collections.virtkit.virt.')]
        assert imports and imports[0].startswith(
            'from ansible_collections.virtkit.virt.plugins.module_utils.engine import bytecode_cache'), name
