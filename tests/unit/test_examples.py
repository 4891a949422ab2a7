"""Every task of every module's EXAMPLES, and every task of a module in the
guides' YAML blocks (README.md, docs/*.md), is a valid task of that module
today; every use of a role in the guides passes the role's argument spec.

``ansible-doc`` shows the examples as they are written, and sanity's
validate-modules checks the option documentation against the argument spec,
but not the examples: an option renamed, a choice dropped or a check added
to the spec would leave an example that fails. Each example task's arguments
go through what a run does before it connects: ansible-core's validation of
the module's own argument spec (with the connection options and the
module's mutually_exclusive and the like), then the manager's ``validate()``
(the spec checks that name the field). Most examples also run against the
real daemon (tests/integration/test_examples_run.py); the others' options
run in the integration targets.

An example's Jinja expressions (``"{{ vnc_password }}"``) are replaced by
what they stand for (STAND_INS), and the container examples' directories
are made under a temporary folder, so that the checks that look at the
target host (a rootfs is a directory, an init is in it, the idmap's host
IDs can enter it) see them.
"""
import importlib
import os
import re
import shutil
import tempfile

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.virtkit.virt.plugins.module_utils.driver.connection import connection_argument_spec
from ansible_collections.virtkit.virt.tests.module_docs import PUBLIC_KEY, module_doc, with_strings

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES = os.path.join(ROOT, 'plugins', 'modules')
PREFIX = 'ansible_collections.virtkit.virt.plugins.modules.'

# What the variables and lookups of the examples would give.
STAND_INS = {
    'ansible_date_time.date': '2026-12-02',
    'vnc_password': 'vnc-pw',
    'vault_hv2_password': 'a-vaulted-password',
    "lookup('file', '~/.ssh/id_ed25519.pub')": PUBLIC_KEY,
    "lookup('ansible.builtin.file', '~/.ssh/id_ed25519.pub')": PUBLIC_KEY,
    'key': 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA tester@example',  # docs/roles.md, the role's fast test
    # the user guide's nightly backup, on a weekday
    "'full-' if ansible_date_time.weekday == 'Sunday' else 'inc-'": 'inc-',
    "'full' if ansible_date_time.weekday == 'Sunday' else 'incremental'": 'incremental',
    "lookup('file', 'legacy.xml')": "<domain type='kvm'><name>legacy</name><memory unit='MiB'>512</memory>"
                                    "<os><type arch='x86_64'>hvm</type></os></domain>",
}
# The directories and files the container examples presuppose on the host
# (under /srv there, under a temporary folder here): directory -> owner's UID.
CONTAINER_HOST = {'srv/containers': 0, 'srv/containers/web1/sbin': 0, 'srv/containers/busybox/bin': 0,
                  'srv/containers/unpriv1/sbin': 100000, 'srv/shared/config': 0}
CONTAINER_FILES = ('srv/containers/web1/sbin/init', 'srv/containers/busybox/bin/sh',
                   'srv/containers/unpriv1/sbin/init')


class _Captured(Exception):
    """main() got as far as run_module: what it would run with."""

    def __init__(self, argument_spec, manager_class, kwargs):
        super(_Captured, self).__init__('captured')
        self.argument_spec, self.manager_class, self.kwargs = argument_spec, manager_class, kwargs


def _examples(name):
    return module_doc(name, 'EXAMPLES')


def _untemplated(value, root, stand_ins):
    """``value`` with its expressions replaced and /srv/ paths moved under ``root``."""
    def stand_in(match):
        expression = match.group(1).strip()
        assert expression in stand_ins, 'an example uses {{ %s }}: add what it stands for to STAND_INS' % expression
        return stand_ins[expression]

    def untemplated(text):
        text = re.sub(r'{{(.*?)}}', stand_in, text)
        return os.path.join(root, text[1:]) if text.startswith('/srv/') else text
    return with_strings(value, untemplated)


@pytest.fixture(scope='module')
def host_root():
    """A folder holding what the container examples expect under /srv; open
    to the idmap example's host UID, as /srv is."""
    root = tempfile.mkdtemp(prefix='virtkit-examples-')
    try:
        os.chmod(root, 0o755)
        for path, uid in sorted(CONTAINER_HOST.items()):
            os.makedirs(os.path.join(root, path))
            if uid and os.geteuid() == 0:  # else the idmap example is skipped
                top = os.path.join(root, path.rsplit('/', 1)[0])
                for folder in (top, os.path.join(root, path)):
                    os.chown(folder, uid, uid)
        for path in CONTAINER_FILES:
            with open(os.path.join(root, path), 'w'):
                pass
        yield root
    finally:
        shutil.rmtree(root)


def _module_names():
    return sorted(f[:-3] for f in os.listdir(MODULES) if f.endswith('.py') and f != '__init__.py')


def _cases():
    cases = []
    for name in _module_names():
        for index, task in enumerate(_examples(name)):
            if 'virtkit.virt.' + name in task:  # not the debug tasks that show a result
                cases.append(pytest.param(name, index, task, id='%s[%d]' % (name, index)))
    return cases


class _Loader(yaml.SafeLoader):
    """Reads a guide's vaulted values (``!vault |``) as the strings they are written as."""


_Loader.add_constructor('!vault', lambda loader, node: loader.construct_scalar(node))


def _tasks_in(value, modules):
    """(module, task) for each task below ``value`` (plays, blocks, tasks) that calls one of ``modules``."""
    if isinstance(value, list):
        for item in value:
            yield from _tasks_in(item, modules)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key.startswith('virtkit.virt.') and key[len('virtkit.virt.'):] in modules:
                yield key[len('virtkit.virt.'):], value
            else:
                yield from _tasks_in(item, modules)


def _guide_blocks():
    """(guide, the YAML of a block) of README.md and docs/*.md."""
    guides = ['README.md'] + sorted(os.path.join('docs', f) for f in os.listdir(os.path.join(ROOT, 'docs'))
                                    if f.endswith('.md'))
    for guide in guides:
        with open(os.path.join(ROOT, guide)) as handle:
            for block in re.findall(r'```ya?ml\n(.*?)```', handle.read(), re.S):
                yield guide, yaml.load(block, Loader=_Loader)


def _guide_cases():
    modules = set(_module_names())
    cases, counts = [], {}
    for guide, block in _guide_blocks():
        for name, task in _tasks_in(block, modules):
            count = counts[guide] = counts.get(guide, -1) + 1
            cases.append(pytest.param(name, count, task, id='%s:%s[%d]' % (guide, name, count)))
    return cases


def _role_uses(value):
    """(role, its vars) below ``value``: ``- role: virtkit.virt.X`` with ``vars``,
    and a block of the guest role's own variables (``virt_guests:``)."""
    if isinstance(value, list):
        for item in value:
            yield from _role_uses(item)
    elif isinstance(value, dict):
        if str(value.get('role', '')).startswith('virtkit.virt.'):
            yield value['role'][len('virtkit.virt.'):], value.get('vars') or {}
        elif 'virt_guests' in value and 'hosts' not in value:
            yield 'guest', value
        else:
            for item in value.values():
                yield from _role_uses(item)


def _role_cases():
    cases, counts = [], {}
    for guide, block in _guide_blocks():
        for role, variables in _role_uses(block):
            count = counts[guide] = counts.get(guide, -1) + 1
            cases.append(pytest.param(role, variables, id='%s:%s[%d]' % (guide, role, count)))
    return cases


def _what_main_runs(name, monkeypatch):
    module = importlib.import_module(PREFIX + name)

    def capture(argument_spec, manager_class, **kwargs):
        raise _Captured(argument_spec, manager_class, kwargs)
    monkeypatch.setattr(module, 'run_module', capture)
    with pytest.raises(_Captured) as captured:
        module.main()
    return captured.value


@pytest.mark.parametrize('name, index, task', _cases() + _guide_cases())
def test_an_example_task_passes_the_module_checks(name, index, task, monkeypatch, host_root):
    if 'idmap' in (task['virtkit.virt.' + name] or {}) and os.geteuid() != 0:
        pytest.skip('the idmap example needs a rootfs owned by its host UID: run as root')
    run = _what_main_runs(name, monkeypatch)
    for item in task.get('loop') or [None]:  # {{ item }}: each of the loop's items
        stand_ins = dict(STAND_INS, item=item) if item is not None else STAND_INS
        _check(name, index, task, _untemplated(task['virtkit.virt.' + name] or {}, host_root, stand_ins), run)


def _check(name, index, task, args, run):
    spec = connection_argument_spec()
    spec.update(run.argument_spec)
    kwargs = dict((key, value) for key, value in run.kwargs.items() if key != 'supports_check_mode')
    result = ArgumentSpecValidator(spec, **kwargs).validate(args)
    assert not result.error_messages, '%s example %d (%r): %s' % (
        name, index, task.get('name'), result.error_messages)
    manager = run.manager_class(result.validated_parameters, check_mode=True)
    manager.validate()  # raises InvalidSpec naming the field


@pytest.mark.parametrize('role, variables', _role_cases())
def test_a_role_in_the_guides_passes_its_argument_spec(role, variables):
    """What ansible-core checks when the role starts (its meta/argument_specs.yml)."""
    with open(os.path.join(ROOT, 'roles', role, 'meta', 'argument_specs.yml')) as handle:
        spec = yaml.safe_load(handle)['argument_specs']['main']['options']
    given = _untemplated(variables, '/', STAND_INS)
    unknown = sorted(set(given) - set(spec))
    assert not unknown, 'variables that are no option of the %s role: %s' % (role, unknown)
    result = ArgumentSpecValidator(spec).validate(given)
    assert not result.error_messages, result.error_messages


def test_every_module_has_examples_that_are_checked():
    names = set(case.values[0] for case in _cases())
    modules = set(_module_names())
    assert names == modules and len(_cases()) >= 2 * len(modules)
    assert len(_guide_cases()) >= 20  # the user guide's tasks are found
    assert sorted(set(case.values[0] for case in _role_cases())) == ['guest', 'hypervisor']
    for name in modules:  # none calls a module by its short name, which the check above would miss
        assert all(key.startswith(('virtkit.virt.', 'ansible.builtin.')) or key in ('name', 'register', 'loop',
                                                                                    'when', 'vars', 'delegate_to')
                   for task in _examples(name) for key in task), name
