# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # Options of virtkit.virt.domain and virtkit.virt.container that mean the same for both
    # (their argument spec is plugins/module_utils/domain/guest_args.py). "Guest" is a domain or a container.
    # Shared options whose text differs between the two (name, state, interfaces, xml, shutdown_timeout,
    # force, wait_for_ip) are documented in each module.
    DOCUMENTATION = r'''
options:
  autostart:
    description: Start the guest when the libvirt daemon starts. Left as it is when not set.
    type: bool
  tags:
    description:
      - Tags kept in the guest's C(<metadata>) under the collection's XML namespace; the inventory turns them into
        groups. Values are strings. The whole set is replaced; V({}) removes all tags.
    type: dict
  xml_patches:
    description:
      - XPath edits applied on top of the generated XML (or of O(xml)), for what the options do not cover.
      - C({xpath, value}) sets the text of the matched elements, C({xpath, attribute, value}) an attribute,
        C({xpath, remove - true}) removes them, C({xpath, xml}) appends the element in O(xml_patches[].xml) unless an
        equal one is there.
      - A plain path of elements (V(/domain/clock), V(/domain/devices/controller[@type='usb'])) that matches nothing
        is created. Any other XPath that matches nothing fails, naming the patch - except a removal on an existing
        domain, which is already done.
      - The result is defined with libvirt's schema validation, so an element or attribute libvirt does not know
        fails, naming the patch, before anything is defined. A patch whose result libvirt does not keep as written
        (a value it rewrites or ignores) fails after the define, which is taken back - never a change reported on
        every run.
      - A running guest takes what the patches change at its next restart; until then every run reports
        RV(restart_required) (unchanged), and O(restart=true) restarts it. The diff shows what each patch reaches
        before and after (display passwords hidden).
      - A C(<memory>) patched below the guest's memory brings the memory down with it, as libvirt does, and the diff
        shows that too; below the O(memory) the task gives, it fails naming the patches.
    type: list
    elements: dict
    suboptions:
      xpath:
        description: XPath from the C(<domain>) root, for example V(/domain/on_reboot).
        type: str
        required: true
      value:
        description: Text or attribute value to set.
        type: raw
      attribute:
        description: Set this attribute instead of the text.
        type: str
      remove:
        description: Remove the matched elements.
        type: bool
      xml:
        description: An XML element to append to each matched element.
        type: str
  live:
    description:
      - Apply what can change live to a running guest as well as to its persistent definition. With V(false),
        changes go to the persistent definition only and RV(restart_required) says so.
    type: bool
    default: true
  restart:
    description: When a change needs a restart of a running guest, shut it down gracefully and start it again now.
    type: bool
    default: false
'''
