# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module runner: the one place for check mode, diff, result shape and errors.

A module file declares its options, calls ``run_module`` with a manager
class and returns the result it gets itself. A manager validates the
user's spec (before any connection is made), then plans against the current
state; the runner applies the plan unless in check mode, re-reads, and
reports. Typed errors become one ``msg`` naming the
resource and the action; tracebacks go to ``exception``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtkit.virt.plugins.module_utils.driver.connection import connect, connection_argument_spec
from ansible_collections.virtkit.virt.plugins.module_utils.engine.plan import Plan
from ansible_collections.virtkit.virt.plugins.module_utils.engine.validation import plain_name
from ansible_collections.virtkit.virt.plugins.module_utils.errors import NotFound, VirtError


class Manager:
    """Base for resource managers; subclasses set ``kind`` and ``result_key``."""

    kind = 'resource'
    result_key = 'resource'
    readonly = False
    default_uri = None
    reports_restart = True

    def __init__(self, params, check_mode=False):
        self.params = params
        self.check_mode = check_mode
        self.driver = None
        self.warnings = []
        # AnsibleModule.run_command, for the few managers that run a program
        # on the target host (run_module sets it).
        self.run_command = None

    @property
    def name(self):
        return self.params.get('name')

    def validate(self):
        """Check and normalise the user's spec; no connection exists yet."""

    def plan(self):
        """Compare desired with current; return a Plan (no side effects)."""
        return Plan(self.kind, self.name)

    def facts(self, plan):
        """The resource as it is now (after apply, or unchanged in check mode)."""
        raise NotImplementedError


class ListingManager(Manager):
    """Base for ``*_info`` modules: all objects of a kind, or one by ``name``
    (an unknown name gives an empty list, like an object that went away while
    being listed)."""

    readonly = True
    reports_restart = False

    def validate(self):
        if self.params.get('name') is not None:
            plain_name(self.params['name'], 'name')

    def names(self):
        raise NotImplementedError

    def describe(self, name):
        raise NotImplementedError

    def facts(self, plan):
        result = []
        for name in [self.name] if self.name else sorted(self.names()):
            try:
                result.append(self.describe(name))
            except NotFound:
                continue
        return result


def run_module(argument_spec, manager_class, **module_kwargs):
    """(module, result): the AnsibleModule for ``argument_spec`` (plus the
    connection options) and the manager's result, its warnings already
    given to the module. The module file returns the result itself (as a
    failure when ``result['failed']``): results never leave from here."""
    spec = connection_argument_spec()
    spec.update(argument_spec)
    module_kwargs.setdefault('supports_check_mode', True)
    module = AnsibleModule(argument_spec=spec, **module_kwargs)
    manager = manager_class(module.params, module.check_mode)
    manager.run_command = module.run_command
    result = execute(manager, module._diff)
    for warning in result.pop('warnings', []):
        module.warn(warning)
    return module, result


def execute(manager, want_diff=False):
    """Run a manager end to end; returns the result dict (no AnsibleModule needed)."""
    driver = None
    try:
        manager.validate()
        driver = connect(manager.params, readonly=manager.readonly, default_uri=manager.default_uri)
        manager.driver = driver
        plan = manager.plan()
        if not manager.check_mode:
            plan.apply()
        result = {'changed': plan.changed, 'actions': plan.action_names,
                  manager.result_key: manager.facts(plan)}
        if manager.reports_restart:
            result['restart_required'] = plan.restart_required
        if want_diff and plan.changed:
            result['diff'] = plan.diff()
        result['warnings'] = manager.warnings + plan.warnings
        return result
    except VirtError as exc:
        return {'failed': True, 'changed': False, 'msg': exc.describe(), 'error': exc.kind,
                'exception': traceback.format_exc()}
    except Exception as exc:  # a bug: say where, keep the traceback out of msg
        return {'failed': True, 'changed': False, 'error': 'internal',
                'msg': 'Unexpected error while managing %s %r: %s: %s'
                       % (manager.kind, manager.name, type(exc).__name__, exc),
                'exception': traceback.format_exc()}
    finally:
        if driver is not None:
            driver.close()
