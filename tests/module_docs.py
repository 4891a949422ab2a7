"""A module's documentation block (DOCUMENTATION, EXAMPLES or RETURN) as
YAML, read from its source file without importing the module: for the unit
test of the examples and the integration harness's check of what modules
return."""
import ast
import os

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def module_doc(name, block):
    path = os.path.join(ROOT, 'plugins', 'modules', name + '.py')
    with open(path) as handle:
        tree = ast.parse(handle.read(), path)
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', None) == block:
            return yaml.safe_load(node.value.value)
    raise AssertionError('%s has no %s' % (name, block))
