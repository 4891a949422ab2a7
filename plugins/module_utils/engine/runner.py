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

A real run holds the objects' locks (engine/lock.py) from the plan to the
last action, so two tasks on one object take turns. A run that fails half
way says what it undid and what it left, and reports ``changed`` when
something stays; a run stopped by SIGTERM, SIGHUP or SIGINT undoes what it
can before it ends.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import signal
import traceback

try:
    from urllib.parse import unquote, urlparse
except ImportError:  # pragma: no cover - Python 2 is not supported, but sanity imports it
    from urllib import unquote
    from urlparse import urlparse

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtkit.virt.plugins.module_utils.driver.connection import (
    connect, connection_argument_spec, resolve_uri)
from ansible_collections.virtkit.virt.plugins.module_utils.engine.lock import object_locks
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
    # How the driver is opened: driver.jobs.connect_jobs for managers that run a
    # domain's jobs (their modules alone ship that part of the driver).
    connector = staticmethod(connect)

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

    def locked_objects(self):
        """[(kind, name)] a real run holds the locks of, from plan to apply."""
        return [(self.kind, self.name)]

    @staticmethod
    def secrets(params):
        """Secret values inside options that are not no_log as a whole (a
        password in a user's XML), from the params as Ansible handed them over."""
        return set()


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
    raw = _raw_params()
    # A password inside a URL (an import from https://user:password@host/...)
    # or inside a user's XML is as secret as a no_log option.
    hidden = url_passwords(raw) | manager_class.secrets(raw)
    shape = shape_problem(spec, raw)
    if shape:
        # ansible-core says "dictionary requested, could not parse JSON or
        # key=value" without naming the option: fail here, naming it, with a
        # module that checks nothing else (secrets still masked).
        module = _masking_module(hidden, argument_spec=_lenient(spec), supports_check_mode=True)
        module.no_log_values.update(_secrets(spec, module.params))
        module.fail_json(msg='Invalid %s: %s' % shape, error='invalid')
    module = _masking_module(hidden, argument_spec=spec, **module_kwargs)
    module.no_log_values.update(url_passwords(module.params))
    manager = manager_class(module.params, module.check_mode)
    manager.run_command = module.run_command
    result = execute(manager, module._diff)
    for warning in result.pop('warnings', []):
        module.warn(warning)
    return module, result


def _masking_module(hidden, **module_kwargs):
    """An AnsibleModule that masks ``hidden`` wherever Ansible shows a value:
    in every result (``-vvv`` prints the task's arguments) and in the
    invocation it logs on the target host (syslog, the journal), which
    AnsibleModule writes before its constructor returns."""
    class Module(AnsibleModule):
        def _log_invocation(self):
            self.no_log_values.update(hidden)
            super(Module, self)._log_invocation()

    module = Module(**module_kwargs)
    module.no_log_values.update(hidden)
    return module


def _raw_params():
    """The module's arguments as Ansible handed them over, before validation."""
    try:
        from ansible.module_utils.basic import _load_params
        return _load_params() or {}
    except Exception:  # another way of passing them: leave the checks to AnsibleModule
        return {}


def shape_problem(spec, params, path=''):
    """``(option, what is wrong)`` for the first value of a dict option (or a
    list of dicts) that is no dict and no string Ansible could read as one."""
    from ansible.module_utils.common.validation import check_type_dict
    for name, option in spec.items():
        value = params.get(name) if isinstance(params, dict) else None
        if value is None:
            continue
        field = '%s%s' % (path, name)
        kind, elements = option.get('type'), option.get('elements')
        items = None
        if kind == 'dict':
            items = [(field, value)]
        elif kind == 'list' and elements == 'dict':
            items = [('%s[%d]' % (field, i), v) for i, v in enumerate(value if isinstance(value, list) else [value])]
        for where, item in items or ():
            if isinstance(item, str):
                try:
                    item = check_type_dict(item)
                except (TypeError, ValueError):
                    return where, 'a dictionary is needed, not %r' % (item,)
            elif not isinstance(item, dict):
                return where, 'a dictionary is needed, not %s %r' % (type(item).__name__, item)
            if option.get('options'):
                found = shape_problem(option['options'], item, where + '.')
                if found:
                    return found
    return None


def _lenient(spec):
    """``spec`` with every type raw and nothing required: a module that only
    reports (the no_log values it cannot see in raw options: _secrets)."""
    return dict((name, {'type': 'raw', 'no_log': option.get('no_log', False)}) for name, option in spec.items())


def _secrets(spec, params):
    """The values of the no_log options anywhere in ``params``."""
    found = set()
    for name, option in spec.items():
        value = params.get(name) if isinstance(params, dict) else None
        if value is None:
            continue
        if option.get('no_log'):
            found.add(str(value))
        for item in value if isinstance(value, list) else [value]:
            if option.get('options') and isinstance(item, dict):
                found |= _secrets(option['options'], item)
    return found


def url_passwords(value):
    """The passwords of the URLs anywhere in ``value`` (params: dicts, lists, strings)."""
    found = set()
    if isinstance(value, dict):
        for item in value.values():
            found |= url_passwords(item)
    elif isinstance(value, list):
        for item in value:
            found |= url_passwords(item)
    elif isinstance(value, str) and '://' in value and '@' in value:
        try:
            password = urlparse(value).password
        except ValueError:
            password = None
        if password:
            found.add(password)
            found.add(unquote(password))
    return found


class Interrupted(BaseException):
    """The module got SIGTERM, SIGHUP or SIGINT while it applied a plan."""

    def __init__(self, signum):
        super(Interrupted, self).__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def _interruptible():
    """SIGTERM, SIGHUP and SIGINT raise Interrupted, so that a plan stopped
    half way undoes what it made (SIGKILL cannot be caught: the next run
    cleans up after it)."""
    def interrupt(signum, _frame):
        raise Interrupted(signum)
    previous = {}
    try:
        for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            previous[signum] = signal.signal(signum, interrupt)
    except ValueError:
        pass  # not the main thread: no signals here
    try:
        yield
    except KeyboardInterrupt:
        raise Interrupted(signal.SIGINT)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _changing(manager):
    """The objects' locks for a real run of a manager that changes things
    (none in check mode: a prediction waits for nobody)."""
    if manager.check_mode or manager.readonly:
        return object_locks(None, [])
    uri = resolve_uri(manager.params.get('uri') or manager.default_uri)
    return object_locks(uri, manager.locked_objects())


def execute(manager, want_diff=False):
    """Run a manager end to end; returns the result dict (no AnsibleModule needed)."""
    driver, plan, applied = None, None, False
    try:
        manager.validate()
        driver = manager.connector(manager.params, readonly=manager.readonly, default_uri=manager.default_uri)
        manager.driver = driver
        driver.remember()  # the plan reads each object once
        with _changing(manager):
            plan = manager.plan()
            if plan.changed and not manager.check_mode:
                driver.forget()  # what the plan read is about to change
                with _interruptible():
                    plan.apply()
        applied = True
        result = {'changed': plan.changed, 'actions': plan.action_names,
                  manager.result_key: manager.facts(plan)}
        if manager.reports_restart:
            result['restart_required'] = plan.restart_required
        if want_diff and plan.changed:
            result['diff'] = plan.diff()
        result['warnings'] = manager.warnings + plan.warnings
        return result
    except VirtError as exc:
        return _failure(manager, plan, applied, exc.describe(), exc.kind)
    except Interrupted as exc:
        return _failure(manager, plan, applied, 'Interrupted by signal %d while managing %s %r'
                        % (exc.signum, manager.kind, manager.name), 'interrupted')
    except Exception as exc:  # a bug: say where, keep the traceback out of msg
        return _failure(manager, plan, applied, 'Unexpected error while managing %s %r: %s: %s'
                        % (manager.kind, manager.name, type(exc).__name__, exc), 'internal')
    finally:
        if driver is not None:
            driver.close()


def _failure(manager, plan, applied, message, kind):
    """A failed result that says what the run did: a change applied before a
    later step failed (the wait for an IP address, an undo that failed) is a
    change, and the message names what was undone and what stays."""
    outcome = plan.outcome if plan is not None else None
    if applied and outcome.done:
        message += ' (done before it: %s)' % ', '.join(outcome.done)
        changed, actions = True, list(outcome.done)
    elif outcome is not None and outcome.failed:
        said = outcome.describe()
        message += ' (%s)' % said if said else ''
        changed, actions = bool(outcome.left), list(outcome.left)
    else:
        changed, actions = False, []
    result = {'failed': True, 'changed': changed, 'msg': message, 'error': kind,
              'exception': traceback.format_exc()}
    if changed:
        result['actions'] = actions
    result['warnings'] = list(manager.warnings) + (plan.warnings if plan is not None else [])
    return result
