"""A task imports only what its options reach.

Each case runs a module's main() end to end against libvirt's test driver
in a fresh interpreter and lists what got imported. What a task does not use
- URL downloads (ansible's urls with cryptography), seed images (pycdlib),
uuid (a transient pool's name is random bytes), a user's XML, the host's
capabilities, the volume manager of a domain without new disks - must not
be imported: every file imported is compiled anew on
each run of an AnsiballZ module. The lazy paths themselves are exercised by
the tests of what they do (and by the integration targets, in AnsiballZ).
"""
import json
import os
import subprocess
import sys

import pytest

pytest.importorskip('libvirt')

MU = 'ansible_collections.virtkit.virt.plugins.module_utils.'
NEVER = ('ansible.module_utils.urls', 'pycdlib', 'cryptography', 'libvirt_lxc', 'uuid')

RUN = r'''
import json, sys
from ansible.module_utils import basic
basic._ANSIBLE_ARGS = json.dumps({'ANSIBLE_MODULE_ARGS': json.loads(sys.argv[2])}).encode()
basic._ANSIBLE_PROFILE = 'legacy'
import importlib
module = importlib.import_module('ansible_collections.virtkit.virt.plugins.modules.' + sys.argv[1])
stdout = sys.stdout
sys.stdout = sys.stderr
try:
    module.main()
except SystemExit:
    pass
stdout.write(json.dumps(sorted(sys.modules)))
'''


def imported(module, args):
    env = dict(os.environ, PYTHONPATH=os.environ['VIRTKIT_COLLECTIONS_PATH'])
    proc = subprocess.run([sys.executable, '-c', RUN, module, json.dumps(args)], env=env, capture_output=True,
                          text=True, check=True)
    assert '"failed": true' not in proc.stderr, proc.stderr
    return set(json.loads(proc.stdout))


@pytest.mark.parametrize('module, args, unused', [
    ('domain', {'name': 'test', 'uri': 'test:///default', 'state': 'running', 'memory': '8G', 'vcpus': 2},
     ['xmlmodel.user_xml', 'xmlmodel.host', 'host.facts', 'storage.volume_manager', 'storage.volume_import',
      'storage.cloud_init', 'driver.parallel', 'driver.jobs', 'driver.libvirt_jobs']),
    ('domain_info', {'uri': 'test:///default'}, ['xmlmodel.user_xml', 'storage.volume_manager', 'driver.parallel']),
    ('network', {'name': 'vk-lazy', 'uri': 'test:///default', 'state': 'absent'},
     ['xmlmodel.domain', 'driver.parallel']),
    ('volume', {'name': 'vk-lazy.img', 'pool': 'default-pool', 'uri': 'test:///default', 'capacity': '1M'},
     ['storage.volume_import', 'driver.parallel']),
])
def test_a_task_imports_only_what_it_uses(module, args, unused):
    loaded = imported(module, args)
    assert MU + 'engine.runner' in loaded  # it did run
    assert not [name for name in loaded if name.split('.')[0] in NEVER or name in NEVER]
    assert not [name for name in unused if MU + name in loaded]


def test_the_lazy_paths_import_what_they_need():
    patches = [{'xpath': '/domain/on_crash', 'value': 'restart'}]
    loaded = imported('domain', {'name': 'test', 'uri': 'test:///default', 'xml_patches': patches})
    assert MU + 'xmlmodel.user_xml' in loaded


# Imported only by the lazy paths that use their patterns (a user's XML).
COMPILES_AT_IMPORT = ('xmlmodel/user_xml.py',)


def _compiles_run_at_import(node):
    """Lines of the re.compile() calls that run when the module is imported:
    not inside a function or lambda, which runs only when called."""
    import ast
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        return []
    lines = []
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == 'compile'
            and getattr(node.func.value, 'id', None) == 're'):
        lines.append(node.lineno)
    for child in ast.iter_child_nodes(node):
        lines.extend(_compiles_run_at_import(child))
    return lines


def test_no_module_utils_file_compiles_a_regex_at_import():
    """A pattern at module level is a string (re compiles and caches it when a
    task first uses it), not re.compile(): every task imports these files anew."""
    import ast
    root = os.path.join(os.environ['VIRTKIT_COLLECTIONS_PATH'], 'ansible_collections', 'virtkit', 'virt',
                        'plugins', 'module_utils')
    found = []
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, root).replace(os.sep, '/')
            if not name.endswith('.py') or relative in COMPILES_AT_IMPORT:
                continue
            with open(path) as handle:
                tree = ast.parse(handle.read())
            found.extend('%s:%d' % (relative, line) for line in _compiles_run_at_import(tree))
    assert not found
