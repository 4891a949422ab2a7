# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The diff/plan engine.

Desired state holds only what the user said; current state is everything
libvirt reports. Comparing only the keys the user named is what makes values
libvirt fills in (UUIDs, MACs, PCI addresses, ...) never count as a change.
``changed``, the diff and the actions all come from one Plan, so check mode
and a real run cannot disagree.

A plan of several steps that fails half way must not leave half a thing
behind and call it no change: each step may say how it is undone, and when
a later one fails, the steps done before it are undone, newest first. What
cannot be undone stays, and the result says so (and reports a change).
An undo says what of its step stays by returning ``Kept``; whatever else it
returns (a driver call's answer: the name of the domain it redefined, say)
counts as undone.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtkit.virt.plugins.module_utils.errors import VirtError


class Change:
    __slots__ = ('path', 'before', 'after')

    def __init__(self, path, before, after):
        self.path, self.before, self.after = path, before, after

    def __repr__(self):
        return 'Change(%r, %r, %r)' % (self.path, self.before, self.after)

    def __eq__(self, other):
        return isinstance(other, Change) and (self.path, self.before, self.after) == (other.path, other.before, other.after)


def _join(path, key):
    if isinstance(key, int):
        return '%s[%d]' % (path, key)
    return '%s.%s' % (path, key) if path else str(key)


def diff_specified(desired, current, path='', strict=False):
    """Changes that make ``current`` agree with ``desired`` where ``desired`` speaks.

    Dicts: only keys present in ``desired``; a ``None`` value means "not
    specified" unless ``strict`` (a whole XML document: what it leaves out is
    wanted absent). Lists: the same length and element by element, so lists
    whose order carries no meaning must be sorted by the caller first.
    """
    if isinstance(desired, dict):
        if not isinstance(current, dict):
            return [Change(path, current, desired)]
        changes = []
        for key in desired:
            if desired[key] is None and not strict:
                continue
            changes.extend(diff_specified(desired[key], current.get(key), _join(path, key), strict))
        return changes
    if isinstance(desired, list):
        if not isinstance(current, list) or len(current) != len(desired):
            return [Change(path, current, desired)]
        changes = []
        for index, (want, have) in enumerate(zip(desired, current)):
            changes.extend(diff_specified(want, have, _join(path, index), strict))
        return changes
    if desired != current:
        return [Change(path, current, desired)]
    return []


def restrict(current, desired):
    """``current`` cut down to the shape of ``desired`` (the diff's *before*)."""
    if isinstance(desired, dict) and isinstance(current, dict):
        return {k: restrict(current.get(k), v) for k, v in desired.items() if v is not None and k in current}
    if isinstance(desired, list) and isinstance(current, list) and len(desired) == len(current):
        return [restrict(c, d) for c, d in zip(current, desired)]
    return current


def prune(value):
    """Drop ``None`` values so a diff shows only what was specified."""
    if isinstance(value, dict):
        return {k: prune(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [prune(v) for v in value]
    return value


class Kept(str):
    """What an undo left of its step, in words (``return Kept('its directory
    /srv/p stays')``): the one answer of an undo that is not "undone"."""


class Action:
    __slots__ = ('name', 'run', 'undo')

    def __init__(self, name, run, undo=None):
        self.name, self.run, self.undo = name, run, undo


class Outcome:
    """What a plan did: ``done`` (action names, in order), and after a failure
    ``undone`` (newest first) and ``left`` (done and still there)."""

    def __init__(self):
        self.done, self.undone, self.left = [], [], []
        self.failed = False

    def describe(self):
        """The words a failure message ends with, or ''."""
        parts = []
        if self.undone:
            parts.append('undone: %s' % ', '.join(self.undone))
        if self.left:
            parts.append('done before it and left as it is: %s' % ', '.join(self.left))
        return '; '.join(parts)


class Plan:
    """Ordered actions for one resource, plus what the user must be told."""

    def __init__(self, kind, name):
        self.kind = kind
        self.name = name
        self.changes = []
        self.actions = []
        self.warnings = []
        self.restart_required = False
        self.before = {}
        self.after = {}
        self.outcome = Outcome()

    def add(self, name, run, undo=None):
        """``undo``: how to take the action back should a later one fail
        (None: it stays). It may return ``Kept`` saying what of it stays."""
        self.actions.append(Action(name, run, undo))

    @property
    def changed(self):
        return bool(self.actions)

    @property
    def action_names(self):
        return [action.name for action in self.actions]

    def diff(self):
        return {'before': self.before, 'after': self.after,
                'before_header': '%s %s' % (self.kind, self.name),
                'after_header': '%s %s' % (self.kind, self.name)}

    def apply(self):
        """Run the actions in order; when one fails (or the run is
        interrupted), undo what the earlier ones made and re-raise."""
        outcome, done = self.outcome, []
        for action in self.actions:
            try:
                action.run()
            except BaseException as exc:
                outcome.failed = True
                # What the failing step itself could not clean up (its error says so).
                outcome.left.extend(getattr(exc, 'left', None) or [])
                self._roll_back(done)
                if isinstance(exc, VirtError):
                    if not exc.resource:
                        exc.resource = '%s %r' % (self.kind, self.name)
                    exc.action = action.name if not exc.action else exc.action
                raise
            done.append(action)
            outcome.done.append(action.name)

    def _roll_back(self, done):
        outcome = self.outcome
        for action in reversed(done):
            if action.undo is None:
                outcome.left.insert(0, action.name)
                continue
            try:
                kept = action.undo()
                if isinstance(kept, Kept) and kept:
                    outcome.left.insert(0, '%s (%s)' % (action.name, kept))
                else:
                    outcome.undone.append(action.name)
            except Exception as exc:  # the first failure is what the user must see; this one is said beside it
                detail = exc.describe() if isinstance(exc, VirtError) else '%s: %s' % (type(exc).__name__, exc)
                outcome.left.insert(0, '%s (undoing it failed: %s)' % (action.name, detail))
