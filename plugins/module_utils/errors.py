# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed errors of the driver layer.

Everything below the module runner raises one of these; the runner (or the
plugin flavour of the client) turns them into a single user-facing message.
Keeping the type tells the user *what kind* of thing went wrong without
parsing strings.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class VirtError(Exception):
    """Base class: carries the resource and action a message should name."""

    kind = 'error'

    def __init__(self, message, resource=None, action=None):
        super(VirtError, self).__init__(message)
        self.message = message
        self.resource = resource
        self.action = action

    def __str__(self):
        return self.message

    def describe(self):
        """The one-line message a user sees."""
        if self.action and self.resource:
            return 'Failed to %s %s: %s' % (self.action, self.resource, self.message)
        if self.action:
            return 'Failed to %s: %s' % (self.action, self.message)
        return self.message


class InvalidSpec(VirtError):
    """User input is wrong; raised before anything is touched."""

    kind = 'invalid'

    def __init__(self, field, message):
        super(InvalidSpec, self).__init__('%s: %s' % (field, message), action='validate')
        self.field = field
        self.detail = message

    def describe(self):
        return 'Invalid %s: %s' % (self.field, self.detail)


class NotFound(VirtError):
    kind = 'not found'


def or_none(read, *args):
    """``read(*args)``, or None where what it reads is not there (NotFound)."""
    try:
        return read(*args)
    except NotFound:
        return None


class Conflict(VirtError):
    """The request contradicts the current state (in use, exists, ...)."""

    kind = 'conflict'


class MissingLibrary(VirtError):
    """A Python library the target host needs is not installed there."""

    kind = 'missing library'


class ConnectionFailed(VirtError):
    kind = 'connection'


class DriverError(VirtError):
    """libvirt refused an operation."""

    kind = 'driver'


class Timeout(VirtError):
    """Something the task waits for did not happen in time."""

    kind = 'timeout'
