"""The virtkit.virt.guest role for real: two guests from the bed's Debian 12
image (both booting the image's disk, one with UEFI, one with a BIOS), side
by side, each seeded by cloud-init with a user, an SSH key, its host key and a
runcmd marker; the play after the role configures them over SSH through the
in-memory inventory the role added. Check mode predicts each run task by task
(first run, second run, removal); the second run and a second removal change
nothing; `state: absent` removes the guests with their disks, seeds and NVRAM,
and the base image stays.

Host keys: each guest's seed carries its own; known_hosts names both for the
test network's addresses (OpenSSH accepts a host key that any matching line
has), StrictHostKeyChecking=yes.
"""
import json
import os
import shutil
import sys

import pytest

from guest_plays import REMOVE, changes, step_runner
from harness import free_subnet, prediction_mismatches, unique_prefix
from real_guest import BOOT_TIMEOUT, GUEST_PYTHON, SETUP, debian_facts, make_keys, ssh_args, user_data, virsh

PROVISION = """
- name: The guests
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Two guests from the image
      ansible.builtin.include_role:
        name: virtkit.virt.guest

- name: Configure them over SSH, through the in-memory inventory the role added
  hosts: virt_guests
  gather_facts: false
  tasks:
    - name: Reachable over SSH
      ansible.builtin.wait_for_connection:
        timeout: {boot_timeout}

    - name: cloud-init has finished
      ansible.builtin.command: cloud-init status --wait
      changed_when: false
      check_mode: false

    - name: A file Ansible manages
      ansible.builtin.copy:
        dest: /etc/motd
        content: "Configured by Ansible for {{{{ inventory_hostname }}}} (run {{{{ vk_prefix }}}})\\n"
        mode: "0644"
      become: true

    - name: Facts of the guest
      ansible.builtin.setup:
        gather_subset: [min]

    - name: The runcmd marker
      ansible.builtin.slurp:
        src: /var/tmp/virtkit-runcmd
      register: vk_marker

    - name: What the guest says, for the test
      ansible.builtin.copy:
        content: >-
          {{{{ {{'hostname': ansible_facts.hostname, 'user': ansible_facts.user_id,
                'distribution': ansible_facts.distribution ~ ' ' ~ ansible_facts.distribution_major_version,
                'marker': vk_marker.content | b64decode | trim, 'ansible_host': ansible_host}} | to_nice_json }}}}
        dest: "{{{{ vk_tmp }}}}/guest-{{{{ inventory_hostname }}}}.json"
        mode: "0600"
      delegate_to: localhost
      changed_when: false
      check_mode: false
""".format(boot_timeout=BOOT_TIMEOUT)


def _write(path, text):
    with open(str(path), 'w') as handle:
        handle.write(text)
    return str(path)


def _read(path):
    with open(str(path)) as handle:
        return json.load(handle)


@pytest.fixture
def names(tmp_path):
    prefix = unique_prefix()
    found = {'prefix': prefix, 'net': prefix + '-net', 'pool': prefix + '-pool', 'a': prefix + '-ra',
             'b': prefix + '-rb', 'image': prefix + '-debian-12.qcow2'}
    yield found
    for guest in (found['a'], found['b']):
        virsh('destroy', guest)
        virsh('undefine', guest, '--nvram', '--tpm')
    for kind, name in (('pool', found['pool']), ('net', found['net'])):
        virsh('%s-destroy' % kind, name)
        virsh('%s-undefine' % kind, name)
    shutil.rmtree(str(tmp_path / 'pool'), ignore_errors=True)


def test_guest_role_makes_real_guests_and_the_next_play_configures_them(tmp_path, names):
    facts = debian_facts()
    if not facts.get('debian_image'):
        pytest.fail('the bed has no real Debian guest: run tests/bed/setup.sh (no debian.env)')
    base = str(free_subnet()).rsplit('.', 1)[0]
    keys = {}
    for guest in ('a', 'b'):
        os.makedirs(str(tmp_path / guest))
        keys[guest] = make_keys(tmp_path / guest, names[guest])
    known_hosts = tmp_path / 'known_hosts'
    _write(known_hosts, ''.join('%s.* %s\n' % (base, ' '.join(keys[g]['host']['public'].split()[:2]))
                                for g in ('a', 'b')))

    def entry(guest, firmware):
        """One guest of the role: the image's overlay, a seed (user, keys, marker), the agent."""
        # Both boot the image's own disk: UEFI by shim and grub, a BIOS (the domain's default) by SYSLINUX.
        boot = {'machine': 'q35', 'firmware': 'uefi', 'boot': ['hd']} if firmware == 'uefi' else {}
        extra = user_data('vk' + guest, keys[guest], 'marker-%s-%s' % (names['prefix'], guest))
        return {'name': names[guest],
                'disk': {'backing_volume': names['image'], 'size': '3G', 'pool': names['pool']},
                'networks': [names['net']],
                'cloud_init': {'user': 'vk' + guest, 'ssh_authorized_keys': [keys[guest]['id']['public']],
                               'user_data': {'ssh_keys': extra['ssh_keys'], 'runcmd': extra['runcmd']}},
                'tags': {'run': names['prefix'], 'boot': firmware},
                'connection': {'ansible_ssh_private_key_file': keys[guest]['id']['path']},
                'domain': dict(boot, guest_agent=True, console={'file': str(tmp_path / ('%s.log' % guest))})}

    guests = [entry('a', 'uefi'), entry('b', 'bios')]
    extra = {'vk_prefix': names['prefix'], 'vk_tmp': str(tmp_path), 'vk_net': names['net'],
             'vk_bridge': names['prefix'] + 'r', 'vk_base': base, 'vk_pool': names['pool'],
             'vk_pool_path': str(tmp_path / 'pool'), 'vk_image': facts['debian_image'],
             'vk_image_name': names['image'], 'virt_guests': guests,
             'guest_virt_type': 'qemu',  # TCG: a KVM guest hangs on the bed
             'guest_wait_timeout': BOOT_TIMEOUT, 'guest_wait_sources': ['lease'],
             'guest_connection': {'ansible_ssh_common_args': ssh_args(known_hosts),
                                  'ansible_python_interpreter': GUEST_PYTHON}}
    files = dict((name, _write(tmp_path / (name + '.yml'), text))
                 for name, text in (('setup', SETUP), ('provision', PROVISION), ('remove', REMOVE)))
    # localhost runs the modules with this interpreter; the guests, added by
    # the role, are reached over SSH with their own Python (so no -c local,
    # no -e ansible_python_interpreter, which would apply to them too).
    hosts = ['-i', _write(tmp_path / 'hosts.ini', 'localhost ansible_connection=local ansible_python_interpreter=%s\n'
                          % sys.executable)]
    timings = {}
    run = step_runner(tmp_path, files, extra, timings, inventory=hosts, timeout=1200)

    run('setup', 'setup')
    check = run('provision', 'check', check=True)
    assert not set([names['a'], names['b']]) & set(virsh('list', '--all', '--name').stdout.split())
    apply = run('provision', 'apply')
    # Check mode predicted the role's run task by task (the guests' own play
    # had no hosts yet in check mode: they did not exist).
    assert prediction_mismatches(check, apply, 'localhost') == []
    assert changes(apply, ['localhost'])['localhost'] == {'Define the guests and bring them to their state': 1}
    configured = {'A file Ansible manages': 1}
    assert changes(apply, [names['a'], names['b']]) == {names['a']: configured, names['b']: configured}
    said = dict((guest, _read(tmp_path / ('guest-%s.json' % names[guest]))) for guest in ('a', 'b'))
    for guest in ('a', 'b'):
        assert said[guest]['hostname'] == names[guest] and said[guest]['user'] == 'vk' + guest, said[guest]
        assert said[guest]['marker'] == 'marker-%s-%s' % (names['prefix'], guest)
        assert said[guest]['distribution'] == 'Debian 12' and said[guest]['ansible_host'].startswith(base + '.')
    assert said['a']['ansible_host'] != said['b']['ansible_host']
    assert os.path.exists('/var/lib/libvirt/qemu/nvram/%s_VARS.fd' % names['a'])  # UEFI: NVRAM made at the start

    # Again: check mode predicts no change, and there is none, on any host.
    every = ['localhost', names['a'], names['b']]
    recheck = run('provision', 'recheck', check=True)
    again = run('provision', 'again')
    for host in every:
        assert prediction_mismatches(recheck, again, host) == [], host
    assert changes(again, every) == dict((host, {}) for host in every)

    # Removal: predicted, done; the base image stays; a second removal changes nothing.
    extra_absent = {'virt_guests': [{'name': g['name'], 'state': 'absent'} for g in guests]}
    remove_check = run('remove', 'remove-check', check=True, **extra_absent)
    remove = run('remove', 'remove', **extra_absent)
    assert prediction_mismatches(remove_check, remove, 'localhost') == []
    assert changes(remove, ['localhost'])['localhost'] == {'Define the guests and bring them to their state': 1}
    assert _read(tmp_path / 'left.json') == {'domains': [], 'volumes': [names['image']]}
    assert not os.path.exists('/var/lib/libvirt/qemu/nvram/%s_VARS.fd' % names['a'])
    remove_again = run('remove', 'remove-again', **extra_absent)
    assert changes(remove_again, ['localhost']) == {'localhost': {}}
    print('real role timings: %s' % ', '.join('%s %.0fs' % item for item in timings.items()))
