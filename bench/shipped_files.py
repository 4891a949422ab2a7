"""The module_utils files AnsiballZ ships with each module (not a test).

Builds each module's payload the way ansible-core does (its recursive_finder,
which follows every import of the module and of each file it ships, and adds
the package ``__init__.py`` files on the way) and lists the collection's
module_utils files in it, with their count and size, and every file of the
payload (ansible's own module_utils too: basic.py, and urls.py when a file
imports it, even inside a function):

    python3 bench/shipped_files.py [--list] [--json]

It needs ansible-core on the Python that runs it; the tree is made
importable as ansible_collections/virtkit/virt through a link farm in a
temporary folder, as tests/conftest.py does.
"""
import argparse
import datetime
import io
import json
import os
import sys
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PREFIX = 'ansible_collections/virtkit/virt/plugins/module_utils/'


def shipped(base, everything=False):
    """{module: [(module_utils path, bytes)]} (with ``everything``: every
    file of the payload, by its path in the zip); ``base``: an empty folder
    for the link farm."""
    os.makedirs(os.path.join(base, 'ansible_collections', 'virtkit'))
    os.symlink(ROOT, os.path.join(base, 'ansible_collections', 'virtkit', 'virt'))
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder
    _AnsibleCollectionFinder(paths=[base])._install()
    from ansible.executor.module_common import recursive_finder
    from ansible._internal._ansiballz import _builder  # ansible-core 2.19
    extensions = _builder.ExtensionManager.create(task_vars={})
    modules_dir = os.path.join(ROOT, 'plugins', 'modules')
    result = {}
    for filename in sorted(os.listdir(modules_dir)):
        if not filename.endswith('.py') or filename == '__init__.py':
            continue
        name = filename[:-3]
        with open(os.path.join(modules_dir, filename), 'rb') as handle:
            source = handle.read()
        payload = io.BytesIO()
        with zipfile.ZipFile(payload, 'w') as zf:
            recursive_finder(name, 'ansible_collections.virtkit.virt.plugins.modules.' + name, source, zf,
                             datetime.datetime(2020, 1, 1), extensions)
            if everything:
                result[name] = sorted((info.filename, info.file_size) for info in zf.infolist())
            else:
                result[name] = sorted((info.filename[len(PREFIX):], info.file_size) for info in zf.infolist()
                                      if info.filename.startswith(PREFIX))
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--list', action='store_true', help='name every file')
    parser.add_argument('--json', action='store_true', help='the whole listing as JSON')
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix='virtkit-shipped-') as base:
        result = shipped(base, everything=True)
    ours = dict((name, [(path[len(PREFIX):], size) for path, size in files if path.startswith(PREFIX)])
                for name, files in result.items())
    if args.json:
        json.dump({'module_utils': ours, 'payload': result}, sys.stdout, indent=1)
        print()
        return
    print('%-13s %5s %6s %8s | %s' % ('module', 'files', 'inits', 'bytes', 'whole payload: files, bytes'))
    for name, files in ours.items():
        inits = sum(1 for path, _size in files if path.endswith('__init__.py'))
        print('%-13s %5d %6d %8d | %5d %8d' % (name, len(files) - inits, inits, sum(size for _path, size in files),
                                               len(result[name]), sum(size for _path, size in result[name])))
        if args.list:
            for path, size in files:
                print('    %-40s %7d' % (path, size))


if __name__ == '__main__':
    main()
