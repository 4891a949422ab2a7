# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  uri:
    description:
      - The libvirt connection URI, for example V(qemu:///system), V(qemu+ssh://root@hv1/system),
        V(lxc:///), V(esx://esx1.example.com/), V(vpx://vcenter.example.com/DC1/esx1.example.com?no_verify=1)
        or V(test:///default).
      - When not set, the environment variable E(LIBVIRT_DEFAULT_URI) of the target host is used,
        else V(qemu:///system).
      - Set it once for many tasks with C(module_defaults) and the C(group/virtkit.virt.virt) action group.
    type: str
  auth:
    description:
      - Credentials for drivers that ask for them (V(esx://), V(vpx://), V(hyperv://), V(qemu+tcp://) with SASL,
        ...), passed through libvirt's C(openAuth).
      - Without it, such drivers read a libvirt auth file (E(LIBVIRT_AUTH_FILE), C(~/.config/libvirt/auth.conf) or
        C(/etc/libvirt/auth.conf)) on the host the module runs on.
      - Leave unset to use the default authentication of the URI (unix socket permissions, SSH keys, ...).
    type: dict
    suboptions:
      username:
        description: The user name libvirt asks for.
        type: str
      password:
        description: The password or passphrase libvirt asks for. Never logged.
        type: str
requirements:
  - libvirt-python (on the target host)
  - lxml (on the target host)
'''
