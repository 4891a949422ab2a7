# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # Modules that change something (virtkit.virt.attributes). A module whose check or diff
    # mode says more overrides only that attribute's description; the support stays as here.
    DOCUMENTATION = r'''
attributes:
  check_mode:
    support: full
    description: Check mode reports exactly the actions a real run would take.
  diff_mode:
    support: full
    description: The diff shows the specified fields before and after, plus state and autostart.
'''

    # The *_info modules, which only read (virtkit.virt.attributes.info_module).
    INFO_MODULE = r'''
attributes:
  check_mode:
    support: full
    description: The module only reads, so check mode returns the same facts.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
'''
