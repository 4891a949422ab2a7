"""A module's documentation block (DOCUMENTATION, EXAMPLES or RETURN) as
YAML, read from its source file without importing the module: for the unit
test of the examples, the examples run against the daemon and the
integration harness's check of what modules return; and what the tests of
the examples share in reading them."""
import ast
import os

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# What the examples' lookups of ~/.ssh/id_ed25519.pub stand for in the tests.
PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA admin@example'


def module_doc(name, block):
    path = os.path.join(ROOT, 'plugins', 'modules', name + '.py')
    with open(path) as handle:
        tree = ast.parse(handle.read(), path)
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', None) == block:
            return yaml.safe_load(node.value.value)
    raise AssertionError('%s has no %s' % (name, block))


def with_strings(value, change):
    """``value`` (an example's option: dicts, lists, scalars) with ``change``
    applied to each string in it."""
    if isinstance(value, dict):
        return dict((key, with_strings(item, change)) for key, item in value.items())
    if isinstance(value, list):
        return [with_strings(item, change) for item in value]
    return change(value) if isinstance(value, str) else value
